//! Pipenv's `Pipfile.lock`: JSON with the locked `default` and `develop` packages, versions
//! written as `==1.2.3`.
//!
//! Only `default` is listed: `develop` holds the development packages, which Syft leaves out
//! as it leaves out npm's dev packages. A package without a version (a VCS or path
//! requirement) is listed without one, as Syft lists it.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{json_error, Found};

#[derive(Deserialize)]
struct PipfileLock {
    #[serde(default)]
    default: BTreeMap<String, Locked>,
}

#[derive(Deserialize)]
struct Locked {
    #[serde(default)]
    version: String,
}

pub(super) fn parse(content: &[u8], found: &mut Found) -> Result<(), String> {
    let lock: PipfileLock = serde_json::from_slice(content).map_err(|error| json_error(&error))?;
    for (name, locked) in lock.default {
        found.add_python(&name, locked.version.strip_prefix("==").unwrap_or(&locked.version));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{identities, Found};
    use palisade_pkg::PackageType;

    #[test]
    fn default_packages_without_the_equals_signs() {
        let lock = r#"{"default": {"Flask": {"version": "==3.0.0"}, "lib": {"git": "https://x/lib.git"}}, "develop": {"pytest": {"version": "==7.4.3"}}}"#;
        let mut found = Found::new("/app/Pipfile.lock", "python-package-cataloger", PackageType::Python);
        super::parse(lock.as_bytes(), &mut found).unwrap();
        assert_eq!(identities(found.into_facts()), [("flask".into(), "3.0.0".into(), "pkg:pypi/flask@3.0.0".into()), ("lib".into(), String::new(), "pkg:pypi/lib".into())]);
    }
}
