//! Exceptions, one model for three sources: entries of the configuration file (rule, kind,
//! namespace and name globs, a required reason, an optional expiry), inline annotations on the
//! object (`palisade.dev/ignore` with `palisade.dev/ignore-reason`), and a baseline file of
//! accepted findings. Each suppressed finding records which exception suppressed it; exceptions
//! that suppress nothing, have expired or are invalid are reported.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use palisade_core::{Candidate, Finding, InputError, InventoryRule, Node, Object, ObjectRef, RuleMeta, api_group};
use palisade_report::{ExceptionNote, Exceptions, NoteKind, Suppressed};

use crate::fields::Reader;
use crate::glob;

pub const IGNORE_ANNOTATION: &str = "palisade.dev/ignore";
pub const REASON_ANNOTATION: &str = "palisade.dev/ignore-reason";

/// A calendar date, compared as (year, month, day).
pub type Date = (i32, u32, u32);

/// One `exceptions:` entry of the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigException {
    /// Rule id globs (`workload/*`).
    pub rules: Vec<String>,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub reason: String,
    /// Last day the exception applies.
    pub expires: Option<Date>,
    /// `file:line`, for reports.
    pub source: String,
}

impl ConfigException {
    pub(crate) fn parse(reader: &Reader, node: &Node) -> Result<Self, InputError> {
        let map = reader.map(node, "an exception")?;
        reader.known_keys(map, &["rules", "kind", "namespace", "name", "reason", "expires"], "an exception")?;
        let glob_or_any = |key: &str| map.get(key).map_or(Ok("*".to_owned()), |value| reader.string(value, &format!("`{key}`")));
        let rules = match map.get("rules") {
            Some(value) => reader.strings(value, "`rules`")?,
            None => return Err(reader.error(node, "an exception needs `rules` (rule ids or globs)".into())),
        };
        let reason = map.get("reason").map(|value| reader.string(value, "`reason`")).transpose()?.unwrap_or_default();
        if reason.trim().is_empty() {
            return Err(reader.error(node, "an exception needs a `reason`".into()));
        }
        let expires = match map.get("expires") {
            Some(value) => {
                let text = reader.string(value, "`expires`")?;
                Some(parse_date(&text).ok_or_else(|| reader.error(value, format!("`expires` must be a date like 2025-12-31, not `{text}`")))?)
            }
            None => None,
        };
        Ok(Self {
            rules,
            kind: glob_or_any("kind")?,
            namespace: glob_or_any("namespace")?,
            name: glob_or_any("name")?,
            reason,
            expires,
            source: format!("{}:{}", reader.file, node.mark.line),
        })
    }

    fn matches(&self, finding: &Finding) -> bool {
        let object = &finding.object;
        self.rules.iter().any(|rule| names_rule(rule, finding))
            && glob::matches(&self.kind, &object.kind)
            && glob::matches(&self.namespace, object.namespace.as_deref().unwrap_or(""))
            && glob::matches(&self.name, &object.name)
    }

    fn expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|last_day| last_day < today)
    }
}

/// Whether `pattern` names the finding's rule. A vulnerability is also named by each of its
/// aliases, so `vuln/CVE-2024-1234` excepts the finding reported as `vuln/GHSA-…`.
fn names_rule(pattern: &str, finding: &Finding) -> bool {
    glob::matches(pattern, finding.rule)
        || finding.vulnerability.as_ref().is_some_and(|vulnerability| {
            pattern
                .strip_prefix("vuln/")
                .is_some_and(|id| vulnerability.aliases.iter().any(|alias| glob::matches(id, alias)))
        })
}

pub fn parse_date(text: &str) -> Option<Date> {
    let mut parts = text.trim().splitn(3, '-');
    let year = parts.next()?.parse().ok()?;
    let month = parts.next()?.parse().ok().filter(|m| (1..=12).contains(m))?;
    let day = parts.next()?.parse().ok().filter(|d| (1..=31).contains(d))?;
    Some((year, month, day))
}

/// Today's date in UTC.
pub fn today() -> Date {
    let today = time::OffsetDateTime::now_utc().date();
    (today.year(), u32::from(u8::from(today.month())), u32::from(today.day()))
}

/// An object's `palisade.dev/ignore` annotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inline {
    pub object: std::sync::Arc<ObjectRef>,
    pub rules: Vec<String>,
    pub reason: Option<String>,
    /// `file:line` of the annotation.
    pub source: String,
}

/// Collects ignore annotations while the engine streams objects. It is an inventory analysis
/// that keeps nothing but reports nothing: the annotations go to [`InlineExceptions::take`].
#[derive(Clone, Default)]
pub struct InlineExceptions {
    found: Arc<Mutex<Vec<Inline>>>,
}

impl InlineExceptions {
    pub fn take(&self) -> Vec<Inline> {
        let mut found = std::mem::take(&mut *self.found.lock().unwrap_or_else(|poison| poison.into_inner()));
        found.sort_by(|a, b| a.source.cmp(&b.source));
        found
    }
}

impl InventoryRule for InlineExceptions {
    fn metas(&self) -> Vec<&'static RuleMeta> {
        Vec::new()
    }

    fn retain(&self, object: &Object) -> Option<Object> {
        let rules = object.annotation(IGNORE_ANNOTATION)?;
        let mark = object.locate(&format!("/metadata/annotations/{}", IGNORE_ANNOTATION.replace('/', "~1")));
        let inline = Inline {
            object: object.reference(),
            rules: rules.split(',').map(str::trim).filter(|rule| !rule.is_empty()).map(str::to_owned).collect(),
            reason: object.annotation(REASON_ANNOTATION).map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned),
            source: format!("{}:{}", object.origin.file, mark.line),
        };
        self.found.lock().unwrap_or_else(|poison| poison.into_inner()).push(inline);
        None
    }

    fn check(&self, _retained: &[Object], _out: &mut Vec<Candidate>) {}
}

/// Accepted findings, identified without line numbers so that they survive edits around them:
/// rule, object (API group, kind, namespace, name) and the JSON pointer of the field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baseline {
    pub source: String,
    pub entries: BTreeSet<String>,
}

/// The key a baseline stores for `finding`.
pub fn fingerprint(finding: &Finding) -> String {
    if let Some(secret) = &finding.secret {
        // gitleaks' fingerprint already names the file (and commit): a baseline written from
        // a gitleaks report and one of ours name a leak the same way.
        return secret_fingerprint(finding.rule, &secret.fingerprint);
    }
    let object = &finding.object;
    format!(
        "{}|{}/{}/{}/{}|{}",
        finding.rule,
        api_group(&object.api_version),
        object.kind,
        object.namespace.as_deref().unwrap_or(""),
        object.name,
        match &finding.vulnerability {
            // One image or project has many packages: the package tells its findings apart.
            Some(vulnerability) => &vulnerability.package.purl,
            None => finding.location.path.as_str(),
        }
    )
}

/// The key of a baseline entry: its `fingerprint`, or made from a JSON report's finding as
/// [`fingerprint`] makes it from a finding.
fn entry_key(entry: &serde_json::Value) -> Option<String> {
    let text = |value: &serde_json::Value, pointer: &str| value.pointer(pointer).and_then(serde_json::Value::as_str).map(str::to_owned);
    if let Some(fingerprint) = text(entry, "/fingerprint") {
        return Some(fingerprint);
    }
    let rule = text(entry, "/rule")?;
    if let Some(leak) = text(entry, "/secret/fingerprint") {
        return Some(secret_fingerprint(&rule, &leak));
    }
    let distinction = match text(entry, "/vulnerability/package/purl") {
        Some(purl) => purl,
        None => text(entry, "/location/path")?,
    };
    Some(format!(
        "{rule}|{}/{}/{}/{}|{distinction}",
        api_group(&text(entry, "/object/apiVersion")?),
        text(entry, "/object/kind")?,
        text(entry, "/object/namespace").unwrap_or_default(),
        text(entry, "/object/name")?,
    ))
}

/// The baseline key of a leaked secret: its rule and gitleaks' fingerprint.
pub fn secret_fingerprint(rule: &str, gitleaks_fingerprint: &str) -> String {
    format!("{rule}|{gitleaks_fingerprint}")
}

impl Baseline {
    /// Reads a baseline written by `--write-baseline`, or an earlier JSON report of Palisade
    /// (`-f json`: its findings are accepted) or of gitleaks (`--report-format json`: its
    /// leaks are accepted by fingerprint).
    pub fn load(path: &Path) -> Result<Self, InputError> {
        let file: Arc<str> = path.display().to_string().into();
        let error = |message: String| InputError { file: file.clone(), line: 0, column: 0, message };
        let text = std::fs::read_to_string(path).map_err(|e| error(format!("cannot read the baseline: {e}")))?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| error(format!("not a baseline, a Palisade JSON report or a gitleaks JSON report: {e}")))?;
        let entries = match &json {
            serde_json::Value::Array(leaks) => leaks
                .iter()
                .map(|leak| {
                    let text = |key| leak.get(key).and_then(serde_json::Value::as_str);
                    Some(secret_fingerprint(&format!("secret/{}", text("RuleID")?), text("Fingerprint")?))
                })
                .collect::<Option<_>>()
                .ok_or_else(|| error("every leak of a gitleaks report needs `RuleID` and `Fingerprint` strings".into()))?,
            _ => json
                .get("findings")
                .and_then(serde_json::Value::as_array)
                .ok_or_else(|| error("a baseline needs a `findings` list".into()))?
                .iter()
                .map(entry_key)
                .collect::<Option<_>>()
                .ok_or_else(|| error("every baseline entry needs a `fingerprint` string, or a report finding's rule, object and location".into()))?,
        };
        Ok(Self { source: format!("baseline {}", path.display()), entries })
    }

    /// The baseline document for `findings`: sorted, one entry per fingerprint.
    pub fn document(findings: &[Finding]) -> serde_json::Value {
        let mut entries: Vec<(String, &Finding)> = findings.iter().map(|f| (fingerprint(f), f)).collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.dedup_by(|a, b| a.0 == b.0);
        let findings: Vec<_> = entries
            .into_iter()
            .map(|(fingerprint, finding)| {
                serde_json::json!({
                    "fingerprint": fingerprint,
                    "rule": finding.rule,
                    "object": finding.object.to_string(),
                    "path": finding.location.path,
                })
            })
            .collect();
        serde_json::json!({ "version": 1, "findings": findings })
    }
}

/// A door's findings through the configuration's exceptions and a baseline (doors without
/// objects have no annotations), as a report for every format and `--fail-on`. The exceptions
/// section is shown only when some exception could apply.
pub fn report_of(
    findings: Vec<Finding>,
    unread: Vec<InputError>,
    scope: palisade_report::Scope,
    fail_on: Option<palisade_core::Severity>,
    config: &[ConfigException],
    baseline: Option<&Baseline>,
    evaluated: &BTreeSet<&str>,
) -> palisade_report::ScanReport {
    let resolution = apply(findings, config, &[], baseline, today(), evaluated);
    let report = palisade_report::ScanReport::new(resolution.kept, unread, scope, fail_on);
    if config.is_empty() && baseline.is_none() {
        report
    } else {
        report.with_exceptions(resolution.exceptions)
    }
}

/// The findings that remain and what exceptions did.
#[derive(Debug, Default)]
pub struct Resolution {
    pub kept: Vec<Finding>,
    pub exceptions: Exceptions,
}

/// Applies every exception to `findings`: inline annotations first, then configuration
/// entries, then the baseline.
pub fn apply(
    findings: Vec<Finding>,
    config: &[ConfigException],
    inline: &[Inline],
    baseline: Option<&Baseline>,
    today: Date,
    evaluated: &BTreeSet<&str>,
) -> Resolution {
    // An exception whose rules did not run this time (`--select`, `--framework`, disabled
    // families) is not unused, only untested: it gets no note.
    // A door whose rules are not known in advance (vulnerabilities: one rule per advisory)
    // records that it ran as `family/*`.
    let ran = |pattern: &str| {
        evaluated.iter().any(|id| glob::matches(pattern, id) || id.strip_suffix('*').is_some_and(|family| pattern.starts_with(family)))
    };
    let mut resolution = Resolution::default();
    let notes = &mut resolution.exceptions.notes;
    let mut note = |kind, source: &str, message: String| notes.push(ExceptionNote { kind, source: source.to_owned(), message });
    for exception in inline.iter().filter(|inline| inline.reason.is_none()) {
        note(NoteKind::Invalid, &exception.source, format!("{IGNORE_ANNOTATION} on {} has no {REASON_ANNOTATION}, so it is not applied", exception.object));
    }
    for exception in config.iter().filter(|exception| exception.expired(today)) {
        let (y, m, d) = exception.expires.unwrap_or_default();
        note(NoteKind::Expired, &exception.source, format!("expired on {y:04}-{m:02}-{d:02} ({}); its findings are reported again", exception.reason));
    }
    let mut inline_used = vec![BTreeSet::new(); inline.len()];
    let mut config_used = vec![false; config.len()];
    let mut baseline_used = BTreeSet::new();
    // Findings stay in their own buffer (a large scan has hundreds of thousands); only the
    // suppressed ones are moved out. The report sorts what is kept.
    let mut findings = findings;
    let mut index = 0;
    while index < findings.len() {
        let finding = &findings[index];
        let by_inline = inline.iter().enumerate().find_map(|(index, exception)| {
            let reason = exception.reason.as_ref()?;
            let rule = exception.rules.iter().find(|rule| names_rule(rule, finding))?;
            (exception.object == finding.object).then(|| (index, rule.clone(), exception.source.clone(), reason.clone()))
        });
        let suppression = if let Some((inline_index, rule, source, reason)) = by_inline {
            inline_used[inline_index].insert(rule);
            Some((format!("annotation {source}"), reason))
        } else if let Some((config_index, exception)) =
            config.iter().enumerate().find(|(_, e)| !e.expired(today) && e.matches(finding))
        {
            config_used[config_index] = true;
            Some((format!("config {}", exception.source), exception.reason.clone()))
        } else {
            baseline.and_then(|baseline| {
                let key = fingerprint(finding);
                baseline.entries.contains(&key).then(|| {
                    baseline_used.insert(key);
                    (baseline.source.clone(), "accepted in the baseline".to_owned())
                })
            })
        };
        match suppression {
            Some((source, reason)) => {
                let finding = findings.swap_remove(index);
                resolution.exceptions.suppressed.push(Suppressed { finding, source, reason });
            }
            None => index += 1,
        }
    }
    resolution.exceptions.suppressed.sort_by(|a, b| a.finding.sort_key().cmp(&b.finding.sort_key()));
    resolution.kept = findings;
    let notes = &mut resolution.exceptions.notes;
    for (exception, used) in inline.iter().zip(&inline_used).filter(|(e, _)| e.reason.is_some()) {
        for rule in exception.rules.iter().filter(|rule| !used.contains(*rule) && ran(rule)) {
            notes.push(ExceptionNote {
                kind: NoteKind::Unused,
                source: exception.source.clone(),
                message: format!("{IGNORE_ANNOTATION} lists {rule}, which reported nothing on {}", exception.object),
            });
        }
    }
    for (exception, _) in config
        .iter()
        .zip(&config_used)
        .filter(|(e, used)| !**used && !e.expired(today) && e.rules.iter().any(|rule| ran(rule)))
    {
        notes.push(ExceptionNote {
            kind: NoteKind::Unused,
            source: exception.source.clone(),
            message: format!("matched no finding ({}: {})", exception.rules.join(", "), exception.reason),
        });
    }
    if let Some(baseline) = baseline {
        let fixed = baseline
            .entries
            .iter()
            .filter(|entry| !baseline_used.contains(*entry))
            .filter(|entry| entry.split_once('|').is_some_and(|(rule, _)| ran(rule)))
            .count();
        if fixed > 0 {
            notes.push(ExceptionNote {
                kind: NoteKind::Unused,
                source: baseline.source.clone(),
                message: format!("{fixed} accepted finding(s) no longer occur; rewrite the baseline with --write-baseline"),
            });
        }
    }
    resolution
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::{Location, Severity};

    fn finding(rule: &'static str, kind: &str, namespace: &str, name: &str, path: &str, line: u32) -> Finding {
        Finding {
            rule: rule,
            severity: Severity::Medium,
            title: "t",
            message: "m".into(),
            object: ObjectRef { api_version: "apps/v1".into(), kind: kind.into(), namespace: Some(namespace.into()), name: name.into() }.into(),
            location: Location { file: "a.yaml".into(), line, column: 1, path: path.into() },
            remediation: "r",
            controls: Default::default(),
            vulnerability: None,
            secret: None,
        }
    }

    fn vulnerability(id: &str, aliases: &[&str]) -> Finding {
        let rule: &'static str = Box::leak(format!("vuln/{id}").into_boxed_str());
        let mut finding = finding(rule, "Image", "", "registry.example/web:1", "", 0);
        finding.vulnerability = Some(Arc::new(palisade_core::Vulnerability {
            id: id.into(),
            aliases: aliases.iter().map(|alias| alias.to_string()).collect(),
            summary: String::new(),
            package: palisade_core::VulnerablePackage {
                name: "openssl".into(),
                version: "3.0.11-1~deb12u1".into(),
                ecosystem: "Debian:12".into(),
                purl: "pkg:deb/debian/openssl@3.0.11-1~deb12u1?distro=debian-12".into(),
                source: None,
                path: "/var/lib/dpkg/status".into(),
                layer: None,
            },
            fixed_versions: vec![],
            score: None,
            vector: None,
            severity_source: None,
            url: None,
        }));
        finding
    }

    #[test]
    fn vulnerabilities_are_excepted_by_any_alias_and_unused_entries_of_a_door_that_ran_are_reported() {
        let by_alias = config_exception("rules: [vuln/CVE-2024-0727]\nreason: not reachable\n");
        let gone = config_exception("rules: [vuln/CVE-2000-0001]\nreason: old\n");
        let findings = vec![vulnerability("DSA-5621-1", &["CVE-2024-0727"]), vulnerability("DSA-1-1", &["CVE-2024-9999"])];
        let resolution = apply(findings, &[by_alias, gone], &[], None, (2026, 1, 1), &BTreeSet::from(["vuln/*"]));
        assert_eq!(resolution.kept.iter().map(|f| f.rule).collect::<Vec<_>>(), ["vuln/DSA-1-1"]);
        assert_eq!(resolution.exceptions.suppressed[0].finding.rule, "vuln/DSA-5621-1");
        let notes: Vec<_> = resolution.exceptions.notes.iter().map(|note| note.message.as_str()).collect();
        assert_eq!(notes, ["matched no finding (vuln/CVE-2000-0001: old)"]);
        assert!(fingerprint(&resolution.kept[0]).ends_with("|pkg:deb/debian/openssl@3.0.11-1~deb12u1?distro=debian-12"));
    }

    /// The rules the tests' scans ran.
    fn evaluated() -> BTreeSet<&'static str> {
        BTreeSet::from(["workload/image-tag-latest", "pss/privileged", "r/a", "r/b", "r/c"])
    }

    fn config_exception(text: &str) -> ConfigException {
        let reader = Reader::new("cfg.yaml");
        ConfigException::parse(&reader, &crate::fields::parse_single(&reader, text).unwrap()).unwrap()
    }

    #[test]
    fn config_globs_suppress_and_unused_or_expired_entries_are_reported() {
        let legacy = config_exception("rules: [workload/*]\nnamespace: legacy-*\nreason: migrating\nexpires: 2030-01-01\n");
        let stale = config_exception("rules: [pss/privileged]\nreason: old\n");
        let expired = config_exception("rules: ['*']\nreason: temporary\nexpires: 2020-01-31\n");
        let findings = vec![
            finding("workload/image-tag-latest", "Deployment", "legacy-shop", "web", "/spec/x", 3),
            finding("workload/image-tag-latest", "Deployment", "shop", "web", "/spec/x", 9),
        ];
        let resolution = apply(findings, &[legacy, stale, expired], &[], None, (2025, 6, 1), &evaluated());
        assert_eq!(resolution.kept.len(), 1);
        assert_eq!(resolution.kept[0].object.namespace.as_deref(), Some("shop"));
        assert_eq!(resolution.exceptions.suppressed[0].reason, "migrating");
        assert_eq!(resolution.exceptions.suppressed[0].source, "config cfg.yaml:1");
        let kinds: Vec<_> = resolution.exceptions.notes.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, [NoteKind::Expired, NoteKind::Unused]);
        assert!(resolution.exceptions.notes[0].message.contains("2020-01-31"));
    }

    #[test]
    fn exceptions_for_rules_that_did_not_run_are_not_called_unused() {
        let pss = config_exception("rules: [pss/*]\nreason: old\n");
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n  annotations:\n    palisade.dev/ignore: pss/privileged\n    palisade.dev/ignore-reason: vendor image\n";
        let collector = InlineExceptions::default();
        assert!(collector.retain(&palisade_load::load_str(text, "d.yaml").objects[0]).is_none());
        let inline = collector.take();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        let old = [finding("r/a", "Deployment", "shop", "web", "/a", 1)];
        std::fs::write(&path, serde_json::to_string(&Baseline::document(&old)).unwrap()).unwrap();
        let baseline = Baseline::load(&path).unwrap();
        let only_workload = &BTreeSet::from(["workload/image-tag-latest"]);
        let quiet = apply(Vec::new(), &[pss.clone()], &inline, Some(&baseline), (2025, 1, 1), only_workload);
        assert!(quiet.exceptions.notes.is_empty(), "{:?}", quiet.exceptions.notes);
        let all = apply(Vec::new(), &[pss], &inline, Some(&baseline), (2025, 1, 1), &evaluated());
        let kinds: Vec<_> = all.exceptions.notes.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, [NoteKind::Unused; 3]);
    }

    #[test]
    fn exceptions_need_rules_and_a_reason() {
        let reader = Reader::new("cfg.yaml");
        for (text, message) in [("reason: x\n", "needs `rules`"), ("rules: [a]\n", "needs a `reason`"), ("rules: [a]\nreason: x\nexpires: soon\n", "must be a date")] {
            let node = crate::fields::parse_single(&reader, text).unwrap();
            let error = ConfigException::parse(&reader, &node).unwrap_err();
            assert!(error.message.contains(message), "{}", error.message);
        }
    }

    #[test]
    fn annotations_suppress_on_their_object_only_and_need_a_reason() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n  annotations:\n    palisade.dev/ignore: \"workload/image-tag-latest, pss/privileged\"\n    palisade.dev/ignore-reason: vendor image\n";
        let object = palisade_load::load_str(text, "a.yaml").objects.remove(0);
        let collector = InlineExceptions::default();
        assert!(collector.retain(&object).is_none());
        let inline = collector.take();
        assert_eq!(inline[0].source, "a.yaml:7");
        let findings = vec![
            finding("workload/image-tag-latest", "Deployment", "shop", "web", "/a", 1),
            finding("workload/image-tag-latest", "Deployment", "shop", "api", "/a", 2),
        ];
        let resolution = apply(findings, &[], &inline, None, (2025, 1, 1), &evaluated());
        assert_eq!(resolution.kept.len(), 1);
        assert_eq!(resolution.exceptions.suppressed[0].source, "annotation a.yaml:7");
        assert_eq!(resolution.exceptions.notes.len(), 1);
        assert!(resolution.exceptions.notes[0].message.contains("lists pss/privileged, which reported nothing"));

        let unexplained = Inline { reason: None, ..inline[0].clone() };
        let resolution = apply(vec![finding("workload/image-tag-latest", "Deployment", "shop", "web", "/a", 1)], &[], &[unexplained], None, (2025, 1, 1), &evaluated());
        assert_eq!(resolution.kept.len(), 1);
        assert_eq!(resolution.exceptions.notes[0].kind, NoteKind::Invalid);
    }

    #[test]
    fn baselines_survive_line_moves_and_report_fixed_findings() {
        let old = vec![finding("r/a", "Deployment", "shop", "web", "/spec/a", 3), finding("r/b", "Deployment", "shop", "web", "/spec/b", 4)];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("base.json");
        std::fs::write(&path, serde_json::to_string(&Baseline::document(&old)).unwrap()).unwrap();
        let baseline = Baseline::load(&path).unwrap();
        // The same finding 10 lines lower, plus a new one.
        let now = vec![finding("r/a", "Deployment", "shop", "web", "/spec/a", 13), finding("r/c", "Deployment", "shop", "web", "/spec/c", 5)];
        let resolution = apply(now, &[], &[], Some(&baseline), (2025, 1, 1), &evaluated());
        assert_eq!(resolution.kept.iter().map(|f| f.rule).collect::<Vec<_>>(), ["r/c"]);
        assert_eq!(resolution.exceptions.notes[0].kind, NoteKind::Unused);
        assert!(resolution.exceptions.notes[0].message.starts_with("1 accepted finding(s) no longer occur"));
        assert!(Baseline::load(&dir.path().join("missing.json")).is_err());
    }

    #[test]
    fn earlier_json_reports_of_palisade_and_gitleaks_are_baselines() {
        let dir = tempfile::tempdir().unwrap();
        let old = vec![finding("r/a", "Deployment", "shop", "web", "/spec/a", 3)];
        let report = palisade_report::ScanReport::new(old, Vec::new(), palisade_report::Scope::default(), None);
        let mut json = Vec::new();
        palisade_report::write(&report, palisade_report::Format::Json, &[], &mut json, &palisade_report::WriteOptions::default()).unwrap();
        std::fs::write(dir.path().join("report.json"), json).unwrap();
        let from_report = Baseline::load(&dir.path().join("report.json")).unwrap();
        let now = vec![finding("r/a", "Deployment", "shop", "web", "/spec/a", 8), finding("r/b", "Deployment", "shop", "web", "/spec/b", 9)];
        let kept = apply(now, &[], &[], Some(&from_report), (2025, 1, 1), &evaluated()).kept;
        assert_eq!(kept.iter().map(|f| f.rule).collect::<Vec<_>>(), ["r/b"]);

        let leak = |line: usize| {
            let mut found = finding("secret/github-pat", "Directory", "", ".", "", line as u32);
            found.secret = Some(Arc::new(palisade_core::LeakedSecret {
                rule: "github-pat".into(),
                description: String::new(),
                redacted: "ghp_… (40 bytes)".into(),
                redacted_match: "REDACTED".into(),
                fingerprint: format!("ci.sh:github-pat:{line}"),
                start_line: line,
                start_column: 1,
                end_line: line,
                end_column: 41,
                entropy: 4_500,
                tags: Vec::new(),
                commit: None,
                layer: None,
                hidden_by_later_layer: false,
            }));
            found
        };
        std::fs::write(dir.path().join("gitleaks.json"), r#"[{"RuleID": "github-pat", "Secret": "REDACTED", "Fingerprint": "ci.sh:github-pat:2"}]"#).unwrap();
        let from_gitleaks = Baseline::load(&dir.path().join("gitleaks.json")).unwrap();
        let kept = apply(vec![leak(2), leak(7)], &[], &[], Some(&from_gitleaks), (2025, 1, 1), &BTreeSet::from(["secret/*"])).kept;
        assert_eq!(kept.iter().map(|f| f.location.line).collect::<Vec<_>>(), [7]);
        std::fs::write(dir.path().join("bad.json"), r#"[{"RuleID": "github-pat"}]"#).unwrap();
        assert!(Baseline::load(&dir.path().join("bad.json")).unwrap_err().message.contains("Fingerprint"));
    }

    #[test]
    fn dates_parse_and_today_is_plausible() {
        assert_eq!(parse_date("2025-12-31"), Some((2025, 12, 31)));
        assert_eq!(parse_date("2025-13-01"), None);
        assert!(today() >= (2025, 1, 1));
    }
}
