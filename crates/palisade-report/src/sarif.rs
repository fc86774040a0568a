//! `--format sarif`: one SARIF 2.1.0 log with one run (see `docs/formats/sarif.md`), shaped for
//! GitHub code scanning.

use std::collections::BTreeMap;
use std::io;

use palisade_core::{Control, Finding, InputError, RuleMeta, Severity};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::{ScanReport, docs, object_label};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// What a `reportingDescriptor` is built from: catalog metadata when the caller passed it,
/// otherwise the fields of the first finding of that rule (user policies have no static
/// metadata, yet every result needs a valid `ruleIndex`).
struct RuleInfo<'a> {
    id: &'a str,
    title: &'a str,
    severity: Severity,
    remediation: &'a str,
    controls: &'a [Control],
    meta: Option<&'static RuleMeta>,
}

pub(crate) fn write(
    report: &ScanReport,
    metas: &[&'static RuleMeta],
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let rules = rule_infos(metas, report.findings());
    let index: BTreeMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(index, rule)| (rule.id, index))
        .collect();
    // One `Value` per result would hold several kilobytes per finding at once; results are
    // built and written one at a time instead.
    let results = Lazy(|| report.findings().iter().map(|finding| result(finding, index[finding.rule])));
    let mut invocation = json!({ "executionSuccessful": true });
    if !report.errors().is_empty() {
        let notifications: Vec<Value> = report.errors().iter().map(notification).collect();
        invocation["toolExecutionNotifications"] = Value::Array(notifications);
    }
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "palisade",
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules.iter().map(descriptor).collect::<Vec<_>>(),
                }
            },
            "invocations": [invocation],
            // Columns are counted in characters by the loader.
            "columnKind": "unicodeCodePoints",
        }],
    });
    let log = Log { log: &log, results };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")
}

/// A sequence serialized from an iterator made on demand, never collected.
struct Lazy<F>(F);

impl<F, I> Serialize for Lazy<F>
where
    F: Fn() -> I,
    I: Iterator<Item = Value>,
{
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq((self.0)())
    }
}

/// The log with the results of its single run streamed after the run's other members.
struct Log<'a, R> {
    log: &'a Value,
    results: R,
}

impl<R: Serialize> Serialize for Log<'_, R> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let fields = self.log.as_object().expect("the log is an object");
        let mut map = serializer.serialize_map(Some(fields.len()))?;
        for (key, value) in fields {
            if key == "runs" {
                let run = &value[0];
                map.serialize_entry(key, &[Run { run, results: &self.results }])?;
            } else {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

struct Run<'a, R> {
    run: &'a Value,
    results: &'a R,
}

impl<R: Serialize> Serialize for Run<'_, R> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let fields = self.run.as_object().expect("a run is an object");
        let mut map = serializer.serialize_map(Some(fields.len() + 1))?;
        for (key, value) in fields {
            map.serialize_entry(key, value)?;
        }
        map.serialize_entry("results", self.results)?;
        map.end()
    }
}

/// Every rule passed in and every rule that produced a finding, once each, sorted by id so that
/// `ruleIndex` values are stable.
fn rule_infos<'a>(metas: &[&'static RuleMeta], findings: &'a [Finding]) -> Vec<RuleInfo<'a>> {
    let mut rules: BTreeMap<&'a str, RuleInfo<'a>> = BTreeMap::new();
    for meta in metas {
        rules.entry(meta.id).or_insert(RuleInfo {
            id: meta.id,
            title: meta.title,
            severity: meta.severity,
            remediation: meta.remediation,
            controls: meta.controls,
            meta: Some(meta),
        });
    }
    for finding in findings {
        rules.entry(finding.rule).or_insert(RuleInfo {
            id: finding.rule,
            title: finding.title,
            severity: finding.severity,
            remediation: finding.remediation,
            controls: finding.controls,
            meta: None,
        });
    }
    rules.into_values().collect()
}

fn descriptor(rule: &RuleInfo<'_>) -> Value {
    let family = rule
        .id
        .split_once('/')
        .map_or(rule.id, |(family, _)| family);
    let mut tags = vec![
        "security".to_owned(),
        "kubernetes".to_owned(),
        family.to_owned(),
    ];
    tags.extend(
        rule.controls
            .iter()
            .map(|c| format!("{}:{}", c.framework.as_str(), c.id)),
    );
    let mut properties = Map::new();
    properties.insert("tags".into(), json!(tags));
    // GitHub ranks security alerts by this score; "info" findings are not vulnerabilities, so
    // they carry none and show as plain notes.
    if let Some(score) = security_severity(rule.severity) {
        properties.insert("security-severity".into(), json!(score));
    }
    let full = rule.meta.and_then(|meta| docs::first_paragraph(meta.doc));
    let mut help = json!({ "text": rule.remediation });
    if let Some(meta) = rule.meta {
        help["markdown"] = json!(docs::render_rule_doc(meta));
    }
    let mut descriptor = json!({
        "id": rule.id,
        "name": pascal_case(rule.id),
        "shortDescription": { "text": rule.title },
        "fullDescription": { "text": full.as_deref().unwrap_or(rule.title) },
    });
    if let Some(path) = rule.meta.and_then(|meta| docs::relative_path(meta.id)) {
        descriptor["helpUri"] = json!(format!(
            "{}/blob/main/docs/rules/{path}",
            env!("CARGO_PKG_REPOSITORY")
        ));
    }
    descriptor["help"] = help;
    descriptor["defaultConfiguration"] = json!({ "level": level(rule.severity) });
    descriptor["properties"] = Value::Object(properties);
    descriptor
}

fn result(finding: &Finding, rule_index: usize) -> Value {
    let mut location = Map::new();
    if let Some(physical) = physical_location(
        &finding.location.file,
        finding.location.line,
        finding.location.column,
    ) {
        location.insert("physicalLocation".into(), physical);
    }
    location.insert(
        "logicalLocations".into(),
        json!([{
            "name": finding.object.name,
            "fullyQualifiedName": object_label(&finding.object),
            "kind": "resource",
        }]),
    );
    let mut properties = json!({ "path": finding.location.path });
    if let Some(vulnerability) = &finding.vulnerability {
        properties["vulnerability"] = json!(vulnerability);
        // The same score GitHub ranks rules by, per result: advisories of one severity differ.
        if let Some(score) = vulnerability.score {
            properties["security-severity"] = json!(format!("{}.{}", score / 10, score % 10));
        }
    }
    let mut result = json!({
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": level(finding.severity),
        "message": { "text": finding.message },
        "locations": [location],
        "properties": properties,
    });
    if let Some(secret) = &finding.secret {
        result["properties"]["secret"] = json!(secret);
        // What code-scanning services track a result by across runs: gitleaks' own identity.
        result["partialFingerprints"] = json!({ "gitleaksFingerprint/v1": secret.fingerprint });
    }
    result
}

fn notification(error: &InputError) -> Value {
    let mut notification = json!({
        "level": "error",
        "message": { "text": error.message },
    });
    if let Some(physical) = physical_location(&error.file, error.line, error.column) {
        notification["locations"] = json!([{ "physicalLocation": physical }]);
    }
    notification
}

/// The file as the user named it (percent-encoded into a URI reference), and a region when the
/// position is known: SARIF lines and columns are 1-based, 0 means "unknown" in Palisade.
fn physical_location(file: &str, line: u32, column: u32) -> Option<Value> {
    if file.is_empty() {
        return None;
    }
    let mut physical = json!({ "artifactLocation": { "uri": uri_reference(file) } });
    if line > 0 {
        let mut region = json!({ "startLine": line });
        if column > 0 {
            region["startColumn"] = json!(column);
        }
        physical["region"] = region;
    }
    Some(physical)
}

/// Keeps the path relative (or absolute) as given, with `\` separators turned into `/` and every
/// byte that may not appear in a URI path percent-encoded.
fn uri_reference(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'\\' => uri.push('/'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => uri.push(byte as char),
            b'-' | b'.' | b'_' | b'~' | b'/' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*'
            | b'+' | b',' | b';' | b'=' | b':' | b'@' => uri.push(byte as char),
            _ => uri.push_str(&format!("%{byte:02X}")),
        }
    }
    uri
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// Scores inside GitHub's bands: critical > 9.0, high 7.0–8.9, medium 4.0–6.9, low 0.1–3.9.
fn security_severity(severity: Severity) -> Option<&'static str> {
    match severity {
        Severity::Critical => Some("9.5"),
        Severity::High => Some("8.0"),
        Severity::Medium => Some("5.5"),
        Severity::Low => Some("2.0"),
        Severity::Info => None,
    }
}

/// `pss/hostNamespaces` → `PssHostNamespaces`: SARIF's `name` is an identifier-like friendly name.
fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_keep_relative_paths_and_encode_what_uris_cannot_hold() {
        assert_eq!(uri_reference("deploy/web.yaml"), "deploy/web.yaml");
        assert_eq!(uri_reference("../a b/c#1.yaml"), "../a%20b/c%231.yaml");
        assert_eq!(uri_reference("dir\\x.yaml"), "dir/x.yaml");
        assert_eq!(uri_reference("é.yaml"), "%C3%A9.yaml");
    }

    #[test]
    fn names_are_pascal_case_of_the_whole_id() {
        assert_eq!(pascal_case("pss/hostNamespaces"), "PssHostNamespaces");
        assert_eq!(
            pascal_case("workload/image-tag-latest"),
            "WorkloadImageTagLatest"
        );
        assert_eq!(
            pascal_case("pss/capabilities_restricted"),
            "PssCapabilitiesRestricted"
        );
    }

    #[test]
    fn unknown_positions_have_no_region_and_unknown_columns_no_start_column() {
        assert_eq!(physical_location("", 3, 1), None);
        assert_eq!(
            physical_location("a.yaml", 0, 0),
            Some(json!({ "artifactLocation": { "uri": "a.yaml" } }))
        );
        assert_eq!(
            physical_location("a.yaml", 4, 0).unwrap()["region"],
            json!({ "startLine": 4 })
        );
    }
}
