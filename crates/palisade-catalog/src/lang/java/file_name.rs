//! A Java archive's name and version from its file name (`commons-lang3-3.12.0.jar` →
//! `commons-lang3`, `3.12.0`), with Syft's patterns, which are kept as they are (case-insensitive
//! and ungreedy) so that odd names split the same way in both tools
//! (`org.eclipse.osgi_3.18.0.v20220516-2155.jar` → `org.eclipse.osgi_3.18.0.v20220516`, `2155`).

use std::sync::LazyLock;

use regex::Regex;

// Go's `\d` is ASCII-only, hence `[0-9]`.
static NAME_AND_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?Ui)^(?P<name>(?:[[:alpha:]][[:word:].]*(?:\.[[:alpha:]][[:word:].]*)*-?)+)(?:-(?P<version>([0-9].*|(build[0-9]+.*)|(rc?[0-9]+(?:^[[:alpha:]].*)?))))?$")
        .expect("a constant pattern")
});
static SECONDARY_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:[._-](?P<version>([0-9].*|(build[0-9]+.*)|(rc?[0-9]+(?:^[[:alpha:]].*)?))))?$").expect("a constant pattern")
});

/// What an archive's file name says.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ArchiveName {
    pub(super) name: String,
    pub(super) version: String,
}

impl ArchiveName {
    /// Reads the last segment of a path inside the filesystem or an archive.
    pub(super) fn parse(path: &str) -> Self {
        let base = path.rsplit('/').next().unwrap_or(path);
        let stem = base.rsplit_once('.').map_or(base, |(stem, _)| stem);
        let captures = NAME_AND_VERSION.captures(stem);
        let group = |name| captures.as_ref().and_then(|captures| captures.name(name)).map_or("", |found| found.as_str());
        let mut name = group("name").to_owned();
        let mut version = group("version").to_owned();
        if version.is_empty() {
            let secondary = SECONDARY_VERSION.captures(&name).and_then(|captures| captures.name("version")).map(|found| found.as_str().to_owned());
            if let Some(found) = secondary.filter(|found| !found.is_empty()) {
                name.truncate(name.len() - found.len() - 1);
                version = found;
            }
        }
        Self { name, version }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(path: &str) -> (String, String) {
        let parsed = ArchiveName::parse(path);
        (parsed.name, parsed.version)
    }

    // Expected values: Syft 1.18.1's own cases (archive_filename_test.go) and what it gives for
    // our fixtures (tests/fixtures/lang/java).
    #[test]
    fn names_and_versions_as_syft_splits_them() {
        let cases = [
            ("pkg-maven-4.3.2.blerg", "pkg-maven", "4.3.2"),
            ("pkg-maven.4.3.2.blerg", "pkg-maven", "4.3.2"),
            ("pkg-maven_4.3.2.blerg", "pkg-maven", "4.3.2"),
            ("liferay-package.lpkg", "liferay-package", ""),
            ("/some/path/pkg-extra-field-maven-4.3.2-rc1.jpi", "pkg-extra-field-maven", "4.3.2-rc1"),
            ("/some/path-with-version-5.4.3/wagon-webdav-1.0.2-beta-2.2.3a-hudson.jar", "wagon-webdav", "1.0.2-beta-2.2.3a-hudson"),
            ("/some/path-with-version-5.4.3/wagon-http-lightweight-1.0.5-beta-2.jar", "wagon-http-lightweight", "1.0.5-beta-2"),
            ("WEB-INF/lib/commons-jelly-1.1-hudson-20100305.jar", "commons-jelly", "1.1-hudson-20100305"),
            ("WEB-INF/lib/jtidy-4aug2000r7-dev-hudson-1.jar", "jtidy", "4aug2000r7-dev-hudson-1"),
            ("WEB-INF/lib/trilead-ssh2-build212-hudson-5.jar", "trilead-ssh2", "build212-hudson-5"),
            ("WEB-INF/lib/guava-r06.jar", "guava", "r06"),
            ("BOOT-INF/lib/spring-data-r2dbc-1.1.0.RELEASE.jar", "spring-data-r2dbc", "1.1.0.RELEASE"),
            ("jboss-saaj-api_1.4_spec-1.0.2.Final.jar", "jboss-saaj-api_1.4_spec", "1.0.2.Final"),
            ("/usr/share/java/gradle/lib/gradle-build-cache-8.1.1.jar", "gradle-build-cache", "8.1.1"),
            ("/opt/app/lib/commons-lang3-3.12.0.jar", "commons-lang3", "3.12.0"),
            ("tool.jar", "tool", ""),
            ("org.eclipse.osgi_3.18.0.v20220516-2155.jar", "org.eclipse.osgi_3.18.0.v20220516", "2155"),
        ];
        for (path, name, version) in cases {
            assert_eq!(split(path), (name.to_owned(), version.to_owned()), "{path}");
        }
    }
}
