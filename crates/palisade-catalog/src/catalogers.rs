//! The cataloger registry: one module per cataloger, listed once here.

use crate::{Fact, FileMeta, Scope, Want};

/// One kind of evidence of installed or declared packages, named as Syft names the
/// cataloger that reads the same evidence (`dpkg-db-cataloger`).
pub trait Cataloger: Sync {
    fn name(&self) -> &'static str;
    /// The sources this cataloger reads.
    fn scopes(&self) -> &'static [Scope];
    /// Whether (and how much of) this file is evidence; `path` is absolute and normalised
    /// (`/var/lib/dpkg/status`). Called for every file of every layer: decide on the path
    /// and metadata only, cheaply.
    fn wants(&self, path: &str, meta: &FileMeta) -> Option<Want>;
    /// The facts of one file. An `Err` names what is wrong (with the line when there is one);
    /// a file that is partly readable returns what it could read instead.
    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String>;
}

/// Every cataloger, in a fixed order.
pub fn catalogers() -> Vec<&'static dyn Cataloger> {
    vec![
        &crate::os_release::OsReleaseCataloger,
        &crate::dpkg::DpkgCataloger::IMAGE,
        &crate::dpkg::DpkgCataloger::DIRECTORY,
        &crate::apk::ApkCataloger,
        &crate::rpm::RpmCataloger,
        &crate::lang::PythonInstalled,
        &crate::lang::JavascriptPackage,
        &crate::lang::GoModuleBinary,
        &crate::lang::CargoAuditableBinary,
        &crate::lang::JavaArchive,
        &crate::lang::GemspecInstalled,
        &crate::lang::GemspecDeclared,
        &crate::lang::ComposerInstalled,
        &crate::lang::DotnetDeps,
        &crate::lockfiles::JavascriptLock,
        &crate::lockfiles::PythonPackage,
        &crate::lockfiles::GoModFile,
        &crate::lockfiles::CargoLock,
        &crate::lockfiles::GemfileLock,
        &crate::lockfiles::ComposerLock,
        &crate::lockfiles::GradleLockfile,
        &crate::lockfiles::PomXml,
        &crate::lockfiles::SbomFile,
    ]
}
