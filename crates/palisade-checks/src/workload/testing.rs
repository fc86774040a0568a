//! Small objects for the rules' unit tests, written as YAML/JSON and read by the real loader so
//! that pointers and positions are the ones users see.

use palisade_core::{Candidate, FindingSink, Object, Rule};

/// The single object in `text`.
pub fn object(text: &str) -> Object {
    let mut loaded = palisade_load::load_str(text, "test.yaml");
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert_eq!(loaded.objects.len(), 1, "expected one object");
    loaded.objects.remove(0)
}

/// A `kind` (Pod, or a controller of `api_version`) whose pod spec is `spec` (JSON).
pub fn workload(api_version: &str, kind: &str, spec: &str) -> Object {
    let body = match kind {
        "Pod" => spec.to_owned(),
        "CronJob" => format!(r#"{{"jobTemplate": {{"spec": {{"template": {{"spec": {spec}}}}}}}}}"#),
        _ => format!(r#"{{"template": {{"spec": {spec}}}}}"#),
    };
    object(&format!(
        r#"{{"apiVersion": "{api_version}", "kind": "{kind}", "metadata": {{"name": "w", "namespace": "ns"}}, "spec": {body}}}"#
    ))
}

pub fn pod(spec: &str) -> Object {
    workload("v1", "Pod", spec)
}

pub fn deployment(spec: &str) -> Object {
    workload("apps/v1", "Deployment", spec)
}

/// The candidates `rule` reports on `object`.
pub fn candidates(rule: &dyn Rule, object: &Object) -> Vec<Candidate> {
    let mut out = Vec::new();
    rule.check(object, &mut FindingSink::new(rule.meta(), object, &mut out));
    out
}

/// `(pointer, message)` of every finding `rule` reports on `object`.
pub fn findings(rule: &dyn Rule, object: &Object) -> Vec<(String, String)> {
    candidates(rule, object)
        .into_iter()
        .map(|candidate| (candidate.finding.location.path.to_string(), candidate.finding.message.to_string()))
        .collect()
}

/// The pointers only.
pub fn pointers(rule: &dyn Rule, object: &Object) -> Vec<String> {
    findings(rule, object).into_iter().map(|(pointer, _)| pointer).collect()
}

/// Checks the metadata every rule must carry: a family-prefixed id, a doc with the four
/// sections, a one-sentence remediation.
pub fn assert_documented(meta: &palisade_core::RuleMeta) {
    assert!(meta.id.contains('/') && meta.id == meta.id.to_lowercase(), "{}", meta.id);
    for section in ["## What it does", "## Why is this bad?", "## How to fix", "## Example"] {
        assert!(meta.doc.contains(section), "{} lacks {section}", meta.id);
    }
    assert!(meta.remediation.ends_with('.') && !meta.remediation.is_empty(), "{}", meta.id);
}
