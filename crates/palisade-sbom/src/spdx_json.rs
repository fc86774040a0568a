//! SPDX 2.3, JSON encoding (<https://spdx.github.io/spdx-spec/v2.3/>; the JSON schema is the
//! authority where it and the prose differ, as SPDX's maintainers state in spdx/spdx-spec#813).
//!
//! The document DESCRIBES the scanned source, a package whose purpose is CONTAINER (an image,
//! versioned by its manifest digest) or FILE (a directory or file); the source CONTAINS the
//! distribution (purpose OPERATING_SYSTEM) and every package. Packages carry their package URL
//! as a PACKAGE-MANAGER reference, their declared licences as one expression (texts off the
//! SPDX list become `LicenseRef-`s, listed in `hasExtractedLicensingInfos`) and the files that
//! prove them in `sourceInfo`. Files are not analysed, so nothing is concluded.

use std::collections::BTreeMap;
use std::io;

use palisade_pkg::{Distro, Inventory, Package, SourceDescription};
use serde::Serialize;

use crate::identity::{self, UniqueIds};
use crate::license::{self, Term};
use crate::{SbomOptions, source};

const NOASSERTION: &str = "NOASSERTION";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<SpdxPackage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    license_list_version: String,
    creators: Vec<String>,
    created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    download_location: &'static str,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_package_purpose: Option<&'static str>,
}

impl SpdxPackage {
    /// A package with nothing asserted but its name and identifier.
    fn new(name: String, spdx_id: String) -> Self {
        Self {
            name,
            spdx_id,
            version_info: None,
            download_location: NOASSERTION,
            files_analyzed: false,
            checksums: Vec::new(),
            source_info: None,
            license_concluded: NOASSERTION,
            license_declared: NOASSERTION.to_owned(),
            copyright_text: NOASSERTION,
            description: None,
            comment: None,
            external_refs: Vec::new(),
            primary_package_purpose: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

fn purl_ref(purl: &str) -> Vec<ExternalRef> {
    if purl.is_empty() {
        return Vec::new();
    }
    vec![ExternalRef {
        reference_category: "PACKAGE-MANAGER",
        reference_type: "purl",
        reference_locator: purl.to_owned(),
    }]
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    related_spdx_element: String,
    relationship_type: &'static str,
}

pub(crate) fn write(
    inventory: &Inventory,
    options: &SbomOptions,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    crate::write_json(&document(inventory, options), out)
}

fn document(inventory: &Inventory, options: &SbomOptions) -> Document {
    let mut ids = UniqueIds::default();
    ids.claim("SPDXRef-DOCUMENT".to_owned());
    let root = source_package(&inventory.source, &mut ids);
    let mut texts = BTreeMap::new();
    let mut packages: Vec<SpdxPackage> = inventory
        .distro
        .iter()
        .map(|distro| distro_package(distro, &mut ids))
        .collect();
    packages.extend(
        inventory
            .packages
            .iter()
            .map(|package| package_entry(package, &mut ids, &mut texts)),
    );
    let mut relationships = vec![Relationship {
        spdx_element_id: "SPDXRef-DOCUMENT".to_owned(),
        related_spdx_element: root.spdx_id.clone(),
        relationship_type: "DESCRIBES",
    }];
    relationships.extend(packages.iter().map(|package| Relationship {
        spdx_element_id: root.spdx_id.clone(),
        related_spdx_element: package.spdx_id.clone(),
        relationship_type: "CONTAINS",
    }));
    packages.insert(0, root);
    let name = source::name(&inventory.source).to_owned();
    let uuid = identity::document_uuid("spdx-json", inventory, options);
    let slug = identity::restricted(
        &name,
        64,
        |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'),
        "source",
    );
    let issues: Vec<String> = inventory.issues.iter().map(source::issue_text).collect();
    Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name,
        document_namespace: format!("https://palisade.dev/spdxdocs/{slug}-{}", uuid.hyphenated()),
        creation_info: CreationInfo {
            license_list_version: license_list_version(),
            creators: vec![format!(
                "Tool: {}-{}",
                options.tool_name, options.tool_version
            )],
            created: crate::rfc3339(options.timestamp),
            comment: (!issues.is_empty()).then(|| {
                format!(
                    "Files that could not be read; the inventory may miss what they hold:\n{}",
                    issues.join("\n")
                )
            }),
        },
        packages,
        has_extracted_licensing_infos: texts
            .into_iter()
            .map(|(license_id, extracted_text)| ExtractedLicense {
                license_id,
                extracted_text,
            })
            .collect(),
        relationships,
    }
}

/// The SPDX licence list the identifiers come from, as `major.minor` (the `spdx` crate's list).
fn license_list_version() -> String {
    let version = spdx::license_version();
    let mut parts = version.splitn(3, '.');
    match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) => format!("{major}.{minor}"),
        _ => version.to_owned(),
    }
}

/// `SPDXRef-` followed by `parts` joined with `-`, each reduced to the characters an SPDX
/// identifier allows (letters, digits, `.`, `-`) and to its first 64 characters.
fn spdx_ref(parts: &[&str]) -> String {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
    let parts: Vec<String> = parts
        .iter()
        .map(|part| identity::restricted(part, 64, allowed, "x"))
        .collect();
    format!("SPDXRef-{}", parts.join("-"))
}

fn source_package(scanned: &SourceDescription, ids: &mut UniqueIds) -> SpdxPackage {
    let name = source::name(scanned).to_owned();
    let (kind, purpose) = match scanned {
        SourceDescription::Image(_) => ("Image", "CONTAINER"),
        SourceDescription::Directory { .. } => ("Directory", "FILE"),
        SourceDescription::File { .. } => ("File", "FILE"),
    };
    let spdx_id = ids.claim(spdx_ref(&["DocumentRoot", kind, &name]));
    let mut package = SpdxPackage::new(name, spdx_id);
    package.primary_package_purpose = Some(purpose);
    let SourceDescription::Image(image) = scanned else {
        return package;
    };
    package.version_info = Some(image.manifest_digest.clone()).filter(|digest| !digest.is_empty());
    package.checksums = source::digest_parts(&image.manifest_digest)
        .map(|(_, algorithm, hex)| Checksum {
            algorithm,
            checksum_value: hex.to_owned(),
        })
        .into_iter()
        .collect();
    package.external_refs = purl_ref(&source::oci_purl(image).unwrap_or_default());
    let mut lines = vec![format!("config digest (image ID): {}", image.config_digest)];
    lines.extend(
        image
            .repo_digests
            .iter()
            .map(|digest| format!("repository digest: {digest}")),
    );
    lines.extend(image.tags.iter().map(|tag| format!("tag: {tag}")));
    let platform = match &image.variant {
        Some(variant) => format!("{}/{}/{variant}", image.os, image.architecture),
        None => format!("{}/{}", image.os, image.architecture),
    };
    lines.push(format!("platform: {platform}"));
    lines.extend(image.layers.iter().enumerate().map(|(index, layer)| {
        format!(
            "layer {index}: {} (diff ID {}, {}, {} bytes)",
            layer.digest, layer.diff_id, layer.media_type, layer.size
        )
    }));
    package.comment = Some(lines.join("\n"));
    package
}

fn distro_package(distro: &Distro, ids: &mut UniqueIds) -> SpdxPackage {
    let version = distro.version_id.as_deref().unwrap_or_default();
    let mut package = SpdxPackage::new(
        distro.id.clone(),
        ids.claim(spdx_ref(&["OperatingSystem", &distro.id, version])),
    );
    package.version_info = distro.version_id.clone();
    package.description = distro.pretty_name.clone();
    package.source_info = distro
        .location
        .as_ref()
        .map(|location| format!("read from {}", source::location_text(location)));
    // The 2.3 JSON schema spells it with an underscore (the prose with a hyphen).
    package.primary_package_purpose = Some("OPERATING_SYSTEM");
    package
}

fn package_entry(
    package: &Package,
    ids: &mut UniqueIds,
    texts: &mut BTreeMap<String, String>,
) -> SpdxPackage {
    let spdx_id = ids.claim(spdx_ref(&[
        "Package",
        package.kind.as_str(),
        &package.name,
        &identity::package_hash(package),
    ]));
    let mut entry = SpdxPackage::new(package.name.clone(), spdx_id);
    entry.version_info = Some(package.version.clone()).filter(|version| !version.is_empty());
    let evidence: Vec<String> = package
        .locations
        .iter()
        .map(source::location_text)
        .collect();
    entry.source_info = Some(format!(
        "found by {} in {}",
        package.found_by,
        evidence.join(", ")
    ));
    let terms = license::terms(&package.licenses);
    for term in &terms {
        if let Term::Text(text) = term {
            texts
                .entry(license::license_ref(text))
                .or_insert_with(|| text.clone());
        }
    }
    if let Some(expression) = license::conjunction(&terms) {
        entry.license_declared = expression;
    }
    entry.external_refs = purl_ref(&package.purl);
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_use_only_the_allowed_characters() {
        assert_eq!(
            spdx_ref(&["Package", "npm", "@scope/x y", "ab12"]),
            "SPDXRef-Package-npm-scope-x-y-ab12"
        );
        assert_eq!(
            spdx_ref(&["DocumentRoot", "Directory", "/tmp/fx/bookworm"]),
            "SPDXRef-DocumentRoot-Directory-tmp-fx-bookworm"
        );
        assert_eq!(spdx_ref(&["Package", "npm", "ü"]), "SPDXRef-Package-npm-x");
        assert_eq!(
            spdx_ref(&["Package", &"a".repeat(100)]).len(),
            "SPDXRef-Package-".len() + 64
        );
    }

    #[test]
    fn the_licence_list_version_is_major_minor() {
        let version = license_list_version();
        assert_eq!(version.split('.').count(), 2, "{version}");
    }
}
