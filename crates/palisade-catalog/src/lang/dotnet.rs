//! `dotnet-deps-cataloger`: the `*.deps.json` file `dotnet publish` writes beside an
//! application, whose `libraries` are keyed `Name/Version`.
//!
//! As Syft 1.18.1 reads it: every library is a package (projects and references as well as NuGet
//! packages), the application itself included, with a `pkg:nuget` purl; a file whose own project
//! (the library named as the file, `app.deps.json` → `app`) is not among the libraries is an
//! error. Syft runs it on directories only, not on images. Unlike Syft, fields of unexpected types
//! elsewhere in the file (see [`json_fields`](super::json_fields)) do not hide its libraries.

use palisade_pkg::{purl, PackageType};
use serde_json::Value;

use super::{file_name, json_error, json_fields, Found, DIRECTORY, METADATA_LIMIT};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads `*.deps.json`.
pub(crate) struct DotnetDeps;

const NAME: &str = "dotnet-deps-cataloger";

impl Cataloger for DotnetDeps {
    fn name(&self) -> &'static str {
        NAME
    }

    fn scopes(&self) -> &'static [Scope] {
        DIRECTORY
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        file_name(path).ends_with(".deps.json").then_some(Want::Content { limit: METADATA_LIMIT })
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        // Syft decodes the first JSON document and ignores anything after it.
        let document = serde_json::Deserializer::from_slice(content).into_iter::<Value>().next().unwrap_or(Ok(Value::Null));
        let document = document.map_err(|error| json_error(&error))?;
        let libraries = document.as_object().and_then(|object| json_fields::object(object, "libraries"));
        let mut keys: Vec<(&str, &str, &Value)> = Vec::new();
        for (key, library) in libraries.into_iter().flatten() {
            let Some((name, version)) = key.split_once('/') else {
                return Err(format!("libraries: key {key:?} is not Name/Version"));
            };
            // Go's strings.Split keeps only the second field as the version.
            let version = version.split('/').next().unwrap_or_default();
            keys.push((name, version, library));
        }
        let project = file_name(path).strip_suffix(".deps.json").unwrap_or_default();
        let is_project = |library: &Value| library.as_object().is_some_and(|library| json_fields::text(library, "type") == "project");
        let Some(&(root_name, root_version, _)) = keys.iter().find(|(name, _, library)| *name == project && is_project(library)) else {
            return Err(format!("no project library named {project:?}: the application is unknown"));
        };
        keys.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let mut found = Found::new(path, NAME);
        found.add(PackageType::Dotnet, root_name, root_version, nuget_purl(root_name, root_version), Vec::new());
        for (name, version, _) in keys {
            if (name, version) != (root_name, root_version) {
                found.add(PackageType::Dotnet, name, version, nuget_purl(name, version), Vec::new());
            }
        }
        Ok(found.into_facts())
    }
}

fn nuget_purl(name: &str, version: &str) -> String {
    purl::build("nuget", None, name, Some(version), &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packages(path: &str, content: &str) -> Result<Vec<(String, String, String)>, String> {
        let facts = DotnetDeps.parse(path, content.as_bytes())?;
        Ok(facts
            .into_iter()
            .map(|fact| match fact {
                Fact::Package(package) => (package.name, package.version, package.purl),
                other => panic!("unexpected fact {other:?}"),
            })
            .collect())
    }

    const DEPS: &str = r#"{
      "runtimeTarget": {"name": ".NETCoreApp,Version=v8.0", "signature": ""},
      "targets": {".NETCoreApp,Version=v8.0": {"shop/1.0.0": {"dependencies": {"Newtonsoft.Json": "13.0.3"}, "runtime": {"shop.dll": {}}},
                                               "Newtonsoft.Json/13.0.3": {"runtime": {"lib/net6.0/Newtonsoft.Json.dll": {"assemblyVersion": "13.0.0.0"}}}}},
      "libraries": {
        "shop/1.0.0": {"type": "project", "serviceable": false, "sha512": ""},
        "Newtonsoft.Json/13.0.3": {"type": "package", "serviceable": true, "sha512": "sha512-x", "path": "newtonsoft.json/13.0.3", "hashPath": "newtonsoft.json.13.0.3.nupkg.sha512"},
        "Shop.Core/1.0.0": {"type": "project"}
      }
    }"#;

    // Expected values are Syft 1.18.1's for the same file (tests/fixtures/lang/dotnet).
    #[test]
    fn every_library_with_the_application_first() {
        let found = packages("/app/shop.deps.json", DEPS).unwrap();
        let names: Vec<&str> = found.iter().map(|(name, ..)| name.as_str()).collect();
        assert_eq!(names, ["shop", "Newtonsoft.Json", "Shop.Core"]);
        assert_eq!(found[1].2, "pkg:nuget/Newtonsoft.Json@13.0.3");
    }

    #[test]
    fn without_its_project_the_file_is_an_error() {
        assert_eq!(packages("/app/other.deps.json", DEPS), Err("no project library named \"other\": the application is unknown".into()));
        assert_eq!(packages("/app/x.deps.json", r#"{"libraries": {"x": {"type": "project"}}}"#), Err("libraries: key \"x\" is not Name/Version".into()));
        assert_eq!(packages("/app/x.deps.json", r#"{"libraries": {"x/1": {"type": 1}}}"#), Err("no project library named \"x\": the application is unknown".into()));
        let odd = r#"{"targets": [], "libraries": {"x/1": {"type": "project", "sha512": 5}, "y/2": 7}}"#;
        assert_eq!(packages("/app/x.deps.json", odd).map(|found| found.len()), Ok(2));
    }
}
