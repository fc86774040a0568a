//! `javascript-package-cataloger`: every `package.json` of an image (installed packages under
//! `node_modules` and the applications that installed them alike, as Syft reads them).
//!
//! As in Syft: a file may hold several JSON documents one after the other, each a package; a
//! document without a name gives no package, one without a version is a package all the same;
//! one value of the wrong type (an `author` that is a number, a `dependencies` entry that is not
//! a string) drops every package of the file. Licences come from `license` as a string or `{type}` object,
//! else from `licenses` as a list of `{type}` objects; a `license` list is not read (Syft neither).

use palisade_pkg::{purl, PackageType};
use serde_json::{Map, Value};

use super::go_json::{self, Shape};
use super::{file_name, json_error, Found, IMAGE, METADATA_LIMIT};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads `package.json` files.
pub(crate) struct JavascriptPackage;

const NAME: &str = "javascript-package-cataloger";

/// The fields Syft decodes, with the Go types it decodes them into.
const PACKAGE_JSON: Shape = Shape::Struct(&[
    ("version", Shape::Text),
    ("latest", Shape::List(&Shape::Text)),
    ("license", Shape::Anything),
    ("licenses", Shape::Anything),
    ("name", Shape::Text),
    ("homepage", Shape::Text),
    ("description", Shape::Text),
    ("dependencies", Shape::Map(&Shape::Text)),
    ("private", Shape::Flag),
]);

/// An `author` object is decoded field by field into strings.
const AUTHOR: Shape = Shape::Map(&Shape::Text);

/// A `{type, url}` licence object.
const LICENSE: Shape = Shape::Struct(&[("type", Shape::Text), ("url", Shape::Text)]);

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
        for document in serde_json::Deserializer::from_slice(content).into_iter::<Value>() {
            let document = document.map_err(|error| json_error(&error))?;
            go_json::check(&document, &PACKAGE_JSON)?;
            let Value::Object(package) = document else {
                // `null` decodes to a package without a name.
                continue;
            };
            check_author_and_repository(&package)?;
            let name = go_json::text(&package, "name");
            let version = go_json::text(&package, "version");
            found.add(PackageType::Npm, name, version, npm_purl(name, version), licenses(&package));
        }
        Ok(found.into_facts())
    }
}

/// `author` and `repository` are a string or an object of strings; anything else fails the file.
fn check_author_and_repository(package: &Map<String, Value>) -> Result<(), String> {
    for key in ["author", "repository"] {
        for (found_key, value) in package.iter().filter(|(found_key, _)| found_key.eq_ignore_ascii_case(key)) {
            if !value.is_string() && go_json::check(value, &AUTHOR).is_err() {
                return Err(format!("{found_key} is neither a string nor an object of strings"));
            }
        }
    }
    Ok(())
}

/// The licences as Syft reads them (see the module documentation).
fn licenses(package: &Map<String, Value>) -> Vec<String> {
    let single = go_json::field(package, "license");
    let several = go_json::field(package, "licenses");
    if single.is_none() && several.is_none() {
        return Vec::new();
    }
    if let Some(license) = single.and_then(license_value) {
        return vec![license];
    }
    match several {
        Some(Value::Array(items)) if items.iter().all(|item| go_json::check(item, &LICENSE).is_ok()) => {
            items.iter().map(|item| license_type(item).to_owned()).collect()
        }
        _ => Vec::new(),
    }
}

/// A `license` value that decodes as a string (`null` is an empty one) or as a `{type, url}`
/// object.
fn license_value(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some(String::new()),
        Value::String(license) => Some(license.clone()),
        Value::Object(_) if go_json::check(value, &LICENSE).is_ok() => Some(license_type(value).to_owned()),
        _ => None,
    }
}

fn license_type(value: &Value) -> &str {
    value.as_object().map(|object| go_json::text(object, "type")).unwrap_or_default()
}

/// `pkg:npm/%40scope/name@version` for scoped names.
fn npm_purl(name: &str, version: &str) -> String {
    match name.split_once('/') {
        Some((scope, name)) => purl::build("npm", Some(scope), name, Some(version), &[]),
        None => purl::build("npm", None, name, Some(version), &[]),
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
            (r#"{"name":"e","version":"1","license":["MIT","ISC"]}"#, ("e", "1", "pkg:npm/e@1", vec![])),
            (r#"{"Name":"f","VERSION":"2","license":"ISC","licenses":[{"type":"MIT"}]}"#, ("f", "2", "pkg:npm/f@2", vec!["ISC"])),
            (r#"{"name":"g","version":"3","license":null,"licenses":[{"type":"MIT"}]}"#, ("g", "3", "pkg:npm/g@3", vec![])),
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
        let found = packages("{\"name\":\"x\",\"version\":\"1\"}\n{\"name\":\"y\",\"version\":\"2\"}").unwrap();
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn a_value_of_the_wrong_type_fails_the_whole_file() {
        for (content, message) in [
            (r#"{"name":"g","version":"1","author":5}"#, "author is neither a string nor an object of strings"),
            (r#"{"name":"g","version":"1","repository":{"url":1}}"#, "repository is neither a string nor an object of strings"),
            (r#"{"name":"g","version":1}"#, "version is a number where a string belongs"),
            (r#"{"name":"g","dependencies":{"a":["1"]}}"#, "dependencies[\"a\"] is a list where a string belongs"),
            ("[1]", "the document is a list where an object belongs"),
        ] {
            assert_eq!(packages(content), Err(message.to_owned()), "{content}");
        }
        assert_eq!(packages("{\"name\":\"x\",\n\"version\":}"), Err("line 2, column 11: expected value".to_owned()));
    }
}
