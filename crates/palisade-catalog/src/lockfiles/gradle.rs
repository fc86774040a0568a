//! `java-gradle-lockfile-cataloger`: Gradle's dependency lockfiles (`gradle.lockfile`, and as
//! Syft's glob `gradle.lockfile*` has it, files named after it). Each line is
//! `group:artifact:version=configurations`; `empty=…` and comments name no dependency.

use palisade_pkg::PackageType;

use super::{file_name, maven_purl, text, Found, SCOPES, WANT};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads Gradle lockfiles.
pub(crate) struct GradleLockfile;

const NAME: &str = "java-gradle-lockfile-cataloger";

impl Cataloger for GradleLockfile {
    fn name(&self) -> &'static str {
        NAME
    }

    fn scopes(&self) -> &'static [Scope] {
        SCOPES
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        file_name(path).starts_with("gradle.lockfile").then_some(WANT)
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        let mut found = Found::new(path, NAME, PackageType::JavaArchive);
        for line in text(content)?.lines() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            let coordinates = line.split_once('=').map_or(line, |(coordinates, _)| coordinates);
            let mut parts = coordinates.split(':');
            if let (Some(group), Some(artifact), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next()) {
                found.add(artifact, version, maven_purl(group, artifact, version), Vec::new());
            }
        }
        Ok(found.into_facts())
    }
}
