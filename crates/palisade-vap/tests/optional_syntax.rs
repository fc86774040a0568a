//! CEL's optional syntax in policies (`x.?f`, `x[?k]`, `.orValue()`, `.hasValue()`), evaluated
//! through `PolicySet` on objects that have and that lack the fields.
//!
//! Each expected result is what the API server's cel-go gives, reasoned from its documented
//! semantics: the cel-spec optional proposal and cel-go's `interpreter/attributes.go`
//! (`applyQualifiers`, `refQualify`): `x.?f` is `optional.of(x.f)` when `x` has `f`, else
//! `optional.none()`, a chain stays none once none, `x[?k]` likewise for map keys, and
//! `orValue(d)` is the value when present, else `d`. Expressions are the shapes of Kyverno's
//! policy library (kyverno/policies, Apache-2.0) quoted in palisade's brief.

use palisade_vap::{Outcome, PolicySet, Request};
use serde_json::{Value, json};

/// The denial message of one policy holding `expression` as its only validation, on `object`;
/// `None` when the object is admitted.
fn denial(expression: &str, object: &Value) -> Option<String> {
    let policy = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "optional"},
        "spec": {"failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["CREATE"], "resources": ["*"]}]},
            "validations": [{"expression": expression}]}});
    let binding = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": "optional"}, "spec": {"policyName": "optional", "validationActions": ["Deny"]}});
    let (set, warnings) = PolicySet::from_objects(vec![policy, binding]);
    assert!(warnings.is_empty(), "{expression}: {warnings:?}");
    let decisions = set.evaluate(&Request::create(object, None));
    let mut denials = Vec::new();
    for decision in decisions {
        match decision.outcome {
            Outcome::Violation(violation) => denials.push(violation.message),
            other => panic!("{expression}: {other:?}"),
        }
    }
    denials.pop()
}

fn admits(expression: &str, object: &Value) -> bool {
    denial(expression, object).is_none()
}

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}, "spec": spec})
}

fn pod_with_metadata(metadata: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": {"containers": [{"name": "c", "image": "i"}]}})
}

#[test]
fn fs_group_defaults_when_the_security_context_or_the_field_is_absent() {
    let expression = "object.spec.?securityContext.?fsGroup.orValue(1) > 0";
    assert!(admits(expression, &pod(json!({"containers": []}))));
    assert!(admits(expression, &pod(json!({"securityContext": {}}))));
    assert!(admits(expression, &pod(json!({"securityContext": {"fsGroup": 2000}}))));
    assert!(!admits(expression, &pod(json!({"securityContext": {"fsGroup": 0}}))));
}

#[test]
fn missing_annotations_are_an_empty_list() {
    let expression = "!object.metadata.?annotations.orValue([]).exists(a, a.endsWith('-snippet'))";
    assert!(admits(expression, &pod_with_metadata(json!({"name": "p"}))));
    assert!(admits(expression, &pod_with_metadata(json!({"name": "p", "annotations": {"a": "b-snippet"}}))), "keys are tested");
    assert!(!admits(expression, &pod_with_metadata(json!({"name": "p", "annotations": {"x-snippet": "v"}}))));
}

#[test]
fn memory_requests_equal_limits_only_where_requested() {
    let expression = "object.spec.containers.all(c, !c.?resources.?requests.?memory.hasValue() || c.resources.requests.memory == c.resources.?limits.?memory.orValue('-1'))";
    let containers = |resources: Value| pod(json!({"containers": [{"name": "c", "image": "i", "resources": resources}]}));
    assert!(admits(expression, &pod(json!({"containers": [{"name": "c", "image": "i"}]}))));
    assert!(admits(expression, &containers(json!({"requests": {"cpu": "1"}}))));
    assert!(admits(expression, &containers(json!({"requests": {"memory": "1Gi"}, "limits": {"memory": "1Gi"}}))));
    assert!(!admits(expression, &containers(json!({"requests": {"memory": "1Gi"}}))));
    assert!(!admits(expression, &containers(json!({"requests": {"memory": "1Gi"}, "limits": {"memory": "2Gi"}}))));
}

#[test]
fn an_optional_label_index_defaults_when_labels_or_the_key_are_absent() {
    let expression = "object.spec.template.metadata.?labels[?'corp.org/version'].orValue('default').matches('^v[0-9]')";
    let deployment = |template: Value| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "default"},
            "spec": {"template": template}})
    };
    assert!(admits(expression, &deployment(json!({"metadata": {"labels": {"corp.org/version": "v2"}}}))));
    assert!(!admits(expression, &deployment(json!({"metadata": {"labels": {"app": "x"}}}))));
    assert!(!admits(expression, &deployment(json!({"metadata": {}}))));
    // `.metadata` is a plain selection: its absence is cel-go's error, denied under Fail.
    let missing = denial(expression, &deployment(json!({"spec": {}}))).unwrap();
    assert!(missing.contains("no such key: metadata"), "{missing}");
}

#[test]
fn missing_volumes_are_an_empty_list() {
    let expression = "object.spec.?volumes.orValue([]).exists(v, has(v.emptyDir))";
    assert!(!admits(expression, &pod(json!({"containers": []}))));
    assert!(admits(expression, &pod(json!({"volumes": [{"name": "a", "emptyDir": {}}]}))));
    assert!(!admits(expression, &pod(json!({"volumes": [{"name": "a", "configMap": {"name": "c"}}]}))));
}

#[test]
fn max_unavailable_defaults_to_one() {
    let expression = "int(object.spec.?maxUnavailable.orValue(1)) > 0";
    let budget = |spec: Value| {
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "b", "namespace": "default"}, "spec": spec})
    };
    assert!(admits(expression, &budget(json!({}))));
    assert!(admits(expression, &budget(json!({"maxUnavailable": 2}))));
    assert!(!admits(expression, &budget(json!({"maxUnavailable": 0}))));
    // `int('25%')` is an error in cel-go too, denied under Fail.
    assert!(denial(expression, &budget(json!({"maxUnavailable": "25%"}))).unwrap().contains("resulted in error"));
}

/// The reason a policy holding `expression` is not evaluated on `object`, if it is not.
fn not_evaluated(expression: &str, object: &Value) -> Option<String> {
    let policy = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "optional"},
        "spec": {"matchConstraints": {"resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["CREATE"], "resources": ["*"]}]},
            "validations": [{"expression": expression}]}});
    let binding = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": "optional"}, "spec": {"policyName": "optional", "validationActions": ["Deny"]}});
    let (set, _) = PolicySet::from_objects(vec![policy, binding]);
    set.evaluate(&Request::create(object, None)).into_iter().find_map(|decision| match decision.outcome {
        Outcome::NotEvaluated { reason, .. } => Some(reason),
        _ => None,
    })
}

#[test]
fn or_value_on_a_plain_value_is_not_evaluated() {
    // cel-go returns the receiver unchanged up to v0.27 and reports no such overload after.
    let reason = not_evaluated("object.spec.orValue({}).size() > 0", &pod(json!({"containers": []}))).unwrap();
    assert!(reason.contains("`orValue` on a map"), "{reason}");
    assert_eq!(not_evaluated("object.spec.?x.orValue({}).size() == 0", &pod(json!({}))), None);
}

#[test]
fn optional_forms_not_modelled_are_not_evaluated() {
    let policy = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "optional"},
        "spec": {"matchConstraints": {"resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["CREATE"], "resources": ["*"]}]},
            "validations": [{"expression": "[?object.spec.?x].size() == 0"}]}});
    let binding = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": "optional"}, "spec": {"policyName": "optional", "validationActions": ["Deny"]}});
    let (set, warnings) = PolicySet::from_objects(vec![policy, binding]);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let decisions = set.evaluate(&Request::create(&pod(json!({})), None));
    assert!(decisions.iter().all(|decision| matches!(decision.outcome, Outcome::NotEvaluated { .. })), "{decisions:?}");
    assert!(!decisions.is_empty());
}
