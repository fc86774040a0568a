//! npm's `package-lock.json`, lockfile versions 1 to 3.
//!
//! Versions 2 and 3 list every installed package under `packages`, keyed by its folder
//! (`node_modules/a/node_modules/@s/b`); the package is named after the last `node_modules/`
//! segment unless the entry names it (`name`, for aliases and workspaces). The root entry `""`
//! is the project itself and is listed when it has a name; link entries (`"link": true`) have no
//! version and are listed without one, next to the workspace folder entry they point at — all as
//! Syft lists them. Dev-only packages (`"dev": true`) are left out, as Syft leaves them out by
//! default; `devOptional` packages stay (they are needed when optional dependencies install).
//!
//! Version 1 nests `dependencies` inside `dependencies` wherever npm had to install a second
//! version below a package. Syft reads only the top level and misses those nested packages;
//! they are installed (npm's lockfile v1 docs: a dependency's `dependencies` are "the
//! dependencies of this dependency, exactly as at the top level"), so every level is read here.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::{json_error, Found};

#[derive(Deserialize)]
struct PackageLock {
    #[serde(rename = "lockfileVersion", default)]
    lockfile_version: Option<u64>,
    #[serde(default)]
    dependencies: BTreeMap<String, V1Dependency>,
    #[serde(default)]
    packages: BTreeMap<String, V2Package>,
}

#[derive(Deserialize)]
struct V1Dependency {
    #[serde(default)]
    version: String,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    dependencies: BTreeMap<String, V1Dependency>,
}

#[derive(Deserialize)]
struct V2Package {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    license: License,
}

/// `license` is a string, a list of strings, or (in old packages) anything else, which is ignored.
#[derive(Default, Deserialize)]
#[serde(untagged)]
enum License {
    One(String),
    Many(Vec<String>),
    Other(IgnoredAny),
    #[default]
    None,
}

impl License {
    fn into_vec(self) -> Vec<String> {
        match self {
            License::One(license) => vec![license],
            License::Many(licenses) => licenses,
            License::Other(_) | License::None => Vec::new(),
        }
    }
}

pub(super) fn parse(content: &[u8], found: &mut Found) -> Result<(), String> {
    let lock: PackageLock = serde_json::from_slice(content).map_err(|error| json_error(&error))?;
    match lock.lockfile_version {
        Some(1) => add_v1(lock.dependencies, found),
        Some(2 | 3) => add_v2(lock.packages, found),
        Some(other) => return Err(format!("lockfileVersion {other} is not one npm writes (1, 2 or 3)")),
        None => return Err("no lockfileVersion: not an npm package-lock.json".to_owned()),
    }
    Ok(())
}

fn add_v1(dependencies: BTreeMap<String, V1Dependency>, found: &mut Found) {
    let mut pending: Vec<(String, V1Dependency)> = dependencies.into_iter().collect();
    while let Some((name, dependency)) = pending.pop() {
        if !dependency.dev {
            // An alias (`"version": "npm:real-name@1.2.3"`) installs real-name under another folder.
            let (name, version) = match dependency.version.strip_prefix("npm:").and_then(|aliased| aliased.rsplit_once('@')) {
                Some((real, version)) => (real.to_owned(), version),
                None => (name, dependency.version.as_str()),
            };
            found.add_npm(&name, version, Vec::new());
        }
        pending.extend(dependency.dependencies);
    }
}

fn add_v2(packages: BTreeMap<String, V2Package>, found: &mut Found) {
    for (key, package) in packages {
        if package.dev || (key.is_empty() && package.name.is_empty()) {
            continue;
        }
        let path = if package.name.is_empty() { key.as_str() } else { package.name.as_str() };
        let name = path.rsplit("node_modules/").next().unwrap_or(path);
        found.add_npm(name, &package.version, package.license.into_vec());
    }
}

#[cfg(test)]
mod tests {
    use super::super::{identities, Found};
    use palisade_pkg::PackageType;

    fn packages(lock: &str) -> Result<Vec<(String, String, String)>, String> {
        let mut found = Found::new("/app/package-lock.json", "javascript-lock-cataloger", PackageType::Npm);
        super::parse(lock.as_bytes(), &mut found)?;
        Ok(identities(found.into_facts()))
    }

    fn package(name: &str, version: &str, purl: &str) -> (String, String, String) {
        (name.into(), version.into(), purl.into())
    }

    #[test]
    fn version_1_reads_nested_dependencies_aliases_and_skips_dev() {
        let lock = r#"{"lockfileVersion": 1, "dependencies": {
            "a": {"version": "1.0.0", "dependencies": {"b": {"version": "2.0.0", "dependencies": {"c": {"version": "3.0.0"}}}}},
            "cjs": {"version": "npm:@s/real@4.0.0"},
            "tool": {"version": "5.0.0", "dev": true, "dependencies": {"d": {"version": "6.0.0", "dev": true}}}}}"#;
        assert_eq!(
            packages(lock).unwrap(),
            [package("@s/real", "4.0.0", "pkg:npm/%40s/real@4.0.0"), package("a", "1.0.0", "pkg:npm/a@1.0.0"), package("b", "2.0.0", "pkg:npm/b@2.0.0"), package("c", "3.0.0", "pkg:npm/c@3.0.0")]
        );
    }

    #[test]
    fn version_3_names_packages_by_folder_unless_the_entry_names_them() {
        let lock = r#"{"lockfileVersion": 3, "packages": {
            "": {"version": "0.0.1"},
            "node_modules/a/node_modules/@s/b": {"version": "1.0.0", "license": ["MIT", "ISC"]},
            "node_modules/alias": {"name": "real", "version": "2.0.0", "license": {"type": "BSD"}},
            "node_modules/linked": {"resolved": "libs/linked", "link": true},
            "node_modules/devonly": {"version": "3.0.0", "dev": true}}}"#;
        assert_eq!(
            packages(lock).unwrap(),
            [package("@s/b", "1.0.0", "pkg:npm/%40s/b@1.0.0"), package("linked", "", "pkg:npm/linked"), package("real", "2.0.0", "pkg:npm/real@2.0.0")]
        );
    }

    #[test]
    fn unknown_lockfile_versions_and_other_json_are_named_errors() {
        assert_eq!(packages(r#"{"lockfileVersion": 4}"#).unwrap_err(), "lockfileVersion 4 is not one npm writes (1, 2 or 3)");
        assert_eq!(packages(r#"{"name": "x"}"#).unwrap_err(), "no lockfileVersion: not an npm package-lock.json");
        assert_eq!(packages("{\n\"lockfileVersion\": \"3\"}").unwrap_err(), "line 2, column 22: invalid type: string \"3\", expected u64");
        let deep = format!("{{\"lockfileVersion\": 1, \"dependencies\": {}{}", "{\"a\": {\"dependencies\": ".repeat(1_000), "}".repeat(2_001));
        assert!(packages(&deep).unwrap_err().ends_with("recursion limit exceeded"), "{:?}", packages(&deep));
    }
}
