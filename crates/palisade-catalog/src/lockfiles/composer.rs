//! `php-composer-lock-cataloger`: Composer's `composer.lock`.
//!
//! Only `packages` is listed: `packages-dev` holds the development packages, which Syft leaves
//! out (as it leaves out npm's dev packages). A name `vendor/package` is the purl's namespace and
//! name.

use palisade_pkg::{purl, PackageType};
use serde::Deserialize;

use super::{file_name, json_error, Found, SCOPES, WANT};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads `composer.lock`.
pub(crate) struct ComposerLock;

const NAME: &str = "php-composer-lock-cataloger";

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    packages: Vec<Locked>,
}

#[derive(Deserialize)]
struct Locked {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    license: Vec<String>,
}

impl Cataloger for ComposerLock {
    fn name(&self) -> &'static str {
        NAME
    }

    fn scopes(&self) -> &'static [Scope] {
        SCOPES
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        (file_name(path) == "composer.lock").then_some(WANT)
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        let lock: Lock = serde_json::from_slice(content).map_err(|error| json_error(&error))?;
        let mut found = Found::new(path, NAME, PackageType::PhpComposer);
        for package in lock.packages {
            let purl = purl::composer(&package.name, &package.version);
            found.add(&package.name, &package.version, purl, package.license);
        }
        Ok(found.into_facts())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_split_vendor_and_package() {
        assert_eq!(purl::composer("symfony/console", "v6.3.0"), "pkg:composer/symfony/console@v6.3.0");
        assert_eq!(purl::composer("a/b/c", "1.0"), "pkg:composer/a/b-c@1.0");
    }

    #[test]
    fn packages_with_licences_and_no_dev_packages() {
        let lock = r#"{"packages": [{"name": "psr/log", "version": "3.0.0", "license": ["MIT"]}], "packages-dev": [{"name": "phpunit/phpunit", "version": "10.4.2"}]}"#;
        let facts = ComposerLock.parse("/app/composer.lock", lock.as_bytes()).unwrap();
        let [Fact::Package(package)] = facts.as_slice() else { panic!("one package: {facts:?}") };
        assert_eq!((package.name.as_str(), package.purl.as_str(), package.licenses.as_slice()), ("psr/log", "pkg:composer/psr/log@3.0.0", ["MIT".to_owned()].as_slice()));
    }
}
