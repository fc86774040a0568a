//! pip's requirements files (`requirements.txt`, `requirements-dev.txt`, …).
//!
//! Only requirements pinned to one version (`name==1.2.3`, with or without extras, markers and
//! `--hash` options) are packages: a range (`>=1.0`, `~=1.2`, `==1.*`, `==1.0,!=1.0.1`) does not
//! say which version is installed, and a URL requirement (`name @ https://…`) says no version.
//! Option lines (`-r other.txt`, `-c`, `-e`, `--index-url`) are skipped; included files are not
//! followed. Lines continue after a trailing `\`; a comment starts at any `#`, as Syft reads it
//! (pip wants whitespace before it, but the `#` it keeps is in URLs, which pin no version, or
//! makes the requirement invalid).
//!
//! Syft reads the version with a pattern that stops at characters outside `[0-9A-Za-z.*]`, so a
//! PEP 440 local version loses its label (`torch==2.1.0+cpu` becomes `2.1.0`, `1.0-1` becomes
//! `1.0`) and an epoch (`==1!2.0`) makes the requirement unpinned; arbitrary equality (`===1.0`)
//! becomes `=1.0`; PEP 508's parenthesised form (`name (==1.0)`) is not read. Here the version is
//! what the requirement pins, whole (PEP 440 "Version specifiers": local labels, post-release
//! spellings and epochs are part of the version; `===` compares the string as written).

use super::{text, Found};

pub(super) fn parse(content: &[u8], found: &mut Found) -> Result<(), String> {
    let text = text(content)?;
    let mut logical = String::new();
    for line in text.lines() {
        let line = strip_comment(line.strip_suffix('\r').unwrap_or(line)).trim();
        if let Some(continued) = line.strip_suffix('\\') {
            logical.push_str(continued);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        if let Some((name, version)) = pinned(logical.trim()) {
            found.add_python(name, version);
        }
        logical.clear();
    }
    if let Some((name, version)) = pinned(logical.trim()) {
        found.add_python(name, version);
    }
    Ok(())
}

/// The line without its comment.
fn strip_comment(line: &str) -> &str {
    line.split_once('#').map_or(line, |(before, _)| before)
}

/// Name and version of a requirement pinned to one version.
fn pinned(requirement: &str) -> Option<(&str, &str)> {
    if requirement.starts_with('-') {
        return None;
    }
    // Per-requirement options (`--hash=…`, `--config-settings …`) and markers (`; python_version < "3.9"`) say nothing of the version.
    let requirement = requirement.find(" --").map_or(requirement, |at| &requirement[..at]);
    let requirement = requirement.split_once(';').map_or(requirement, |(before, _)| before).trim();
    let name_end = requirement.find(|character: char| !(character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.'))).unwrap_or(requirement.len());
    let name = &requirement[..name_end];
    if !name.starts_with(|character: char| character.is_ascii_alphanumeric()) {
        return None;
    }
    let mut rest = requirement[name_end..].trim_start();
    if let Some(extras) = rest.strip_prefix('[') {
        rest = extras.split_once(']')?.1.trim_start();
    }
    // PEP 508 also allows the specifiers in parentheses: `name (==1.0)`.
    let rest = rest.strip_prefix('(').and_then(|inner| inner.strip_suffix(')')).unwrap_or(rest).trim();
    if rest.contains(',') {
        return None;
    }
    let version = rest.strip_prefix("===").or_else(|| rest.strip_prefix("=="))?.trim();
    let valid = !version.is_empty() && version.chars().all(|character| character.is_ascii_alphanumeric() || matches!(character, '.' | '+' | '!' | '-' | '_'));
    valid.then_some((name, version))
}

#[cfg(test)]
mod tests {
    use super::{pinned, strip_comment};

    #[test]
    fn only_one_exact_version_pins_a_requirement() {
        let cases = [
            ("requests==2.31.0", Some(("requests", "2.31.0"))),
            ("requests[security,socks] == 2.31.0 ; python_version >= '3.7'", Some(("requests", "2.31.0"))),
            ("amqp==5.2.0 --hash=sha256:827cb12f --hash=sha256:a1ecff42", Some(("amqp", "5.2.0"))),
            ("torch==2.1.0+cpu", Some(("torch", "2.1.0+cpu"))),
            ("pkg==1!2.0", Some(("pkg", "1!2.0"))),
            ("hyphen==1.0-1", Some(("hyphen", "1.0-1"))),
            ("certifi===2023.7.22", Some(("certifi", "2023.7.22"))),
            ("old-style (==1.0)", Some(("old-style", "1.0"))),
            ("zope.interface==6.1", Some(("zope.interface", "6.1"))),
            ("django>=4.2", None),
            ("gunicorn~=21.2", None),
            ("numpy==1.*", None),
            ("urllib3!=2.0.0,==1.26.18", None),
            ("numpy", None),
            ("pkg @ https://example.com/pkg-1.0.whl", None),
            ("-e git+https://github.com/a/b.git#egg=b", None),
            ("-r other.txt", None),
            ("--index-url https://pypi.org/simple", None),
            ("[extras-only]==1.0", None),
            ("pkg[unclosed==1.0", None),
        ];
        for (requirement, expected) in cases {
            assert_eq!(pinned(requirement), expected, "{requirement}");
        }
    }

    #[test]
    fn comments_start_at_any_hash() {
        assert_eq!(strip_comment("pkg==1.0  # pinned"), "pkg==1.0  ");
        assert_eq!(strip_comment("# a comment"), "");
        assert_eq!(strip_comment("pkg==2.31.0#comment"), "pkg==2.31.0");
    }

    #[test]
    fn continued_lines_are_joined() {
        let mut found = super::super::Found::new("/app/requirements.txt", "python-package-cataloger", palisade_pkg::PackageType::Python);
        super::parse(b"Django==4.2.7 \\\n    --hash=sha256:ab \\\n    --hash=sha256:cd\nPyYAML==6.0.1 \\", &mut found).unwrap();
        let names: Vec<_> = super::super::identities(found.into_facts()).into_iter().map(|(name, version, _)| (name, version)).collect();
        assert_eq!(names, [("django".into(), "4.2.7".into()), ("pyyaml".into(), "6.0.1".into())]);
    }
}
