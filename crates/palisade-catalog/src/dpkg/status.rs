//! dpkg's database format: stanzas of `Field: value` lines (RFC 822 style, continuation lines
//! start with a space or tab) separated by blank lines. Only the fields a package needs are
//! kept; field names are compared without regard to case, as dpkg does.
//!
//! Malformed input gives named problems and the packages that could still be read, where Syft
//! gives up on the whole file (a repeated field, a continuation line before any field) or
//! skips silently (a line that is not a field, a stanza without `Package`).

use palisade_pkg::{Location, Package, PackageType, SourcePackage};

use crate::os_release::Problems;

use super::CATALOGER_NAME;

/// A field's value and the line it was on.
type Field = Option<(usize, String)>;

/// The fields of one stanza that make a package.
#[derive(Default)]
struct Stanza {
    first_line: usize,
    has_fields: bool,
    package: Field,
    version: Field,
    architecture: Field,
    source: Field,
}

impl Stanza {
    fn field(&mut self, name: &[u8]) -> Option<&mut Field> {
        let known: [(&[u8], &mut Field); 4] = [
            (b"package", &mut self.package),
            (b"version", &mut self.version),
            (b"architecture", &mut self.architecture),
            (b"source", &mut self.source),
        ];
        known.into_iter().find(|(known, _)| known.eq_ignore_ascii_case(name)).map(|(_, slot)| slot)
    }

    fn into_package(self, path: &str, problems: &mut Problems) -> Option<Package> {
        let Some((_, name)) = self.package.filter(|(_, name)| !name.is_empty()) else {
            if self.has_fields {
                problems.add(format!("line {}: stanza without a Package field", self.first_line));
            }
            return None;
        };
        let value = |field: Field| field.map(|(_, value)| value).filter(|value| !value.is_empty());
        Some(Package {
            name,
            version: value(self.version).unwrap_or_default(),
            kind: PackageType::Deb,
            purl: String::new(),
            licenses: Vec::new(),
            locations: vec![Location::new(path)],
            found_by: CATALOGER_NAME.to_owned(),
            arch: value(self.architecture),
            epoch: None,
            source: value(self.source).map(|source| source_package(&source)),
            namespace: None,
        })
    }
}

/// `Source: util-linux (2.38.1-5)`: dpkg writes the version only when it differs from the binary
/// package's. Read as Syft reads it: the first word is the name and a ` (…)` right after it the
/// version; without a version the whole value is the name.
fn source_package(value: &str) -> SourcePackage {
    let name_end = value.find(|c: char| c.is_ascii_whitespace()).unwrap_or(value.len());
    let (name, rest) = value.split_at(name_end);
    let version = rest.strip_prefix(" (").and_then(|rest| rest.rfind(')').map(|end| &rest[..end])).filter(|version| !version.is_empty());
    match version {
        Some(version) => SourcePackage { name: name.to_owned(), version: Some(version.to_owned()) },
        None => SourcePackage { name: value.to_owned(), version: None },
    }
}

/// The packages of one database file, in file order.
pub(super) fn parse(path: &str, content: &[u8], problems: &mut Problems) -> Vec<Package> {
    let mut packages = Vec::new();
    let mut stanza = Stanza::default();
    let mut in_field = false;
    for (index, line) in content.split(|&byte| byte == b'\n').enumerate() {
        let number = index + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(|byte| matches!(byte, b' ' | b'\t')) {
            if stanza.has_fields || stanza.package.is_some() {
                packages.extend(std::mem::take(&mut stanza).into_package(path, problems));
            }
            in_field = false;
            continue;
        }
        if matches!(line[0], b' ' | b'\t') {
            if !in_field {
                problems.add(format!("line {number}: continuation line outside a field"));
            }
            continue;
        }
        if !stanza.has_fields {
            stanza.first_line = number;
        }
        let Some(colon) = line.iter().position(|&byte| byte == b':').filter(|&colon| colon > 0) else {
            problems.add(format!("line {number}: not a `Field: value` line"));
            in_field = false;
            continue;
        };
        stanza.has_fields = true;
        in_field = true;
        let name = line[..colon].trim_ascii();
        let Some(slot) = stanza.field(name) else { continue };
        let value = String::from_utf8_lossy(line[colon + 1..].trim_ascii()).into_owned();
        match slot {
            Some((first, _)) => {
                let first = *first;
                problems.add(format!("line {number}: second {} field in a stanza (the first is on line {first}); the first is kept", String::from_utf8_lossy(name)));
            }
            None => *slot = Some((number, value)),
        }
    }
    packages.extend(stanza.into_package(path, problems));
    packages
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(content: &[u8]) -> (Vec<Package>, Vec<String>) {
        let mut problems = Problems::default();
        let packages = parse("/var/lib/dpkg/status", content, &mut problems);
        (packages, problems.into_messages())
    }

    fn summary(packages: &[Package]) -> Vec<(String, String, Option<String>, Option<SourcePackage>)> {
        packages.iter().map(|package| (package.name.clone(), package.version.clone(), package.arch.clone(), package.source.clone())).collect()
    }

    fn source(name: &str, version: Option<&str>) -> Option<SourcePackage> {
        Some(SourcePackage { name: name.into(), version: version.map(Into::into) })
    }

    #[test]
    fn stanzas_with_continuations_and_sources() {
        let text = b"Package: bsdutils\nEssential: yes\nStatus: install ok installed\nPriority: required\nInstalled-Size: 334\nArchitecture: amd64\nSource: util-linux (2.38.1-5+deb12u3)\nVersion: 1:2.38.1-5+deb12u3\nDescription: basic utilities from 4.4BSD-Lite\n This package contains the bare minimum of BSD utilities.\n .\n More lines: with colons\n\nPackage: libc6\nSource: glibc\nVersion: 2.36-9+deb12u14\nArchitecture: amd64\nMulti-Arch: same\n\n\n\nPackage: adduser\nVersion: 3.134\nArchitecture: all\n";
        let (packages, problems) = read(text);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            summary(&packages),
            [
                ("bsdutils".into(), "1:2.38.1-5+deb12u3".into(), Some("amd64".into()), source("util-linux", Some("2.38.1-5+deb12u3"))),
                ("libc6".into(), "2.36-9+deb12u14".into(), Some("amd64".into()), source("glibc", None)),
                ("adduser".into(), "3.134".into(), Some("all".into()), None),
            ]
        );
        assert_eq!(packages[0].locations, [Location::new("/var/lib/dpkg/status")]);
        assert_eq!(packages[0].found_by, "dpkg-db-cataloger");
    }

    #[test]
    fn every_status_is_listed_as_syft_lists_it() {
        let text = b"Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0-1\nArchitecture: amd64\n\nPackage: half\nStatus: install ok half-installed\nVersion: 3.0\n";
        let (packages, _) = read(text);
        assert_eq!(packages.iter().map(|package| package.name.as_str()).collect::<Vec<_>>(), ["gone", "half"]);
    }

    #[test]
    fn source_field_forms() {
        assert_eq!(source_package("glibc"), SourcePackage { name: "glibc".into(), version: None });
        assert_eq!(source_package("bash (5.2.15-2)"), SourcePackage { name: "bash".into(), version: Some("5.2.15-2".into()) });
        assert_eq!(source_package("foo ()"), SourcePackage { name: "foo ()".into(), version: None });
        assert_eq!(source_package("foo (1) (2)"), SourcePackage { name: "foo".into(), version: Some("1) (2".into()) });
        assert_eq!(source_package("foo (1"), SourcePackage { name: "foo (1".into(), version: None });
    }

    #[test]
    fn field_names_ignore_case_and_missing_fields_stay_empty() {
        let (packages, problems) = read(b"package: lower\nVERSION: 2\n\nPackage: noversion\n");
        assert!(problems.is_empty());
        assert_eq!(summary(&packages), [("lower".into(), "2".into(), None, None), ("noversion".into(), String::new(), None, None)]);
    }

    #[test]
    fn stanza_without_package_is_named() {
        let (packages, problems) = read(b"Package: a\nVersion: 1\n\nStatus: install ok installed\nVersion: 9\n\nPackage: b\nVersion: 2\n");
        assert_eq!(packages.len(), 2);
        assert_eq!(problems, ["line 4: stanza without a Package field"]);
    }

    #[test]
    fn repeated_fields_and_stray_lines_are_named_and_the_rest_is_read() {
        let (packages, problems) = read(b" orphan continuation\nPackage: a\nVersion: 1\nVersion: 2\nno colon here\n: empty name\nArchitecture: all\n");
        assert_eq!(summary(&packages), [("a".into(), "1".into(), Some("all".into()), None)]);
        assert_eq!(
            problems,
            [
                "line 1: continuation line outside a field",
                "line 4: second Version field in a stanza (the first is on line 3); the first is kept",
                "line 5: not a `Field: value` line",
                "line 6: not a `Field: value` line",
            ]
        );
    }

    #[test]
    fn non_utf8_values_are_kept_lossily() {
        let (packages, problems) = read(b"Package: caf\xe9\nVersion: 1\xff\r\nArchitecture: amd64\r\n\r\nPackage: next\n");
        assert!(problems.is_empty());
        assert_eq!(packages[0].name, "caf\u{fffd}");
        assert_eq!(packages[0].version, "1\u{fffd}");
        assert_eq!(packages[0].arch.as_deref(), Some("amd64"));
        assert_eq!(packages[1].name, "next");
    }

    #[test]
    fn hostile_input_gives_named_problems_without_panics() {
        let garbage: Vec<u8> = (0u32..200_000).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let (_, problems) = read(&garbage);
        assert!(!problems.is_empty());
        assert!(problems.iter().all(|problem| problem.starts_with("line ") || problem.starts_with("and ")), "{problems:?}");

        let mut huge = b"Package: big\nVersion: 1\nDescription: ".to_vec();
        huge.extend(std::iter::repeat_n(b'x', 20 * 1024 * 1024));
        huge.extend(b"\n\nPackage: after\n");
        let (packages, problems) = read(&huge);
        assert!(problems.is_empty());
        assert_eq!(packages.iter().map(|package| package.name.as_str()).collect::<Vec<_>>(), ["big", "after"]);

        for input in [&b""[..], b"\n\n\n", b":", b"\x00\x00:\x00", b"Package:", b"Package: \n", b" \n\t\n"] {
            let _ = read(input);
        }
    }
}
