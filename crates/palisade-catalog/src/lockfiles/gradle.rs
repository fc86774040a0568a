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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfiles::identities;

    #[test]
    fn coordinates_with_three_parts_are_dependencies() {
        let lock = "# comment: with a colon\ncom.google.guava:guava:32.1.3-jre=compileClasspath\norg.x:no-version=runtimeClasspath\na:b:c:d=compileClasspath\nempty=annotationProcessor\n";
        let facts = GradleLockfile.parse("/app/gradle.lockfile", lock.as_bytes()).unwrap();
        assert_eq!(identities(facts), [("guava".into(), "32.1.3-jre".into(), "pkg:maven/com.google.guava/guava@32.1.3-jre".into())]);
        let meta = FileMeta { size: 1, mode: 0o644 };
        assert_eq!(GradleLockfile.wants("/app/gradle.lockfile.old", &meta), Some(WANT));
        assert_eq!(GradleLockfile.wants("/app/buildscript-gradle.lockfile", &meta), None);
    }
}
