//! Kyverno's variable substitution tests, ported: the documents, contexts and expected results
//! of pkg/engine/variables/vars_test.go, variables_test.go and regex/vars_test.go from
//! kyverno/kyverno at commit 111e07bbecc66abfde36ab99969af22d7a961003 (Apache-2.0).
//!
//! Kyverno's `context.AddResource` puts the resource at `request.object` and `AddUserInfo` the
//! user at `request.userInfo`; the contexts here are those JSON roots. Tests of Go helpers with no
//! counterpart here (`ReplaceAllVars`, `FindAndShiftReferences`, mock contexts with allow-lists)
//! are not ported.

use palisade_kyverno::variables::{substitute_all, substitute_str};
use serde_json::{Value, json};

fn resource() -> Value {
    json!({"metadata": {"name": "temp", "namespace": "n1"}, "spec": {"namespace": "n1", "name": "temp1"}})
}

fn with_object(object: Value) -> Value {
    json!({"request": {"object": object}})
}

fn with_object_and_user(object: Value) -> Value {
    json!({"request": {"object": object, "userInfo": {"username": "user1"}}})
}

fn role_pattern(name: &str) -> Value {
    json!({
        "kind": "ClusterRole",
        "name": name,
        "data": {"rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["*"], "resourceNames": ["{{request.object.metadata.name}}"]}]}
    })
}

#[test]
fn sub_vars_success_and_failure() {
    let pattern = json!({
        "kind": "{{request.object.metadata.name}}",
        "name": "ns-owner-{{request.object.metadata.name}}",
        "data": {"rules": [{"apiGroups": ["{{request.object.metadata.name}}"], "resources": ["namespaces"], "verbs": ["*"], "resourceNames": ["{{request.object.metadata.name}}"]}]}
    });
    assert!(substitute_all(&pattern, &with_object(resource())).is_ok());
    let failing = json!({
        "kind": "{{request.object.metadata.name1}}",
        "name": "ns-owner-{{request.object.metadata.name}}",
        "data": {"rules": [{"apiGroups": ["{{request.object.metadata.name}}"], "resources": ["namespaces"], "verbs": ["*"], "resourceNames": ["{{request.object.metadata.name1}}"]}]}
    });
    assert!(substitute_all(&failing, &with_object(resource())).is_err());
}

#[test]
fn sub_vars_with_jmespath_at() {
    let pattern = json!({"mutate": {"overlay": {"spec": {
        "kind": "{{@}}",
        "data": {"rules": [{"apiGroups": ["{{request.object.metadata.name}}"], "resources": ["namespaces"], "verbs": ["*"], "resourceNames": ["{{request.object.metadata.name}}"]}]}
    }}}});
    let object = json!({"metadata": {"name": "temp", "namespace": "n1"}, "spec": {"kind": "foo", "namespace": "n1", "name": "temp1"}});
    let expected = json!({"mutate": {"overlay": {"spec": {
        "data": {"rules": [{"apiGroups": ["temp"], "resourceNames": ["temp"], "resources": ["namespaces"], "verbs": ["*"]}]},
        "kind": "foo"
    }}}});
    assert_eq!(substitute_all(&pattern, &with_object(object)).unwrap(), expected);
}

#[test]
fn sub_vars_with_regex_functions() {
    let object = json!({"metadata": {"name": "temp", "namespace": "n1"}, "spec": {"port": "443", "namespace": "n1", "name": "temp1"}});
    let pattern = json!({"mutate": {"overlay": {"spec": {"port": "{{ regex_match('(443)', '{{@}}') }}", "name": "ns-owner-{{request.object.metadata.name}}"}}}});
    let expected = json!({"mutate": {"overlay": {"spec": {"name": "ns-owner-temp", "port": true}}}});
    assert_eq!(substitute_all(&pattern, &with_object(object)).unwrap(), expected);

    let object = json!({"metadata": {"name": "temp", "namespace": "n1"}, "spec": {"port": "43123", "namespace": "n1", "name": "temp1"}});
    let pattern =
        json!({"mutate": {"overlay": {"spec": {"port": "{{ regex_replace_all_literal('.*', '{{@}}', '1313') }}", "name": "ns-owner-{{request.object.metadata.name}}"}}}});
    let expected = json!({"mutate": {"overlay": {"spec": {"name": "ns-owner-temp", "port": "1313"}}}});
    assert_eq!(substitute_all(&pattern, &with_object(object)).unwrap(), expected);
}

#[test]
fn sub_vars_with_merge() {
    let pattern = json!({"map": "{{ merge(`{\"a\": 1}`, `{\"b\": 1}`)}}"});
    assert_eq!(substitute_all(&pattern, &with_object(json!({}))).unwrap(), json!({"map": {"a": 1, "b": 1}}));
}

#[test]
fn delete_requests_read_the_old_object() {
    let context = json!({"request": {
        "operation": "DELETE",
        "object": {"metadata": {"name": "curr", "namespace": "ns", "annotations": {"target": "foo"}}},
        "oldObject": {"metadata": {"name": "old", "annotations": {"target": "bar"}}}
    }});
    assert_eq!(substitute_all(&json!("{{request.object.metadata.annotations.target}}"), &context).unwrap(), json!("bar"));

    let context = json!({"request": {
        "operation": "DELETE",
        "oldObject": {"metadata": {"name": "current", "namespace": "ns", "annotations": {"target": "nested_target", "targetnew": "target"}}}
    }});
    let nested = json!("{{request.object.metadata.annotations.{{request.object.metadata.annotations.targetnew}}}}");
    assert_eq!(substitute_all(&nested, &context).unwrap(), json!("nested_target"));
    let escaped = json!("\\{{request.object.metadata.annotations.{{request.object.metadata.annotations.targetnew}}}}");
    assert_eq!(substitute_all(&escaped, &context).unwrap(), json!("{{request.object.metadata.annotations.target}}"));
}

fn annotated() -> Value {
    with_object(json!({
        "metadata": {"name": "temp", "namespace": "n1", "annotations": {"test": "name"}},
        "spec": {"namespace": "n1", "name": "temp1"}
    }))
}

#[test]
fn substitute_inside_quotes() {
    assert_eq!(substitute_str("\"{{request.object.metadata.annotations.test}}\"", &annotated()).unwrap(), "\"name\"");
}

#[test]
fn recursive_substitution() {
    assert_eq!(substitute_str("\"{{request.object.metadata.{{request.object.metadata.annotations.test}}}}\"", &annotated()).unwrap(), "\"temp\"");
    assert!(substitute_str("\"{{request.object.metadata.{{request.object.metadata.annotations.test2}}}}\"", &annotated()).is_err());
    assert!(substitute_str("\"{{request.object.metadata2.{{request.object.metadata.annotations.test}}}}\"", &annotated()).is_err());
}

#[test]
fn shallow_substitution() {
    let context = json!({
        "variableWithVariables": "{{ DO_NOT_SUBSTITUTE_ME {{OR_ME}} }}",
        "foo": "bar",
        "foo2": "bar2",
        "variablesNested": "{{foo2}}"
    });
    assert_eq!(
        substitute_str("\"{{- variableWithVariables }} {{foo}} {{variablesNested}}\"", &context).unwrap(),
        "\"{{ DO_NOT_SUBSTITUTE_ME {{OR_ME}} }} bar bar2\""
    );
    assert_eq!(
        substitute_str("\"{{foo}} {{- variableWithVariables }} {{variablesNested}}\"", &context).unwrap(),
        "\"bar {{ DO_NOT_SUBSTITUTE_ME {{OR_ME}} }} bar2\""
    );
    let error = substitute_str("\"{{- variableWithVariables {{foo}} {{variablesNested}} }}\"", &context).unwrap_err();
    assert!(error.to_string().contains("failed to resolve variableWithVariables bar bar2"), "{error}");
}

#[test]
fn unknown_variables_in_a_policy_context_fail() {
    let document = json!({"context": [{"name": "myconfigmap", "apiCall": {"urlPath": "/api/v1/namespaces/{{ request.namespace }}/configmaps/generate-pod"}}]});
    assert!(substitute_all(&document, &json!({"request": {"object": {}}})).is_err());
}

#[test]
fn variable_substitution_in_a_rule_message() {
    let context = json!({
        "animals": {
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "animals", "namespace": "default"},
            "data": {"animals": "snake\nbear\ncat\ndog"}
        },
        "request": {"object": {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "busybox", "labels": {"app": "busybox", "color": "red", "animal": "cow", "food": "pizza", "car": "jeep", "env": "qa"}}
        }}
    });
    let rule = json!({
        "name": "validate-role-annotation",
        "context": [{"name": "animals", "configMap": {"name": "animals", "namespace": "default"}}],
        "match": {"resources": {"kinds": ["Deployment"]}},
        "validate": {
            "message": "The animal {{ request.object.metadata.labels.animal }} is not in the allowed list of animals: {{ animals.data.animals }}.",
            "deny": {"conditions": [{"key": "{{ request.object.metadata.labels.animal }}", "operator": "NotIn", "value": "{{ animals.data.animals }}"}]}
        }
    });
    let result = substitute_all(&rule, &context).unwrap();
    assert_eq!(result["validate"]["message"], json!("The animal cow is not in the allowed list of animals: snake\nbear\ncat\ndog."));
}

fn variable_object() -> Value {
    with_object(json!({
        "complex_object_array": ["value1", "value2", "value3"],
        "complex_object_map": {"key1": "value1", "key2": "value2", "key3": "value3"},
        "simple_object_bool": false,
        "simple_object_int": 5,
        "simple_object_float": -5.5,
        "simple_object_string": "example",
        "simple_object_null": null
    }))
}

#[test]
fn typed_and_embedded_values() {
    let cases = [
        ("{{ request.object.simple_object_null }}", json!(null)),
        ("content = {{ request.object.simple_object_null }}", json!("content = null")),
        ("{{ request.object.complex_object_array }}", json!(["value1", "value2", "value3"])),
        ("content is {{ request.object.complex_object_map }}", json!(r#"content is {"key1":"value1","key2":"value2","key3":"value3"}"#)),
        ("{{ request.object.simple_object_int }}", json!(5)),
        ("content = {{ request.object.simple_object_int }}", json!("content = 5")),
        ("{{ request.object.simple_object_bool }}", json!(false)),
        ("content = {{ request.object.simple_object_bool }}", json!("content = false")),
        ("{{ request.object.simple_object_string }}", json!("example")),
        ("content = {{ request.object.simple_object_string }}", json!("content = example")),
    ];
    for (content, expected) in cases {
        let result = substitute_all(&json!({"spec": {"content": content}}), &variable_object()).unwrap();
        assert_eq!(result["spec"]["content"], expected, "{content}");
    }
}

#[test]
fn references_resolve_against_the_document() {
    let document = json!({
        "metadata": {"name": "temp", "namespace": "n1", "annotations": {"test": "$(../../../../spec/namespace)"}},
        "(spec)": {"namespace": "n1", "name": "temp1"}
    });
    let expected = json!({
        "metadata": {"name": "temp", "namespace": "n1", "annotations": {"test": "n1"}},
        "(spec)": {"namespace": "n1", "name": "temp1"}
    });
    assert_eq!(substitute_all(&document, &with_object(document.clone())).unwrap(), expected);
}

#[test]
fn references_keep_their_operator() {
    // TestActualizePattern_GivenRelativePathThatExists and the TestFormAbsolutePath cases.
    let pattern = json!({"spec": {"containers": [{"name": "*", "resources": {
        "requests": {"memory": "$(<=./../../limits/memory)"},
        "limits": {"memory": "2048Mi"}
    }}]}});
    let result = substitute_all(&pattern, &json!({})).unwrap();
    assert_eq!(result["spec"]["containers"][0]["resources"]["requests"]["memory"], json!("<=2048Mi"));
    let absolute = json!({"spec": {"a": "$(/spec/b)", "b": "x", "c": "$(../b)"}});
    assert_eq!(substitute_all(&absolute, &json!({})).unwrap(), json!({"spec": {"a": "x", "b": "x", "c": "x"}}));
}

#[test]
fn escaped_references() {
    let document = json!({
        "metadata": {"name": "temp", "namespace": "n1", "annotations": {
            "test1": "$(../../../../spec/namespace)",
            "test2": "\\$(ENV_VAR)",
            "test3": "\\${ENV_VAR}",
            "test4": "\\\\\\${ENV_VAR}",
            "test5": "\\$(NODE_NAME)/postgres/\\$(POD_NAME)"
        }},
        "(spec)": {"namespace": "n1", "name": "temp1"}
    });
    let expected = json!({
        "metadata": {"name": "temp", "namespace": "n1", "annotations": {
            "test1": "n1",
            "test2": "$(ENV_VAR)",
            "test3": "\\${ENV_VAR}",
            "test4": "\\\\\\${ENV_VAR}",
            "test5": "$(NODE_NAME)/postgres/$(POD_NAME)"
        }},
        "(spec)": {"namespace": "n1", "name": "temp1"}
    });
    assert_eq!(substitute_all(&document, &with_object(document.clone())).unwrap(), expected);
}

#[test]
fn variables_tests_from_variables_test_go() {
    let context = with_object_and_user(resource());
    let expected = json!({"data": {"rules": [{"apiGroups": [""], "resourceNames": ["temp"], "resources": ["namespaces"], "verbs": ["*"]}]}, "kind": "ClusterRole", "name": "ns-owner-user1"});
    assert_eq!(substitute_all(&role_pattern("ns-owner-{{request.userInfo.username}}"), &context).unwrap(), expected);

    let expected = json!({"data": {"rules": [{"apiGroups": [""], "resourceNames": ["temp"], "resources": ["namespaces"], "verbs": ["*"]}]}, "kind": "ClusterRole", "name": "ns-owner-n1-user1-bindings"});
    let pattern = role_pattern("ns-owner-{{request.object.metadata.namespace}}-{{request.userInfo.username}}-bindings");
    assert_eq!(substitute_all(&pattern, &context).unwrap(), expected);

    let mut pattern = role_pattern("ns-owner-{{request.userInfo.username}}");
    pattern.as_object_mut().unwrap().remove("kind");
    let expected = json!({"data": {"rules": [{"apiGroups": [""], "resourceNames": ["temp"], "resources": ["namespaces"], "verbs": ["*"]}]}, "name": "ns-owner-user1"});
    assert_eq!(substitute_all(&pattern, &context).unwrap(), expected);

    let context = with_object(resource());
    assert_eq!(substitute_all(&json!({"spec": {"name": "{{request.object.metadata.name}}"}}), &context).unwrap(), json!({"spec": {"name": "temp"}}));
    assert_eq!(substitute_all(&json!({"spec": {"name": "!{{request.object.metadata.name}}"}}), &context).unwrap(), json!({"spec": {"name": "!temp"}}));
    assert!(substitute_all(&json!({"spec": {"name": "{{request.object.metadata.name1}}"}}), &context).is_err());

    let context = with_object(json!({
        "metadata": {"name": "temp", "namespace": "n1"},
        "spec": {"namespace": "n1", "variable": {"var1": "temp1", "var2": "temp2", "varNested": {"var1": "temp1"}}}
    }));
    let variable = json!({"var1": "temp1", "var2": "temp2", "varNested": {"var1": "temp1"}});
    assert_eq!(
        substitute_all(&json!({"spec": {"variable": "{{request.object.spec.variable}}"}}), &context).unwrap(),
        json!({"spec": {"variable": variable}})
    );
    assert_eq!(
        substitute_all(&json!({"spec": {"variable": "!{{request.object.spec.variable}}"}}), &context).unwrap(),
        json!({"spec": {"variable": r#"!{"var1":"temp1","var2":"temp2","varNested":{"var1":"temp1"}}"#}})
    );
    assert_eq!(
        substitute_all(
            &json!({"spec": {"var": "{{request.object.spec.variable.varNested.var1}}", "variable": "{{request.object.spec.variable}}"}}),
            &context
        )
        .unwrap(),
        json!({"spec": {"var": "temp1", "variable": variable}})
    );
}

#[test]
fn what_counts_as_a_variable() {
    // regex/vars_test.go and utils_test.go: which strings hold a variable or a reference.
    let context = json!({"value": "v", "foo": "f", "a": "A", "b": "B", "request": {"object": {"metadata": {"name": "n"}}}, "val": "x", "name": "N"});
    assert_eq!(substitute_str("tag: {{ value }}", &context).unwrap(), "tag: v");
    assert_eq!(substitute_str("{{a}}-{{b}}", &context).unwrap(), "A-B");
    assert_eq!(substitute_str("{{request.object.metadata.name}}", &context).unwrap(), "n");
    for literal in ["just-a-string", "{{request.object", "", "\\{{ foo }}"] {
        assert_eq!(substitute_str(literal, &context).unwrap(), literal.replace("\\{{", "{{"), "{literal}");
    }
    let document = json!({"metadata": {"name": "{{name}}"}, "key": "{{val}}"});
    assert_eq!(substitute_all(&document, &context).unwrap(), json!({"metadata": {"name": "N"}, "key": "x"}));
    // `$(./../name)` is a reference (here to itself); `$(./name` is not.
    let references = json!({"name": "$(./../name)", "other": "$(./name"});
    assert_eq!(substitute_all(&references, &json!({})).unwrap(), references);
}
