//! Substitution as Kyverno does it: typed whole-string variables, embedded ones written in.

use palisade_kyverno::variables::{substitute_all, substitute_str};
use serde_json::json;

#[test]
fn whole_and_embedded_variables() {
    let context = json!({"request": {"object": {"metadata": {"name": "web", "labels": {"b": "2", "a": "1"}}, "spec": {"replicas": 3}}}});
    let document = json!({
        "replicas": "{{ request.object.spec.replicas }}",
        "labels": "{{request.object.metadata.labels}}",
        "text": "name={{request.object.metadata.name}} labels={{request.object.metadata.labels}} n={{request.object.spec.replicas}}",
        "escaped": "\\{{ not.a.variable }}",
        "{{request.object.metadata.name}}-key": "x",
        "fallback": "{{ request.object.metadata.namespace || 'default' }}"
    });
    let result = substitute_all(&document, &context).unwrap();
    assert_eq!(result["replicas"], json!(3));
    assert_eq!(result["labels"], json!({"a": "1", "b": "2"}));
    assert_eq!(result["text"], json!(r#"name=web labels={"a":"1","b":"2"} n=3"#));
    assert_eq!(result["escaped"], json!("{{ not.a.variable }}"));
    assert_eq!(result["web-key"], json!("x"));
    assert_eq!(result["fallback"], json!("default"));
    assert_eq!(substitute_str("{{request.object.metadata.name}} has {{request.object.spec.replicas}}", &context).unwrap(), "web has 3");
}

#[test]
fn unresolved_variables_fail_with_kyvernos_message() {
    let context = json!({"request": {"object": {"spec": {}}}});
    let error = substitute_all(&json!({"a": {"b": "x {{request.object.spec.sourceRef.namespace}}"}}), &context).unwrap_err();
    assert_eq!(
        error.to_string(),
        "failed to resolve request.object.spec.sourceRef.namespace at path /a/b: JMESPath query failed: Unknown key \"sourceRef\" in path"
    );
    assert!(error.is_unknown_key());
}

#[test]
fn a_value_that_reproduces_its_variable_is_an_error_not_a_hang() {
    let context = json!({"a": "{{a}}"});
    let error = substitute_all(&json!("x {{a}}"), &context).unwrap_err();
    assert_eq!(error.to_string(), "failed to resolve variables at path : their values keep producing variables");
}
