//! Yarn's `yarn.lock`: the classic (v1) format and Berry's (v2+) YAML, read line by line.
//!
//! Both formats are a list of entries: a header at column 0 naming the specifiers it resolves
//! (`"@babel/core@^7.0.0", "@babel/core@^7.1.0":` or Berry's `"@babel/core@npm:^7.0.0, …":`)
//! and indented fields below it. The version is the `version` field; the name is the
//! specifier's, except for aliases, where the installed package is another one:
//! - classic: `string-width-cjs@npm:string-width@^4.2.0` installs `string-width` (Syft reads
//!   the name from the registry URL in `resolved`, which names the same package);
//! - Berry: the `resolution` field names what was resolved (`"string-width@npm:4.2.3"`). Syft
//!   reads Berry headers only and reports such an alias under its alias name
//!   (`string-width-cjs`), a package that does not exist on the registry; Yarn's own lockfile
//!   reader takes the locator from `resolution` (`structUtils.parseLocator(manifest.resolution)`
//!   in `@yarnpkg/core`'s `Project.setupResolutions`), and so does this one.
//!
//! Each name and version is listed once (a Berry `patch:` entry resolves the same version as the
//! npm entry it patches). Workspace entries (`my-app@workspace:.`, version `0.0.0-use.local`)
//! are listed, as Syft lists them.

use super::{text, Found};

/// One entry while its fields are read.
#[derive(Default)]
struct Entry {
    /// The name from the header's first specifier (alias target for classic aliases).
    name: String,
    version: String,
    /// Berry's `resolution` locator name.
    resolved_name: Option<String>,
}

impl Entry {
    fn finish(self, found: &mut Found) {
        let name = self.resolved_name.unwrap_or(self.name);
        if !name.is_empty() && !self.version.is_empty() {
            found.add_npm(&name, &self.version, Vec::new());
        }
    }
}

pub(super) fn parse(content: &[u8], found: &mut Found) -> Result<(), String> {
    let text = text(content)?;
    let mut entry: Option<Entry> = None;
    for (index, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            if let Some(done) = entry.take() {
                done.finish(found);
            }
            let header = line
                .strip_suffix(':')
                .ok_or_else(|| format!("line {}: an entry header must end with ':'", index + 1))?;
            if header == "__metadata" {
                continue;
            }
            let name = header_name(header).ok_or_else(|| format!("line {}: no package name in {header:?}", index + 1))?;
            entry = Some(Entry { name, ..Entry::default() });
            continue;
        }
        let Some(current) = entry.as_mut() else { continue };
        // Fields of the entry itself are indented by two spaces; deeper lines are the lists of
        // dependencies.
        let Some(field) = line.strip_prefix("  ").filter(|field| !field.starts_with(' ')) else { continue };
        let (key, value) = match field.split_once(": ") {
            Some((key, value)) => (key, value),
            None => field.split_once(' ').unwrap_or((field, "")),
        };
        let value = unquote(value.trim());
        match key {
            "version" => current.version = value.to_owned(),
            "resolution" => current.resolved_name = Some(package_name(value).to_owned()),
            _ => {}
        }
    }
    if let Some(done) = entry {
        done.finish(found);
    }
    Ok(())
}

/// The package a header's first specifier installs.
fn header_name(header: &str) -> Option<String> {
    // Classic quotes each specifier; Berry quotes the whole comma-separated list.
    let first = header.split(',').next()?.trim().trim_matches('"');
    let name = package_name(first);
    if name.is_empty() || name == "@" {
        return None;
    }
    let range = &first[name.len()..].trim_start_matches('@');
    // `alias@npm:real@range` installs `real` (classic); Berry's `resolution` settles it anyway.
    if let Some(aliased) = range.strip_prefix("npm:") {
        let real = package_name(aliased);
        if !real.is_empty() && aliased.len() > real.len() {
            return Some(real.to_owned());
        }
    }
    Some(name.to_owned())
}

/// The name in `name@range` or `@scope/name@range`.
fn package_name(specifier: &str) -> &str {
    let search_from = usize::from(specifier.starts_with('@'));
    match specifier[search_from..].find('@') {
        Some(at) => &specifier[..search_from + at],
        None => specifier,
    }
}

fn unquote(value: &str) -> &str {
    value.strip_prefix('"').and_then(|value| value.strip_suffix('"')).unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::super::{identities, Found};
    use palisade_pkg::PackageType;

    fn packages(lock: &str) -> Result<Vec<(String, String)>, String> {
        let mut found = Found::new("/app/yarn.lock", "javascript-lock-cataloger", PackageType::Npm);
        super::parse(lock.as_bytes(), &mut found)?;
        Ok(identities(found.into_facts()).into_iter().map(|(name, version, _)| (name, version)).collect())
    }

    #[test]
    fn header_names_come_from_the_first_specifier_or_its_alias() {
        assert_eq!(super::header_name(r#""@babel/core@^7.0.0", "@babel/core@^7.1.0""#).as_deref(), Some("@babel/core"));
        assert_eq!(super::header_name(r#""@babel/core@npm:^7.0.0, @babel/core@npm:^7.1.0""#).as_deref(), Some("@babel/core"));
        assert_eq!(super::header_name(r#""cjs@npm:string-width@^4.2.0""#).as_deref(), Some("string-width"));
        assert_eq!(super::header_name(r#""@s/cjs@npm:@s/real@^1""#).as_deref(), Some("@s/real"));
        assert_eq!(super::header_name("lodash@4.17.21").as_deref(), Some("lodash"));
        assert_eq!(super::header_name(r#""@""#), None);
    }

    #[test]
    fn classic_entries_without_integrity_and_crlf_lines_are_read() {
        let lock = "# yarn lockfile v1\r\n\r\n\"git-dep@git+https://x/y.git#v1\":\r\n  version \"1.0.0\"\r\n  resolved \"git+https://x/y.git#abc\"\r\n\r\nlodash@^4:\r\n  version \"4.17.21\"\r\n  dependencies:\r\n    version \"9\"\r\n";
        assert_eq!(packages(lock).unwrap(), [("git-dep".into(), "1.0.0".into()), ("lodash".into(), "4.17.21".into())]);
    }

    #[test]
    fn berry_takes_the_resolved_name_and_skips_metadata() {
        let lock = "__metadata:\n  version: 8\n\n\"cjs@npm:string-width@^4.2.0\":\n  version: 4.2.3\n  resolution: \"string-width@npm:4.2.3\"\n\n\"resolve@patch:resolve@npm%3A^1#builtin<compat/resolve>\":\n  version: 1.22.8\n  resolution: \"resolve@patch:resolve@npm%3A1.22.8#builtin<compat/resolve>::version=1.22.8\"\n\n\"resolve@npm:^1\":\n  version: 1.22.8\n  resolution: \"resolve@npm:1.22.8\"\n";
        assert_eq!(packages(lock).unwrap(), [("resolve".into(), "1.22.8".into()), ("string-width".into(), "4.2.3".into())]);
    }

    #[test]
    fn a_header_without_a_colon_is_a_named_error() {
        assert_eq!(packages("# yarn lockfile v1\n\nlodash@^4\n  version \"4.17.21\"\n").unwrap_err(), "line 3: an entry header must end with ':'");
    }
}
