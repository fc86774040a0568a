//! Kyverno's exclusion semantics beyond its own table: bad values the PSA fork gives to fields a
//! container leaves unset, and exclusions on a pod template.

use palisade_kyverno::engine::Status;
use palisade_kyverno::pod_security::evaluate;
use serde_json::{Value, json};

fn status(rule: Value, resource: &Value) -> Status {
    evaluate("rule", &json!({"podSecurity": rule}), resource).0
}

fn pod(containers: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": containers}})
}

#[test]
fn unset_allow_privilege_escalation_has_the_bad_value_nil() {
    let rule = |values: Value| json!({"level": "restricted", "version": "v1.24", "exclude": [
        {"controlName": "Privilege Escalation", "images": ["nginx"], "restrictedField": "spec.containers[*].securityContext.allowPrivilegeEscalation", "values": values},
        {"controlName": "Capabilities", "images": ["nginx"]},
        {"controlName": "Running as Non-root", "images": ["nginx"]},
        {"controlName": "Seccomp", "images": ["nginx"]}]});
    let resource = pod(json!([{"name": "a", "image": "nginx", "securityContext": {}}]));
    assert_eq!(status(rule(json!(["nil"])), &resource), Status::Pass);
    assert_eq!(status(rule(json!(["true"])), &resource), Status::Fail);
    // Without a securityContext the field is required and has no bad value: any `values` match.
    let bare = pod(json!([{"name": "a", "image": "nginx"}]));
    assert_eq!(status(rule(json!(["true"])), &bare), Status::Pass);
}

#[test]
fn exclusions_apply_to_a_deployment_template() {
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"metadata": {}, "spec": {
        "hostNetwork": true,
        "containers": [{"name": "a", "image": "nginx", "securityContext": {"privileged": true}}]}}}});
    let rule = |excludes: Value| json!({"level": "baseline", "version": "latest", "exclude": excludes});
    assert_eq!(status(rule(json!([{"controlName": "Host Namespaces"}])), &deployment), Status::Fail);
    let both = json!([{"controlName": "Host Namespaces"}, {"controlName": "Privileged Containers", "images": ["ngin*"]}]);
    assert_eq!(status(rule(both), &deployment), Status::Pass);
    let other_image = json!([{"controlName": "Host Namespaces"}, {"controlName": "Privileged Containers", "images": ["busybox"]}]);
    assert_eq!(status(rule(other_image), &deployment), Status::Fail);
}

#[test]
fn proc_mount_exclusion_covers_restricted_from_v1_35() {
    let resource = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "a", "image": "nginx", "securityContext": {"procMount": "Unmasked", "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]}});
    let rule = |excludes: Value| json!({"level": "restricted", "version": "latest", "exclude": excludes});
    assert_eq!(status(rule(json!([])), &resource), Status::Fail);
    assert_eq!(status(rule(json!([{"controlName": "/proc Mount Type", "images": ["nginx"]}])), &resource), Status::Pass);
}
