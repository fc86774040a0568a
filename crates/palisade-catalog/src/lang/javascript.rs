//! `javascript-package-cataloger`: every `package.json` of an image (installed packages under
//! `node_modules` and the applications that installed them alike, as Syft reads them).
//!
//! As in Syft: a file may hold several JSON documents one after the other, each a package; a
//! document without a name gives no package, one without a version is a package all the same.
//! Licences come from `license` (a string, a `{type}` object, or a list of either), else from the
//! older `licenses` list.
//!
//! Two differences from Syft, both where it loses information: a package whose other fields have
//! unexpected types (an `author` that is a number, `dependencies` as a list in old packages) is
//! still a package (Syft drops the whole file; npm lists such packages as installed), and a
//! `license` list (not what npm documents, but published packages have them) gives its licences
//! (Syft gives none).

use palisade_pkg::{purl, PackageType};
use serde_json::{Map, Value};

use super::{file_name, json_error, json_fields, Found, IMAGE, METADATA_LIMIT};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads `package.json` files.
pub(crate) struct JavascriptPackage;

const NAME: &str = "javascript-package-cataloger";

impl Cataloger for JavascriptPackage {
    fn name(&self) -> &'static str {
        NAME
    }

    fn scopes(&self) -> &'static [Scope] {
        IMAGE
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        (file_name(path) == "package.json").then_some(Want::Content { limit: METADATA_LIMIT })
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        let mut found = Found::new(path, NAME);
        for (index, document) in serde_json::Deserializer::from_slice(content).into_iter::<Value>().enumerate() {
            let package = match document.map_err(|error| json_error(&error))? {
                Value::Object(package) => package,
                // `null` is a package without a name.
                Value::Null => continue,
                _ => return Err(format!("document {}: a package.json holds an object", index + 1)),
            };
            let name = json_fields::text(&package, "name");
            let version = json_fields::text(&package, "version");
            found.add(PackageType::Npm, name, version, purl::npm(name, version), licenses(&package));
        }
        Ok(found.into_facts())
    }
}

/// The licences of `license`, else of `licenses`.
fn licenses(package: &Map<String, Value>) -> Vec<String> {
    for key in ["license", "licenses"] {
        let found: Vec<String> = match json_fields::field(package, key) {
            Some(Value::Array(items)) => items.iter().filter_map(license).collect(),
            Some(value) => license(value).into_iter().collect(),
            None => Vec::new(),
        };
        if found.iter().any(|license| !license.is_empty()) {
            return found;
        }
    }
    Vec::new()
}

/// A licence written as a string or as a `{type, url}` object.
fn license(value: &Value) -> Option<String> {
    match value {
        Value::String(license) => Some(license.clone()),
        Value::Object(license) => Some(json_fields::text(license, "type").to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Name, version, purl and licences of a package found.
    type Seen = (String, String, String, Vec<String>);

    fn packages(content: &str) -> Result<Vec<Seen>, String> {
        let facts = JavascriptPackage.parse("/app/node_modules/x/package.json", content.as_bytes())?;
        Ok(facts
            .into_iter()
            .map(|fact| match fact {
                Fact::Package(package) => (package.name, package.version, package.purl, package.licenses),
                other => panic!("unexpected fact {other:?}"),
            })
            .collect())
    }

    // Expected values are Syft 1.18.1's for the same files (tests/fixtures/lang/javascript).
    #[test]
    fn names_versions_purls_and_licences() {
        let cases = [
            (r#"{"name":"a","version":"1.2.3","license":{"type":"MIT","url":"x"}}"#, ("a", "1.2.3", "pkg:npm/a@1.2.3", vec!["MIT"])),
            (
                r#"{"name":"@s/b","version":"2.0.0+build.1","licenses":[{"type":"MIT"},{"type":"Apache-2.0"}]}"#,
                ("@s/b", "2.0.0+build.1", "pkg:npm/%40s/b@2.0.0%2Bbuild.1", vec!["Apache-2.0", "MIT"]),
            ),
            (r#"{"name":"c"}"#, ("c", "", "pkg:npm/c", vec![])),
            (r#"{"name":"e","version":"1","license":["MIT",{"type":"ISC"}]}"#, ("e", "1", "pkg:npm/e@1", vec!["ISC", "MIT"])),
            (r#"{"Name":"f","VERSION":"2","license":"ISC","licenses":[{"type":"MIT"}]}"#, ("f", "2", "pkg:npm/f@2", vec!["ISC"])),
            (r#"{"name":"g","version":"3","license":null,"licenses":["MIT"]}"#, ("g", "3", "pkg:npm/g@3", vec!["MIT"])),
            (r#"{"name":"h","version":"4","author":5,"dependencies":["x"],"private":"yes"}"#, ("h", "4", "pkg:npm/h@4", vec![])),
        ];
        for (content, (name, version, purl, licenses)) in cases {
            let found = packages(content).unwrap();
            let licenses: Vec<String> = licenses.into_iter().map(str::to_owned).collect();
            assert_eq!(found, [(name.to_owned(), version.to_owned(), purl.to_owned(), licenses)], "{content}");
        }
    }

    #[test]
    fn documents_without_a_name_give_nothing_and_several_documents_several_packages() {
        assert_eq!(packages(r#"{"version":"1.0"}"#).unwrap(), []);
        assert_eq!(packages("null").unwrap(), []);
        assert_eq!(packages(r#"{"name":7,"version":"4"}"#).unwrap(), []);
        let found = packages("{\"name\":\"x\",\"version\":\"1\"}\n{\"name\":\"y\",\"version\":\"2\"}").unwrap();
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn documents_that_are_not_objects_or_not_json_are_errors() {
        assert_eq!(packages("{\"name\":\"x\"}\n[1]"), Err("document 2: a package.json holds an object".to_owned()));
        assert_eq!(packages("{\"name\":\"x\",\n\"version\":}"), Err("line 2, column 11: expected value".to_owned()));
    }
}
