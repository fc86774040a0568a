//! pnpm's `pnpm-lock.yaml`, lockfile versions 5.x, 6.x and 9.x.
//!
//! Every resolved package is a key of `packages`, written as a dependency path:
//! - 5.x: `/name/1.2.3` and `/@scope/name/1.2.3`, with peer dependencies appended after `_`
//!   (`/styled-jsx/5.1.1_react@18.2.0`);
//! - 6.x: `/name@1.2.3`, peers in parentheses (`/styled-jsx@5.1.1(react@18.2.0)`);
//! - 9.x: `name@1.2.3` (peers only in `snapshots`, which repeats `packages`).
//!
//! Syft splits 5.x paths on `/` and keeps the peer suffix in the version (`5.1.1_react@18.2.0`,
//! a version no registry has); pnpm's own `@pnpm/dependency-path` (`parse`, and
//! `tryGetPackageId`) cuts a version without parentheses at the first `_`, and so does this
//! reader.
//! Packages that are not from a registry (tarballs, git, `file:` directories) are keyed by
//! their source and carry `name` and `version` fields, which win over the key when present
//! (Syft reads the key only).
//!
//! Versions 5.x and 6.x also list the project's direct dependencies at the top level
//! (`dependencies`); they are read too, as Syft reads them, except `link:` and other non-registry
//! versions (`link:../lib`), which are workspace folders, not packages: Syft reports them with
//! the link as version (`lib@link:../lib`). An alias (`string-width-cjs`) has the dependency path
//! of what it installs as version (`/string-width@4.2.3`), read as that package here, where Syft
//! reports `string-width-cjs@/string-width@4.2.3`. Dev dependencies are listed, as Syft lists
//! them.

use super::yaml::{self, Node};
use super::{text, Found};

pub(super) fn parse(content: &[u8], found: &mut Found) -> Result<(), String> {
    let root = yaml::parse(text(content)?)?;
    let Node::Mapping(_) = root else {
        return Err("not a pnpm lockfile: the document is not a mapping".to_owned());
    };
    let lockfile_version: f64 = root.get("lockfileVersion").and_then(Node::as_str).and_then(|version| version.trim().parse().ok()).unwrap_or(0.0);
    let peers_after_underscore = lockfile_version < 6.0;

    if let Some(dependencies) = root.get("dependencies") {
        for (name, value) in dependencies.entries() {
            let version = match value {
                Node::Scalar(version) => Some(version.as_str()),
                _ => value.get("version").and_then(Node::as_str),
            };
            let Some((name, version)) = name.as_str().zip(version).filter(|(_, version)| !version.contains(':')) else { continue };
            let (name, version) = if version.starts_with('/') {
                split_dependency_path(version, peers_after_underscore)
            } else {
                (name, strip_peers(version, peers_after_underscore))
            };
            found.add_npm(name, version, Vec::new());
        }
    }

    if let Some(packages) = root.get("packages") {
        for (key, value) in packages.entries() {
            let Some(key) = key.as_str() else { continue };
            let (name, version) = split_dependency_path(key, peers_after_underscore);
            let name = value.get("name").and_then(Node::as_str).unwrap_or(name);
            let version = value.get("version").and_then(Node::as_str).unwrap_or(version);
            found.add_npm(name, version, Vec::new());
        }
    }
    Ok(())
}

/// Name and version of a `packages` key.
fn split_dependency_path(key: &str, peers_after_underscore: bool) -> (&str, &str) {
    let path = key.strip_prefix('/').unwrap_or(key);
    let path = path.split_once('(').map_or(path, |(before, _)| before);
    let separator = if peers_after_underscore { '/' } else { '@' };
    // The name's own `@` (a scope) comes first, so the version follows the last separator.
    match path.rsplit_once(separator) {
        Some((name, version)) if !name.is_empty() => (name, strip_peers(version, peers_after_underscore)),
        _ => ("", ""),
    }
}

/// The version without the peer dependencies pnpm appends to it.
fn strip_peers(version: &str, peers_after_underscore: bool) -> &str {
    let version = version.split_once('(').map_or(version, |(before, _)| before);
    if peers_after_underscore { version.split_once('_').map_or(version, |(before, _)| before) } else { version }
}

#[cfg(test)]
mod tests {
    use super::super::{identities, Found};
    use super::{split_dependency_path, strip_peers};
    use palisade_pkg::PackageType;

    fn packages(lock: &str) -> Result<Vec<(String, String)>, String> {
        let mut found = Found::new("/app/pnpm-lock.yaml", "javascript-lock-cataloger", PackageType::Npm);
        super::parse(lock.as_bytes(), &mut found)?;
        Ok(identities(found.into_facts()).into_iter().map(|(name, version, _)| (name, version)).collect())
    }

    #[test]
    fn dependency_paths_of_each_lockfile_version() {
        assert_eq!(split_dependency_path("/@babel/core/7.21.0", true), ("@babel/core", "7.21.0"));
        assert_eq!(split_dependency_path("/styled-jsx/5.1.1_@babel+core@7.21.0+react@18.2.0", true), ("styled-jsx", "5.1.1"));
        assert_eq!(split_dependency_path("/@babel/core@7.21.0", false), ("@babel/core", "7.21.0"));
        assert_eq!(split_dependency_path("/styled-jsx@5.1.1(@babel/core@7.21.0)(react@18.2.0)", false), ("styled-jsx", "5.1.1"));
        assert_eq!(split_dependency_path("@babel/core@7.21.0", false), ("@babel/core", "7.21.0"));
        assert_eq!(split_dependency_path("no-version", false), ("", ""));
        assert_eq!(strip_peers("1.0.0_react@18.2.0", false), "1.0.0_react@18.2.0");
    }

    #[test]
    fn top_level_dependencies_skip_links_and_packages_use_their_own_name_and_version() {
        let lock = "lockfileVersion: '6.0'\ndependencies:\n  cjs:\n    specifier: npm:real@^4\n    version: /real@4.0.0\n  a:\n    specifier: ^1\n    version: 1.0.0(b@2.0.0)\n  lib:\n    specifier: link:../lib\n    version: link:../lib\npackages:\n  /b@2.0.0:\n    resolution: {integrity: sha512-x}\n  file:vendor/c:\n    resolution: {directory: vendor/c, type: directory}\n    name: c\n    version: 3.0.0\n";
        assert_eq!(packages(lock).unwrap(), [("a".into(), "1.0.0".into()), ("b".into(), "2.0.0".into()), ("c".into(), "3.0.0".into()), ("real".into(), "4.0.0".into())]);
    }

    #[test]
    fn version_5_numbers_and_peer_suffixes() {
        let lock = "lockfileVersion: 5.4\ndependencies:\n  styled-jsx: 5.1.1_react@18.2.0\npackages:\n  /styled-jsx/5.1.1_react@18.2.0:\n    dev: false\n  /@types/node/20.8.10:\n    dev: true\n";
        assert_eq!(packages(lock).unwrap(), [("@types/node".into(), "20.8.10".into()), ("styled-jsx".into(), "5.1.1".into())]);
    }

    #[test]
    fn yaml_errors_name_the_line_and_other_documents_are_refused() {
        assert_eq!(packages("lockfileVersion: '9.0'\npackages:\n  a@1.0.0: {}\n    optional: true\n").unwrap_err(), "line 4, column 5: did not find expected key");
        assert_eq!(packages("- a\n- b\n").unwrap_err(), "not a pnpm lockfile: the document is not a mapping");
    }
}
