//! Conformance against Falco's own k8s audit rules (read from `$PALISADE_UPSTREAM`, never
//! copied into the repository) with audit events written for each rule.

use std::path::PathBuf;

use palisade_audit::engine::{Engine, Matching};
use palisade_audit::fields::Event;
use palisade_audit::rules;

fn upstream() -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_UPSTREAM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream"));
    let dir = dir.join("falco");
    if dir.join("k8s_audit_rules.yaml").is_file() {
        return Some(dir);
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "upstream Falco rules missing at {} under CI", dir.display());
    eprintln!("SKIPPED: upstream Falco rules not found at {} (set PALISADE_UPSTREAM)", dir.display());
    None
}

fn load(dir: &std::path::Path, names: &[&str]) -> rules::RuleSet {
    let files: Vec<(String, String)> = names
        .iter()
        .map(|n| (n.to_string(), std::fs::read_to_string(dir.join(n)).unwrap()))
        .collect();
    rules::load(&files).unwrap_or_else(|e| panic!("{e}"))
}

/// An audit Event as the API server writes it, with `changes` merged in (`null` removes a key).
fn event(verb: &str, resource: &str, changes: serde_json::Value) -> String {
    let mut base = serde_json::json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
        "auditID": "0b4c6d1e-7a3f-4f43-9a53-2f4c3b8e1a10", "stage": "ResponseComplete",
        "requestURI": format!("/api/v1/namespaces/default/{resource}/obj"), "verb": verb,
        "user": {"username": "kops", "groups": ["system:authenticated"]},
        "sourceIPs": ["10.0.0.7"], "userAgent": "kubectl/v1.30.0",
        "objectRef": {"resource": resource, "namespace": "default", "name": "obj", "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": 200},
        "requestReceivedTimestamp": "2026-11-20T10:00:00.000000Z",
        "stageTimestamp": "2026-11-20T10:00:00.012345Z",
        "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": "RBAC: allowed"}
    });
    merge(&mut base, changes);
    base.to_string()
}

fn merge(base: &mut serde_json::Value, changes: serde_json::Value) {
    match (base, changes) {
        (serde_json::Value::Object(b), serde_json::Value::Object(c)) => {
            for (k, v) in c {
                if v.is_null() {
                    b.remove(&k);
                } else {
                    merge(b.entry(k).or_insert(serde_json::Value::Null), v);
                }
            }
        }
        (b, c) => *b = c,
    }
}

fn pod(spec: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "responseStatus": {"code": 201},
        "requestObject": {"kind": "Pod", "metadata": {"name": "obj"}, "spec": spec},
        "responseObject": {"kind": "Pod", "metadata": {"name": "obj", "namespace": "default"}}
    })
}

fn role(rules: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"responseStatus": {"code": 201}, "requestObject": {"rules": rules}})
}

/// The upstream file disables five rules behind always-true/never-true macros and tells users
/// to override those macros; this overlay does exactly that so every rule can be exercised.
const OVERLAY: &str = r#"
- macro: allowed_k8s_containers
  condition: (ka.req.pod.containers.image.repository in (nginx, docker.io/library/nginx))
  override: {condition: replace}
- macro: consider_all_events
  condition: (ka.verb=watch)
  override: {condition: replace}
- macro: allowed_full_admin_users
  condition: (k8s_audit_never_true)
  override: {condition: replace}
- macro: allow_all_k8s_nodes
  condition: (k8s_audit_never_true)
  override: {condition: replace}
"#;

/// One event per upstream rule, and whether it needs [`OVERLAY`].
fn cases() -> Vec<(&'static str, bool, String)> {
    use serde_json::json;
    let nginx = json!([{"name": "web", "image": "nginx:1.27"}]);
    vec![
        ("Disallowed K8s User", false, event("list", "pods", json!({"user": {"username": "mallory"}}))),
        ("Create Disallowed Pod", true, event("create", "pods", pod(json!({"containers": [{"name": "m", "image": "evil/miner:1"}]})))),
        ("Create Privileged Pod", false, event("create", "pods", pod(json!({"containers": [{"name": "web", "image": "nginx:1.27", "securityContext": {"privileged": true}}]})))),
        ("Create Sensitive Mount Pod", false, event("create", "pods", pod(json!({"containers": nginx, "volumes": [{"name": "v", "hostPath": {"path": "/etc"}}]})))),
        ("Create HostNetwork Pod", false, event("create", "pods", pod(json!({"containers": nginx, "hostNetwork": true})))),
        ("Create HostPid Pod", false, event("create", "pods", pod(json!({"containers": nginx, "hostPID": true})))),
        ("Create HostIPC Pod", false, event("create", "pods", pod(json!({"containers": nginx, "hostIPC": true})))),
        ("Create NodePort Service", false, event("create", "services", json!({"responseStatus": {"code": 201}, "requestObject": {"spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}}}))),
        ("Create/Modify Configmap With Private Credentials", false, event("update", "configmaps", json!({"requestObject": {"data": {"aws_access_key_id": "AKIA..."}}}))),
        ("Anonymous Request Allowed", false, event("get", "pods", json!({"user": {"username": "system:anonymous"}, "requestURI": "/api/v1/pods", "objectRef": null}))),
        ("Attach/Exec Pod", false, event("create", "pods", json!({"stage": "ResponseStarted", "objectRef": {"subresource": "exec"}, "requestURI": "/api/v1/namespaces/default/pods/obj/exec?command=sh&stdin=true"}))),
        ("port-forward", false, event("create", "pods", json!({"stage": "ResponseStarted", "objectRef": {"subresource": "portforward"}}))),
        ("EphemeralContainers Created", false, event("patch", "pods", json!({"objectRef": {"subresource": "ephemeralcontainers"}, "requestObject": {"ephemeralContainers": [{"name": "debugger", "image": "busybox"}]}}))),
        ("Create Disallowed Namespace", false, event("create", "namespaces", json!({"objectRef": {"namespace": null, "name": "crypto"}, "responseStatus": {"code": 201}}))),
        ("Pod Created in Kube Namespace", false, event("create", "pods", { let mut p = pod(json!({"containers": nginx})); merge(&mut p, json!({"objectRef": {"namespace": "kube-system"}})); p })),
        ("Service Account Created in Kube Namespace", false, event("create", "serviceaccounts", json!({"objectRef": {"namespace": "kube-system", "name": "sneaky"}, "responseStatus": {"code": 201}}))),
        ("System ClusterRole Modified/Deleted", false, event("update", "clusterroles", json!({"objectRef": {"namespace": null, "name": "system:node"}}))),
        ("Attach to cluster-admin Role", false, event("create", "clusterrolebindings", json!({"responseStatus": {"code": 201}, "requestObject": {"roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}, "subjects": [{"kind": "User", "name": "eve"}]}}))),
        ("ClusterRole With Wildcard Created", false, event("create", "clusterroles", role(json!([{"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}])))),
        ("ClusterRole With Write Privileges Created", false, event("create", "clusterroles", role(json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "update"]}])))),
        ("ClusterRole With Pod Exec Created", false, event("create", "clusterroles", role(json!([{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get"]}])))),
        ("K8s Deployment Created", false, event("create", "deployments", json!({"responseStatus": {"code": 201}}))),
        ("K8s Deployment Deleted", false, event("delete", "deployments", json!({}))),
        ("K8s Service Created", false, event("create", "services", json!({"responseStatus": {"code": 201}, "requestObject": {"spec": {"type": "ClusterIP"}}}))),
        ("K8s Service Deleted", false, event("delete", "services", json!({}))),
        ("K8s ConfigMap Created", false, event("create", "configmaps", json!({"responseStatus": {"code": 201}, "requestObject": {"data": {"color": "blue"}}}))),
        ("K8s ConfigMap Deleted", false, event("delete", "configmaps", json!({}))),
        ("K8s Namespace Created", false, event("create", "namespaces", json!({"objectRef": {"namespace": null, "name": "default"}, "responseStatus": {"code": 201}}))),
        ("K8s Namespace Deleted", false, event("delete", "namespaces", json!({"objectRef": {"namespace": null, "name": "team-a"}}))),
        ("K8s Serviceaccount Created", false, event("create", "serviceaccounts", json!({"responseStatus": {"code": 201}}))),
        ("K8s Serviceaccount Deleted", false, event("delete", "serviceaccounts", json!({}))),
        ("K8s Role Created", false, event("create", "roles", role(json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}])))),
        ("K8s Role Deleted", false, event("delete", "roles", json!({}))),
        ("K8s ClusterRole Created", false, event("create", "clusterroles", role(json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}])))),
        ("K8s ClusterRole Deleted", false, event("delete", "clusterroles", json!({"objectRef": {"namespace": null, "name": "reader"}}))),
        ("K8s RoleBinding Created", false, event("create", "rolebindings", json!({"responseStatus": {"code": 201}, "requestObject": {"roleRef": {"name": "view"}, "subjects": [{"kind": "User", "name": "amy"}]}}))),
        ("K8s RoleBinding Deleted", false, event("delete", "rolebindings", json!({}))),
        ("K8s ClusterRoleBinding Created", false, event("create", "clusterrolebindings", json!({"responseStatus": {"code": 201}, "requestObject": {"roleRef": {"name": "view"}, "subjects": [{"kind": "User", "name": "amy"}]}}))),
        ("K8s ClusterRoleBinding Deleted", false, event("delete", "clusterrolebindings", json!({}))),
        ("K8s Secret Created", false, event("create", "secrets", json!({"responseStatus": {"code": 201}}))),
        ("K8s Secret Deleted", false, event("delete", "secrets", json!({}))),
        ("K8s Secret Get Successfully", false, event("get", "secrets", json!({}))),
        ("K8s Secret Get Unsuccessfully Tried", false, event("get", "secrets", json!({"responseStatus": {"code": 403}, "annotations": {"authorization.k8s.io/decision": "forbid"}}))),
        ("All K8s Audit Events", true, event("watch", "endpoints", json!({}))),
        ("Full K8s Administrative Access", true, event("list", "pods", json!({"user": {"username": "admin"}}))),
        ("Ingress Object without TLS Certificate Created", false, event("create", "ingresses", json!({"responseStatus": {"code": 201}, "requestObject": {"spec": {"rules": [{"host": "a.example"}]}}}))),
        ("Untrusted Node Successfully Joined the Cluster", true, event("create", "nodes", json!({"objectRef": {"namespace": null, "name": "node-9"}, "responseStatus": {"code": 201}}))),
        ("Untrusted Node Unsuccessfully Tried to Join the Cluster", true, event("create", "nodes", json!({"objectRef": {"namespace": null, "name": "node-9"}, "responseStatus": {"code": 403, "reason": "Forbidden"}}))),
    ]
}

fn alerts(engine: &Engine, text: &str) -> Vec<String> {
    let event = Event::new(serde_json::from_str(text).unwrap(), 1);
    let mut alerts = Vec::new();
    engine.process(&event, &mut alerts);
    alerts.into_iter().map(|a| a.rule).collect()
}

#[test]
fn every_upstream_rule_fires_on_its_event_and_only_it() {
    let Some(dir) = upstream() else { return };
    let main = std::fs::read_to_string(dir.join("k8s_audit_rules.yaml")).unwrap();
    let plain = Engine::new(rules::load(&[("k8s_audit_rules.yaml", main.as_str())]).unwrap(), Matching::First, "h".into());
    let overlaid = rules::load(&[("k8s_audit_rules.yaml", main.as_str()), ("overlay.yaml", OVERLAY)]).unwrap_or_else(|e| panic!("{e}"));
    let overlaid = Engine::new(overlaid, Matching::First, "h".into());
    let cases = cases();
    let mut names: Vec<&str> = plain.rules().iter().map(|r| r.name.as_str()).collect();
    let mut covered: Vec<&str> = cases.iter().map(|c| c.0).collect();
    names.sort_unstable();
    covered.sort_unstable();
    assert_eq!(names, covered, "one case per upstream rule");
    for (rule, needs_overlay, text) in &cases {
        // First-match (Falco's default): exactly the expected rule, with and without the overlay.
        assert_eq!(alerts(&overlaid, text), [*rule], "with overlay: {text}");
        let expected: &[&str] = if *needs_overlay { &[] } else { std::slice::from_ref(rule) };
        assert_eq!(alerts(&plain, text), expected, "upstream only: {text}");
    }
}

#[test]
fn every_alert_renders_without_unknown_fields() {
    let Some(dir) = upstream() else { return };
    let main = std::fs::read_to_string(dir.join("k8s_audit_rules.yaml")).unwrap();
    let set = rules::load(&[("k8s_audit_rules.yaml", main.as_str()), ("overlay.yaml", OVERLAY)]).unwrap();
    let engine = Engine::new(set, Matching::All, "h".into());
    let (_, _, text) = &cases()[2];
    let event = Event::new(serde_json::from_str(text).unwrap(), 1);
    let mut out = Vec::new();
    engine.process(&event, &mut out);
    let alert = out.iter().find(|a| a.rule == "Create Privileged Pod").unwrap();
    assert_eq!(
        alert.output,
        "10:00:00.012345000: Warning Pod started with privileged container (user=kops pod=obj resource=pods \
         ns=default images=(nginx:1.27) init_images=<NA> ephemeral_images=<NA>)"
    );
    assert_eq!(alert.output_fields["ka.req.pod.initContainers.image"], "<NA>");
    assert_eq!(alert.tags, ["k8s"]);
}

#[test]
fn gke_overlay_adds_an_exception() {
    let Some(dir) = upstream() else { return };
    let robot = event("list", "pods", serde_json::json!({"user": {"username": "123@container-engine-robot.iam.gserviceaccount.com"}}));
    let plain = Engine::new(load(&dir, &["k8s_audit_rules.yaml"]), Matching::First, "h".into());
    assert_eq!(alerts(&plain, &robot), ["Disallowed K8s User"]);
    let gke = Engine::new(load(&dir, &["k8s_audit_rules.yaml", "k8s_audit_rules_gke.yaml"]), Matching::First, "h".into());
    assert!(alerts(&gke, &robot).is_empty());
    // The appended list items take effect too: a GKE image is now allowed to be privileged.
    let pod = event("create", "pods", pod(serde_json::json!({"containers": [{"name": "n", "image": "gke.gcr.io/netd:1", "securityContext": {"privileged": true}}]})));
    assert_eq!(alerts(&plain, &pod), ["Create Privileged Pod"]);
    assert!(alerts(&gke, &pod).is_empty());
}

#[test]
fn upstream_rules_load_unmodified() {
    let Some(dir) = upstream() else { return };
    let set = load(&dir, &["k8s_audit_rules.yaml"]);
    assert_eq!(set.rules.len(), 48);
    assert!(set.warnings.is_empty(), "{:?}", set.warnings);
    let set = load(&dir, &["k8s_audit_rules.yaml", "k8s_audit_rules_gke.yaml"]);
    assert_eq!(set.rules.len(), 48);
}
