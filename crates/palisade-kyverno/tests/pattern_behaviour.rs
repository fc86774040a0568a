//! What `match_pattern` reports beyond Kyverno's own test tables: the exact skip reasons,
//! failure paths and messages that Kyverno's code produces, including its quirks.

use palisade_kyverno::pattern::{match_pattern, value_matches, Failure, Outcome};
use serde_json::{json, Value};

fn fail(path: &str, message: &str) -> Outcome {
    Outcome::Fail(Failure { path: path.to_string(), message: message.to_string() })
}

fn skip(reason: &str) -> Outcome {
    Outcome::Skip(reason.to_string())
}

fn pod(container: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [container]}})
}

#[test]
fn plain_mismatch_reports_the_value_path() {
    let pattern = json!({"spec": {"containers": [{"imagePullPolicy": "!Always"}]}});
    assert_eq!(
        match_pattern(&pod(json!({"name": "c", "imagePullPolicy": "Always"})), &pattern),
        fail(
            "/spec/containers/0/imagePullPolicy/",
            "resource value 'Always' does not match '!Always' at path /spec/containers/0/imagePullPolicy/"
        )
    );
    assert_eq!(match_pattern(&pod(json!({"name": "c", "imagePullPolicy": "IfNotPresent"})), &pattern), Outcome::Pass);
}

#[test]
fn conditional_anchor_mismatch_skips_with_kyvernos_reason() {
    let pattern = json!({"spec": {"containers": [{"(image)": "*:latest", "imagePullPolicy": "Always"}]}});
    assert_eq!(
        match_pattern(&pod(json!({"image": "nginx:1.25", "imagePullPolicy": "Never"})), &pattern),
        skip("conditional anchor mismatch: resource value 'nginx:1.25' does not match '*:latest' at path /spec/containers/0/image/")
    );
    assert_eq!(
        match_pattern(&pod(json!({"imagePullPolicy": "Never"})), &pattern),
        skip("conditional anchor mismatch: conditional anchor key doesn't exist in the resource")
    );
    assert!(matches!(match_pattern(&pod(json!({"image": "nginx:latest", "imagePullPolicy": "Never"})), &pattern), Outcome::Fail(_)));
}

#[test]
fn skips_of_several_list_elements_are_joined() {
    let pattern = json!({"spec": {"containers": [{"(name)": "app", "image": "x"}]}});
    let resource = json!({"spec": {"containers": [{"name": "a", "image": "y"}, {"name": "b", "image": "y"}]}});
    assert_eq!(
        match_pattern(&resource, &pattern),
        skip(
            "conditional anchor mismatch: resource value 'a' does not match 'app' at path /spec/containers/0/name/; \
             conditional anchor mismatch: resource value 'b' does not match 'app' at path /spec/containers/1/name/"
        )
    );
}

#[test]
fn global_anchor_mismatch_skips_the_whole_rule() {
    let pattern = json!({"spec": {"<(hostNetwork)": true, "containers": [{"ports": [{"hostPort": 0}]}]}});
    let resource = json!({"spec": {"hostNetwork": false, "containers": [{"ports": [{"hostPort": 80}]}]}});
    assert_eq!(
        match_pattern(&resource, &pattern),
        skip("global anchor mismatch: resource value 'false' does not match 'true' at path /spec/hostNetwork/")
    );
    let resource = json!({"spec": {"hostNetwork": true, "containers": [{"ports": [{"hostPort": 80}]}]}});
    assert_eq!(
        match_pattern(&resource, &pattern),
        fail("/spec/containers/0/ports/0/hostPort/", "resource value '80' does not match '0' at path /spec/containers/0/ports/0/hostPort/")
    );
}

#[test]
fn existence_anchor_needs_one_matching_element() {
    let pattern = json!({"spec": {"^(containers)": [{"image": "registry.example/*"}]}});
    let resource = json!({"spec": {"containers": [{"image": "docker.io/a"}, {"image": "registry.example/b"}]}});
    assert_eq!(match_pattern(&resource, &pattern), Outcome::Pass);
    let resource = json!({"spec": {"containers": [{"image": "docker.io/a"}]}});
    assert_eq!(match_pattern(&resource, &pattern), fail("/spec/containers/", "existence anchor validation failed at path /spec/containers/"));
    assert_eq!(match_pattern(&json!({"spec": {}}), &pattern), Outcome::Pass);
    assert_eq!(
        match_pattern(&json!({"spec": {"containers": "x"}}), &pattern),
        fail("/spec/containers/", "invalid resource type string: Existence ^ () anchor can be used only on list/array type resource")
    );
}

#[test]
fn negation_anchor_fails_when_the_key_exists() {
    let pattern = json!({"spec": {"volumes": [{"X(hostPath)": "null"}]}});
    assert_eq!(
        match_pattern(&json!({"spec": {"volumes": [{"hostPath": {"path": "/"}}]}}), &pattern),
        fail("/spec/volumes/0/hostPath/", "negation anchor matched in resource: /spec/volumes/0/hostPath/ is not allowed")
    );
    assert_eq!(match_pattern(&json!({"spec": {"volumes": [{"emptyDir": {}}]}}), &pattern), Outcome::Pass);
}

#[test]
fn equality_anchor_checks_only_present_keys() {
    let pattern = json!({"spec": {"=(securityContext)": {"=(runAsNonRoot)": true}}});
    assert_eq!(match_pattern(&json!({"spec": {}}), &pattern), Outcome::Pass);
    assert_eq!(match_pattern(&json!({"spec": {"securityContext": {}}}), &pattern), Outcome::Pass);
    assert_eq!(
        match_pattern(&json!({"spec": {"securityContext": {"runAsNonRoot": false}}}), &pattern),
        fail("/spec/securityContext/runAsNonRoot/", "resource value 'false' does not match 'true' at path /spec/securityContext/runAsNonRoot/")
    );
}

#[test]
fn star_requires_a_non_null_key_and_reports_the_parent() {
    let pattern = json!({"metadata": {"labels": "*"}});
    assert_eq!(match_pattern(&json!({"metadata": {"labels": {"a": "b"}}}), &pattern), Outcome::Pass);
    assert_eq!(match_pattern(&json!({"metadata": {"name": "x"}}), &pattern), fail("/metadata/", "/metadata//labels not found"));
}

#[test]
fn structure_mismatches_name_go_types() {
    assert_eq!(
        match_pattern(&json!({"spec": "x"}), &json!({"spec": {"a": 1}})),
        fail("/spec/", "pattern and resource have different structures. Path: /spec/. Expected map[string]interface {}, found string")
    );
    assert_eq!(
        match_pattern(&json!({"spec": {"a": 1}}), &json!({"spec": [1]})),
        fail("/spec/", "validation rule failed at path /spec/, resource does not satisfy the expected overlay pattern")
    );
}

#[test]
fn scalar_list_patterns_apply_their_first_element_to_every_value() {
    let pattern = json!({"spec": {"args": ["--safe*"]}});
    assert_eq!(match_pattern(&json!({"spec": {"args": ["--safe", "--safer"]}}), &pattern), Outcome::Pass);
    assert_eq!(
        match_pattern(&json!({"spec": {"args": ["--safe", "--unsafe", 3]}}), &pattern),
        fail("/spec/args/", "resource value '[--safe --unsafe 3]' does not match '--safe*' at path /spec/args/")
    );
    assert_eq!(match_pattern(&json!({"spec": {"args": []}}), &pattern), Outcome::Pass);
}

#[test]
fn failures_without_a_path_are_execution_errors() {
    // Kyverno reports no path, and so a rule error, when an anchor key never appeared in the resource.
    let pattern = json!({"^(initContainers)": [{"name": "x"}], "image": "y"});
    let outcome = match_pattern(&json!({"image": "z"}), &pattern);
    assert_eq!(outcome, fail("", "resource value 'z' does not match 'y' at path /image/"));
    assert!(matches!(outcome, Outcome::Fail(ref failure) if failure.is_execution_error()));
    // A negated key that is absent is not missing.
    let pattern = json!({"X(hostPID)": "null", "image": "y"});
    assert_eq!(match_pattern(&json!({"image": "z"}), &pattern), fail("/image/", "resource value 'z' does not match 'y' at path /image/"));
    // Lists of lists are compared by position; a shorter resource list has no path.
    assert_eq!(
        match_pattern(&json!({"m": [[1]]}), &json!({"m": [[1], [2]]})),
        fail("", "validate Array failed, array length mismatch, resource Array len is 1 and pattern Array len is 2")
    );
}

#[test]
fn add_anchor_is_looked_up_literally_during_validation() {
    // Kyverno has no validation handler for `+(key)`: the literal key is absent, so null is checked.
    assert_eq!(
        match_pattern(&json!({"foo": "bar"}), &json!({"+(foo)": "bar"})),
        fail("/+(foo)/", "resource value '<nil>' does not match 'bar' at path /+(foo)/")
    );
    assert_eq!(match_pattern(&json!({"foo": "bar"}), &json!({"+(foo)": null})), Outcome::Pass);
}

#[test]
fn wildcard_label_keys_are_expanded_once_per_evaluation() {
    let pattern = json!({"spec": {"templates": [{"metadata": {"labels": {"team-*": "?*"}}}]}});
    // The first element's key replaces the wildcard; the second element lacks that key.
    let resource = json!({"spec": {"templates": [
        {"metadata": {"labels": {"team-a": "x"}}},
        {"metadata": {"labels": {"team-b": "y"}}},
    ]}});
    assert_eq!(
        match_pattern(&resource, &pattern),
        fail("/spec/templates/1/metadata/labels/team-a/", "resource value '<nil>' does not match '?*' at path /spec/templates/1/metadata/labels/team-a/")
    );
    // Each evaluation starts from the policy's pattern again.
    let single = json!({"spec": {"templates": [{"metadata": {"labels": {"team-b": "y"}}}]}});
    assert_eq!(match_pattern(&single, &pattern), Outcome::Pass);
}

#[test]
fn anchored_keys_are_evaluated_in_sorted_order_and_a_skip_excuses_later_failures() {
    // `(name)` sorts before `=(emptyDir)`: its skip makes the emptyDir failure moot.
    let pattern = json!({"spec": {"volumes": [{"=(emptyDir)": {"sizeLimit": "?*"}, "(name)": "!cache"}]}});
    assert_eq!(
        match_pattern(&json!({"spec": {"volumes": [{"name": "cache", "emptyDir": {}}]}}), &pattern),
        skip("conditional anchor mismatch: resource value 'cache' does not match '!cache' at path /spec/volumes/0/name/")
    );
    // Once the condition holds, the equality anchor is checked.
    assert_eq!(
        match_pattern(&json!({"spec": {"volumes": [{"name": "data", "emptyDir": {}}]}}), &pattern),
        fail("/spec/volumes/0/emptyDir/sizeLimit/", "resource value '<nil>' does not match '?*' at path /spec/volumes/0/emptyDir/sizeLimit/")
    );
}

#[test]
fn values_compare_as_durations_then_quantities_then_text() {
    let cases = [
        (json!("100Mi"), json!("<=1Gi"), true),
        (json!("2Gi"), json!("<=1Gi"), false),
        (json!("500m"), json!(">0.4"), true),
        (json!(2), json!("1-3"), true),
        (json!("1m"), json!(">30s"), true),
        (json!("90s"), json!("1m-2m"), true),
        (json!("10s"), json!("!10s"), false),
        (json!(null), json!(">=0"), true),
        (json!(null), json!("!foo"), false),
        (json!(80), json!("8*"), true),
        (json!(80.5), json!("8.05E+01"), true),
        (json!(true), json!("true"), true),
        (json!(true), json!("!false"), true),
        (json!("nginx:1.25"), json!("*:latest | nginx:*"), true),
        (json!("abc"), json!(">a"), false),
        (json!({"a": 1}), json!("*"), false),
        (json!([1]), json!([1]), false),
    ];
    for (value, pattern, expected) in cases {
        assert_eq!(value_matches(&value, &pattern), expected, "{value} against {pattern}");
    }
}

#[test]
fn deep_input_is_refused_not_walked() {
    let mut pattern = json!("x");
    for _ in 0..300 {
        pattern = json!({"a": pattern});
    }
    let outcome = match_pattern(&json!({}), &pattern);
    assert!(matches!(outcome, Outcome::Fail(ref failure) if failure.is_execution_error()), "{outcome:?}");
}

#[test]
fn the_deepest_accepted_pattern_is_walked_on_a_small_stack() {
    let mut pattern = json!("leaf");
    let mut resource = json!("leaf");
    // Each step nests a map and a list: 256 levels in all, the most that is walked.
    for i in 0..128 {
        let key = if i % 2 == 0 { "(a)" } else { "a" };
        pattern = json!({key: [pattern]});
        resource = json!({"a": [resource]});
    }
    let outcome = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || match_pattern(&resource, &pattern))
        .map(|handle| handle.join());
    assert!(matches!(outcome, Ok(Ok(Outcome::Pass))), "{outcome:?}");
}
