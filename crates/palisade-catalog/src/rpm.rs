//! RPM packages (`rpm-db-cataloger`): the installed-package database in any of its three
//! formats (SQLite `rpmdb.sqlite`, BerkeleyDB `Packages`, NDB `Packages.db`), read by
//! `palisade-rpmdb`, wherever Syft 1.18.1 looks for it
//! (`**/{var/lib,usr/share,usr/lib/sysimage}/rpm/{Packages,Packages.db,rpmdb.sqlite}`).
//!
//! As in Syft: the version is `EPOCH:VERSION-RELEASE` when the header has an epoch and
//! `VERSION-RELEASE` otherwise (the purl carries the epoch as a qualifier instead); the
//! upstream is the source RPM's file name; the licence is the header's `LICENSE` as written;
//! `gpg-pubkey` entries (imported signing keys) are listed like packages.

use palisade_pkg::{Location, Package, PackageType, SourcePackage};
use palisade_rpmdb::RpmPackage;

use crate::os_release::Problems;
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// The largest databases of real systems are a few hundred MB (BerkeleyDB keeps freed pages).
const DATABASE_LIMIT: u64 = 512 * 1024 * 1024;

const CATALOGER_NAME: &str = "rpm-db-cataloger";

const DATABASE_DIRECTORIES: [&str; 3] = ["/var/lib/rpm", "/usr/share/rpm", "/usr/lib/sysimage/rpm"];
const DATABASE_FILES: [&str; 3] = ["Packages", "Packages.db", "rpmdb.sqlite"];

/// Reads RPM databases.
pub struct RpmCataloger;

impl Cataloger for RpmCataloger {
    fn name(&self) -> &'static str {
        CATALOGER_NAME
    }

    fn scopes(&self) -> &'static [Scope] {
        &[Scope::Image, Scope::Directory]
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        let (directory, file) = path.rsplit_once('/')?;
        let known_place = DATABASE_FILES.contains(&file) && DATABASE_DIRECTORIES.iter().any(|known| directory.ends_with(known));
        known_place.then_some(Want::Content { limit: DATABASE_LIMIT })
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        let format = palisade_rpmdb::detect(path, content).ok_or_else(|| "not an RPM database".to_owned())?;
        let read = palisade_rpmdb::read(format, content).map_err(|error| error.to_string())?;
        let mut problems = Problems::default();
        for issue in read.issues {
            problems.add(issue);
        }
        let mut facts = Vec::with_capacity(read.packages.len());
        for (index, found) in read.packages.into_iter().enumerate() {
            match package(path, found) {
                Some(package) => facts.push(Fact::Package(package)),
                None => problems.add(format!("{format}: package {} of the database has no name", index + 1)),
            }
        }
        problems.into_result(facts)
    }
}

fn package(path: &str, found: RpmPackage) -> Option<Package> {
    if found.name.is_empty() {
        return None;
    }
    let version_release = format!("{}-{}", found.version, found.release);
    Some(Package {
        name: found.name,
        version: match found.epoch {
            Some(epoch) => format!("{epoch}:{version_release}"),
            None => version_release,
        },
        kind: PackageType::Rpm,
        purl: String::new(),
        licenses: found.license.into_iter().filter(|license| !license.is_empty()).collect(),
        locations: vec![Location::new(path)],
        found_by: CATALOGER_NAME.to_owned(),
        arch: found.arch.filter(|arch| !arch.is_empty()),
        epoch: found.epoch,
        // rpm writes the literal `(none)` as the source RPM of imported keys (`gpg-pubkey`);
        // go-rpmdb, and so Syft, read it as no source.
        source: found.source_rpm.filter(|source| !source.is_empty() && source != "(none)").map(|name| SourcePackage { name, version: None }),
        namespace: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_paths_syft_reads() {
        let meta = FileMeta { size: 1, mode: 0o644 };
        for path in ["/var/lib/rpm/rpmdb.sqlite", "/var/lib/rpm/Packages", "/usr/lib/sysimage/rpm/Packages.db", "/usr/share/rpm/rpmdb.sqlite", "/chroot/var/lib/rpm/Packages"] {
            assert!(RpmCataloger.wants(path, &meta).is_some(), "{path}");
        }
        for path in ["/var/lib/rpm/Index.db", "/var/lib/rpm/rpmdb.sqlite-wal", "/var/lib/dpkg/Packages", "/rpm/Packages"] {
            assert!(RpmCataloger.wants(path, &meta).is_none(), "{path}");
        }
    }

    #[test]
    fn versions_sources_and_licences_as_syft_makes_them() {
        let found = RpmPackage {
            name: "hello".into(),
            epoch: Some(2),
            version: "1.0".into(),
            release: "3.el9".into(),
            arch: Some("noarch".into()),
            source_rpm: Some("hello-1.0-3.el9.src.rpm".into()),
            license: Some("MIT and GPLv2+".into()),
            ..RpmPackage::default()
        };
        let hello = package("/var/lib/rpm/rpmdb.sqlite", found).expect("package");
        assert_eq!((hello.version.as_str(), hello.epoch), ("2:1.0-3.el9", Some(2)));
        assert_eq!(hello.source, Some(SourcePackage { name: "hello-1.0-3.el9.src.rpm".into(), version: None }));
        assert_eq!(hello.licenses, ["MIT and GPLv2+"]);
        assert_eq!(hello.found_by, "rpm-db-cataloger");

        let key = RpmPackage { name: "gpg-pubkey".into(), version: "80eb4eb3".into(), release: "6b123ec1".into(), source_rpm: Some("(none)".into()), license: Some("pubkey".into()), ..RpmPackage::default() };
        let key = package("/var/lib/rpm/rpmdb.sqlite", key).expect("package");
        assert_eq!((key.version.as_str(), key.arch.as_deref(), key.source.as_ref()), ("80eb4eb3-6b123ec1", None, None));
        assert!(package("/var/lib/rpm/rpmdb.sqlite", RpmPackage::default()).is_none());
    }

    #[test]
    fn unreadable_databases_are_named_errors() {
        let error = RpmCataloger.parse("/var/lib/rpm/rpmdb.sqlite", b"").expect_err("empty");
        assert!(error.contains("SQLite"), "{error}");
        let garbage: Vec<u8> = (0u32..70_000).map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8).collect();
        for path in ["/var/lib/rpm/rpmdb.sqlite", "/var/lib/rpm/Packages", "/var/lib/rpm/Packages.db"] {
            assert!(RpmCataloger.parse(path, &garbage).is_err(), "{path}");
        }
    }
}
