//! `java-pom-cataloger`: the project a Maven `pom.xml` describes and the dependencies it
//! declares (`<dependencies>`, also those of `<profiles>`), with their versions as written or
//! resolved within the same file: `${property}` from `<properties>`, `${project.version}` and
//! friends (falling back to `<parent>` for the group and version, as Maven inherits them), and
//! `<dependencyManagement>` for dependencies without a version. A version that cannot be
//! resolved from the file alone (a parent pom's property or managed version) is left empty, as
//! Syft leaves it without network access.
//!
//! Syft also resolves a parent that is another pom of the scanned directory (found by its
//! coordinates or `<relativePath>`), and takes properties and managed versions from it; this
//! reader sees one file at a time and leaves those versions empty (a gap, checked in the
//! `maven-modules` fixture). Syft loses `${project.groupId}` when the group is inherited from
//! `<parent>` (its resolver looks the property up under the wrong name), which Maven resolves to
//! the parent's group, as here.

use std::collections::HashMap;

use palisade_pkg::PackageType;
use quick_xml::events::Event;
use quick_xml::Reader;

use super::{file_name, line_and_column, maven_purl, Found, MAX_DEPTH, SCOPES, WANT};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads `pom.xml`.
pub(crate) struct PomXml;

const NAME: &str = "java-pom-cataloger";

/// How many `${…}` references one value may expand through before it is left unresolved.
const MAX_EXPANSIONS: usize = 64;

impl Cataloger for PomXml {
    fn name(&self) -> &'static str {
        NAME
    }

    fn scopes(&self) -> &'static [Scope] {
        SCOPES
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        (file_name(path) == "pom.xml").then_some(WANT)
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        // Poms in other encodings are ISO-8859-1 at worst; the coordinates are ASCII either way.
        let text = String::from_utf8_lossy(content);
        let pom = Pom::read(&text)?;
        let mut found = Found::new(path, NAME, PackageType::JavaArchive);
        let project = pom.project_coordinates();
        found.add(&project.artifact, &project.version, maven_purl(&project.group, &project.artifact, &project.version), pom.licenses.clone());
        for dependency in &pom.dependencies {
            let group = pom.resolve(&dependency.group);
            let artifact = pom.resolve(&dependency.artifact);
            let mut version = pom.resolve(&dependency.version);
            if version.is_empty() {
                version = pom.managed_version(&group, &artifact);
            }
            found.add(&artifact, &version, maven_purl(&group, &artifact, &version), Vec::new());
        }
        Ok(found.into_facts())
    }
}

/// Maven coordinates as written (`${…}` not yet resolved).
#[derive(Clone, Default)]
struct Coordinates {
    group: String,
    artifact: String,
    version: String,
}

#[derive(Default)]
struct Pom {
    project: Coordinates,
    parent: Coordinates,
    name: String,
    packaging: String,
    properties: HashMap<String, String>,
    dependencies: Vec<Coordinates>,
    managed: Vec<Coordinates>,
    licenses: Vec<String>,
}

impl Pom {
    fn read(text: &str) -> Result<Self, String> {
        let mut reader = Reader::from_str(text);
        let mut pom = Pom::default();
        let mut path: Vec<String> = Vec::new();
        let mut value = String::new();
        let mut dependency = Coordinates::default();
        let position = |offset: u64| {
            let (line, column) = line_and_column(text, usize::try_from(offset).unwrap_or(usize::MAX));
            format!("line {line}, column {column}")
        };
        loop {
            let event = reader.read_event().map_err(|error| format!("{}: {error}", position(reader.error_position())))?;
            match event {
                Event::Start(start) => {
                    if path.len() >= MAX_DEPTH {
                        return Err(format!("{}: elements nested deeper than {MAX_DEPTH} levels", position(reader.buffer_position())));
                    }
                    path.push(String::from_utf8_lossy(start.local_name().as_ref()).into_owned());
                    value.clear();
                }
                Event::Empty(_) => {}
                Event::Text(text) => value.push_str(&text.xml10_content().map_err(|error| format!("{}: {error}", position(reader.buffer_position())))?),
                Event::CData(data) => value.push_str(&String::from_utf8_lossy(&data)),
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(character)) => Some(character.to_string()),
                        _ => reference.decode().ok().and_then(|name| quick_xml::escape::resolve_predefined_entity(&name)).map(str::to_owned),
                    };
                    value.push_str(resolved.as_deref().unwrap_or_default());
                }
                Event::End(_) => {
                    let segments: Vec<&str> = path.iter().map(String::as_str).collect();
                    pom.element_ended(&segments, value.trim(), &mut dependency);
                    path.pop();
                    value.clear();
                }
                Event::Eof => break,
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
        if pom.project.artifact.is_empty() && pom.dependencies.is_empty() {
            return Err("no <project> with an <artifactId> or <dependencies>: not a Maven pom".to_owned());
        }
        Ok(pom)
    }

    fn element_ended(&mut self, path: &[&str], value: &str, dependency: &mut Coordinates) {
        let Some((&"project", inside)) = path.split_first() else { return };
        let set = |coordinates: &mut Coordinates, field: &str| match field {
            "groupId" => coordinates.group = value.to_owned(),
            "artifactId" => coordinates.artifact = value.to_owned(),
            "version" => coordinates.version = value.to_owned(),
            _ => {}
        };
        match inside {
            ["name"] => self.name = value.to_owned(),
            ["packaging"] => self.packaging = value.to_owned(),
            [field] => set(&mut self.project, field),
            ["parent", field] => set(&mut self.parent, field),
            ["properties", property] => {
                self.properties.insert((*property).to_owned(), value.to_owned());
            }
            ["licenses", "license", "name"] if !value.is_empty() => self.licenses.push(value.to_owned()),
            [list @ .., "dependencies", "dependency", field] if dependency_list(list).is_some() => set(dependency, field),
            [list @ .., "dependencies", "dependency"] => match dependency_list(list) {
                Some(List::Declared) => self.dependencies.push(std::mem::take(dependency)),
                Some(List::Managed) => self.managed.push(std::mem::take(dependency)),
                None => {}
            },
            _ => {}
        }
    }

    /// The project's own coordinates, resolved, with the group and version inherited from the
    /// parent when the project does not write them.
    fn project_coordinates(&self) -> Coordinates {
        let inherit = |own: &str, parent: &str| if own.is_empty() { self.resolve(parent) } else { self.resolve(own) };
        Coordinates {
            group: inherit(&self.project.group, &self.parent.group),
            artifact: self.resolve(&self.project.artifact),
            version: inherit(&self.project.version, &self.parent.version),
        }
    }

    /// The version `<dependencyManagement>` gives a dependency declared without one.
    fn managed_version(&self, group: &str, artifact: &str) -> String {
        self.managed
            .iter()
            .filter(|managed| self.resolve(&managed.group) == group && self.resolve(&managed.artifact) == artifact)
            .map(|managed| self.resolve(&managed.version))
            .find(|version| !version.is_empty())
            .unwrap_or_default()
    }

    /// `value` with every `${…}` resolved; empty when one cannot be.
    fn resolve(&self, value: &str) -> String {
        let mut budget = MAX_EXPANSIONS;
        self.expand(value, &mut Vec::new(), &mut budget).unwrap_or_default()
    }

    fn expand(&self, value: &str, resolving: &mut Vec<String>, budget: &mut usize) -> Option<String> {
        let mut expanded = String::new();
        let mut rest = value;
        while let Some(start) = rest.find("${") {
            let end = rest[start..].find('}')? + start;
            expanded.push_str(&rest[..start]);
            let property = rest[start + 2..end].trim();
            if resolving.iter().any(|seen| seen == property) || *budget == 0 {
                return None;
            }
            *budget -= 1;
            resolving.push(property.to_owned());
            let raw = self.property(property)?;
            expanded.push_str(&self.expand(&raw, resolving, budget)?);
            resolving.pop();
            rest = &rest[end + 1..];
        }
        expanded.push_str(rest);
        Some(expanded)
    }

    /// The unexpanded value of a property: the project model's (`project.version`) first, then
    /// `<properties>`.
    fn property(&self, property: &str) -> Option<String> {
        let or_parent = |own: &str, parent: &str| if own.is_empty() { parent.to_owned() } else { own.to_owned() };
        let from_model = match property {
            "project.groupId" => or_parent(&self.project.group, &self.parent.group),
            "project.artifactId" => self.project.artifact.clone(),
            "project.version" => or_parent(&self.project.version, &self.parent.version),
            "project.name" => self.name.clone(),
            "project.packaging" => self.packaging.clone(),
            "project.parent.groupId" => self.parent.group.clone(),
            "project.parent.artifactId" => self.parent.artifact.clone(),
            "project.parent.version" => self.parent.version.clone(),
            _ => String::new(),
        };
        if from_model.is_empty() { self.properties.get(property).cloned() } else { Some(from_model) }
    }
}

enum List {
    Declared,
    Managed,
}

/// Which list a `<dependencies>` under `path` (below `<project>`) is.
fn dependency_list(path: &[&str]) -> Option<List> {
    match path {
        [] | ["profiles", "profile"] => Some(List::Declared),
        ["dependencyManagement"] | ["profiles", "profile", "dependencyManagement"] => Some(List::Managed),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfiles::identities;

    fn packages(pom: &str) -> Result<Vec<(String, String, String)>, String> {
        Ok(identities(PomXml.parse("/app/pom.xml", pom.as_bytes())?))
    }

    fn package(name: &str, version: &str, purl: &str) -> (String, String, String) {
        (name.into(), version.into(), purl.into())
    }

    #[test]
    fn properties_project_fields_and_managed_versions_are_resolved() {
        let pom = r#"<project><parent><groupId>org.p</groupId><artifactId>parent</artifactId><version>7</version></parent>
            <artifactId>app</artifactId>
            <properties><a>${b}.1</a><b>2</b><loop>${loop}</loop></properties>
            <dependencyManagement><dependencies><dependency><groupId>org.m</groupId><artifactId>managed</artifactId><version>${a}</version></dependency></dependencies></dependencyManagement>
            <dependencies>
              <dependency><groupId>${project.groupId}</groupId><artifactId>sibling</artifactId><version>${project.version}</version></dependency>
              <dependency><groupId>org.m</groupId><artifactId>managed</artifactId></dependency>
              <dependency><groupId>org.c</groupId><artifactId>cycle</artifactId><version>${loop}</version></dependency>
              <dependency><groupId>org.u</groupId><artifactId>unknown</artifactId><version>${nowhere}</version></dependency>
            </dependencies></project>"#;
        assert_eq!(
            packages(pom).unwrap(),
            [
                package("app", "7", "pkg:maven/org.p/app@7"),
                package("cycle", "", "pkg:maven/org.c/cycle"),
                package("managed", "2.1", "pkg:maven/org.m/managed@2.1"),
                package("sibling", "7", "pkg:maven/org.p/sibling@7"),
                package("unknown", "", "pkg:maven/org.u/unknown"),
            ]
        );
    }

    #[test]
    fn entities_cdata_and_licences() {
        let pom = "<project><groupId>a&amp;b</groupId><artifactId><![CDATA[x]]></artifactId><version>&#49;.0</version><licenses><license><name>MIT</name></license></licenses></project>";
        let facts = PomXml.parse("/app/pom.xml", pom.as_bytes()).unwrap();
        let [Fact::Package(package)] = facts.as_slice() else { panic!("one package: {facts:?}") };
        assert_eq!((package.name.as_str(), package.version.as_str(), package.purl.as_str()), ("x", "1.0", "pkg:maven/a&b/x@1.0"));
        assert_eq!(package.licenses, ["MIT"]);
    }

    #[test]
    fn malformed_and_hostile_poms_are_named_errors() {
        assert_eq!(packages("<project>\n<artifactId>a</groupId>\n</project>").unwrap_err().split(':').next(), Some("line 2, column 14"));
        assert_eq!(packages("<settings><x/></settings>").unwrap_err(), "no <project> with an <artifactId> or <dependencies>: not a Maven pom");
        let deep = format!("<project>{}", "<a>".repeat(1_000));
        assert!(packages(&deep).unwrap_err().contains("nested deeper than 64 levels"));
        let expansion = format!("<project><artifactId>a</artifactId><version>${{p0}}</version><properties>{}</properties></project>", (0..100).map(|n| format!("<p{n}>${{p{}}}${{p{}}}</p{n}>", n + 1, n + 1)).collect::<String>());
        assert_eq!(packages(&expansion).unwrap(), [package("a", "", "pkg:maven/a/a")]);
    }
}
