//! Variants of a Kubernetes object for the tests that compare remembered policy verdicts with
//! fresh ones (Gatekeeper's and Kyverno's): each changes fields a policy may or may not read.
//! Included by those tests with `#[path]`.

use serde_json::{Value, json};

/// Variants of a resource: renamed, relabelled, annotated, in another namespace, with a
/// container's image, security context or resources changed, and with fields removed.
pub fn variants(object: &Value) -> Vec<Value> {
    let mut out = vec![object.clone()];
    let mut renamed = object.clone();
    renamed["metadata"]["name"] = json!("renamed");
    renamed["metadata"]["uid"] = json!("uid-renamed");
    out.push(renamed);
    for (field, key, value) in [("labels", "app.kubernetes.io/name", "extra"), ("annotations", "note", "yes"), ("labels", "app", "other")] {
        let mut changed = object.clone();
        if changed["metadata"][field].is_null() {
            changed["metadata"][field] = json!({});
        }
        changed["metadata"][field][key] = json!(value);
        out.push(changed);
    }
    let mut moved = object.clone();
    moved["metadata"]["namespace"] = json!("elsewhere");
    out.push(moved);
    for pointer in ["/spec/containers/0", "/spec/template/spec/containers/0", "/spec/jobTemplate/spec/template/spec/containers/0"] {
        if object.pointer(pointer).is_some() {
            let changes = [
                ("image", json!("nginx:latest")),
                ("securityContext", json!({"privileged": true, "runAsUser": 0, "allowPrivilegeEscalation": true})),
                ("securityContext", json!({"runAsNonRoot": true, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}})),
                ("resources", json!({"limits": {"cpu": "100m", "memory": "1Gi"}, "requests": {"cpu": "50m", "memory": "512Mi"}})),
                ("ports", json!([{"containerPort": 80, "hostPort": 8080}])),
            ];
            for (key, value) in changes {
                let mut changed = object.clone();
                changed.pointer_mut(pointer).unwrap()[key] = value;
                out.push(changed.clone());
                // The same change on a renamed object: remembered.
                changed["metadata"]["name"] = json!("renamed-changed");
                out.push(changed);
            }
        }
    }
    // Each field of the metadata, the spec, the pod template's spec and the first container
    // removed in turn.
    for pointer in ["/metadata", "/spec", "/spec/template/spec", "/spec/containers/0", "/spec/template/spec/containers/0"] {
        let keys: Vec<String> = object.pointer(pointer).and_then(Value::as_object).map(|fields| fields.keys().cloned().collect()).unwrap_or_default();
        for key in keys {
            let mut removed = object.clone();
            removed.pointer_mut(pointer).unwrap().as_object_mut().unwrap().remove(&key);
            out.push(removed);
        }
    }
    out
}
