//! Debian packages (`dpkg-db-cataloger`): the dpkg database (`/var/lib/dpkg/status`, the
//! one-file-per-package `status.d/` of distroless images, and OpenWrt's opkg files, which Syft
//! reads with the same cataloger), with the files that belong to each package as evidence:
//! `info/NAME[:ARCH].md5sums` and `.conffiles` beside the database, `status.d/NAME.md5sums`, and
//! `/usr/share/doc/NAME/copyright`, whose licences become the package's.
//!
//! Syft 1.18.1 also lists every other `info/NAME.*` file (`.list`, maintainer scripts; and
//! `status.d/NAME.*`) when it reads an image, but not when it reads a directory, whose file
//! resolver finds nothing for that pattern; so there are two instances, one per scope. Neither
//! lists `info/NAME:ARCH.list` (the pattern is the bare name).
//!
//! As in Syft 1.18.1, every stanza with a `Package` field is a package whatever its `Status`
//! says: `deinstall ok config-files` (removed, configuration kept) and `half-installed` are
//! listed too. Syft also reads the database wherever it is (`**/lib/dpkg/status`), so a chroot
//! inside the filesystem counts.

mod copyright;
mod status;

use crate::os_release::Problems;
use crate::{Cataloger, Fact, FileMeta, Scope, Want};
use palisade_pkg::PackageType;

/// Larger than the status file of any real system (a desktop's is a few MB).
const STATUS_LIMIT: u64 = 64 * 1024 * 1024;
/// Copyright files run to a few hundred KB at most.
const COPYRIGHT_LIMIT: u64 = 8 * 1024 * 1024;

const CATALOGER_NAME: &str = "dpkg-db-cataloger";

/// Files in `status.d/` that are not package stanzas: dpkg's per-package metadata, which
/// distroless images keep beside the stanza file.
const STATUS_D_METADATA: [&str; 11] =
    [".md5sums", ".conffiles", ".list", ".preinst", ".postinst", ".prerm", ".postrm", ".triggers", ".shlibs", ".symbols", ".templates"];

/// Reads dpkg and opkg databases and the files that belong to their packages.
pub struct DpkgCataloger {
    scope: Scope,
    info_files: InfoFiles,
}

impl DpkgCataloger {
    /// For images: every `info/NAME.*` file is evidence, as in Syft's image scans.
    pub const IMAGE: DpkgCataloger = DpkgCataloger { scope: Scope::Image, info_files: InfoFiles::All };
    /// For directories: only `md5sums` and `conffiles`, as in Syft's directory scans.
    pub const DIRECTORY: DpkgCataloger = DpkgCataloger { scope: Scope::Directory, info_files: InfoFiles::Md5sumsAndConffiles };
}

/// Which of dpkg's per-package files are evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InfoFiles {
    All,
    Md5sumsAndConffiles,
}

/// What a path is to this cataloger.
#[derive(Debug, PartialEq, Eq)]
enum DpkgFile<'a> {
    /// Package stanzas.
    Database,
    /// A file of the named package whose presence is the evidence.
    Owned { package: &'a str },
    /// `/usr/share/doc/NAME/copyright`.
    Copyright { package: &'a str },
}

fn classify(path: &str, info_files: InfoFiles) -> Option<DpkgFile<'_>> {
    let (directory, file) = path.rsplit_once('/')?;
    if file.is_empty() {
        return None;
    }
    if (file == "status" && (directory.ends_with("/lib/dpkg") || directory.ends_with("/lib/opkg")))
        || (directory.ends_with("/lib/opkg/info") && file.ends_with(".control"))
    {
        return Some(DpkgFile::Database);
    }
    if directory.ends_with("/lib/dpkg/status.d") {
        if let Some(stem) = file.strip_suffix(".md5sums") {
            return Some(DpkgFile::Owned { package: package_of(stem) });
        }
        return match STATUS_D_METADATA.iter().find_map(|suffix| file.strip_suffix(suffix)) {
            Some(stem) => owned_by_name(stem, info_files),
            None => Some(DpkgFile::Database),
        };
    }
    if directory.ends_with("/lib/dpkg/info") || directory.ends_with("/lib/opkg/info") {
        let (stem, extension) = file.rsplit_once('.')?;
        return match extension {
            "md5sums" | "conffiles" => Some(DpkgFile::Owned { package: package_of(stem) }),
            _ => owned_by_name(stem, info_files),
        };
    }
    if file == "copyright" {
        let package = directory.strip_prefix("/usr/share/doc/").filter(|package| !package.is_empty() && !package.contains('/'))?;
        return Some(DpkgFile::Copyright { package });
    }
    None
}

/// Another per-package file (`NAME.list`, `NAME.postinst`): evidence in image scans when it is
/// named by the bare package name, as Syft's `NAME.*` pattern finds it.
fn owned_by_name(stem: &str, info_files: InfoFiles) -> Option<DpkgFile<'_>> {
    (info_files == InfoFiles::All && !stem.is_empty() && !stem.contains(':')).then_some(DpkgFile::Owned { package: stem })
}

/// `libc6:amd64` (dpkg's file name for a Multi-Arch: same package) is package `libc6`.
fn package_of(stem: &str) -> &str {
    stem.split_once(':').map_or(stem, |(name, _arch)| name)
}

impl Cataloger for DpkgCataloger {
    fn name(&self) -> &'static str {
        CATALOGER_NAME
    }

    fn scopes(&self) -> &'static [Scope] {
        match self.scope {
            Scope::Image => &[Scope::Image],
            Scope::Directory => &[Scope::Directory],
        }
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        match classify(path, self.info_files)? {
            DpkgFile::Database => Some(Want::Content { limit: STATUS_LIMIT }),
            DpkgFile::Owned { .. } => Some(Want::Presence),
            DpkgFile::Copyright { .. } => Some(Want::Content { limit: COPYRIGHT_LIMIT }),
        }
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        let Some(kind) = classify(path, self.info_files) else { return Ok(Vec::new()) };
        let mut problems = Problems::default();
        let facts = match kind {
            DpkgFile::Database => status::parse(path, content, &mut problems).into_iter().map(Fact::Package).collect(),
            DpkgFile::Owned { package } => vec![evidence(package, Vec::new())],
            DpkgFile::Copyright { package } => vec![evidence(package, copyright::licenses(content, &mut problems))],
        };
        problems.into_result(facts)
    }
}

fn evidence(package: &str, licenses: Vec<String>) -> Fact {
    Fact::Evidence { kind: PackageType::Deb, name: package.to_owned(), licenses }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_syft_reads() {
        for info_files in [InfoFiles::All, InfoFiles::Md5sumsAndConffiles] {
            let classify = |path| classify(path, info_files);
            assert_eq!(classify("/var/lib/dpkg/status"), Some(DpkgFile::Database));
            assert_eq!(classify("/srv/chroot/var/lib/dpkg/status"), Some(DpkgFile::Database));
            assert_eq!(classify("/usr/lib/opkg/status"), Some(DpkgFile::Database));
            assert_eq!(classify("/usr/lib/opkg/info/busybox.control"), Some(DpkgFile::Database));
            assert_eq!(classify("/var/lib/dpkg/status.d/libssl3"), Some(DpkgFile::Database));
            assert_eq!(classify("/var/lib/dpkg/status.d/libssl1.1"), Some(DpkgFile::Database));
            assert_eq!(classify("/var/lib/dpkg/status.d/libssl3.md5sums"), Some(DpkgFile::Owned { package: "libssl3" }));
            assert_eq!(classify("/var/lib/dpkg/info/libc6:amd64.md5sums"), Some(DpkgFile::Owned { package: "libc6" }));
            assert_eq!(classify("/var/lib/dpkg/info/adduser.conffiles"), Some(DpkgFile::Owned { package: "adduser" }));
            assert_eq!(classify("/var/lib/dpkg/info/libc6:amd64.list"), None);
            assert_eq!(classify("/usr/share/doc/bash/copyright"), Some(DpkgFile::Copyright { package: "bash" }));
            assert_eq!(classify("/usr/share/doc/bash/examples/copyright"), None);
            assert_eq!(classify("/usr/share/doc//copyright"), None);
            assert_eq!(classify("/var/lib/dpkg/status-old"), None);
            assert_eq!(classify("/var/lib/dpkg/available"), None);
            assert_eq!(classify("/var/lib/dpkg/status.d/"), None);
            assert_eq!(classify("/var/lib/dpkg/info/format"), None);
        }
        let image = |path| classify(path, InfoFiles::All);
        assert_eq!(image("/var/lib/dpkg/info/adduser.list"), Some(DpkgFile::Owned { package: "adduser" }));
        assert_eq!(image("/var/lib/dpkg/info/python3.11.postinst"), Some(DpkgFile::Owned { package: "python3.11" }));
        assert_eq!(image("/var/lib/dpkg/status.d/libc6.preinst"), Some(DpkgFile::Owned { package: "libc6" }));
        let directory = |path| classify(path, InfoFiles::Md5sumsAndConffiles);
        assert_eq!(directory("/var/lib/dpkg/info/adduser.list"), None);
        assert_eq!(directory("/var/lib/dpkg/status.d/libc6.preinst"), None);
    }

    #[test]
    fn evidence_files_name_their_package() {
        let facts = DpkgCataloger::IMAGE.parse("/var/lib/dpkg/info/libc6:amd64.md5sums", b"").expect("evidence");
        assert_eq!(facts, [Fact::Evidence { kind: PackageType::Deb, name: "libc6".into(), licenses: vec![] }]);
        let facts = DpkgCataloger::DIRECTORY.parse("/usr/share/doc/bash/copyright", b"License: GPL-3+\n").expect("evidence");
        assert_eq!(facts, [Fact::Evidence { kind: PackageType::Deb, name: "bash".into(), licenses: vec!["GPL-3+".into()] }]);
    }
}
