//! VEX documents as input: statements that a vulnerability does not affect a product, which
//! suppress matches.
//!
//! Read: OpenVEX JSON (`statements[]`, status `not_affected` or `fixed`) and CycloneDX VEX JSON
//! (`vulnerabilities[]` with `analysis.state` `not_affected`, `false_positive` or `resolved`).
//! Other statuses (`affected`, `under_investigation`, `exploitable`, `in_triage`) suppress
//! nothing and are not kept.
//!
//! A statement applies to a match when one of its ids (the vulnerability's name and its
//! aliases) is one of the match's ids (its preferred id and aliases), and one of its products
//! is the package: purls compared on type, namespace and name, on the version only when the
//! statement gives one, and on the qualifiers the statement gives (osv-scanner's and Trivy's
//! reading). OpenVEX products with `subcomponents` name the packages there (the product is the
//! image that contains them); CycloneDX `affects[].ref` is a purl, a BOM-link
//! (`urn:cdx:…#<bom-ref>`) or a bom-ref of a component in the same document, whose purl is
//! used. The `package-id` qualifier Palisade and Syft put in bom-refs is not compared. A
//! statement without products applies to every package.

use packageurl::PackageUrl;

/// One statement that suppresses matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VexStatement {
    /// The vulnerability id and its aliases.
    pub ids: Vec<String>,
    /// Package URLs the statement is about; empty: every package.
    pub products: Vec<String>,
    /// As the document writes it: `not_affected`, `fixed`, `false_positive`, `resolved`.
    pub status: String,
    /// The justification as written (`vulnerable_code_not_in_execute_path`, `code_not_reachable`).
    pub justification: Option<String>,
    /// The statement's explanation: OpenVEX `impact_statement`/`status_notes`, CycloneDX `detail`.
    pub detail: Option<String>,
    /// The document it came from.
    pub document: String,
}

/// Reads the suppressing statements of an OpenVEX or CycloneDX VEX JSON document; `name`
/// names the document in errors and in the statements.
pub fn read_vex(name: &str, bytes: &[u8]) -> Result<Vec<VexStatement>, String> {
    let document: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| format!("{name}:{}:{}: {error}", error.line(), error.column()))?;
    if document.get("statements").is_some() {
        openvex(name, &document)
    } else if document.get("bomFormat").and_then(|format| format.as_str()) == Some("CycloneDX") {
        Ok(cyclonedx(name, &document))
    } else {
        Err(format!("{name}: neither an OpenVEX document (`statements`) nor a CycloneDX document (`bomFormat`)"))
    }
}

fn texts(value: Option<&serde_json::Value>) -> impl Iterator<Item = String> + '_ {
    value.and_then(|value| value.as_array()).into_iter().flatten().filter_map(|item| item.as_str().map(str::to_owned))
}

fn text(value: &serde_json::Value, key: &str) -> Option<String> {
    value.get(key)?.as_str().filter(|text| !text.is_empty()).map(str::to_owned)
}

fn openvex(name: &str, document: &serde_json::Value) -> Result<Vec<VexStatement>, String> {
    let statements = document["statements"].as_array().ok_or_else(|| format!("{name}: `statements` is not a list"))?;
    let mut kept = Vec::new();
    for (index, statement) in statements.iter().enumerate() {
        let status = text(statement, "status").ok_or_else(|| format!("{name}: statement {index} has no `status`"))?;
        if status != "not_affected" && status != "fixed" {
            continue;
        }
        // OpenVEX 0.2: `vulnerability: {name, aliases}`; 0.0.x: the id as a string.
        let vulnerability = &statement["vulnerability"];
        let mut ids: Vec<String> = vulnerability.as_str().map(str::to_owned).into_iter().chain(text(vulnerability, "name")).chain(text(vulnerability, "@id")).collect();
        ids.extend(texts(vulnerability.get("aliases")));
        if ids.is_empty() {
            return Err(format!("{name}: statement {index} names no vulnerability"));
        }
        let mut products = Vec::new();
        for product in statement["products"].as_array().into_iter().flatten() {
            let subcomponents: Vec<String> = product["subcomponents"].as_array().into_iter().flatten().filter_map(openvex_purl).collect();
            if subcomponents.is_empty() {
                products.extend(openvex_purl(product));
            } else {
                products.extend(subcomponents);
            }
        }
        let detail = text(statement, "impact_statement").or_else(|| text(statement, "status_notes"));
        kept.push(VexStatement { ids, products, status, justification: text(statement, "justification"), detail, document: name.to_owned() });
    }
    Ok(kept)
}

/// A product's purl: the string itself (OpenVEX 0.0.x), `identifiers.purl`, or an `@id` that
/// is a purl.
fn openvex_purl(product: &serde_json::Value) -> Option<String> {
    if let Some(text) = product.as_str() {
        return Some(text.to_owned());
    }
    product.get("identifiers").and_then(|identifiers| text(identifiers, "purl")).or_else(|| text(product, "@id").filter(|id| id.starts_with("pkg:")))
}

fn cyclonedx(name: &str, document: &serde_json::Value) -> Vec<VexStatement> {
    let components = bom_purls(document);
    let mut kept = Vec::new();
    for vulnerability in document["vulnerabilities"].as_array().into_iter().flatten() {
        let analysis = &vulnerability["analysis"];
        let Some(state) = text(analysis, "state").filter(|state| matches!(state.as_str(), "not_affected" | "false_positive" | "resolved")) else { continue };
        let mut ids: Vec<String> = text(vulnerability, "id").into_iter().collect();
        ids.extend(vulnerability["references"].as_array().into_iter().flatten().filter_map(|reference| text(reference, "id")));
        if ids.is_empty() {
            continue;
        }
        let products = vulnerability["affects"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|affects| text(affects, "ref"))
            .filter_map(|reference| {
                let reference = reference.rsplit_once('#').filter(|_| reference.starts_with("urn:cdx:")).map_or(reference.as_str(), |(_, bom_ref)| bom_ref);
                components.iter().find(|(bom_ref, _)| bom_ref == reference).map(|(_, purl)| purl.clone()).or_else(|| reference.starts_with("pkg:").then(|| reference.to_owned()))
            })
            .collect();
        kept.push(VexStatement { ids, products, status: state, justification: text(analysis, "justification"), detail: text(analysis, "detail"), document: name.to_owned() });
    }
    kept
}

/// (bom-ref, purl) of every component of a CycloneDX document, nested ones included.
fn bom_purls(document: &serde_json::Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut pending: Vec<&serde_json::Value> = document["components"].as_array().into_iter().flatten().collect();
    pending.extend(document["metadata"].get("component"));
    while let Some(component) = pending.pop() {
        if let (Some(bom_ref), Some(purl)) = (text(component, "bom-ref"), text(component, "purl")) {
            found.push((bom_ref, purl));
        }
        pending.extend(component["components"].as_array().into_iter().flatten());
    }
    found
}

impl VexStatement {
    /// Whether the statement is about one of `ids` in the package with purl `purl`.
    pub fn applies(&self, ids: &[&str], purl: &str) -> bool {
        self.ids.iter().any(|id| ids.contains(&id.as_str())) && (self.products.is_empty() || self.products.iter().any(|product| purl_covers(product, purl)))
    }
}

/// Whether the statement's purl `product` names the package purl `purl`.
pub fn purl_covers(product: &str, purl: &str) -> bool {
    let (Ok(product), Ok(package)) = (product.parse::<PackageUrl<'_>>(), purl.parse::<PackageUrl<'_>>()) else { return false };
    let same = product.ty().eq_ignore_ascii_case(package.ty()) && product.namespace() == package.namespace() && product.name() == package.name();
    let version = product.version().is_none_or(|version| Some(version) == package.version());
    let qualifiers = product.qualifiers().iter().filter(|(key, _)| key.as_ref() != "package-id").all(|(key, value)| package.qualifiers().get(key) == Some(value));
    same && version && qualifiers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_match_on_what_the_statement_names() {
        assert!(purl_covers("pkg:pypi/jinja2", "pkg:pypi/jinja2@2.10"));
        assert!(purl_covers("pkg:pypi/jinja2@2.10", "pkg:pypi/jinja2@2.10"));
        assert!(!purl_covers("pkg:pypi/jinja2@2.11", "pkg:pypi/jinja2@2.10"));
        assert!(!purl_covers("pkg:npm/jinja2", "pkg:pypi/jinja2@2.10"));
        assert!(!purl_covers("pkg:deb/debian/openssl?distro=debian-12", "pkg:deb/debian/libssl3@3.0?arch=amd64&distro=debian-12"));
        assert!(purl_covers("pkg:deb/debian/libssl3?distro=debian-12", "pkg:deb/debian/libssl3@3.0?arch=amd64&distro=debian-12"));
        assert!(!purl_covers("pkg:deb/debian/libssl3?distro=debian-11", "pkg:deb/debian/libssl3@3.0?arch=amd64&distro=debian-12"));
        assert!(purl_covers("pkg:deb/debian/libssl3@3.0?package-id=abc", "pkg:deb/debian/libssl3@3.0?arch=amd64"));
    }
}
