//! `python-installed-package-cataloger`: what pip, setuptools and distutils leave in
//! `site-packages`: `*.dist-info/METADATA` (wheels), `*.egg-info/PKG-INFO` and single-file
//! `*.egg-info` (eggs), read as Syft reads them.
//!
//! The metadata is RFC 822-style headers up to the first blank line; a line that starts with a
//! space continues the previous header (joined with a newline and a space, as Syft joins it);
//! `-` is dropped from header names, which match regardless of case. The name is normalised as
//! PEP 503 says (lower case, runs of `-_.` as one `-`); a distribution named `Python` is the
//! interpreter and is left out. Licences: `License-Expression`, else `License`.
//!
//! `RECORD`, `installed-files.txt`, `top_level.txt` and `direct_url.json` beside the metadata
//! are evidence of the package named by their directory. Left out: licences Syft finds by
//! scanning a `License-File`'s text, and the `vcs_url` purl qualifier it takes from
//! `direct_url.json` (a purl made from two files does not fit facts made per file).

use palisade_pkg::{purl, PackageType};

use super::{file_name, parent_dir, Found, INSTALLED, METADATA_LIMIT};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads installed Python distributions.
pub(crate) struct PythonInstalled;

const NAME: &str = "python-installed-package-cataloger";

/// Files beside the metadata that belong to the distribution.
const EVIDENCE: [&str; 4] = ["RECORD", "installed-files.txt", "top_level.txt", "direct_url.json"];

/// Go's `bufio.Scanner`, which Syft reads the headers with, stops at the first line this long.
const MAX_LINE: usize = 64 * 1024;

/// Headers Syft decodes into lists, under these exact spellings only.
const LIST_HEADERS: [&str; 2] = ["ProvidesExtra", "RequiresDist"];

/// Headers whose (`-`less, lower-case) names are fields that hold no string: Syft fails to
/// decode a file that has one.
const NON_STRING_FIELDS: [&str; 5] = ["files", "toplevelpackages", "directurlorigin", "providesextra", "requiresdist"];

/// What a file in a metadata directory is.
enum Role {
    Metadata,
    Evidence,
}

fn role(path: &str) -> Option<Role> {
    let name = file_name(path);
    let directory = file_name(parent_dir(path));
    let in_dist_info = directory.ends_with("dist-info") || directory.ends_with("DIST-INFO");
    let in_egg_info = directory.ends_with("egg-info") || directory.ends_with("EGG-INFO");
    if (name == "METADATA" && in_dist_info) || (name == "PKG-INFO" && in_egg_info) || name.ends_with(".egg-info") {
        return Some(Role::Metadata);
    }
    ((in_dist_info || in_egg_info) && EVIDENCE.contains(&name)).then_some(Role::Evidence)
}

impl Cataloger for PythonInstalled {
    fn name(&self) -> &'static str {
        NAME
    }

    fn scopes(&self) -> &'static [Scope] {
        INSTALLED
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        match role(path)? {
            Role::Metadata => Some(Want::Content { limit: METADATA_LIMIT }),
            Role::Evidence => Some(Want::Presence),
        }
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        match role(path) {
            Some(Role::Metadata) => metadata(path, content),
            Some(Role::Evidence) => Ok(evidence(path).into_iter().collect()),
            None => Ok(Vec::new()),
        }
    }
}

/// The package a metadata file describes.
fn metadata(path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
    let headers = headers(content)?;
    let value = |name: &str| {
        let wanted = name.to_ascii_lowercase();
        // An exact spelling wins over one in another case, as in Syft's decoder.
        headers
            .iter()
            .find(|(key, _)| *key == name)
            .or_else(|| headers.iter().find(|(key, _)| key.to_lowercase() == wanted))
            .map_or("", |(_, value)| value.as_str())
    };
    let name = value("Name");
    if name.is_empty() || name == "Python" {
        return Ok(Vec::new());
    }
    let normalized = normalize(name);
    let version = value("Version");
    let license = [value("LicenseExpression"), value("License")].into_iter().find(|license| !license.is_empty());
    let mut found = Found::new(path, NAME);
    let purl = purl::build("pypi", None, &normalized, Some(version), &[]);
    found.add(PackageType::Python, &normalized, version, purl, license.map(str::to_owned).into_iter().collect());
    Ok(found.into_facts())
}

/// The headers, in order, with `-` dropped from their names. A repeated header replaces the
/// earlier value, except the list headers, which keep every value.
fn headers(content: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut headers: Vec<(String, String)> = Vec::new();
    // The header a continuation line continues.
    let mut last: Option<usize> = None;
    for (index, line) in content.split(|&byte| byte == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() >= MAX_LINE {
            break;
        }
        let line = String::from_utf8_lossy(line);
        if line.is_empty() {
            if headers.is_empty() {
                continue;
            }
            break;
        }
        if let Some(continuation) = line.strip_prefix(' ') {
            let Some((_, value)) = last.and_then(|last| headers.get_mut(last)) else {
                return Err(format!("line {}: a continuation line with no header before it", index + 1));
            };
            value.push_str("\n ");
            value.push_str(continuation.trim());
            continue;
        }
        let Some((key, value)) = line.split_once(':').filter(|(key, _)| !key.is_empty()) else {
            continue;
        };
        let key = key.trim().replace('-', "");
        let is_list = LIST_HEADERS.contains(&key.as_str());
        if !is_list && NON_STRING_FIELDS.contains(&key.to_lowercase().as_str()) {
            return Err(format!("line {}: header {key} cannot be read as a string", index + 1));
        }
        let value = value.trim().to_owned();
        match headers.iter().position(|(existing, _)| *existing == key).filter(|_| !is_list) {
            Some(existing) => {
                headers[existing].1 = value;
                last = Some(existing);
            }
            None => {
                headers.push((key, value));
                last = Some(headers.len() - 1);
            }
        }
    }
    Ok(headers)
}

/// The evidence a file beside the metadata gives: it belongs to the distribution its directory
/// names (`requests-2.31.0.dist-info`, `foo.egg-info`).
fn evidence(path: &str) -> Option<Fact> {
    let directory = file_name(parent_dir(path));
    let stem = ["dist-info", "DIST-INFO", "egg-info", "EGG-INFO"]
        .iter()
        .find_map(|suffix| directory.strip_suffix(suffix))?
        .trim_end_matches('.');
    let name = stem.split('-').next().unwrap_or_default();
    (!name.is_empty()).then(|| Fact::Evidence { kind: PackageType::Python, name: normalize(name), licenses: Vec::new() })
}

/// A distribution name as PEP 503 normalises it (and Syft names the package).
fn normalize(name: &str) -> String {
    let mut normalized = String::with_capacity(name.len());
    let mut in_separator = false;
    for character in name.chars() {
        if matches!(character, '-' | '_' | '.') {
            if !in_separator {
                normalized.push('-');
            }
            in_separator = true;
        } else {
            normalized.extend(character.to_lowercase());
            in_separator = false;
        }
    }
    normalized
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Name, version, purl and licences of a package found.
    type Seen = (String, String, String, Vec<String>);

    fn package(path: &str, content: &str) -> Result<Option<Seen>, String> {
        let facts = PythonInstalled.parse(path, content.as_bytes())?;
        Ok(facts.into_iter().next().map(|fact| match fact {
            Fact::Package(package) => (package.name, package.version, package.purl, package.licenses),
            other => panic!("unexpected fact {other:?}"),
        }))
    }

    const SITE: &str = "/usr/lib/python3/site-packages";

    // Expected values are Syft 1.18.1's for the same files (tests/fixtures/lang/python).
    #[test]
    fn names_are_normalised_and_licence_expressions_preferred() {
        let found = package(
            &format!("{SITE}/Foo_Bar.Baz-1.0.dist-info/METADATA"),
            "Metadata-Version: 2.1\nName: Foo_Bar.Baz\nVersion: 1.0\nLicense: MIT\nLicense-Expression: Apache-2.0\n\nName: body\n",
        );
        assert_eq!(found, Ok(Some(("foo-bar-baz".into(), "1.0".into(), "pkg:pypi/foo-bar-baz@1.0".into(), vec!["Apache-2.0".into()]))));
    }

    #[test]
    fn continuation_lines_join_with_a_newline_and_a_space() {
        let found = package(&format!("{SITE}/eggfile-0.1-py3.11.egg-info"), "Name: eggfile\r\nVersion: 0.1\r\nLicense: BSD\r\n  continued\r\n");
        assert_eq!(found, Ok(Some(("eggfile".into(), "0.1".into(), "pkg:pypi/eggfile@0.1".into(), vec!["BSD\n continued".into()]))));
    }

    #[test]
    fn a_package_may_lack_a_version_and_python_itself_is_left_out() {
        let found = package(&format!("{SITE}/noversion-1.0.dist-info/METADATA"), "Metadata-Version: 2.1\nname: noversion\n");
        assert_eq!(found, Ok(Some(("noversion".into(), "".into(), "pkg:pypi/noversion".into(), vec![]))));
        assert_eq!(package(&format!("{SITE}/Python-3.dist-info/METADATA"), "Name: Python\nVersion: 3\n"), Ok(None));
        assert_eq!(package(&format!("{SITE}/x-1.dist-info/METADATA"), "Version: 3\n"), Ok(None));
    }

    #[test]
    fn malformed_headers_are_named_by_line() {
        assert_eq!(
            package(&format!("{SITE}/x-1.dist-info/METADATA"), "\n continued first\nName: x\n"),
            Err("line 2: a continuation line with no header before it".into())
        );
        assert_eq!(
            package(&format!("{SITE}/x-1.dist-info/METADATA"), "Name: x\nFiles: a.py\n"),
            Err("line 2: header Files cannot be read as a string".into())
        );
        // Lines without a colon are skipped; list headers may repeat.
        let found = package(&format!("{SITE}/x-1.dist-info/METADATA"), "garbage\nName: x\nRequires-Dist: a\nRequires-Dist: b\nVersion: 2\n");
        assert_eq!(found.map(|found| found.map(|(_, version, ..)| version)), Ok(Some("2".into())));
    }

    #[test]
    fn files_beside_the_metadata_are_evidence_of_the_directory_s_distribution() {
        assert!(PythonInstalled.wants(&format!("{SITE}/charset_normalizer-3.3.2.dist-info/RECORD"), &FileMeta { size: 9, mode: 0o644 }) == Some(Want::Presence));
        let facts = PythonInstalled.parse(&format!("{SITE}/charset_normalizer-3.3.2.dist-info/RECORD"), b"").unwrap();
        assert_eq!(facts, [Fact::Evidence { kind: PackageType::Python, name: "charset-normalizer".into(), licenses: vec![] }]);
        let facts = PythonInstalled.parse(&format!("{SITE}/foo.egg-info/top_level.txt"), b"").unwrap();
        assert_eq!(facts, [Fact::Evidence { kind: PackageType::Python, name: "foo".into(), licenses: vec![] }]);
        assert!(PythonInstalled.wants(&format!("{SITE}/foo/RECORD"), &FileMeta { size: 9, mode: 0o644 }).is_none());
    }

    #[test]
    fn normalisation_follows_pep_503() {
        assert_eq!(normalize("Foo__Bar-.baz"), "foo-bar-baz");
        assert_eq!(normalize("zope.interface"), "zope-interface");
    }
}
