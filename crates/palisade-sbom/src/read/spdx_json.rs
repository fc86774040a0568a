//! SPDX 2.x, JSON encoding (2.2 and 2.3: <https://spdx.github.io/spdx-spec/v2.3/>): every
//! package, its purl from a `purl` external reference.

use serde::Deserialize;

use super::spdx_tag_value::{described_subjects, Subject};
use super::{Document, Problem};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxDocument {
    spdx_version: String,
    #[serde(default)]
    packages: Vec<Package>,
    #[serde(default)]
    relationships: Vec<Relationship>,
    #[serde(default)]
    document_describes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    #[serde(default)]
    name: String,
    #[serde(rename = "SPDXID", default)]
    spdx_id: String,
    #[serde(default)]
    version_info: Option<String>,
    #[serde(default)]
    external_refs: Vec<ExternalRef>,
    #[serde(default)]
    license_declared: Option<String>,
    #[serde(default)]
    primary_package_purpose: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    #[serde(default)]
    reference_type: String,
    #[serde(default)]
    reference_locator: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    #[serde(default)]
    spdx_element_id: String,
    #[serde(default)]
    related_spdx_element: String,
    #[serde(default)]
    relationship_type: String,
}

pub(crate) fn read(text: &str) -> Result<Document, Problem> {
    let document: SpdxDocument = serde_json::from_str(text).map_err(|error| Problem::json(&error))?;
    check_version(&document.spdx_version)?;
    let relationships = document.relationships.iter().map(|relationship| {
        (relationship.spdx_element_id.as_str(), relationship.relationship_type.as_str(), relationship.related_spdx_element.as_str())
    });
    let mut subjects = described_subjects(relationships);
    subjects.extend(document.document_describes.iter().cloned());
    let mut read = Document { format: document.spdx_version.clone(), ..Document::default() };
    for package in document.packages {
        let purl = package
            .external_refs
            .into_iter()
            .find(|reference| reference.reference_type.eq_ignore_ascii_case("purl") || reference.reference_type == "http://spdx.org/rdf/references/purl")
            .map(|reference| reference.reference_locator);
        let subject = Subject {
            name: package.name,
            version: package.version_info.unwrap_or_default(),
            purl,
            license_declared: package.license_declared,
            purpose: package.primary_package_purpose,
            described: subjects.contains(&package.spdx_id),
        };
        subject.add_to(&mut read);
    }
    Ok(read)
}

/// SPDX 2.x (`SPDX-2.2`, `SPDX-2.3`; 2.1 has the same package fields).
pub(crate) fn check_version(version: &str) -> Result<(), Problem> {
    match version.strip_prefix("SPDX-2.") {
        Some(minor) if minor.parse::<u32>().is_ok() => Ok(()),
        _ => Err(Problem::new(format!("spdxVersion `{version}` is not read (SPDX-2.2 and SPDX-2.3 are)"))),
    }
}
