//! Matches as the `vulnerabilities` of a CycloneDX 1.6 BOM
//! (<https://cyclonedx.org/docs/1.6/json/#vulnerabilities>), added to the document
//! palisade-sbom wrote for the same inventory: one entry per vulnerability id, `affects[].ref`
//! naming each affected package by the bom-ref the SBOM gave it
//! ([`palisade_sbom::package_bom_refs`]); VEX-suppressed matches with their `analysis`.

use std::collections::BTreeMap;

use palisade_pkg::Inventory;
use serde_json::{json, Map, Value};

use crate::matcher::{Match, MatchReport};
use crate::vex::VexStatement;

/// Adds (or replaces) `vulnerabilities` in `bom`, a CycloneDX JSON document written for
/// `inventory`.
pub fn add_vulnerabilities(bom: &mut Value, inventory: &Inventory, report: &MatchReport) -> Result<(), String> {
    let document = bom.as_object_mut().ok_or("the CycloneDX document is not a JSON object")?;
    let refs = palisade_sbom::package_bom_refs(inventory);
    let mut by_id: BTreeMap<&str, (Vec<&Match>, Option<&VexStatement>)> = BTreeMap::new();
    for found in &report.matches {
        by_id.entry(&found.id).or_default().0.push(found);
    }
    // A suppressed match is listed under its own entry only when no package is still affected.
    for suppressed in &report.suppressed {
        let entry = by_id.entry(&suppressed.matched.id).or_default();
        if entry.0.is_empty() || entry.1.is_some() {
            entry.0.push(&suppressed.matched);
            entry.1 = Some(&suppressed.statement);
        }
    }
    let vulnerabilities: Vec<Value> = by_id.into_values().map(|(matches, statement)| entry(&matches, statement, &refs)).collect();
    document.insert("vulnerabilities".into(), Value::Array(vulnerabilities));
    Ok(())
}

fn entry(matches: &[&Match], statement: Option<&VexStatement>, refs: &[String]) -> Value {
    let first = matches[0];
    let record = &first.advisories[0];
    let mut entry = Map::new();
    entry.insert("id".into(), json!(first.id));
    entry.insert("source".into(), source(&first.id));
    let references: Vec<Value> = first.aliases.iter().map(|alias| json!({"id": alias, "source": source(alias)})).collect();
    if !references.is_empty() {
        entry.insert("references".into(), Value::Array(references));
    }
    entry.insert("ratings".into(), json!([rating(first)]));
    let cwes = cwes(first);
    if !cwes.is_empty() {
        entry.insert("cwes".into(), json!(cwes));
    }
    if !first.summary().is_empty() {
        entry.insert("description".into(), json!(first.summary()));
    }
    if !record.details.is_empty() {
        entry.insert("detail".into(), json!(record.details));
    }
    let advisories: Vec<Value> = record.references.iter().filter(|reference| reference.kind == "ADVISORY" || reference.kind == "WEB").map(|reference| json!({"url": reference.url})).collect();
    if !advisories.is_empty() {
        entry.insert("advisories".into(), Value::Array(advisories));
    }
    if let Some(published) = &record.published {
        entry.insert("published".into(), json!(published));
    }
    if !record.modified.is_empty() {
        entry.insert("updated".into(), json!(record.modified));
    }
    if let Some(statement) = statement {
        entry.insert("analysis".into(), analysis(statement));
    }
    let affects: Vec<Value> = matches
        .iter()
        .filter_map(|found| {
            let reference = refs.get(found.package_index)?;
            let status = if statement.is_some() { "unaffected" } else { "affected" };
            Some(json!({"ref": reference, "versions": [{"version": found.package.version, "status": status}]}))
        })
        .collect();
    entry.insert("affects".into(), Value::Array(affects));
    Value::Object(entry)
}

/// The database an id comes from: GitHub's for `GHSA-`, NVD's for `CVE-`, OSV's otherwise.
fn source(id: &str) -> Value {
    match id.split('-').next() {
        Some("GHSA") => json!({"name": "GitHub", "url": format!("https://github.com/advisories/{id}")}),
        Some("CVE") => json!({"name": "NVD", "url": format!("https://nvd.nist.gov/vuln/detail/{id}")}),
        _ => json!({"name": "OSV", "url": format!("https://osv.dev/vulnerability/{id}")}),
    }
}

fn rating(found: &Match) -> Value {
    let assessment = &found.assessment;
    let method = match assessment.source.as_deref() {
        Some("cvss-v2") => "CVSSv2",
        Some("cvss-v3.0") => "CVSSv3",
        Some("cvss-v3.1") => "CVSSv31",
        Some("cvss-v4") => "CVSSv4",
        _ => "other",
    };
    let mut rating = Map::new();
    if let Some(score) = assessment.score {
        rating.insert("score".into(), json!(score));
    }
    rating.insert("severity".into(), json!(assessment.rating.as_str()));
    rating.insert("method".into(), json!(method));
    if let Some(vector) = &assessment.vector {
        rating.insert("vector".into(), json!(vector));
    }
    Value::Object(rating)
}

/// `database_specific.cwe_ids` (`["CWE-79"]`, GitHub's) of the merged records, as numbers.
fn cwes(found: &Match) -> Vec<u32> {
    let mut cwes: Vec<u32> = found
        .advisories
        .iter()
        .filter_map(|advisory| advisory.database_specific.as_ref()?.get("cwe_ids")?.as_array().cloned())
        .flatten()
        .filter_map(|cwe| cwe.as_str()?.strip_prefix("CWE-")?.parse().ok())
        .collect();
    cwes.sort_unstable();
    cwes.dedup();
    cwes
}

/// CycloneDX's analysis for a VEX statement: OpenVEX's `fixed` is `resolved`; OpenVEX
/// justifications map onto CycloneDX's where one means the same, else the text goes to `detail`.
fn analysis(statement: &VexStatement) -> Value {
    let state = match statement.status.as_str() {
        "fixed" => "resolved",
        other => other,
    };
    let justification = statement.justification.as_deref().and_then(|justification| {
        Some(match justification {
            "component_not_present" | "vulnerable_code_not_present" | "code_not_present" => "code_not_present",
            "vulnerable_code_not_in_execute_path" | "code_not_reachable" => "code_not_reachable",
            "inline_mitigations_already_exist" | "vulnerable_code_cannot_be_controlled_by_adversary" | "protected_by_mitigating_control" => "protected_by_mitigating_control",
            known @ ("requires_configuration" | "requires_dependency" | "requires_environment" | "protected_by_compiler" | "protected_at_runtime" | "protected_at_perimeter") => known,
            _ => return None,
        })
    });
    let mut analysis = Map::new();
    analysis.insert("state".into(), json!(state));
    if let Some(justification) = justification {
        analysis.insert("justification".into(), json!(justification));
    }
    let detail = [statement.justification.as_deref().filter(|_| justification.is_none()), statement.detail.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(": ");
    let detail = if detail.is_empty() { format!("VEX {}", statement.document) } else { format!("{detail} (VEX {})", statement.document) };
    analysis.insert("detail".into(), json!(detail));
    Value::Object(analysis)
}
