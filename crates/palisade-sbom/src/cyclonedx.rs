//! CycloneDX 1.6, JSON encoding (<https://cyclonedx.org/docs/1.6/json/>).
//!
//! The scanned source is `metadata.component` (an image as a `container` named by its
//! reference, versioned by its manifest digest; a directory or file as a `file`); the
//! distribution is one `operating-system` component and every package a `library`, each with
//! its package URL, licences, the files that prove it as `evidence.occurrences` and Palisade's
//! facts as `palisade:` properties. The only dependency stated is the source's on each
//! component: the inventory records no edges between packages, so none are invented.

use std::io;

use palisade_pkg::{Distro, Inventory, Location, Package, SourceDescription};
use serde::Serialize;

use crate::identity::{self, UniqueIds};
use crate::license::{self, Term};
use crate::{SbomOptions, source};

#[derive(Serialize)]
struct Bom {
    #[serde(rename = "$schema")]
    schema: &'static str,
    #[serde(rename = "bomFormat")]
    bom_format: &'static str,
    #[serde(rename = "specVersion")]
    spec_version: &'static str,
    #[serde(rename = "serialNumber")]
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    component: Component,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize, Default)]
struct Component {
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<Evidence>,
}

#[derive(Serialize)]
struct Hash {
    alg: &'static str,
    content: String,
}

/// One entry of a component's `licenses`: either SPDX ids and named licences, or exactly one
/// expression, never both (the schema's `oneOf`).
#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice {
    License { license: License },
    Expression { expression: String },
}

#[derive(Serialize, Default)]
struct License {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<Attachment>,
}

#[derive(Serialize)]
struct Attachment {
    #[serde(rename = "contentType")]
    content_type: &'static str,
    content: String,
}

#[derive(Serialize)]
struct Property {
    name: String,
    value: String,
}

fn property(name: impl Into<String>, value: impl Into<String>) -> Property {
    Property {
        name: name.into(),
        value: value.into(),
    }
}

#[derive(Serialize)]
struct Evidence {
    occurrences: Vec<Occurrence>,
}

#[derive(Serialize)]
struct Occurrence {
    location: String,
    #[serde(rename = "additionalContext", skip_serializing_if = "Option::is_none")]
    additional_context: Option<String>,
}

#[derive(Serialize)]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(rename = "dependsOn")]
    depends_on: Vec<String>,
}

pub(crate) fn write(
    inventory: &Inventory,
    options: &SbomOptions,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    crate::write_json(&bom(inventory, options), out)
}

fn bom(inventory: &Inventory, options: &SbomOptions) -> Bom {
    let mut refs = UniqueIds::default();
    let root = source_component(&inventory.source, &mut refs);
    let mut components: Vec<Component> = inventory
        .distro
        .iter()
        .map(|distro| distro_component(distro, &mut refs))
        .collect();
    components.extend(
        inventory
            .packages
            .iter()
            .map(|package| package_component(package, &mut refs)),
    );
    let dependencies = vec![Dependency {
        reference: root.bom_ref.clone().unwrap_or_default(),
        depends_on: components
            .iter()
            .filter_map(|component| component.bom_ref.clone())
            .collect(),
    }];
    let tool = Component {
        kind: "application",
        name: options.tool_name.clone(),
        version: Some(options.tool_version.clone()),
        ..Component::default()
    };
    Bom {
        schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: format!(
            "urn:uuid:{}",
            identity::document_uuid("cyclonedx-json", inventory, options).hyphenated()
        ),
        version: 1,
        metadata: Metadata {
            timestamp: crate::rfc3339(options.timestamp),
            tools: Tools {
                components: vec![tool],
            },
            component: root,
            properties: inventory
                .issues
                .iter()
                .map(|issue| property("palisade:inventory:issue", source::issue_text(issue)))
                .collect(),
        },
        components,
        dependencies,
    }
}

/// The bom-ref the CycloneDX document gives each package of `inventory`, in inventory order:
/// for documents that refer to its components (a vulnerability list, VEX). Claimed in the
/// order [`bom`] claims them, so a repeated purl gets the same `-2` suffix.
pub fn package_bom_refs(inventory: &Inventory) -> Vec<String> {
    let mut refs = UniqueIds::default();
    source_component(&inventory.source, &mut refs);
    if let Some(distro) = &inventory.distro {
        distro_component(distro, &mut refs);
    }
    inventory
        .packages
        .iter()
        .map(|package| refs.claim(package_ref(package)))
        .collect()
}

fn source_component(scanned: &SourceDescription, refs: &mut UniqueIds) -> Component {
    let bom_ref = Some(refs.claim(format!(
        "source:{}",
        identity::short_hash(&[&serde_json::to_string(scanned).unwrap_or_default()])
    )));
    let SourceDescription::Image(image) = scanned else {
        return Component {
            bom_ref,
            kind: "file",
            name: source::name(scanned).to_owned(),
            ..Component::default()
        };
    };
    let mut properties = Vec::new();
    let mut push = |name: &str, value: &str| {
        if !value.is_empty() {
            properties.push(property(format!("palisade:image:{name}"), value));
        }
    };
    push("manifestDigest", &image.manifest_digest);
    push("configDigest", &image.config_digest);
    image
        .repo_digests
        .iter()
        .for_each(|digest| push("repoDigest", digest));
    image.tags.iter().for_each(|tag| push("tag", tag));
    push("os", &image.os);
    push("architecture", &image.architecture);
    push("variant", image.variant.as_deref().unwrap_or_default());
    for (index, layer) in image.layers.iter().enumerate() {
        push(&format!("layer:{index}:digest"), &layer.digest);
        push(&format!("layer:{index}:diffID"), &layer.diff_id);
        push(&format!("layer:{index}:mediaType"), &layer.media_type);
        push(&format!("layer:{index}:size"), &layer.size.to_string());
    }
    Component {
        bom_ref,
        kind: "container",
        name: image.reference.clone(),
        version: Some(image.manifest_digest.clone()).filter(|digest| !digest.is_empty()),
        hashes: source::digest_parts(&image.manifest_digest)
            .map(|(alg, _, hex)| Hash {
                alg,
                content: hex.to_owned(),
            })
            .into_iter()
            .collect(),
        purl: source::oci_purl(image),
        properties,
        ..Component::default()
    }
}

fn distro_component(distro: &Distro, refs: &mut UniqueIds) -> Component {
    let wanted = match &distro.version_id {
        Some(version) => format!("os:{}@{version}", distro.id),
        None => format!("os:{}", distro.id),
    };
    let optional = [
        ("versionID", &distro.version_id),
        ("versionCodename", &distro.version_codename),
        ("prettyName", &distro.pretty_name),
    ];
    let mut properties = vec![property("palisade:distro:id", &distro.id)];
    properties.extend(optional.into_iter().filter_map(|(name, value)| {
        value
            .as_ref()
            .map(|value| property(format!("palisade:distro:{name}"), value))
    }));
    properties.extend(
        distro
            .id_like
            .iter()
            .map(|like| property("palisade:distro:idLike", like)),
    );
    Component {
        bom_ref: Some(refs.claim(wanted)),
        kind: "operating-system",
        name: distro.id.clone(),
        version: distro.version_id.clone(),
        description: distro.pretty_name.clone(),
        properties,
        evidence: evidence(distro.location.as_slice()),
        ..Component::default()
    }
}

fn package_component(package: &Package, refs: &mut UniqueIds) -> Component {
    let mut properties = vec![
        property("palisade:package:type", package.kind.as_str()),
        property("palisade:package:foundBy", &package.found_by),
    ];
    if let Some(arch) = &package.arch {
        properties.push(property("palisade:package:arch", arch));
    }
    if let Some(epoch) = package.epoch {
        properties.push(property("palisade:package:epoch", epoch.to_string()));
    }
    if let Some(source_package) = &package.source {
        properties.push(property(
            "palisade:package:sourceName",
            &source_package.name,
        ));
        if let Some(version) = &source_package.version {
            properties.push(property("palisade:package:sourceVersion", version));
        }
    }
    for (index, location) in package.locations.iter().enumerate() {
        properties.push(property(
            format!("palisade:location:{index}:path"),
            &location.path,
        ));
        if let Some(layer) = &location.layer {
            properties.push(property(format!("palisade:location:{index}:layer"), layer));
        }
    }
    Component {
        bom_ref: Some(refs.claim(package_ref(package))),
        kind: "library",
        group: package.namespace.clone(),
        name: package.name.clone(),
        version: Some(package.version.clone()).filter(|version| !version.is_empty()),
        licenses: licenses(&package.licenses),
        purl: Some(package.purl.clone()).filter(|purl| !purl.is_empty()),
        properties,
        evidence: evidence(&package.locations),
        ..Component::default()
    }
}

/// Syft's convention: the purl with a `package-id` qualifier telling apart packages that share
/// it (here a hash of the package's identity and evidence, so it is stable across runs).
fn package_ref(package: &Package) -> String {
    let id = identity::package_hash(package);
    if package.purl.is_empty() {
        return format!("package:{}:{id}", package.kind);
    }
    let (base, subpath) = package
        .purl
        .split_once('#')
        .map_or((package.purl.as_str(), None), |(base, subpath)| {
            (base, Some(subpath))
        });
    let separator = if base.contains('?') { '&' } else { '?' };
    match subpath {
        Some(subpath) => format!("{base}{separator}package-id={id}#{subpath}"),
        None => format!("{base}{separator}package-id={id}"),
    }
}

fn evidence(locations: &[Location]) -> Option<Evidence> {
    let occurrences: Vec<Occurrence> = locations
        .iter()
        .map(|location| Occurrence {
            location: location.path.clone(),
            additional_context: location
                .layer
                .as_ref()
                .map(|layer| format!("layer {layer}")),
        })
        .collect();
    (!occurrences.is_empty()).then_some(Evidence { occurrences })
}

/// SPDX ids as `license.id` and other texts as `license.name`; when one of them is a compound
/// expression, CycloneDX allows nothing beside it, so they all become one `AND` expression
/// (texts as `LicenseRef-`s, as in the SPDX document).
fn licenses(declared: &[String]) -> Vec<LicenseChoice> {
    let terms = license::terms(declared);
    let mut listed = Vec::with_capacity(terms.len());
    for term in &terms {
        let license = match term {
            Term::Id(id) => License {
                id: Some(id.clone()),
                ..License::default()
            },
            Term::Text(text) => named(text.clone()),
            Term::Expression(_) => {
                return license::conjunction(&terms)
                    .map(|expression| LicenseChoice::Expression { expression })
                    .into_iter()
                    .collect();
            }
        };
        listed.push(LicenseChoice::License { license });
    }
    listed
}

/// A licence known by its text: short texts are the name; a whole licence text (Python's
/// `License:` field often holds one) is attached, named by its first line.
fn named(text: String) -> License {
    const NAME_CHARS: usize = 100;
    if !text.contains('\n') && text.chars().count() <= NAME_CHARS {
        return License {
            name: Some(text),
            ..License::default()
        };
    }
    let first_line = text.lines().next().unwrap_or_default().trim();
    let mut name: String = first_line.chars().take(NAME_CHARS).collect();
    if name.len() < first_line.len() || text.contains('\n') {
        name.push('…');
    }
    License {
        name: Some(name),
        text: Some(Attachment {
            content_type: "text/plain",
            content: text,
        }),
        ..License::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn licences(declared: &[&str]) -> serde_json::Value {
        serde_json::to_value(licenses(
            &declared
                .iter()
                .map(|text| text.to_string())
                .collect::<Vec<_>>(),
        ))
        .unwrap()
    }

    #[test]
    fn ids_and_names_are_listed_and_expressions_stand_alone() {
        assert_eq!(
            licences(&["GPL-2+", "Expat"]),
            serde_json::json!([{"license": {"id": "GPL-2.0-or-later"}}, {"license": {"name": "Expat"}}])
        );
        assert_eq!(
            licences(&["MIT OR Apache-2.0"]),
            serde_json::json!([{"expression": "MIT OR Apache-2.0"}])
        );
        assert_eq!(
            licences(&["MIT OR Apache-2.0", "Zlib", "GPL"]),
            serde_json::json!([{"expression": "(MIT OR Apache-2.0) AND Zlib AND LicenseRef-GPL"}])
        );
        assert_eq!(licences(&[]), serde_json::json!([]));
    }

    #[test]
    fn whole_licence_texts_are_attached() {
        let text = "Copyright (c) 2024 Someone\n\nPermission is hereby granted, free of charge…";
        let value = licences(&[text]);
        assert_eq!(value[0]["license"]["name"], "Copyright (c) 2024 Someone…");
        assert_eq!(value[0]["license"]["text"]["content"], text);
        let long = "x".repeat(150);
        assert_eq!(
            licences(&[&long])[0]["license"]["name"]
                .as_str()
                .unwrap()
                .chars()
                .count(),
            101
        );
    }

    #[test]
    fn package_bom_refs_are_the_written_ones() {
        let package = Package {
            locations: vec![Location::new("/a/package.json")],
            ..Package::new(palisade_pkg::PackageType::Npm, "x", "1", "pkg:npm/x@1")
        };
        // The same package twice: the second gets a suffix.
        let inventory = Inventory {
            source: SourceDescription::Directory { path: "/p".into() },
            distro: Some(Distro { id: "debian".into(), ..Distro::default() }),
            packages: vec![package.clone(), package],
            issues: Vec::new(),
        };
        let options = SbomOptions::new("palisade", "0", time::OffsetDateTime::UNIX_EPOCH);
        let written: Vec<String> = bom(&inventory, &options).components[1..]
            .iter()
            .filter_map(|component| component.bom_ref.clone())
            .collect();
        assert_eq!(package_bom_refs(&inventory), written);
        assert!(written[1].ends_with("-2"), "{written:?}");
    }

    #[test]
    fn package_refs_keep_the_purl_readable() {
        let mut package = Package {
            locations: vec![Location::new("/a/package.json")],
            ..Package::new(palisade_pkg::PackageType::Npm, "x", "1", "pkg:npm/x@1")
        };
        let plain = package_ref(&package);
        assert!(plain.starts_with("pkg:npm/x@1?package-id="), "{plain}");
        package.purl = "pkg:golang/x@1?type=module#sub/dir".into();
        let with_subpath = package_ref(&package);
        assert!(
            with_subpath.starts_with("pkg:golang/x@1?type=module&package-id=")
                && with_subpath.ends_with("#sub/dir"),
            "{with_subpath}"
        );
        package.purl.clear();
        assert!(package_ref(&package).starts_with("package:npm:"));
    }
}
