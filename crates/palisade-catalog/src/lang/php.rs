//! `php-composer-installed-cataloger`: Composer's record of what it installed,
//! `vendor/composer/installed.json` (Syft reads every `installed.json`), in both layouts:
//! Composer 1's list of packages and Composer 2's `{"packages": [...]}`.
//!
//! As in Syft, a name `vendor/package` is the purl's namespace and name (deeper names join the
//! rest with `-`). Unlike Syft, a field of an unexpected type (a `license` string where Composer
//! writes a list, an `authors` entry that is not an object) does not hide the file's packages
//! (see [`json_fields`](super::json_fields)).

use palisade_pkg::{purl, PackageType};
use serde_json::Value;

use super::{file_name, json_error, json_fields, Found, IMAGE};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads `installed.json`.
pub(crate) struct ComposerInstalled;

const NAME: &str = "php-composer-installed-cataloger";

/// The largest `installed.json` read (one with a thousand packages is about 2 MiB).
const LIMIT: u64 = 64 << 20;

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
            let packages = match &document {
                Value::Object(installed) => json_fields::field(installed, "packages"),
                list => Some(list),
            };
            for package in packages.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_object) {
                let name = json_fields::text(package, "name");
                let version = json_fields::text(package, "version");
                found.add(PackageType::PhpComposer, name, version, purl::composer(name, version), json_fields::texts(package, "license"));
            }
        }
        Ok(found.into_facts())
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
    fn odd_fields_do_not_hide_packages() {
        let found = packages(r#"{"packages":[{"name":"a/b","version":"1","authors":["me"]},{"name":"c/d","version":"2","license":"MIT"}, 5]}"#).unwrap();
        assert_eq!(found[1], ("c/d".to_owned(), "2".to_owned(), "pkg:composer/c/d@2".to_owned(), vec!["MIT".to_owned()]));
        assert_eq!(packages(r#"{"packages":{"name":"x"}}"#).unwrap(), []);
        assert_eq!(packages("{\"packages\": [").map(|_| ()), Err("line 1, column 14: EOF while parsing a list".into()));
    }
}
