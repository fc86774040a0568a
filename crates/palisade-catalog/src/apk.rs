//! Alpine packages (`apk-db-cataloger`): apk-tools' database `/lib/apk/db/installed`, one
//! entry per package of `X:value` lines (`P` name, `V` version, `A` architecture, `o` origin,
//! the source package, `L` licence, and many more), entries separated by blank lines.
//!
//! As Syft 1.18.1: the database is read wherever it is (`**/lib/apk/db/installed`); the purl's
//! `upstream` is the origin only when it differs from the name; the licence is one SPDX
//! expression when it parses as one (`MPL-2.0 AND MIT`) and otherwise split at spaces
//! (`MIT BSD GPL2+` is three licences).
//!
//! Differences on malformed input: an entry without `P` is a named problem (Syft drops the
//! nameless package), and a line longer than 64 KiB is read (Syft's line scanner stops there and
//! the whole file yields nothing).

use palisade_pkg::{Location, Package, PackageType, SourcePackage};
use spdx::ParseMode;

use crate::os_release::Problems;
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// An Alpine system's database holds every installed file's name and checksum: a few MB.
const INSTALLED_LIMIT: u64 = 64 * 1024 * 1024;

const CATALOGER_NAME: &str = "apk-db-cataloger";

/// Close to how Syft's SPDX library (github/go-spdx) validates an expression: listed and
/// deprecated identifiers, `+` after any of them, `AND`, `OR`, `WITH`.
const LICENSE_EXPRESSION: ParseMode =
    ParseMode { allow_slash_as_or_operator: false, allow_imprecise_license_names: false, allow_postfix_plus_on_gpl: true, allow_deprecated: true, allow_unknown: false };

/// Reads apk-tools' installed database.
pub struct ApkCataloger;

impl Cataloger for ApkCataloger {
    fn name(&self) -> &'static str {
        CATALOGER_NAME
    }

    fn scopes(&self) -> &'static [Scope] {
        &[Scope::Image, Scope::Directory]
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        path.ends_with("/lib/apk/db/installed").then_some(Want::Content { limit: INSTALLED_LIMIT })
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        let mut problems = Problems::default();
        let packages = parse_installed(path, content, &mut problems);
        problems.into_result(packages.into_iter().map(Fact::Package).collect())
    }
}

/// The fields of one entry that make a package.
#[derive(Default)]
struct Entry {
    first_line: usize,
    name: Option<String>,
    version: Option<String>,
    architecture: Option<String>,
    origin: Option<String>,
    license: Option<String>,
}

impl Entry {
    fn into_package(self, path: &str, problems: &mut Problems) -> Option<Package> {
        let Some(name) = self.name else {
            problems.add(format!("line {}: entry without a P (package name) field", self.first_line));
            return None;
        };
        let source = self.origin.filter(|origin| *origin != name).map(|origin| SourcePackage { name: origin, version: None });
        Some(Package {
            licenses: self.license.as_deref().map(licenses).unwrap_or_default(),
            version: self.version.unwrap_or_default(),
            kind: PackageType::Apk,
            purl: String::new(),
            locations: vec![Location::new(path)],
            found_by: CATALOGER_NAME.to_owned(),
            arch: self.architecture,
            epoch: None,
            source,
            namespace: None,
            name,
        })
    }
}

fn parse_installed(path: &str, content: &[u8], problems: &mut Problems) -> Vec<Package> {
    let mut packages = Vec::new();
    let mut entry: Option<Entry> = None;
    for (index, line) in content.split(|&byte| byte == b'\n').enumerate() {
        let number = index + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            packages.extend(entry.take().and_then(|entry| entry.into_package(path, problems)));
            continue;
        }
        let Some(colon) = line.iter().position(|&byte| byte == b':') else {
            problems.add(format!("line {number}: not an `X:value` line"));
            continue;
        };
        if colon == 0 {
            problems.add(format!("line {number}: field without a name"));
            continue;
        }
        let value = &line[colon + 1..];
        if value.is_empty() {
            continue;
        }
        let entry = entry.get_or_insert_with(|| Entry { first_line: number, ..Entry::default() });
        let slot = match &line[..colon] {
            b"P" => &mut entry.name,
            b"V" => &mut entry.version,
            b"A" => &mut entry.architecture,
            b"o" => &mut entry.origin,
            b"L" => &mut entry.license,
            _ => continue,
        };
        // A repeated field overrides, as in Syft.
        *slot = Some(String::from_utf8_lossy(value).into_owned());
    }
    packages.extend(entry.and_then(|entry| entry.into_package(path, problems)));
    packages
}

fn licenses(declared: &str) -> Vec<String> {
    if spdx::Expression::parse_mode(declared, LICENSE_EXPRESSION).is_ok() {
        return vec![declared.to_owned()];
    }
    let mut found: Vec<String> = Vec::new();
    for word in declared.split(' ').filter(|word| !word.is_empty()) {
        if !found.iter().any(|known| known == word) {
            found.push(word.to_owned());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(content: &[u8]) -> (Vec<Package>, Vec<String>) {
        let mut problems = Problems::default();
        let packages = parse_installed("/lib/apk/db/installed", content, &mut problems);
        (packages, problems.into_messages())
    }

    const TWO: &[u8] = b"C:Q1jZ1XW1bXjq2kZ7t2ZuT1dE5k8Jw=\nP:musl\nV:1.2.4-r0\nA:x86_64\nS:383152\nI:622592\nT:the musl c library (libc) implementation\nU:https://musl.libc.org/\nL:MIT\no:musl\nm:Timo Teras <timo.teras@iki.fi>\nt:1683890734\nc:7baa8c6d4ef0b3b6e4ac5f2a5e2d0fa5cb2fc2d6\np:so:libc.musl-x86_64.so.1=1\nF:lib\nR:ld-musl-x86_64.so.1\na:0:0:755\nZ:Q1Wwn8VR9ytd8pYv3w3EqCM+yQ2Ng=\n\nP:musl-utils\nV:1.2.4-r0\nA:x86_64\nL:MIT BSD GPL2+\no:musl\n\n";

    #[test]
    fn entries_and_fields() {
        let (packages, problems) = read(TWO);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(packages.len(), 2);
        let musl = &packages[0];
        assert_eq!((musl.name.as_str(), musl.version.as_str(), musl.arch.as_deref()), ("musl", "1.2.4-r0", Some("x86_64")));
        assert_eq!(musl.source, None, "origin equal to the name is no upstream");
        assert_eq!(musl.licenses, ["MIT"]);
        assert_eq!(musl.found_by, "apk-db-cataloger");
        assert_eq!(musl.locations, [Location::new("/lib/apk/db/installed")]);
        let utils = &packages[1];
        assert_eq!(utils.source, Some(SourcePackage { name: "musl".into(), version: None }));
        assert_eq!(utils.licenses, ["MIT", "BSD", "GPL2+"]);
    }

    #[test]
    fn licences_as_syft_splits_them() {
        assert_eq!(licenses("MPL-2.0 AND MIT"), ["MPL-2.0 AND MIT"]);
        assert_eq!(licenses("GPL-2.0-or-later WITH Linux-syscall-note"), ["GPL-2.0-or-later WITH Linux-syscall-note"]);
        assert_eq!(licenses("(MIT OR Apache-2.0) AND BSD-3-Clause"), ["(MIT OR Apache-2.0) AND BSD-3-Clause"]);
        assert_eq!(licenses("GPL-2.0+ AND LGPL-2.1"), ["GPL-2.0+ AND LGPL-2.1"]);
        assert_eq!(licenses("custom"), ["custom"]);
        assert_eq!(licenses("MIT AND BSD"), ["MIT", "AND", "BSD"]);
        assert_eq!(licenses("GPL2  GPL2"), ["GPL2"]);
    }

    #[test]
    fn last_entry_without_blank_line_and_repeated_fields() {
        let (packages, problems) = read(b"P:a\nV:1\nV:2\n\n\n\nP:b\nV:3");
        assert!(problems.is_empty());
        assert_eq!(packages.iter().map(|package| (package.name.as_str(), package.version.as_str())).collect::<Vec<_>>(), [("a", "2"), ("b", "3")]);
    }

    #[test]
    fn malformed_entries_are_named() {
        let (packages, problems) = read(b"V:1\nA:x86_64\n\nP:ok\nno colon\n:novalue\nV:\nP:\n\nP:next\r\nV:2\r\n");
        assert_eq!(packages.iter().map(|package| package.name.as_str()).collect::<Vec<_>>(), ["ok", "next"]);
        assert_eq!(problems, ["line 1: entry without a P (package name) field", "line 5: not an `X:value` line", "line 6: field without a name"]);
    }

    #[test]
    fn hostile_input() {
        let garbage: Vec<u8> = (0u32..300_000).map(|i| (i.wrapping_mul(2_654_435_761) >> 9) as u8).collect();
        let (_, problems) = read(&garbage);
        assert!(problems.len() <= 21);
        let mut huge = b"P:big\nV:1\nT:".to_vec();
        huge.extend(std::iter::repeat_n(b'x', 1 << 20));
        huge.extend(b"\nL:\xff\xfe\n");
        let (packages, problems) = read(&huge);
        assert!(problems.is_empty());
        assert_eq!(packages[0].licenses, ["\u{fffd}\u{fffd}"]);
        assert!(ApkCataloger.parse("/lib/apk/db/installed", b"garbage").is_err());
        assert_eq!(ApkCataloger.parse("/lib/apk/db/installed", b""), Ok(vec![]));
    }

    #[test]
    fn wanted_paths() {
        let meta = FileMeta { size: 1, mode: 0o644 };
        assert!(ApkCataloger.wants("/lib/apk/db/installed", &meta).is_some());
        assert!(ApkCataloger.wants("/usr/lib/apk/db/installed", &meta).is_some());
        assert!(ApkCataloger.wants("/lib/apk/db/installed.bak", &meta).is_none());
    }
}
