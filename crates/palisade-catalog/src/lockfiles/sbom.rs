//! `sbom-cataloger`: SBOM documents in a project directory (CycloneDX JSON and XML, SPDX JSON and
//! tag-value), under the file names osv-scanner and Trivy read them
//! ([`palisade_sbom::read::looks_like_sbom`]). Each package the document names is a package of
//! the project, located in the SBOM file; components it names no package for are issues of the
//! file; the distribution its OS packages name stands only when no release file names one.

use std::path::Path;

use palisade_sbom::read::{looks_like_sbom, read_sbom, FOUND_BY};

use super::{file_name, SCOPES, WANT};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads SBOM files.
pub(crate) struct SbomFile;

/// An SBOM's distribution ranks after every release file's.
const DISTRO_RANK: u8 = u8::MAX;

impl Cataloger for SbomFile {
    fn name(&self) -> &'static str {
        FOUND_BY
    }

    fn scopes(&self) -> &'static [Scope] {
        SCOPES
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        looks_like_sbom(file_name(path)).then_some(WANT)
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        let inventory = read_sbom(Path::new(path), content).map_err(|error| error.message())?;
        let mut facts: Vec<Fact> = inventory.packages.into_iter().map(Fact::Package).collect();
        facts.extend(inventory.distro.map(|distro| Fact::Distro { rank: DISTRO_RANK, distro }));
        facts.extend(inventory.issues.into_iter().map(|issue| Fact::Issue { message: issue.message }));
        Ok(facts)
    }
}
