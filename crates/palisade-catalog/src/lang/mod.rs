//! Installed language packages, read as Syft 1.18.1's installed-package catalogers read them:
//! the same cataloger names, file selection, package names, versions and purls. Where Syft's
//! behaviour is surprising but deliberate (a `package.json` whose `author` is a number is ignored
//! whole), it is kept, so inventories can be compared side by side; what is left out is said at
//! each cataloger. One difference is deliberate: a package whose evidence names no version keeps
//! an empty version, where Syft writes `UNKNOWN` (the purl has no version in both tools).
//!
//! Every parser reads one file's bytes and nothing else, is bounded by the file's [`Want`] limit
//! and by the caps of nested archives and compressed sections, and never panics on hostile
//! input: a file it cannot read is an error naming the line or offset, a file that is simply not
//! evidence (a shell script among executables) gives no facts.

mod binary;
mod dotnet;
mod golang;
mod java;
mod javascript;
mod json_fields;
mod php;
mod python;
mod ruby;
mod rust;

pub(crate) use dotnet::DotnetDeps;
pub(crate) use golang::GoModuleBinary;
pub(crate) use java::JavaArchive;
pub(crate) use javascript::JavascriptPackage;
pub(crate) use php::ComposerInstalled;
pub(crate) use python::PythonInstalled;
pub(crate) use ruby::{GemspecDeclared, GemspecInstalled};
pub(crate) use rust::CargoAuditableBinary;

use crate::{file_name, json_error};
use palisade_pkg::{Location, Package, PackageType};

use crate::{Fact, FileMeta, Scope, Want};

/// Catalogers Syft runs on images and directories alike.
const INSTALLED: &[Scope] = &[Scope::Image, Scope::Directory];

/// Catalogers Syft runs on images only (`javascript-package-cataloger` and friends): in a project
/// directory the lockfiles say the same more precisely.
const IMAGE: &[Scope] = &[Scope::Image];

/// Catalogers Syft runs on directories only.
const DIRECTORY: &[Scope] = &[Scope::Directory];

/// The largest executable read for embedded build information (Go and Rust binaries; real ones
/// reach a few hundred MiB at most).
const EXECUTABLE_LIMIT: u64 = 256 << 20;

/// The largest metadata text or JSON file read (real ones are well under a MiB).
const METADATA_LIMIT: u64 = 16 << 20;

/// Whether a file may be an executable with embedded build information. Syft sniffs every file's
/// content for ELF, Mach-O and PE; reading every file of an image to do the same would cost far
/// more than it finds, so executables are recognised by their mode bits, or, for Windows
/// programs copied without them, by name. (Shared objects without mode bits, which Syft also
/// reads, are left out: Go and cargo-auditable build information lives in programs.)
fn wants_executable(path: &str, meta: &FileMeta) -> Option<Want> {
    let named = file_name(path).ends_with(".exe");
    // The smallest ELF header is 52 bytes; anything shorter is a script or a stub.
    ((meta.is_executable() || named) && meta.size >= 52).then_some(Want::Content { limit: EXECUTABLE_LIMIT })
}

/// The directory of a normalised absolute path, without the trailing `/`.
fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// The packages found in one file, made as Syft's cataloging makes them: a package without a
/// name is dropped, a version of only spaces is no version, and licences are a sorted set of the
/// declared values.
struct Found<'a> {
    path: &'a str,
    found_by: &'static str,
    /// Whether a package identical to one already found is left out: Syft's package IDs hash
    /// every field, so one file listing the same package twice gives it once, unless (as for
    /// archives nested in an archive) something not kept here tells the two apart.
    merge_repeats: bool,
    facts: Vec<Fact>,
}

impl<'a> Found<'a> {
    fn new(path: &'a str, found_by: &'static str) -> Self {
        Self { path, found_by, merge_repeats: true, facts: Vec::new() }
    }

    /// Keeps a package found twice twice.
    fn keeping_repeats(path: &'a str, found_by: &'static str) -> Self {
        Self { merge_repeats: false, ..Self::new(path, found_by) }
    }

    fn add(&mut self, kind: PackageType, name: &str, version: &str, purl: String, mut licenses: Vec<String>) {
        if name.trim().is_empty() {
            return;
        }
        let version = if version.trim().is_empty() { "" } else { version };
        licenses.retain(|license| !license.is_empty());
        licenses.sort();
        licenses.dedup();
        let package = Package {
            name: name.to_owned(),
            version: version.to_owned(),
            kind,
            purl,
            licenses,
            locations: vec![Location::new(self.path)],
            found_by: self.found_by.to_owned(),
            arch: None,
            epoch: None,
            source: None,
            namespace: None,
        };
        let fact = Fact::Package(package);
        if !self.merge_repeats || !self.facts.contains(&fact) {
            self.facts.push(fact);
        }
    }

    fn into_facts(self) -> Vec<Fact> {
        self.facts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executables_are_wanted_by_mode_or_name() {
        let executable = FileMeta { size: 4096, mode: 0o755 };
        let plain = FileMeta { size: 4096, mode: 0o644 };
        assert!(wants_executable("/usr/bin/app", &executable).is_some());
        assert!(wants_executable("/usr/bin/app", &plain).is_none());
        assert!(wants_executable("/app/tool.exe", &plain).is_some());
        assert!(wants_executable("/usr/lib/libx.so.1", &plain).is_none());
        assert!(wants_executable("/usr/bin/tiny", &FileMeta { size: 20, mode: 0o755 }).is_none());
    }

    #[test]
    fn a_package_without_a_version_is_kept_and_one_without_a_name_is_dropped() {
        let mut found = Found::new("/x/package.json", "javascript-package-cataloger");
        found.add(PackageType::Npm, "left-pad", "", "pkg:npm/left-pad".into(), vec![String::new(), "MIT".into(), "MIT".into()]);
        found.add(PackageType::Npm, " ", "1.0.0", "pkg:npm/%20@1.0.0".into(), vec![]);
        found.add(PackageType::Npm, "left-pad", "", "pkg:npm/left-pad".into(), vec!["MIT".into()]);
        let facts = found.into_facts();
        assert_eq!(facts.len(), 1);
        let Fact::Package(package) = &facts[0] else { panic!("a package") };
        assert_eq!((package.version.as_str(), package.purl.as_str()), ("", "pkg:npm/left-pad"));
        assert_eq!(package.licenses, ["MIT"]);
    }
}
