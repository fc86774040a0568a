//! Rule documentation: the page `palisade explain RULE` prints, and `docs/rules/` generated from
//! the same text.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use palisade_core::{Framework, RuleMeta};

const INDEX: &str = "README.md";

/// The Markdown page of one rule. The doc body keeps its own `##` sections ("What it does",
/// "Why is this bad?", "How to fix", "Example").
pub fn render_rule_doc(meta: &RuleMeta) -> String {
    let mut page = format!("# {}\n\n", meta.title);
    page.push_str("| | |\n|---|---|\n");
    let _ = writeln!(page, "| Rule | `{}` |", meta.id);
    let _ = writeln!(page, "| Severity | {} |", meta.severity);
    let _ = writeln!(page, "| Family | `{}` |", meta.family());
    for framework in Framework::ALL {
        let ids = control_ids(meta, framework);
        if !ids.is_empty() {
            let _ = writeln!(page, "| {} | {} |", framework.title(), ids);
        }
    }
    let _ = write!(page, "\n**Remediation:** {}\n", meta.remediation.trim());
    let body = meta.doc.trim();
    if !body.is_empty() {
        let _ = write!(page, "\n{body}\n");
    }
    page
}

/// `docs/rules/README.md`: one table row per rule, sorted by id, linking to each page.
pub fn render_rule_index(metas: &[&RuleMeta]) -> String {
    let mut sorted = metas.to_vec();
    sorted.sort_by_key(|meta| meta.id);
    let mut page = String::from(
        "# Rules\n\nGenerated from the rule catalog: edit a rule's documentation beside its \
         check, not these pages. `palisade explain RULE` prints the same page.\n\n\
         | Rule | Title | Severity | Controls |\n|---|---|---|---|\n",
    );
    for meta in sorted {
        let controls: Vec<String> = Framework::ALL
            .into_iter()
            .filter_map(|framework| {
                let ids = control_ids(meta, framework);
                (!ids.is_empty()).then(|| format!("{} {ids}", framework.as_str().to_uppercase()))
            })
            .collect();
        let link = relative_path(meta.id).unwrap_or_default();
        let _ = writeln!(
            page,
            "| [`{}`]({link}) | {} | {} | {} |",
            meta.id,
            meta.title.replace('|', "\\|"),
            meta.severity,
            controls.join("; ")
        );
    }
    page
}

/// Writes `dir/README.md` and `dir/<family>/<name>.md` for every rule and removes Markdown pages
/// of rules that no longer exist. With `check_only` nothing is touched. Returns the paths that
/// were (or, checking, would be) written or removed, sorted; empty means up to date.
pub fn generate_rule_docs(
    metas: &[&'static RuleMeta],
    dir: &Path,
    check_only: bool,
) -> io::Result<Vec<PathBuf>> {
    let mut expected: BTreeMap<PathBuf, String> = BTreeMap::new();
    expected.insert(dir.join(INDEX), render_rule_index(metas));
    for meta in metas {
        let relative = relative_path(meta.id).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("rule id `{}` cannot name a documentation file", meta.id),
            )
        })?;
        if expected
            .insert(dir.join(relative), render_rule_doc(meta))
            .is_some()
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("rule id `{}` appears twice in the catalog", meta.id),
            ));
        }
    }
    let mut changed = Vec::new();
    for (path, content) in &expected {
        let current = match fs::read_to_string(path) {
            Ok(current) => Some(current),
            Err(error) if error.kind() == io::ErrorKind::NotFound => None,
            Err(error) => return Err(error),
        };
        if current.as_deref() != Some(content.as_str()) {
            if !check_only {
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent)?;
                }
                fs::write(path, content)?;
            }
            changed.push(path.clone());
        }
    }
    for path in markdown_files(dir)? {
        if !expected.contains_key(&path) {
            if !check_only {
                fs::remove_file(&path)?;
            }
            changed.push(path);
        }
    }
    changed.sort();
    Ok(changed)
}

/// `pss/privileged` → `pss/privileged.md`, relative to `docs/rules/`. `None` for ids that are not
/// plain slugs, which could otherwise name a file outside the directory.
pub(crate) fn relative_path(id: &str) -> Option<String> {
    let (family, name) = id.split_once('/').unwrap_or((id, id));
    let slug = |part: &str| {
        !part.is_empty()
            && !part.starts_with('.')
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (slug(family) && slug(name)).then(|| format!("{family}/{name}.md"))
}

/// The first paragraph of a doc body that is not a heading: SARIF's `fullDescription`.
pub(crate) fn first_paragraph(doc: &str) -> Option<String> {
    let lines: Vec<&str> = doc
        .lines()
        .map(str::trim)
        .skip_while(|line| line.is_empty() || line.starts_with('#'))
        .take_while(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    (!lines.is_empty()).then(|| lines.join(" "))
}

fn control_ids(meta: &RuleMeta, framework: Framework) -> String {
    let ids: Vec<&str> = meta
        .controls
        .iter()
        .filter(|control| control.framework == framework)
        .map(|control| control.id.as_ref())
        .collect();
    ids.join(", ")
}

/// Markdown files directly in `dir` and one level below (the family directories).
fn markdown_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), 0)];
    while let Some((current, depth)) = pending.pop() {
        let entries = match fs::read_dir(&current) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                if depth == 0 {
                    pending.push((path, depth + 1));
                }
            } else if path.extension().is_some_and(|ext| ext == "md") {
                files.push(path);
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use palisade_core::{Control, Severity};

    use super::*;

    static PRIVILEGED: RuleMeta = RuleMeta {
        id: "pss/privileged",
        title: "Privileged container",
        severity: Severity::High,
        doc: "## What it does\n\nFlags containers that run privileged.\n\n## Why is this bad?\n\n\
              A privileged container is root on the node.\n",
        remediation: "Set `securityContext.privileged` to false.",
        controls: &[
            Control::new(Framework::Pss, "privileged"),
            Control::new(Framework::Cis, "5.2.1"),
            Control::new(Framework::Cis, "5.2.2"),
        ],
    };

    static LATEST: RuleMeta = RuleMeta {
        id: "workload/image-tag-latest",
        title: "Image tag | latest",
        severity: Severity::Medium,
        doc: "",
        remediation: "Pin the image by digest.",
        controls: &[],
    };

    #[test]
    fn rule_page_has_identity_controls_remediation_and_body() {
        let page = render_rule_doc(&PRIVILEGED);
        assert!(page.starts_with("# Privileged container\n"));
        assert!(page.contains("| Rule | `pss/privileged` |\n"));
        assert!(page.contains("| Severity | high |\n| Family | `pss` |\n"));
        assert!(page.contains("| CIS Kubernetes Benchmark | 5.2.1, 5.2.2 |\n"));
        assert!(page.contains("| Kubernetes Pod Security Standards | privileged |\n"));
        assert!(!page.contains("MITRE"));
        assert!(page.contains("**Remediation:** Set `securityContext.privileged` to false.\n"));
        assert!(page.ends_with("A privileged container is root on the node.\n"));
    }

    #[test]
    fn index_is_sorted_linked_and_escapes_pipes() {
        let index = render_rule_index(&[&LATEST, &PRIVILEGED]);
        let privileged = index.find("[`pss/privileged`](pss/privileged.md)").unwrap();
        let latest = index
            .find("| [`workload/image-tag-latest`](workload/image-tag-latest.md) | Image tag \\| latest | medium |  |")
            .unwrap();
        assert!(privileged < latest);
        assert!(index.contains("| high | CIS 5.2.1, 5.2.2; PSS privileged |\n"));
    }

    #[test]
    fn only_plain_slugs_name_files() {
        assert_eq!(
            relative_path("pss/hostNamespaces").as_deref(),
            Some("pss/hostNamespaces.md")
        );
        assert_eq!(
            relative_path("standalone").as_deref(),
            Some("standalone/standalone.md")
        );
        assert_eq!(relative_path("pss/../../etc"), None);
        assert_eq!(relative_path("../x"), None);
        assert_eq!(relative_path("a/b/c"), None);
    }

    #[test]
    fn first_paragraph_skips_headings_and_joins_lines() {
        assert_eq!(
            first_paragraph("## What it does\n\nFlags a\nthing.\n\nMore.").as_deref(),
            Some("Flags a thing.")
        );
        assert_eq!(first_paragraph("## Only a heading\n"), None);
    }

    #[test]
    fn generation_writes_then_reports_stale_missing_and_extra_pages() {
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("rules");
        let metas: [&'static RuleMeta; 2] = [&PRIVILEGED, &LATEST];

        let all = vec![
            rules.join("README.md"),
            rules.join("pss/privileged.md"),
            rules.join("workload/image-tag-latest.md"),
        ];
        assert_eq!(
            generate_rule_docs(&metas, &rules, true).unwrap(),
            all,
            "all missing"
        );
        assert!(!rules.exists(), "checking writes nothing");
        assert_eq!(generate_rule_docs(&metas, &rules, false).unwrap(), all);
        assert_eq!(
            fs::read_to_string(rules.join("pss/privileged.md")).unwrap(),
            render_rule_doc(&PRIVILEGED)
        );
        assert_eq!(
            generate_rule_docs(&metas, &rules, true).unwrap(),
            Vec::<PathBuf>::new()
        );

        fs::write(rules.join("pss/privileged.md"), "hand edit").unwrap();
        fs::write(rules.join("pss/removed-rule.md"), "old").unwrap();
        fs::write(rules.join("pss/notes.txt"), "not a page").unwrap();
        let drift = vec![
            rules.join("pss/privileged.md"),
            rules.join("pss/removed-rule.md"),
        ];
        assert_eq!(generate_rule_docs(&metas, &rules, true).unwrap(), drift);
        assert_eq!(generate_rule_docs(&metas, &rules, false).unwrap(), drift);
        assert!(!rules.join("pss/removed-rule.md").exists());
        assert!(
            rules.join("pss/notes.txt").exists(),
            "only Markdown pages are managed"
        );
        assert_eq!(
            generate_rule_docs(&metas, &rules, true).unwrap(),
            Vec::<PathBuf>::new()
        );
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let error = generate_rule_docs(&[&PRIVILEGED, &PRIVILEGED], dir.path(), true).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("pss/privileged"));
    }
}
