//! `php-composer-installed-cataloger`: Composer's record of what it installed,
//! `vendor/composer/installed.json` (Syft reads every `installed.json`), in both layouts:
//! Composer 1's list of packages and Composer 2's `{"packages": [...]}`.
//!
//! As in Syft, a name `vendor/package` is the purl's namespace and name (deeper names join the
//! rest with `-`), and a value of the wrong type anywhere in the declared fields (a `license`
//! string instead of a list, an `authors` entry that is not an object) drops the whole file.

use palisade_pkg::{purl, PackageType};
use serde_json::Value;

use super::go_json::{self, Shape};
use super::{file_name, json_error, Found, IMAGE};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads `installed.json`.
pub(crate) struct ComposerInstalled;

const NAME: &str = "php-composer-installed-cataloger";

/// The largest `installed.json` read (one with a thousand packages is about 2 MiB).
const LIMIT: u64 = 64 << 20;

const REFERENCE: Shape = Shape::Struct(&[("type", Shape::Text), ("url", Shape::Text), ("reference", Shape::Text), ("shasum", Shape::Text)]);
const AUTHOR: Shape = Shape::Struct(&[("name", Shape::Text), ("email", Shape::Text), ("homepage", Shape::Text)]);

/// An installed package, with the Go types Syft decodes its fields into.
const PACKAGE: Shape = Shape::Struct(&[
    ("name", Shape::Text),
    ("version", Shape::Text),
    ("source", REFERENCE),
    ("dist", REFERENCE),
    ("require", Shape::Map(&Shape::Text)),
    ("provide", Shape::Map(&Shape::Text)),
    ("require-dev", Shape::Map(&Shape::Text)),
    ("suggest", Shape::Map(&Shape::Text)),
    ("license", Shape::List(&Shape::Text)),
    ("type", Shape::Text),
    ("notification-url", Shape::Text),
    ("bin", Shape::List(&Shape::Text)),
    ("authors", Shape::List(&AUTHOR)),
    ("description", Shape::Text),
    ("homepage", Shape::Text),
    ("keywords", Shape::List(&Shape::Text)),
    ("time", Shape::Text),
]);

const PACKAGES: Shape = Shape::List(&PACKAGE);
const COMPOSER_2: Shape = Shape::Struct(&[("packages", PACKAGES)]);

impl Cataloger for ComposerInstalled {
    fn name(&self) -> &'static str {
        NAME
    }

    fn scopes(&self) -> &'static [Scope] {
        IMAGE
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        (file_name(path) == "installed.json").then_some(Want::Content { limit: LIMIT })
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        let mut found = Found::new(path, NAME);
        for document in serde_json::Deserializer::from_slice(content).into_iter::<Value>() {
            let document = document.map_err(|error| json_error(&error))?;
            // Syft tries Composer 2's layout first and Composer 1's list when that fails.
            let packages = match go_json::check(&document, &COMPOSER_2) {
                Ok(()) => document.as_object().and_then(|object| go_json::field(object, "packages")).cloned().unwrap_or(Value::Null),
                Err(composer_2) => match go_json::check(&document, &PACKAGES) {
                    Ok(()) => document,
                    Err(_) => return Err(composer_2),
                },
            };
            for package in packages.as_array().into_iter().flatten().filter_map(Value::as_object) {
                let name = go_json::text(package, "name");
                let version = go_json::text(package, "version");
                found.add(PackageType::PhpComposer, name, version, composer_purl(name, version), go_json::texts(package, "license"));
            }
        }
        Ok(found.into_facts())
    }
}

/// `vendor/package` as namespace and name; deeper names join the rest with `-`, as Syft does.
fn composer_purl(name: &str, version: &str) -> String {
    match name.split_once('/') {
        Some((vendor, package)) => purl::build("composer", Some(vendor), &package.replace('/', "-"), Some(version), &[]),
        None => purl::build("composer", None, name, Some(version), &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Name, version, purl and licences of a package found.
    type Seen = (String, String, String, Vec<String>);

    fn packages(content: &str) -> Result<Vec<Seen>, String> {
        let facts = ComposerInstalled.parse("/app/vendor/composer/installed.json", content.as_bytes())?;
        Ok(facts
            .into_iter()
            .map(|fact| match fact {
                Fact::Package(package) => (package.name, package.version, package.purl, package.licenses),
                other => panic!("unexpected fact {other:?}"),
            })
            .collect())
    }

    // Expected values are Syft 1.18.1's for the same files (tests/fixtures/lang/php).
    #[test]
    fn composer_1_and_2_layouts() {
        let entry = r#"{"name":"monolog/monolog","version":"3.5.0","version_normalized":"3.5.0.0","license":["MIT"],"extra":{"branch-alias":{"dev-main":"3.x-dev"}},"installation-source":"dist"}"#;
        let expected = vec![("monolog/monolog".to_owned(), "3.5.0".to_owned(), "pkg:composer/monolog/monolog@3.5.0".to_owned(), vec!["MIT".to_owned()])];
        assert_eq!(packages(&format!(r#"{{"packages":[{entry}],"dev":true,"dev-package-names":[]}}"#)).unwrap(), expected);
        assert_eq!(packages(&format!("[{entry}]")).unwrap(), expected);
    }

    #[test]
    fn odd_names_and_missing_versions() {
        let found = packages(r#"{"packages":[{"name":"a/b/c","version":"1"},{"name":"solo"},{"version":"2"}]}"#).unwrap();
        let purls: Vec<&str> = found.iter().map(|(_, _, purl, _)| purl.as_str()).collect();
        assert_eq!(purls, ["pkg:composer/a/b-c@1", "pkg:composer/solo"]);
        assert_eq!(found[1].1, "");
    }

    #[test]
    fn a_value_of_the_wrong_type_fails_the_whole_file() {
        assert_eq!(
            packages(r#"{"packages":[{"name":"a/b","version":"1"},{"name":"c/d","license":"MIT"}]}"#),
            Err("packages[1].license is a string where a list belongs".into())
        );
        assert_eq!(packages(r#"{"packages":{"name":"x"}}"#), Err("packages is an object where a list belongs".into()));
        assert_eq!(packages("{\"packages\": [").map(|_| ()), Err("line 1, column 14: EOF while parsing a list".into()));
    }
}
