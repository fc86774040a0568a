//! `java-archive-cataloger`: Java archives (`.jar`, `.war`, `.ear`, `.par`, `.sar`, `.nar`,
//! `.jpi`, `.hpi`, `.kar`, `.lpkg`) and the archives nested in them (`WEB-INF/lib/*.jar`), named
//! and versioned by Syft's rules:
//! - an archive with a manifest is a package: Maven coordinates from the one `pom.properties`
//!   whose artifactId matches the file name, else the name from the manifest's
//!   `Bundle-SymbolicName` (Apache Maven Bundle Plugin), the file name, or the manifest's
//!   `Name`/`Bundle-Name`/`Short-Name`/`Extension-Name`/`Implementation-Title`, and the version
//!   from the file name or the manifest's `Implementation-Version`/`Specification-Version`/
//!   `Plugin-Version`/`Bundle-Version`; archives without a manifest, or with `Weave-Classes`
//!   (New Relic instrumentation), are not packages themselves;
//! - every other `pom.properties` with an artifactId and a version (a shaded library) is a
//!   package of its own, unless it names the archive itself;
//! - the purl's namespace is the `pom.properties` groupId, else the first (in sorted order) value
//!   of a manifest field that looks like a group (`Bundle-SymbolicName`, `Implementation-Vendor`,
//!   … starting with `com`, `org`, `net`, `io` or `be`), else the artifact name itself.
//!
//! Left out: Syft's built-in table of groups for well-known artifact names (used when an archive
//! has no `pom.properties` and its manifest names no group), the groups and licences it reads
//! from `pom.xml`, licences it finds by scanning `LICENSE` files, and the `jenkins-plugin` package
//! type (the inventory model has none yet: such plugins are `java-archive` packages with Syft's
//! purl; Syft gives that type to `.jpi` and `.hpi` archives, to libraries whose groupId starts with
//! `io.jenkins.plugins`, `org.jenkins.plugins` or `org.jenkins-ci.plugins` or contains
//! `.jenkins.plugin`, and to packages whose purl names one of the first and last of these).
//! Nesting is followed three archives deep (Syft has no limit); every archive is bounded
//! in entries and all of them together in inflated bytes, so a zip bomb is a named error.

mod file_name;
mod metadata;

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use palisade_pkg::{purl, PackageType};

use self::file_name::ArchiveName;
use self::metadata::{Manifest, PomProperties};
use super::{file_name as path_file_name, Found, INSTALLED};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads Java archives.
pub(crate) struct JavaArchive;

const NAME: &str = "java-archive-cataloger";

/// The extensions Syft reads (lower case only, as its globs are).
const EXTENSIONS: [&str; 10] = ["jar", "war", "ear", "par", "sar", "nar", "jpi", "hpi", "kar", "lpkg"];

/// The largest archive read, from the filesystem or nested in another.
const LIMIT: u64 = 256 << 20;

/// How far one file's archives are read.
struct Limits {
    /// How many archives deep nested archives are opened (the file itself is depth 0).
    depth: usize,
    /// The most entries one archive may have (a large application server archive has tens of
    /// thousands).
    entries: usize,
    /// The largest nested archive inflated.
    nested: u64,
    /// The most bytes inflated from one file's archives, nested ones included.
    inflated: u64,
    /// The largest manifest or `pom.properties` read; real ones are a few KiB.
    metadata: u64,
}

const LIMITS: Limits = Limits { depth: 3, entries: 200_000, nested: LIMIT, inflated: 1 << 30, metadata: 4 << 20 };

/// The manifest fields whose values may be a group, tried before [`SECONDARY_GROUP_FIELDS`].
const PRIMARY_GROUP_FIELDS: [&str; 8] = [
    "Group-Id",
    "Bundle-SymbolicName",
    "Extension-Name",
    "Specification-Vendor",
    "Implementation-Vendor",
    "Implementation-Vendor-Id",
    "Implementation-Title",
    "Bundle-Activator",
];
const SECONDARY_GROUP_FIELDS: [&str; 3] = ["Automatic-Module-Name", "Main-Class", "Package"];

impl Cataloger for JavaArchive {
    fn name(&self) -> &'static str {
        NAME
    }

    fn scopes(&self) -> &'static [Scope] {
        INSTALLED
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        is_archive(path).then_some(Want::Content { limit: LIMIT })
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        let mut walk = Walk { found: Found::keeping_repeats(path, NAME), inflated: 0, limits: &LIMITS };
        match walk.archive(content, path, 0) {
            Ok(()) => Ok(walk.found.into_facts()),
            Err(Problem::Unreadable(message) | Problem::Bomb(message)) => Err(message),
        }
    }
}

fn is_archive(path: &str) -> bool {
    path_file_name(path).rsplit_once('.').is_some_and(|(_, extension)| EXTENSIONS.contains(&extension))
}

/// Why an archive gave no packages: a nested archive that cannot be read is skipped (as Syft
/// skips it), a zip bomb stops everything.
enum Problem {
    Unreadable(String),
    Bomb(String),
}

/// One file's archives being read, with what they found and what they inflated.
struct Walk<'a> {
    found: Found<'a>,
    inflated: u64,
    limits: &'a Limits,
}

/// A package of an archive while it is being identified.
struct JavaPackage<'m> {
    name: String,
    version: String,
    pom: Option<PomProperties>,
    manifest: Option<&'m Manifest>,
}

impl Walk<'_> {
    /// The packages of one archive and of those nested in it; `path` names it (for nested
    /// archives, its path inside the parent).
    fn archive(&mut self, content: &[u8], path: &str, depth: usize) -> Result<(), Problem> {
        let mut zip = zip::ZipArchive::new(Cursor::new(content)).map_err(|error| Problem::Unreadable(format!("{path}: not a readable zip archive: {error}")))?;
        if zip.len() > self.limits.entries {
            return Err(Problem::Bomb(format!("{path}: {} entries, more than {}: a zip bomb", zip.len(), self.limits.entries)));
        }
        // Entry names as Syft's manifest of the zip holds them, with a leading `/`.
        let names: Vec<(String, usize)> = (0..zip.len())
            .filter_map(|index| zip.name_for_index(index).map(|name| (if name.starts_with('/') { name.to_owned() } else { format!("/{name}") }, index)))
            .collect();
        let manifests: Vec<usize> = names.iter().filter(|(name, _)| name == "/META-INF/MANIFEST.MF").map(|(_, index)| *index).collect();
        let manifest = match manifests[..] {
            [] => None,
            [index] => Manifest::parse(&self.entry(&mut zip, index, Size::Metadata, path)?),
            _ => return Err(Problem::Unreadable(format!("{path}: several META-INF/MANIFEST.MF entries"))),
        };
        let archive_name = ArchiveName::parse(path);
        let main = manifest.as_ref().filter(|manifest| manifest.main("Weave-Classes").is_none());
        if let Some(manifest) = main {
            let properties = self.pom_properties(&mut zip, &names, path)?;
            let pom_xml_dirs: Vec<&str> = names.iter().filter(|(name, _)| name.ends_with("pom.xml")).map(|(name, _)| parent(name)).collect();
            let mut main = main_package(manifest, &archive_name, &properties, &pom_xml_dirs);
            let mut shaded = Vec::new();
            for properties in properties.values() {
                let package = JavaPackage {
                    name: properties.artifact_id.clone(),
                    version: properties.version.clone(),
                    pom: Some(properties.clone()),
                    manifest: None,
                };
                if same_package(&package, &main) {
                    main.name = package.name;
                    main.version = package.version;
                    main.pom = main.pom.or(package.pom);
                } else {
                    shaded.push(package);
                }
            }
            for package in std::iter::once(&main).chain(&shaded) {
                let purl = maven_purl(package);
                self.found.add(PackageType::JavaArchive, &package.name, &package.version, purl, licenses(package));
            }
        }
        if depth < self.limits.depth {
            for (name, index) in names.iter().filter(|(name, _)| is_archive(name)) {
                let nested = match self.entry(&mut zip, *index, Size::Nested, path) {
                    Ok(nested) => nested,
                    Err(Problem::Unreadable(_)) => continue,
                    Err(bomb) => return Err(bomb),
                };
                match self.archive(&nested, &name[1..], depth + 1) {
                    Ok(()) | Err(Problem::Unreadable(_)) => {}
                    Err(bomb) => return Err(bomb),
                }
            }
        }
        Ok(())
    }

    /// Every `pom.properties` (an entry whose name ends so) with an artifactId and a version, by
    /// the directory it is in.
    fn pom_properties(&mut self, zip: &mut Zip, names: &[(String, usize)], path: &str) -> Result<BTreeMap<String, PomProperties>, Problem> {
        let mut properties = BTreeMap::new();
        for (name, index) in names.iter().filter(|(name, _)| name.ends_with("pom.properties")) {
            let content = self.entry(zip, *index, Size::Metadata, path)?;
            if let Some(found) = PomProperties::parse(&content).filter(|found| !found.artifact_id.is_empty() && !found.version.is_empty()) {
                properties.insert(parent(name).to_owned(), found);
            }
        }
        Ok(properties)
    }

    /// An entry's inflated bytes, counted against the file's budget. An entry that inflates past
    /// its size limit or the budget is a zip bomb: no real archive comes near either.
    fn entry(&mut self, zip: &mut Zip, index: usize, size: Size, path: &str) -> Result<Vec<u8>, Problem> {
        let mut file = zip.by_index(index).map_err(|error| Problem::Unreadable(format!("{path}: entry {index}: {error}")))?;
        let name = file.name().to_owned();
        let limit = match size {
            Size::Metadata => self.limits.metadata,
            Size::Nested => self.limits.nested,
        };
        let budget = self.limits.inflated - self.inflated;
        let mut bytes = Vec::new();
        (&mut file).take(limit.min(budget) + 1).read_to_end(&mut bytes).map_err(|error| Problem::Unreadable(format!("{path}: {name}: {error}")))?;
        let read = bytes.len() as u64;
        self.inflated += read.min(budget);
        if read > budget {
            return Err(Problem::Bomb(format!("{path}: {name}: the archive's entries inflate past {} bytes: a zip bomb", self.limits.inflated)));
        }
        if read > limit {
            return Err(Problem::Bomb(format!("{path}: {name}: inflates past {limit} bytes: a zip bomb")));
        }
        Ok(bytes)
    }
}

type Zip<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

/// Which size limit an entry is read under.
#[derive(Clone, Copy)]
enum Size {
    Metadata,
    Nested,
}

/// The directory part of an entry name.
fn parent(name: &str) -> &str {
    name.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// The archive's own package, before the `pom.properties` of its libraries are matched to it.
fn main_package<'m>(
    manifest: &'m Manifest,
    archive_name: &ArchiveName,
    properties: &BTreeMap<String, PomProperties>,
    pom_xml_dirs: &[&str],
) -> JavaPackage<'m> {
    // The pom.properties whose artifactId matches the file name; the last such, unless one
    // beside a pom.xml comes first.
    let artifacts: Vec<&str> = properties.values().map(|properties| properties.artifact_id.as_str()).collect();
    let mut chosen: Option<&PomProperties> = None;
    for (directory, candidate) in properties {
        if artifact_matches_file_name(&candidate.artifact_id, &archive_name.name, &artifacts) {
            chosen = Some(candidate);
            if pom_xml_dirs.contains(&directory.as_str()) {
                break;
            }
        }
    }
    let name = chosen.map(|chosen| chosen.artifact_id.clone()).filter(|name| !name.is_empty()).unwrap_or_else(|| select_name(manifest, archive_name));
    let version = chosen.map(|chosen| chosen.version.clone()).filter(|version| !version.is_empty()).unwrap_or_else(|| select_version(manifest, archive_name));
    JavaPackage { name, version, pom: None, manifest: Some(manifest) }
}

fn artifact_matches_file_name(artifact: &str, file_name: &str, artifacts: &[&str]) -> bool {
    if artifact.is_empty() || file_name.is_empty() {
        return false;
    }
    if artifacts.contains(&file_name) {
        return artifact == file_name;
    }
    artifact.starts_with(file_name) || file_name.ends_with(artifact)
}

fn select_name(manifest: &Manifest, archive_name: &ArchiveName) -> String {
    if manifest.main_value("Created-By").contains("Apache Maven Bundle Plugin") {
        let symbolic_name = manifest.main_value("Bundle-SymbolicName");
        if !symbolic_name.is_empty() && manifest.main_value("Implementation-Vendor-Id") != symbolic_name {
            return symbolic_name.rsplit('.').next().unwrap_or_default().to_owned();
        }
    }
    let name = name_from_file_name(&archive_name.name);
    if !name.is_empty() {
        return name.to_owned();
    }
    ["Name", "Bundle-Name", "Short-Name", "Extension-Name", "Implementation-Title"]
        .iter()
        .map(|key| manifest.main_value(key))
        .find(|value| !value.is_empty())
        .unwrap_or_default()
        .to_owned()
}

/// A file name that looks like a package (`org.apache.commons.lang3`) gives its last segment.
fn name_from_file_name(name: &str) -> &str {
    if !name.contains('.') || name.starts_with("org.eclipse.") {
        return name;
    }
    let java_identifiers = name.split('.').all(|segment| {
        segment.chars().next().is_some_and(|first| first.is_alphabetic() || first == '_' || first == '$' || matches!(first, '¢'..='¥' | '€'))
    });
    if java_identifiers { name.rsplit('.').next().unwrap_or(name) } else { name }
}

fn select_version(manifest: &Manifest, archive_name: &ArchiveName) -> String {
    if !archive_name.version.is_empty() {
        return archive_name.version.clone();
    }
    ["Implementation-Version", "Specification-Version", "Plugin-Version", "Bundle-Version"]
        .iter()
        .map(|key| manifest.any_section(key))
        .find(|value| !value.is_empty())
        .unwrap_or_default()
        .to_owned()
}

fn licenses(package: &JavaPackage) -> Vec<String> {
    package
        .manifest
        .map(|manifest| ["Bundle-License", "Plugin-License-Name"].iter().map(|key| manifest.any_section(key).to_owned()).collect())
        .unwrap_or_default()
}

/// Whether a `pom.properties` package is the archive's own package.
fn same_package(package: &JavaPackage, archive: &JavaPackage) -> bool {
    let group = group_id(package);
    let archive_group = group_id(archive);
    if (group.as_str(), &package.name, &package.version) == (archive_group.as_str(), &archive.name, &archive.version) {
        return true;
    }
    let Some(properties) = &package.pom else {
        return false;
    };
    // Syft also compares the two packages' virtual paths, which are equal exactly when the
    // archive's coordinates are the pom.properties' as written.
    let raw = (properties.group_id.as_str(), properties.artifact_id.as_str(), properties.version.as_str());
    raw == (archive_group.as_str(), archive.name.as_str(), archive.version.as_str()) || (!properties.artifact_id.is_empty() && archive.name == properties.artifact_id)
}

/// The purl's namespace: from `pom.properties`, else from the manifest (see the module docs).
fn group_id(package: &JavaPackage) -> String {
    if let Some(properties) = &package.pom {
        if !properties.group_id.is_empty() {
            return clean_group(&properties.group_id);
        }
        if properties.artifact_id.contains('.') {
            return clean_group(&properties.artifact_id);
        }
    }
    let Some(manifest) = package.manifest else {
        return String::new();
    };
    for fields in [&PRIMARY_GROUP_FIELDS[..], &SECONDARY_GROUP_FIELDS[..]] {
        let mut groups: Vec<String> = fields
            .iter()
            .flat_map(|field| manifest.all_values(field))
            .filter(|value| ["com", "org", "net", "io", "be"].iter().any(|prefix| value.starts_with(prefix)))
            .map(|value| value.split('#').next().unwrap_or_default().split(';').next().unwrap_or_default().trim().to_owned())
            .collect();
        groups.sort();
        if let Some(first) = groups.into_iter().next() {
            return first;
        }
    }
    String::new()
}

/// A group without OSGi directives (`org.bar;singleton:=true` → `org.bar`).
fn clean_group(group: &str) -> String {
    group.split(';').next().unwrap_or_default().trim().to_owned()
}

fn maven_purl(package: &JavaPackage) -> String {
    purl::maven(&group_id(package), &package.name, &package.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zip archive of stored entries, as `zip -0` writes one.
    fn stored_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut archive = Vec::new();
        let mut central = Vec::new();
        for (name, data) in entries {
            let mut crc = flate2::Crc::new();
            crc.update(data);
            let offset = archive.len() as u32;
            let sizes = [crc.sum(), data.len() as u32, data.len() as u32];
            archive.extend(0x0403_4b50u32.to_le_bytes());
            archive.extend([20u16, 0, 0, 0, 0].iter().flat_map(|field| field.to_le_bytes()));
            archive.extend(sizes.iter().flat_map(|field| field.to_le_bytes()));
            archive.extend([name.len() as u16, 0].iter().flat_map(|field| field.to_le_bytes()));
            archive.extend(name.as_bytes());
            archive.extend(*data);
            central.extend(0x0201_4b50u32.to_le_bytes());
            central.extend([20u16, 20, 0, 0, 0, 0].iter().flat_map(|field| field.to_le_bytes()));
            central.extend(sizes.iter().flat_map(|field| field.to_le_bytes()));
            central.extend([name.len() as u16, 0, 0, 0, 0].iter().flat_map(|field| field.to_le_bytes()));
            central.extend([0u32, offset].iter().flat_map(|field| field.to_le_bytes()));
            central.extend(name.as_bytes());
        }
        let central_offset = archive.len() as u32;
        let count = entries.len() as u16;
        archive.extend(&central);
        archive.extend(0x0605_4b50u32.to_le_bytes());
        archive.extend([0u16, 0, count, count].iter().flat_map(|field| field.to_le_bytes()));
        archive.extend([central.len() as u32, central_offset].iter().flat_map(|field| field.to_le_bytes()));
        archive.extend(0u16.to_le_bytes());
        archive
    }

    fn manifest(lines: &str) -> Vec<u8> {
        format!("Manifest-Version: 1.0\r\n{}\r\n\r\n", lines.replace('\n', "\r\n")).into_bytes()
    }

    fn walk(path: &str, content: &[u8], limits: &Limits) -> Result<Vec<(String, String, String)>, String> {
        let mut walk = Walk { found: Found::keeping_repeats(path, NAME), inflated: 0, limits };
        match walk.archive(content, path, 0) {
            Ok(()) => Ok(walk
                .found
                .into_facts()
                .into_iter()
                .map(|fact| match fact {
                    Fact::Package(package) => (package.name, package.version, package.purl),
                    other => panic!("unexpected fact {other:?}"),
                })
                .collect()),
            Err(Problem::Unreadable(message) | Problem::Bomb(message)) => Err(message),
        }
    }

    fn packages(path: &str, content: &[u8]) -> Result<Vec<(String, String, String)>, String> {
        walk(path, content, &LIMITS)
    }

    fn names(found: &[(String, String, String)]) -> Vec<&str> {
        found.iter().map(|(name, ..)| name.as_str()).collect()
    }

    // Expected values follow Syft 1.18.1's results for the same archives (tests/lang_syft.rs
    // compares whole fixtures with Syft).
    #[test]
    fn maven_coordinates_name_the_archive_and_its_shaded_libraries() {
        let jar = stored_zip(&[
            ("META-INF/MANIFEST.MF", &manifest("Main-Class: com.example.service.Main\nImplementation-Title: service")),
            ("META-INF/maven/com.example/service/pom.properties", b"groupId=com.example\nartifactId=service\nversion=2.4.1\n"),
            ("META-INF/maven/com.example/service/pom.xml", b"<project/>"),
            ("META-INF/maven/org.slf4j/slf4j-api/pom.properties", b"groupId=org.slf4j\nartifactId=slf4j-api\nversion=2.0.9\n"),
            ("META-INF/maven/org.example/incomplete/pom.properties", b"groupId=org.example\nartifactId=incomplete\n"),
        ]);
        let found = packages("/opt/app/service-2.4.1.jar", &jar).unwrap();
        assert_eq!(
            found,
            [
                ("service".into(), "2.4.1".into(), "pkg:maven/com.example/service@2.4.1".into()),
                ("slf4j-api".into(), "2.0.9".into(), "pkg:maven/org.slf4j/slf4j-api@2.0.9".into())
            ]
        );
    }

    #[test]
    fn manifests_name_archives_without_maven_coordinates() {
        let tool = stored_zip(&[("META-INF/MANIFEST.MF", &manifest("Implementation-Title: io.acme.tool\nSpecification-Version: 7.1\nImplementation-Vendor: io.acme"))]);
        assert_eq!(packages("/opt/tool.jar", &tool).unwrap(), [("tool".into(), "7.1".into(), "pkg:maven/io.acme/tool@7.1".into())]);
        let bundle = stored_zip(&[("META-INF/MANIFEST.MF", &manifest("Created-By: Apache Maven Bundle Plugin\nBundle-SymbolicName: net.acme.widgets.core\nBundle-Version: 1.4.0"))]);
        assert_eq!(packages("/opt/bundle-plugin.jar", &bundle).unwrap(), [("core".into(), "1.4.0".into(), "pkg:maven/net.acme.widgets.core/core@1.4.0".into())]);
        let bare = stored_zip(&[("META-INF/MANIFEST.MF", &manifest("Created-By: 17"))]);
        assert_eq!(packages("/opt/plain-lib-2.5.1.jar", &bare).unwrap(), [("plain-lib".into(), "2.5.1".into(), "pkg:maven/plain-lib/plain-lib@2.5.1".into())]);
    }

    #[test]
    fn archives_that_are_not_packages_themselves() {
        let properties: &[u8] = b"groupId=org.example\nartifactId=lib\nversion=1.0\n";
        let without_manifest = stored_zip(&[("META-INF/maven/org.example/lib/pom.properties", properties)]);
        assert_eq!(packages("/opt/lib-1.0.jar", &without_manifest).unwrap(), []);
        let instrumentation = stored_zip(&[("META-INF/MANIFEST.MF", &manifest("Weave-Classes: org.Foo\nImplementation-Version: 1.0"))]);
        assert_eq!(packages("/opt/agent-1.0.jar", &instrumentation).unwrap(), []);
        let two_manifests = stored_zip(&[("META-INF/MANIFEST.MF", &manifest("A: b")), ("/META-INF/MANIFEST.MF", &manifest("A: b"))]);
        assert_eq!(packages("/opt/x.jar", &two_manifests), Err("/opt/x.jar: several META-INF/MANIFEST.MF entries".into()));
        assert!(packages("/opt/x.jar", b"PK\x03\x04 not really").unwrap_err().starts_with("/opt/x.jar: not a readable zip archive"));
    }

    /// An archive named `level-N.jar` holding the next level, `depth` levels down.
    fn nested(depth: usize) -> Vec<u8> {
        let mut inner: Option<Vec<u8>> = None;
        for level in (0..=depth).rev() {
            let own_manifest = manifest(&format!("Implementation-Title: level\nImplementation-Version: {level}"));
            let name = format!("lib/level-{}.jar", level + 1);
            let mut entries: Vec<(&str, &[u8])> = vec![("META-INF/MANIFEST.MF", &own_manifest)];
            if let Some(inner) = &inner {
                entries.push((&name, inner));
            }
            inner = Some(stored_zip(&entries));
        }
        inner.unwrap_or_default()
    }

    #[test]
    fn nesting_is_followed_three_archives_deep_and_unreadable_nested_archives_are_skipped() {
        let found = packages("/srv/level-0.war", &nested(5)).unwrap();
        let versions: Vec<&str> = found.iter().map(|(_, version, _)| version.as_str()).collect();
        assert_eq!(versions, ["0", "1", "2", "3"]);
        let with_garbage = stored_zip(&[("META-INF/MANIFEST.MF", &manifest("Implementation-Version: 5.0")), ("WEB-INF/lib/garbage.jar", b"not a zip")]);
        assert_eq!(names(&packages("/srv/shop.war", &with_garbage).unwrap()), ["shop"]);
    }

    #[test]
    fn zip_bombs_are_named() {
        let small = Limits { depth: 3, entries: 3, nested: 2000, inflated: 3000, metadata: 100 };
        let many = stored_zip(&[("a", b""), ("b", b""), ("c", b""), ("d", b"")]);
        assert_eq!(walk("/x.jar", &many, &small), Err("/x.jar: 4 entries, more than 3: a zip bomb".into()));
        let big_nested = stored_zip(&[("lib/big.jar", &[0u8; 2001])]);
        assert_eq!(walk("/x.jar", &big_nested, &small), Err("/x.jar: lib/big.jar: inflates past 2000 bytes: a zip bomb".into()));
        let level = stored_zip(&[("lib/a.jar", &[0u8; 900])]);
        let wide = stored_zip(&[("lib/1.jar", &level), ("lib/2.jar", &level)]);
        // Each level is about 1 KiB with its 900-byte entry: the second level's entry passes 3000.
        assert_eq!(walk("/x.jar", &wide, &small), Err("lib/2.jar: lib/a.jar: the archive's entries inflate past 3000 bytes: a zip bomb".into()));
        let big_manifest = stored_zip(&[("META-INF/MANIFEST.MF", &[b'a'; 101])]);
        assert_eq!(walk("/x.jar", &big_manifest, &small), Err("/x.jar: META-INF/MANIFEST.MF: inflates past 100 bytes: a zip bomb".into()));
    }
}
