//! Lockfiles and manifests of a project directory: the packages a project declares, read as
//! Syft 1.18.1's directory catalogers read them (same cataloger names, package names, versions
//! and purls), except where Syft misreads a format; each such difference is documented at the
//! parser and checked in `tests/lockfiles.rs`.
//!
//! Every parser works on one file's bytes, never follows includes or parent files, and is
//! bounded: files are read up to [`LIMIT`] bytes, JSON nesting stops at serde_json's recursion
//! limit, TOML at the toml parser's, YAML and XML at [`MAX_DEPTH`]. Errors name the line (and the
//! column when the parser gives one).

mod cargo;
mod composer;
mod gemfile;
mod golang;
mod gradle;
mod javascript;
mod npm;
mod pipfile;
mod pnpm;
mod pom;
mod python;
mod requirements;
mod sbom;
mod toml_packages;
mod yaml;
mod yarn;

pub(crate) use cargo::CargoLock;
pub(crate) use composer::ComposerLock;
pub(crate) use gemfile::GemfileLock;
pub(crate) use golang::GoModFile;
pub(crate) use gradle::GradleLockfile;
pub(crate) use javascript::JavascriptLock;
pub(crate) use pom::PomXml;
pub(crate) use python::PythonPackage;
pub(crate) use sbom::SbomFile;

use crate::{file_name, json_error};
use std::collections::HashSet;

use palisade_pkg::{purl, Location, Package, PackageType};

use crate::{Fact, Scope, Want};

/// The largest lockfile read (real ones are a few MiB at most).
const LIMIT: u64 = 64 << 20;

/// How much of a lockfile is read.
const WANT: Want = Want::Content { limit: LIMIT };

/// Lockfiles declare what a project needs; they are read in project directories only.
const SCOPES: &[Scope] = &[Scope::Directory];

/// The deepest nesting of YAML or XML collections read; lockfiles and poms nest a few levels.
const MAX_DEPTH: usize = 64;

/// Whether the path runs through a `node_modules` directory: a lockfile there belongs to an
/// installed dependency, not to the project (Syft skips these too).
fn in_node_modules(path: &str) -> bool {
    path.split('/').any(|segment| segment == "node_modules")
}

/// The file as UTF-8 text; the error names the line of the first byte that is not.
fn text(content: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(content).map_err(|error| {
        let valid = &content[..error.valid_up_to()];
        let line = valid.iter().filter(|&&byte| byte == b'\n').count() + 1;
        format!("line {line}: the file is not UTF-8 text")
    })
}

/// 1-based line and column of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |last| last.chars().count()) + 1;
    (line, column)
}

/// A Maven purl as Syft writes it: the group is the namespace; without a group, the artifact
/// stands in for it. OSGi directives after a `;` in a group are dropped.
fn maven_purl(group: &str, artifact: &str, version: &str) -> String {
    purl::maven(group.split(';').next().unwrap_or_default().trim(), artifact, version)
}

/// The packages found in one file, each (name, version, purl) once, as Syft's package IDs
/// collapse repeated entries of one file.
struct Found<'a> {
    path: &'a str,
    found_by: &'static str,
    kind: PackageType,
    seen: HashSet<(String, String, String)>,
    facts: Vec<Fact>,
}

impl<'a> Found<'a> {
    fn new(path: &'a str, found_by: &'static str, kind: PackageType) -> Self {
        Self { path, found_by, kind, seen: HashSet::new(), facts: Vec::new() }
    }

    /// Adds a package unless the same one was already added; packages without a name (which
    /// no purl can name) are left out.
    fn add(&mut self, name: &str, version: &str, purl: String, licenses: Vec<String>) {
        if name.is_empty() || purl.is_empty() {
            return;
        }
        if !self.seen.insert((name.to_owned(), version.to_owned(), purl.clone())) {
            return;
        }
        self.facts.push(Fact::Package(Package {
            name: name.to_owned(),
            version: version.to_owned(),
            kind: self.kind,
            purl,
            licenses,
            locations: vec![Location::new(self.path)],
            found_by: self.found_by.to_owned(),
            arch: None,
            epoch: None,
            source: None,
            namespace: None,
        }));
    }

    fn into_facts(self) -> Vec<Fact> {
        self.facts
    }
}

/// Name, version and purl of each package fact, sorted: what the unit tests compare.
#[cfg(test)]
fn identities(facts: Vec<Fact>) -> Vec<(String, String, String)> {
    let mut identities: Vec<_> = facts
        .into_iter()
        .filter_map(|fact| match fact {
            Fact::Package(package) => Some((package.name, package.version, package.purl)),
            _ => None,
        })
        .collect();
    identities.sort();
    identities
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_columns() {
        assert_eq!(line_and_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_and_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_and_column("ab", 99), (1, 3));
    }

    #[test]
    fn text_that_is_not_utf8_names_its_line() {
        assert_eq!(text(b"ok\nok\n\xff").unwrap_err(), "line 3: the file is not UTF-8 text");
    }

    #[test]
    fn json_errors_put_the_position_first() {
        let error = serde_json::from_str::<serde_json::Value>("{\n  \"a\": 1,\n  \"b\": x\n}").unwrap_err();
        assert_eq!(json_error(&error), "line 3, column 8: expected value");
    }

    #[test]
    fn a_package_is_added_once_and_only_with_a_name() {
        let mut found = Found::new("/p/x.lock", "test-cataloger", PackageType::Npm);
        found.add("a", "1", "pkg:npm/a@1".into(), Vec::new());
        found.add("a", "1", "pkg:npm/a@1".into(), Vec::new());
        found.add("", "1", "pkg:npm/@1".into(), Vec::new());
        let facts = found.into_facts();
        assert_eq!(facts.len(), 1);
        let Fact::Package(package) = &facts[0] else { panic!("a package") };
        assert_eq!((package.locations[0].path.as_str(), package.found_by.as_str()), ("/p/x.lock", "test-cataloger"));
    }

    #[test]
    fn maven_purls_fall_back_to_the_artifact_and_drop_osgi_directives() {
        assert_eq!(maven_purl("org.bar;uses:=\"org.foo\"", "bar", "1.0"), "pkg:maven/org.bar/bar@1.0");
        assert_eq!(maven_purl("", "bar", "1.0"), "pkg:maven/bar/bar@1.0");
    }

    #[test]
    fn lockfiles_in_node_modules_belong_to_dependencies() {
        assert!(in_node_modules("/app/node_modules/x/package-lock.json"));
        assert!(!in_node_modules("/app/node_modules_backup/package-lock.json"));
    }
}
