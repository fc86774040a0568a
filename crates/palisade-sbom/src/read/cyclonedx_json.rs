//! CycloneDX, JSON encoding (1.2 and later: <https://cyclonedx.org/docs/1.6/json/>): the
//! top-level `components` and the components nested in them.

use serde::Deserialize;

use super::{Document, Entry, Problem};

#[derive(Deserialize)]
struct Bom {
    #[serde(rename = "specVersion")]
    spec_version: String,
    #[serde(default)]
    components: Vec<Component>,
}

#[derive(Deserialize)]
pub(crate) struct Component {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    licenses: Vec<LicenseChoice>,
    #[serde(default)]
    components: Vec<Component>,
}

/// `{"license": {"id"|"name": …}}` or `{"expression": …}`.
#[derive(Deserialize)]
struct LicenseChoice {
    license: Option<License>,
    expression: Option<String>,
}

#[derive(Deserialize)]
struct License {
    id: Option<String>,
    name: Option<String>,
}

pub(crate) fn read(text: &str) -> Result<Document, Problem> {
    let bom: Bom = serde_json::from_str(text).map_err(|error| Problem::json(&error))?;
    check_spec_version(&bom.spec_version)?;
    let mut document = Document { format: format!("CycloneDX {}", bom.spec_version), ..Document::default() };
    let mut pending: Vec<Component> = bom.components;
    while let Some(component) = pending.pop() {
        let Component { kind, name, version, purl, licenses, components } = component;
        pending.extend(components);
        let licenses = licenses
            .into_iter()
            .filter_map(|choice| choice.expression.or_else(|| choice.license.and_then(|license| license.id.or(license.name))))
            .collect();
        add(&mut document, &kind, Entry { name, version: version.unwrap_or_default(), purl, licenses });
    }
    Ok(document)
}

/// CycloneDX 1.x; JSON exists from 1.2 on, and later minor versions keep `components` as it is.
pub(crate) fn check_spec_version(version: &str) -> Result<(), Problem> {
    let minor = version.strip_prefix("1.").and_then(|minor| minor.parse::<u32>().ok());
    match minor {
        Some(_) => Ok(()),
        None => Err(Problem::new(format!("CycloneDX specVersion `{version}` is not read (1.x is)"))),
    }
}

/// An operating-system component describes the distribution; any other is a package candidate.
pub(crate) fn add(document: &mut Document, kind: &str, entry: Entry) {
    if kind == "operating-system" && entry.purl.is_none() {
        document.operating_systems.push((entry.name, Some(entry.version).filter(|version| !version.is_empty())));
    } else {
        document.entries.push(entry);
    }
}
