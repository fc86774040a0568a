//! `rust-cargo-lock-cataloger`: Cargo's `Cargo.lock` (formats 1 to 4 share the `[[package]]`
//! tables). Every package is listed, the workspace's own crates (no `source`) included, as Syft
//! lists them.

use palisade_pkg::{purl, PackageType};

use super::{file_name, toml_packages, Found, SCOPES, WANT};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads `Cargo.lock`.
pub(crate) struct CargoLock;

const NAME: &str = "rust-cargo-lock-cataloger";

impl Cataloger for CargoLock {
    fn name(&self) -> &'static str {
        NAME
    }

    fn scopes(&self) -> &'static [Scope] {
        SCOPES
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        (file_name(path) == "Cargo.lock").then_some(WANT)
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        let mut found = Found::new(path, NAME, PackageType::RustCrate);
        for (name, version) in toml_packages::read(content)? {
            let purl = purl::build("cargo", None, &name, Some(&version), &[]);
            found.add(&name, &version, purl, Vec::new());
        }
        Ok(found.into_facts())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfiles::identities;

    #[test]
    fn every_package_with_its_version() {
        let lock = "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.193\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        assert_eq!(
            identities(CargoLock.parse("/app/Cargo.lock", lock.as_bytes()).unwrap()),
            [("app".into(), "0.1.0".into(), "pkg:cargo/app@0.1.0".into()), ("serde".into(), "1.0.193".into(), "pkg:cargo/serde@1.0.193".into())]
        );
    }
}
