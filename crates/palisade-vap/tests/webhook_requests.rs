//! Requests as a webhook receives them (AdmissionReview `request`): other operations than
//! CREATE, subresources, DELETE with only the old object, and the response the API server
//! would make.

use palisade_vap::{PolicySet, Request, Verdict};
use serde_json::{Value, json};

fn policies(rules: Value, objects: Value, validation: &str) -> PolicySet {
    let (set, warnings) = PolicySet::from_objects([
        json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": {"name": "p"},
            "spec": {"matchConstraints": {"resourceRules": rules, "objectSelector": objects}, "validations": [{"expression": validation}]}}),
        json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": "b"},
            "spec": {"policyName": "p", "validationActions": ["Deny"]}}),
    ]);
    assert!(warnings.is_empty(), "{warnings:?}");
    set
}

fn review(operation: &str, sub_resource: &str, object: Value, old_object: Value) -> Request {
    Request::from_admission_request(&json!({
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": "apps", "version": "v1", "kind": if sub_resource == "scale" { "Scale" } else { "Deployment" }},
        "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
        "subResource": sub_resource, "name": "web", "namespace": "shop", "operation": operation,
        "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
        "object": object, "oldObject": old_object, "dryRun": false}))
}

fn deployment(labels: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop", "labels": labels}, "spec": {"replicas": 1}})
}

#[test]
fn a_delete_is_selected_by_the_old_objects_labels_and_sees_a_null_object() {
    let set = policies(
        json!([{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["DELETE"], "resources": ["deployments"]}]),
        json!({"matchLabels": {"protected": "true"}}),
        "object != null || request.userInfo.username == 'admin'",
    );
    let protected = review("DELETE", "", Value::Null, deployment(json!({"protected": "true"})));
    let verdict = Verdict::of(&set.evaluate(&protected));
    assert_eq!(verdict.denial.unwrap().message, "ValidatingAdmissionPolicy 'p' with binding 'b' denied request: failed expression: object != null || request.userInfo.username == 'admin'");
    let unprotected = review("DELETE", "", Value::Null, deployment(json!({})));
    assert!(set.evaluate(&unprotected).is_empty());
}

#[test]
fn subresources_match_only_rules_that_name_them() {
    let scale = json!({"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": 9}});
    let request = review("UPDATE", "scale", scale.clone(), scale);
    let main_only = policies(json!([{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["UPDATE"], "resources": ["deployments"]}]), json!({}), "false");
    assert!(main_only.evaluate(&request).is_empty());
    let with_scale = policies(
        json!([{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["UPDATE"], "resources": ["deployments/scale"]}]),
        json!({}),
        "object.spec.replicas <= 5 && request.subResource == 'scale' && request.kind.kind == 'Scale'",
    );
    assert_eq!(with_scale.evaluate(&request).len(), 1);
    let every_subresource = policies(json!([{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*/*"]}]), json!({}), "false");
    assert_eq!(every_subresource.evaluate(&request).len(), 1);
}

#[test]
fn an_update_compares_the_object_with_the_old_one() {
    let set = policies(
        json!([{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["UPDATE"], "resources": ["deployments"]}]),
        json!({}),
        "object.metadata.labels == oldObject.metadata.labels",
    );
    let same = review("UPDATE", "", deployment(json!({"a": "1"})), deployment(json!({"a": "1"})));
    assert!(set.evaluate(&same).is_empty());
    let relabelled = review("UPDATE", "", deployment(json!({"a": "2"})), deployment(json!({"a": "1"})));
    assert_eq!(set.evaluate(&relabelled).len(), 1);
}
