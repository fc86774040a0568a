//! The key a package name is stored and looked up under.

use std::borrow::Cow;

/// `name` as the index keys it for `ecosystem`: PyPI names normalised as PEP 503 says
/// (lowercase, each run of `-`, `_`, `.` one `-`), because pip treats `Foo_Bar`, `foo.bar` and
/// `foo-bar` as one project and advisories and lockfiles spell them either way; every other
/// ecosystem's names exactly as written (case matters on crates.io paths, Go modules, Maven).
pub fn normalize_name<'a>(ecosystem: &str, name: &'a str) -> Cow<'a, str> {
    if !is_pypi(ecosystem) {
        return Cow::Borrowed(name);
    }
    let already = !name.bytes().any(|byte| byte.is_ascii_uppercase() || byte == b'_' || byte == b'.') && !name.contains("--");
    if already {
        return Cow::Borrowed(name);
    }
    let mut normalized = String::with_capacity(name.len());
    let mut in_separator_run = false;
    for character in name.chars() {
        if matches!(character, '-' | '_' | '.') {
            if !in_separator_run {
                normalized.push('-');
            }
            in_separator_run = true;
        } else {
            normalized.extend(character.to_lowercase());
            in_separator_run = false;
        }
    }
    Cow::Owned(normalized)
}

/// `PyPI`, with or without a suffix (OSV defines none for PyPI today, but suffixes are how
/// ecosystems grow).
fn is_pypi(ecosystem: &str) -> bool {
    ecosystem.split(':').next() == Some("PyPI")
}

#[cfg(test)]
mod tests {
    use super::normalize_name;

    #[test]
    fn pypi_names_follow_pep_503() {
        // PEP 503's own examples: all of these are one project.
        for spelling in ["friendly-bard", "Friendly-Bard", "FRIENDLY-BARD", "friendly.bard", "friendly_bard", "friendly--bard", "FrIeNdLy-._.-bArD"] {
            assert_eq!(normalize_name("PyPI", spelling), "friendly-bard", "{spelling}");
        }
    }

    #[test]
    fn other_ecosystems_keep_the_name_as_written() {
        assert_eq!(normalize_name("crates.io", "Inflector"), "Inflector");
        assert_eq!(normalize_name("Go", "github.com/Azure/go_sdk"), "github.com/Azure/go_sdk");
        assert_eq!(normalize_name("Maven", "org.Apache:Foo_bar"), "org.Apache:Foo_bar");
        assert_eq!(normalize_name("npm", "@Scope/Pkg.js"), "@Scope/Pkg.js");
    }
}
