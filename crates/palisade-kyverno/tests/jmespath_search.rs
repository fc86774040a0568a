//! How Palisade's JMESPath differs from plain JMESPath where Kyverno's go-jmespath fork differs:
//! a path through an object lacking the key fails, except where the fork swallows that failure.

use palisade_kyverno::jmespath::{Error, search};
use serde_json::json;

fn data() -> serde_json::Value {
    json!({"request": {"object": {"metadata": {"name": "web", "labels": {"app": "shop"}, "annotations": null}}}})
}

#[test]
fn a_missing_key_on_a_path_is_an_error() {
    let error = search("request.object.metadata.namespace", &data()).unwrap_err();
    assert_eq!(error, Error::UnknownKey("namespace".into()));
    assert_eq!(error.to_string(), "Unknown key \"namespace\" in path");
    assert_eq!(search("missing", &data()).unwrap_err(), Error::UnknownKey("missing".into()));
    assert_eq!(search("request.object.metadata.labels.team.name", &data()).unwrap_err(), Error::UnknownKey("team".into()));
}

#[test]
fn a_key_below_null_is_null() {
    assert_eq!(search("request.object.metadata.annotations.foo", &data()).unwrap(), json!(null));
    assert_eq!(search("request.object.metadata.name.foo", &data()).unwrap(), json!(null));
}

#[test]
fn or_pipes_functions_and_projections_swallow_missing_keys() {
    assert_eq!(search("request.object.metadata.namespace || 'default'", &data()).unwrap(), json!("default"));
    assert_eq!(search("request.object.metadata.namespace | @", &data()).unwrap(), json!(null));
    assert_eq!(search("to_string(request.object.metadata.namespace)", &data()).unwrap(), json!("null"));
    assert_eq!(search("request.object.missing[*].name", &data()).unwrap(), json!(null));
    assert_eq!(search("[request.object.missing.name, 'x']", &data()).unwrap(), json!([null, "x"]));
    assert_eq!(search("request.object.metadata.namespace == null", &data()).unwrap(), json!(true));
    // Offsets are bytes: text before the pipe that is not ASCII must not hide it.
    assert_eq!(search("\"\u{e9}t\u{e9}\".missing | @", &json!({"\u{e9}t\u{e9}": {}})).unwrap(), json!(null));
    assert_eq!(search("\"\u{e9}t\u{e9}\".missing", &json!({"\u{e9}t\u{e9}": {}})).unwrap_err(), Error::UnknownKey("missing".into()));
}

#[test]
fn and_keeps_the_failure_of_its_right_side() {
    assert_eq!(search("request.object.metadata.name && request.object.metadata.namespace", &data()).unwrap_err(), Error::UnknownKey("namespace".into()));
    assert_eq!(search("request.object.metadata.namespace && request.object.metadata.name", &data()).unwrap(), json!(null));
}

#[test]
fn whole_numbers_come_back_as_integers() {
    assert_eq!(search("add(`1`, `2`)", &json!({})).unwrap(), json!(3));
    assert_eq!(search("divide(`3`, `2`)", &json!({})).unwrap(), json!(1.5));
}

#[test]
fn syntax_errors_and_unknown_functions_are_errors() {
    assert!(matches!(search("a.[", &json!({})), Err(Error::Syntax(_))));
    assert_eq!(search("nope(@)", &json!({})).unwrap_err().to_string(), "unknown function: nope");
}

#[test]
fn search_is_usable_from_several_threads() {
    let handles: Vec<_> = (0..4)
        .map(|index| std::thread::spawn(move || search("add(`1`, @)", &json!(index)).unwrap()))
        .collect();
    let results: Vec<_> = handles.into_iter().map(|handle| handle.join().unwrap()).collect();
    assert_eq!(results, vec![json!(1), json!(2), json!(3), json!(4)]);
}

#[test]
fn a_projection_drops_elements_whose_path_is_missing_before_functions_see_them() {
    // kyverno/policies other/require-qos-burstable: a container without `resources` is skipped,
    // not passed to `keys` as null.
    let pod = json!({"spec": {"containers": [{"name": "a"}, {"name": "b", "resources": {"limits": {}}}]}});
    assert_eq!(search("spec.containers[].resources.keys(@)[]", &pod).unwrap(), json!(["limits"]));
    let bare = json!({"metadata": {}});
    assert_eq!(search("metadata.annotations.values(@)[].length(@)", &bare).unwrap(), json!(null));
}
