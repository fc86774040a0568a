//! `palisade scan --cluster` end to end against a fake HTTPS API server: exit codes with and
//! without `--allow-partial`, cluster-only rules, derived objects, PolicyReports.

#[path = "../../palisade-cluster/tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::process::Output;

use serde_json::{Value, json};
use support::{FakeApi, Reply, item};

fn api() -> FakeApi {
    let mut lists = BTreeMap::new();
    for resource in palisade_cluster::RESOURCES {
        lists.insert(resource.path(None), Reply::Items(Vec::new()));
    }
    let owner = |kind: &str, uid: &str| json!([{"apiVersion": "apps/v1", "kind": kind, "name": "x", "uid": uid, "controller": true}]);
    let spec = |image: &str| json!({"containers": [{"name": "app", "image": image, "securityContext": {"privileged": true}}]});
    lists.extend([
        ("/api/v1/namespaces".into(), Reply::Items(vec![
            item(None, "shop", json!({"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}})),
            item(None, "dev", json!({})),
        ])),
        ("/apis/apps/v1/deployments".into(), Reply::Items(vec![item(Some("shop"), "web",
            json!({"metadata": {"uid": "d1"}, "spec": {"replicas": 2, "template": {"spec": spec("app:1")}}}))])),
        ("/apis/apps/v1/replicasets".into(), Reply::Items(vec![item(Some("shop"), "web-1",
            json!({"metadata": {"uid": "r1", "ownerReferences": owner("Deployment", "d1")}, "spec": {"template": {"spec": spec("app:1")}}}))])),
        ("/api/v1/pods".into(), Reply::Items(vec![
            item(Some("shop"), "web-1-a", json!({"metadata": {"ownerReferences": owner("ReplicaSet", "r1")}, "spec": spec("app:2")})),
            item(Some("dev"), "debug", json!({"spec": {"containers": [{"name": "sh", "image": "busybox:1@sha256:0000000000000000000000000000000000000000000000000000000000000000"}]}})),
        ])),
        ("/apis/rbac.authorization.k8s.io/v1/clusterroles".into(), Reply::Forbidden),
    ]);
    FakeApi::start(lists)
}

fn scan(api: &FakeApi, extra: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "--cluster", "--kubeconfig"])
        .arg(&api.kubeconfig)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn incomplete_coverage_exits_2_unless_partial_results_are_allowed() {
    let api = api();
    let output = scan(&api, &["-f", "json"]);
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let errors = report["errors"].to_string();
    assert!(errors.contains("not evaluated: clusterroles.rbac.authorization.k8s.io: 403 Forbidden"), "{errors}");
    let findings = report["findings"].as_array().unwrap();
    let on = |rule: &str| -> Vec<String> {
        findings.iter().filter(|f| f["rule"] == rule).map(|f| format!("{}/{}", f["object"]["kind"].as_str().unwrap(), f["object"]["name"].as_str().unwrap())).collect()
    };
    assert_eq!(on("cluster/namespace-without-pss-labels"), ["Namespace/dev"]);
    assert_eq!(on("cluster/pod-without-controller"), ["Pod/debug"]);
    assert_eq!(on("cluster/pod-template-drift"), ["Deployment/web"]);
    // The privileged template is reported on the Deployment, not again on its ReplicaSet and pod.
    assert_eq!(on("pss/privileged"), ["Deployment/web"]);
    assert!(findings.iter().all(|f| f["location"]["file"].as_str().unwrap().starts_with("cluster://fake-ctx/")));

    assert_eq!(scan(&api, &["--allow-partial", "-f", "json"]).status.code(), Some(1));
    assert_eq!(scan(&api, &["--allow-partial", "--fail-on", "never", "-f", "json"]).status.code(), Some(0));
}

#[test]
fn policy_reports_are_printed_and_applied() {
    let api = api();
    let output = scan(&api, &["--allow-partial", "-f", "policyreport-json"]);
    let list: Value = serde_json::from_slice(&output.stdout).unwrap();
    let items = list["items"].as_array().unwrap();
    let shop = items.iter().find(|r| r["metadata"]["namespace"] == "shop").unwrap();
    assert_eq!(shop["kind"], "PolicyReport");
    let privileged = shop["results"].as_array().unwrap().iter().find(|r| r["policy"] == "pss/privileged").unwrap();
    assert_eq!(privileged["result"], "fail");
    assert_eq!(privileged["resources"][0]["name"], "web");
    assert_eq!(privileged["properties"]["path"], "/spec/template/spec/containers/0/securityContext/privileged");
    let cluster = items.last().unwrap();
    assert_eq!((cluster["kind"].as_str(), cluster["summary"]["error"].as_u64()), (Some("ClusterPolicyReport"), Some(1)));

    let applied = scan(&api, &["--allow-partial", "--apply-reports", "--fail-on", "never"]);
    assert_eq!(applied.status.code(), Some(0), "{}", String::from_utf8_lossy(&applied.stderr));
    let paths: Vec<String> = api.applied().into_keys().collect();
    assert_eq!(paths, [
        "/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports/palisade",
        "/apis/wgpolicyk8s.io/v1alpha2/namespaces/dev/policyreports/palisade",
        "/apis/wgpolicyk8s.io/v1alpha2/namespaces/shop/policyreports/palisade",
    ]);
}

#[test]
fn the_cluster_scan_deployment_has_nothing_above_low() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/cluster-scan");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "-f", "json"])
        .arg(&folder)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    assert_eq!(report["summary"]["input_errors"], 0, "{report:#}");
    // Namespace, ServiceAccount, ClusterRole, ClusterRoleBinding, CronJob, two NetworkPolicies.
    assert_eq!(report["summary"]["objects_scanned"], 7);
    for finding in report["findings"].as_array().unwrap() {
        assert!(matches!(finding["severity"].as_str(), Some("low" | "info")), "{finding:#}");
    }
    // Read-only but for the reports: no verb that changes anything outside wgpolicyk8s.io, and
    // no access to Secrets at all.
    let role = std::fs::read_to_string(folder.join("10-rbac.yaml")).unwrap();
    let loaded = palisade_load::load_str(&role, "10-rbac.yaml");
    let cluster_role = loaded.objects.iter().find(|o| o.kind() == "ClusterRole").unwrap().root.to_json();
    for rule in cluster_role["rules"].as_array().unwrap() {
        let writes = rule["verbs"].as_array().unwrap().iter().any(|v| !matches!(v.as_str(), Some("get" | "list")));
        assert!(!writes || rule["apiGroups"] == json!(["wgpolicyk8s.io"]), "{rule}");
        assert!(!rule["resources"].to_string().contains("secrets"), "{rule}");
    }
}
