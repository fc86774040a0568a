//! Kyverno's own table for `validate.podSecurity` (`pkg/pss/evaluate_test.go` at commit
//! 111e07bbecc66abfde36ab99969af22d7a961003, Apache-2.0, the Kyverno authors), extracted as data
//! into `pod_security_kyverno.json` by `pod_security_kyverno.py`. Every case is evaluated through
//! `pod_security::evaluate` and its verdict compared with Kyverno's `allowed`.

use palisade_kyverno::engine::Status;
use palisade_kyverno::pod_security::evaluate;
use serde_json::{Value, json};

const CASES: &str = include_str!("pod_security_kyverno.json");

/// Cases where Palisade knowingly differs from Kyverno, with the reason.
const DIVERGENCES: &[(&str, &str)] = &[(
    "restricted_volume_types_not_match_block",
    "the volume names no source (`awsElasticBlockStore: null`); Kyverno's raw decode leaves it sourceless and PSA reports it as the `unknown` restricted type, while Palisade's PSS engine judges it as admission sees it, defaulted by the API server to an emptyDir, so it passes",
)];

/// Cases not evaluated (none since `values` exclusions are evaluated).
const NOT_EVALUATED: &[&str] = &[];

#[test]
fn kyverno_evaluate_test_table() {
    let data: Value = serde_json::from_str(CASES).expect("fixture is JSON");
    let cases = data["cases"].as_array().expect("cases");
    let mut agree = 0;
    let mut not_evaluated = Vec::new();
    let mut disagree = Vec::new();
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let mut pod = case["pod"].clone();
        pod.as_object_mut().expect("pod object").entry("apiVersion").or_insert(json!("v1"));
        pod.as_object_mut().expect("pod object").entry("kind").or_insert(json!("Pod"));
        let (status, message) = evaluate(name, &json!({"podSecurity": case["rule"]}), &pod);
        let allowed = case["allowed"].as_bool().expect("allowed");
        match status {
            Status::Pass if allowed => agree += 1,
            Status::Fail if !allowed => agree += 1,
            Status::NotEvaluated => not_evaluated.push(name.to_owned()),
            _ => disagree.push(format!("{name}: expected allowed={allowed}, got {status:?}: {message}")),
        }
    }
    println!("{} cases: {agree} agree, {} not evaluated, {} differ", cases.len(), not_evaluated.len(), disagree.len());
    assert_eq!(cases.len(), 252, "every case of evaluate_test.go is ported");
    assert_eq!(not_evaluated, NOT_EVALUATED, "cases not evaluated");
    let differing: Vec<&str> = disagree.iter().map(|line| line.split(':').next().unwrap_or_default()).collect();
    let expected: Vec<&str> = DIVERGENCES.iter().map(|(name, _)| *name).collect();
    assert_eq!(differing, expected, "cases that differ from Kyverno: {disagree:#?}");
    assert_eq!(agree + not_evaluated.len() + disagree.len(), cases.len());
}
