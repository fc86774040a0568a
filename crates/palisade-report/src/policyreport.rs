//! `--format policyreport` / `policyreport-json`: the findings as Policy Report CRs
//! (`wgpolicyk8s.io/v1alpha2`), one `PolicyReport` per namespace and one `ClusterPolicyReport`
//! for cluster-scoped objects, objects without a namespace, and input errors (see
//! `docs/formats/policyreport.md`).
//!
//! - A finding is a result with `result: fail`, `policy` = the rule id, `rule` = the rule's
//!   title, `category` = the rule family, the finding's severity (the CRD's severities are ours),
//!   the object in `resources`, and `properties` holding the JSON pointer (`path`) and the
//!   framework controls. A list the scan could not read (input error) is `result: error` in the
//!   ClusterPolicyReport under `policy: palisade/coverage`. Passes are not enumerated (that would
//!   be rules × objects); `summary.pass` is 0.
//! - **Bounded size**: a report keeps at most [`Limits::max_results`] results and at most
//!   [`Limits::max_bytes`] of them, most severe first, so a report object stays far below etcd's
//!   1.5 MiB object limit. What is left out is counted in `summary` and named in the
//!   `palisade.dev/omitted-results` annotation.
//! - **Deterministic**: no timestamps; reports sorted by namespace, results by severity then
//!   the report order.
//! - YAML is written by [`palisade_core::yaml_text`]: every string a JSON-quoted scalar, so no
//!   value can change type (`"on"`, `"1.0"`) on the way.

use std::collections::BTreeMap;
use std::io;

use palisade_core::Finding;
use serde_json::{Map, Value, json};

use crate::ScanReport;

/// The name of every report object Palisade writes: one per namespace, replaced on each run.
pub const REPORT_NAME: &str = "palisade";

/// What bounds one report object.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_results: usize,
    /// Serialized results per report, in bytes.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // 1,000 results of a typical 400 bytes is about 400 KiB; the byte budget catches long
        // messages. etcd refuses objects above 1.5 MiB by default.
        Self { max_results: 1000, max_bytes: 768 * 1024 }
    }
}

/// The report objects for `report`: a `PolicyReport` for each namespace with findings or named
/// in `namespaces` (so a namespace that became clean gets an empty report that replaces the old
/// one), then the `ClusterPolicyReport`.
pub fn policy_reports(report: &ScanReport, namespaces: &[String], limits: Limits) -> Vec<Value> {
    let mut grouped: BTreeMap<Option<&str>, Vec<&Finding>> = BTreeMap::new();
    grouped.insert(None, Vec::new());
    for namespace in namespaces {
        grouped.entry(Some(namespace.as_str())).or_default();
    }
    for finding in report.findings() {
        grouped.entry(finding.object.namespace.as_deref()).or_default().push(finding);
    }
    let errors: Vec<Value> = report
        .errors()
        .iter()
        .map(|error| {
            json!({"policy": "palisade/coverage", "rule": "input read", "category": "coverage",
                   "result": "error", "scored": true, "source": "palisade", "message": error.to_string(),
                   "properties": {"file": &*error.file}})
        })
        .collect();
    // Namespaced reports first (BTreeMap puts `None` first), the cluster report last.
    let mut out: Vec<Value> = grouped
        .iter()
        .filter_map(|(namespace, findings)| {
            namespace.map(|ns| one_report(REPORT_NAME, Some(ns), findings, Vec::new(), 0, limits))
        })
        .collect();
    out.push(one_report(REPORT_NAME, None, &grouped[&None], errors, 0, limits));
    out
}

/// The one `ClusterPolicyReport` of a node audit, named `palisade-node-<node>` so that every
/// node keeps its own report beside the cluster scan's; `passed` is the number of checks that
/// passed (they are counted, not listed, like the scan's passes). kube-bench's FAIL is a
/// `high` finding and gives a `fail` result; its WARN (a failed unscored check, or one that
/// could not be evaluated) gives `warn`.
pub fn node_policy_report(report: &ScanReport, node: &str, passed: usize, limits: Limits) -> Value {
    let findings: Vec<&Finding> = report.findings().iter().collect();
    let name = format!("palisade-node-{node}");
    let mut out = one_report(&name, None, &findings, Vec::new(), passed, limits);
    if let Some(results) = out["results"].as_array_mut() {
        for result in results.iter_mut().filter(|result| result["severity"] != "high") {
            result["result"] = json!("warn");
        }
    }
    let failed = findings.iter().filter(|finding| finding.severity == palisade_core::Severity::High).count();
    out["summary"]["fail"] = json!(failed);
    out["summary"]["warn"] = json!(findings.len() - failed);
    out
}

fn one_report(
    name: &str,
    namespace: Option<&str>,
    findings: &[&Finding],
    errors: Vec<Value>,
    passed: usize,
    limits: Limits,
) -> Value {
    let mut ordered: Vec<&Finding> = findings.to_vec();
    // Stable: within a severity, the report order (file, position, rule, object) stays.
    ordered.sort_by_key(|finding| std::cmp::Reverse(finding.severity));
    let mut results = errors;
    let error_count = results.len();
    let mut bytes: usize = results.iter().map(|r| r.to_string().len()).sum();
    let mut omitted = 0;
    for finding in ordered {
        let result = result_of(finding);
        let size = result.to_string().len();
        if results.len() >= limits.max_results || bytes + size > limits.max_bytes {
            omitted += 1;
            continue;
        }
        bytes += size;
        results.push(result);
    }
    let mut metadata = json!({"name": name, "labels": {"app.kubernetes.io/managed-by": "palisade"}});
    if let Some(namespace) = namespace {
        metadata["namespace"] = json!(namespace);
    }
    if omitted > 0 {
        metadata["annotations"] = json!({"palisade.dev/omitted-results":
            format!("{omitted} of {} failures left out to bound the report's size; run palisade scan for all", findings.len())});
    }
    json!({
        "apiVersion": "wgpolicyk8s.io/v1alpha2",
        "kind": if namespace.is_some() { "PolicyReport" } else { "ClusterPolicyReport" },
        "metadata": metadata,
        "summary": {"pass": passed, "fail": findings.len(), "warn": 0, "error": error_count, "skip": 0},
        "results": results,
    })
}

fn result_of(finding: &Finding) -> Value {
    let mut resource = Map::new();
    resource.insert("apiVersion".into(), json!(finding.object.api_version));
    resource.insert("kind".into(), json!(finding.object.kind));
    if let Some(namespace) = &finding.object.namespace {
        resource.insert("namespace".into(), json!(namespace));
    }
    resource.insert("name".into(), json!(finding.object.name));
    let mut properties = Map::new();
    properties.insert("path".into(), json!(finding.location.path));
    if !finding.controls.is_empty() {
        let controls: Vec<String> =
            finding.controls.iter().map(|c| format!("{}:{}", c.framework.as_str(), c.id)).collect();
        properties.insert("controls".into(), json!(controls.join(",")));
    }
    // A manifest scan knows the file; a cluster scan's `cluster://` origin says nothing more.
    if finding.location.line > 0 {
        properties.insert("file".into(), json!(format!("{}:{}", finding.location.file, finding.location.line)));
    }
    json!({
        "policy": finding.rule,
        "rule": finding.title,
        "category": finding.rule.split_once('/').map_or(finding.rule, |(family, _)| family),
        "result": "fail",
        // The CRD's severity enum is Palisade's, word for word.
        "severity": finding.severity.as_str(),
        "scored": true,
        "source": "palisade",
        "message": finding.message,
        "resources": [resource],
        "properties": properties,
    })
}

/// `policyreport`: the reports as a YAML stream, one document each (`kubectl apply -f`).
pub fn write_yaml(report: &ScanReport, out: &mut dyn io::Write) -> io::Result<()> {
    for document in policy_reports(report, &[], Limits::default()) {
        out.write_all(palisade_core::yaml_text::document(&document).as_bytes())?;
    }
    Ok(())
}

/// `policyreport-json`: the reports as one `v1` `List`.
pub fn write_json(report: &ScanReport, out: &mut dyn io::Write) -> io::Result<()> {
    let list = json!({"apiVersion": "v1", "kind": "List", "items": policy_reports(report, &[], Limits::default())});
    serde_json::to_writer_pretty(&mut *out, &list)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scope;
    use palisade_core::{Control, Framework, InputError, Location, ObjectRef, Severity};

    const CONTROLS: &[Control] = &[Control::new(Framework::Cis, "5.2.1")];

    fn finding(rule: &'static str, severity: Severity, namespace: Option<&str>, name: &str) -> Finding {
        Finding {
            rule,
            severity,
            title: "A title",
            message: format!("{name} is bad").into(),
            object: ObjectRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: namespace.map(str::to_owned),
                name: name.into(),
            }
            .into(),
            location: Location { file: "cluster://prod/deployments.apps".into(), line: 0, column: 0, path: "/spec/replicas".into() },
            remediation: "fix it",
            controls: CONTROLS,
            vulnerability: None,
            secret: None,
        }
    }

    fn report() -> ScanReport {
        let findings = vec![
            finding("workload/x", Severity::Low, Some("shop"), "a"),
            finding("pss/privileged", Severity::High, Some("shop"), "b"),
            finding("rbac/y", Severity::Critical, None, "c"),
        ];
        let errors = vec![InputError { file: "cluster://prod/roles.rbac.authorization.k8s.io".into(), line: 0, column: 0, message: "not evaluated: 403 Forbidden".into() }];
        ScanReport::new(findings, errors, Scope::default(), None)
    }

    #[test]
    fn one_report_per_namespace_and_a_cluster_report_with_coverage_errors() {
        let reports = policy_reports(&report(), &["clean".to_owned()], Limits::default());
        let kinds: Vec<(&str, Option<&str>)> = reports
            .iter()
            .map(|r| (r["kind"].as_str().unwrap(), r.pointer("/metadata/namespace").and_then(Value::as_str)))
            .collect();
        assert_eq!(kinds, [("PolicyReport", Some("clean")), ("PolicyReport", Some("shop")), ("ClusterPolicyReport", None)]);
        assert_eq!(reports[0]["results"], json!([]));
        let shop = &reports[1];
        assert_eq!(shop["summary"], json!({"pass": 0, "fail": 2, "warn": 0, "error": 0, "skip": 0}));
        // Most severe first.
        assert_eq!(shop["results"][0]["policy"], "pss/privileged");
        assert_eq!(shop["results"][0]["severity"], "high");
        assert_eq!(shop["results"][0]["category"], "pss");
        assert_eq!(shop["results"][0]["resources"][0], json!({"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "b"}));
        assert_eq!(shop["results"][0]["properties"], json!({"path": "/spec/replicas", "controls": "cis:5.2.1"}));
        let cluster = &reports[2];
        assert_eq!(cluster["summary"]["error"], 1);
        assert_eq!(cluster["results"][0]["result"], "error");
        assert_eq!(cluster["results"][1]["policy"], "rbac/y");
    }

    #[test]
    fn results_are_capped_most_severe_first_and_the_gap_is_annotated() {
        let findings: Vec<Finding> = (0..30)
            .map(|i| finding("workload/x", if i == 29 { Severity::Critical } else { Severity::Low }, Some("a"), &format!("d{i:02}")))
            .collect();
        let report = ScanReport::new(findings, Vec::new(), Scope::default(), None);
        let reports = policy_reports(&report, &[], Limits { max_results: 10, max_bytes: usize::MAX });
        let results = reports[0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 10);
        assert_eq!(results[0]["severity"], "critical");
        assert_eq!(reports[0]["summary"]["fail"], 30);
        assert_eq!(reports[0]["metadata"]["annotations"]["palisade.dev/omitted-results"],
            "20 of 30 failures left out to bound the report's size; run palisade scan for all");
        let by_bytes = policy_reports(&report, &[], Limits { max_results: 1000, max_bytes: 2000 });
        let kept = by_bytes[0]["results"].as_array().unwrap();
        assert!(!kept.is_empty() && serde_json::to_string(kept).unwrap().len() <= 2000 + kept.len());
    }

    #[test]
    fn yaml_is_block_style_with_quoted_strings_and_stable() {
        let mut first = Vec::new();
        write_yaml(&report(), &mut first).unwrap();
        let text = String::from_utf8(first.clone()).unwrap();
        assert!(text.starts_with("---\napiVersion: \"wgpolicyk8s.io/v1alpha2\"\nkind: \"PolicyReport\"\nmetadata:\n  name: \"palisade\"\n"), "{text}");
        assert!(text.contains("  labels:\n    app.kubernetes.io/managed-by: \"palisade\"\n"));
        assert!(text.contains("results:\n  - policy: \"pss/privileged\"\n    rule: \"A title\"\n"), "{text}");
        let mut second = Vec::new();
        write_yaml(&report(), &mut second).unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn json_is_a_list_of_the_same_reports() {
        let mut out = Vec::new();
        write_json(&report(), &mut out).unwrap();
        let list: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(list["kind"], "List");
        assert_eq!(list["items"], Value::Array(policy_reports(&report(), &[], Limits::default())));
    }
}
