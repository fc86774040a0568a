//! Rules remember responses by what they read of a request: on every policy of Kyverno's library
//! with the resources of its `kyverno-test.yaml`, and on variants of those resources that change
//! read and unread fields alike, a remembered response must be the one a fresh evaluation gives.

#[path = "../../palisade-policy/tests/support/object_variants.rs"]
mod object_variants;

use std::path::{Path, PathBuf};

use palisade_kyverno::engine::{self, NoContext};
use palisade_kyverno::policy::{Policy, is_policy};
use palisade_kyverno::request::Request;
use palisade_kyverno::suite;
use serde_json::Value;

fn documents(path: &Path) -> Vec<Value> {
    let Ok(text) = std::fs::read_to_string(path) else { return Vec::new() };
    palisade_load::load_str(&text, &path.display().to_string()).objects.into_iter().map(|object| object.root.to_json()).collect()
}

fn listed(test: &Value, field: &str, directory: &Path) -> Vec<Value> {
    let files = test.get(field).and_then(Value::as_array).cloned().unwrap_or_default();
    files.iter().filter_map(Value::as_str).flat_map(|file| documents(&directory.join(file))).collect()
}

#[test]
fn remembered_responses_are_the_responses_of_a_fresh_evaluation() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/kyverno-policies");
    let (mut checked, mut remembered, mut rules) = (0, 0, 0);
    for file in suite::find(&root) {
        let directory = file.parent().unwrap();
        let Some(test) = documents(&file).into_iter().next() else { continue };
        let policies: Vec<Value> = listed(&test, "policies", directory).into_iter().filter(|policy| is_policy(policy["apiVersion"].as_str().unwrap_or(""), policy["kind"].as_str().unwrap_or(""))).collect();
        let resources: Vec<Value> = listed(&test, "resources", directory).iter().flat_map(object_variants::variants).collect();
        for written in &policies {
            let Ok(policy) = Policy::parse(written) else { continue };
            rules += policy.all_rules().count();
            let remembering = policy.all_rules().filter(|rule| rule.remembers_verdicts()).count();
            if remembering == 0 {
                continue;
            }
            remembered += remembering;
            // Variants repeat what rules read (renamed, relabelled objects): answered from memory.
            for resource in &resources {
                let request = Request::create(resource.clone(), None);
                let judged = engine::validate(&policy, &request, &NoContext, &|_| None, &[]);
                let fresh = engine::validate(&Policy::parse(written).unwrap(), &request, &NoContext, &|_| None, &[]);
                assert_eq!(judged, fresh, "{} on {resource}", policy.name);
                checked += judged.len();
            }
        }
    }
    eprintln!("{checked} responses checked; {remembered} of {rules} rules remember");
    assert!(checked > 20_000, "{checked} responses checked");
    // Of the library's 768 rules, 282 are CEL, 52 mutate or generate and about 70 load context
    // entries or nest variables: those remember nothing.
    assert!(remembered >= 300, "{remembered} of {rules} rules remember");
}
