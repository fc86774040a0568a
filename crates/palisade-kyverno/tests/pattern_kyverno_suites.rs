//! Results that Kyverno's CLI test suites expect, checked through `match_pattern`: the
//! `validate.pattern` rules of the kyverno-test.yaml suites in kyverno/policies and
//! kyverno/kyverno (commits in the fixture, Apache-2.0, the Kyverno authors) whose pattern holds
//! no variables, on resources of a kind the rule names. A pass or fail there is the pattern's
//! outcome, since Kyverno reports one only once the rule applies; a skip is taken only from rules
//! that select by kind alone without preconditions. Autogen rules (Pod patterns applied to
//! controllers) are left to the engine. The policies and resources were converted from YAML.

use palisade_kyverno::pattern::{match_pattern, Outcome};
use serde_json::Value;

const SUITES: &str = include_str!("pattern_kyverno_suites.json");

/// Kyverno's result word for an outcome: a failure without a path is a rule error.
fn result_word(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "pass",
        Outcome::Skip(_) => "skip",
        Outcome::Fail(failure) if failure.is_execution_error() => "error",
        Outcome::Fail(_) => "fail",
    }
}

#[test]
fn kyverno_suite_results() {
    let suites: Value = serde_json::from_str(SUITES).expect("fixture is JSON");
    let sources = suites["sources"].as_array().expect("sources");
    let mut checked = 0;
    let mut disagreements = Vec::new();
    for source in sources {
        for case in source["cases"].as_array().expect("cases") {
            let field = |i: usize| case[i].as_str().expect("text field");
            let index = |i: usize| case[i].as_u64().expect("index") as usize;
            let pattern = &source["patterns"][index(5)];
            let resource = &source["resources"][index(6)];
            assert!(pattern.is_object() && resource.is_object(), "dangling index in {case}");
            let outcome = match_pattern(resource, pattern);
            if result_word(&outcome) != field(4) {
                disagreements.push(format!("{} {}/{} on {}: expected {}, got {outcome:?}", field(0), field(1), field(2), field(3), field(4)));
            }
            checked += 1;
        }
    }
    assert!(checked >= 450, "only {checked} cases in the fixture");
    assert!(disagreements.is_empty(), "{} of {checked} disagree:\n{}", disagreements.len(), disagreements.join("\n"));
}
