//! `palisade scan --cluster` end to end against a fake HTTPS API server: exit codes with and
//! without `--allow-partial`, cluster-only rules, derived objects, PolicyReports.

#[path = "../../palisade-cluster/tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::process::Output;

use serde_json::{Value, json};
use support::{FakeApi, Reply, discovery, item};

fn api() -> FakeApi {
    FakeApi::start(lists())
}

fn lists() -> BTreeMap<String, Reply> {
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
    lists
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

/// The fake cluster with a policy of each engine installed: a Kyverno ClusterPolicy with a
/// PolicyException, a Gatekeeper template and constraint (its kind found by discovery), and a
/// ValidatingAdmissionPolicy whose param ConfigMap is found by discovery too.
fn lists_with_policies() -> BTreeMap<String, Reply> {
    let mut lists = lists();
    let kyverno = item(None, "require-team-label", json!({"spec": {"validationFailureAction": "Enforce", "rules": [{
        "name": "check-team",
        "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
        "validate": {"message": "pods need a team label", "pattern": {"metadata": {"labels": {"team": "?*"}}}}}]}}));
    let exception = item(Some("dev"), "debugging", json!({"spec": {
        "exceptions": [{"policyName": "require-team-label", "ruleNames": ["check-team"]}],
        "match": {"any": [{"resources": {"kinds": ["Pod"], "namespaces": ["dev"], "names": ["debug"]}}]}}}));
    let template = item(None, "k8srequiredowner", json!({"spec": {
        "crd": {"spec": {"names": {"kind": "K8sRequiredOwner"}}},
        "targets": [{"target": "admission.k8s.gatekeeper.sh", "rego":
            "package k8srequiredowner\nviolation[{\"msg\": msg}] {\n  not input.review.object.metadata.labels.owner\n  msg := \"an owner label is required\"\n}\n"}]}}));
    let constraint = item(None, "namespaces-have-owners", json!({"spec": {"match": {"kinds": [{"apiGroups": [""], "kinds": ["Namespace"]}]}}}));
    let admission_policy = item(None, "replica-limit", json!({"spec": {
        "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
        "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["deployments"]}]},
        "validations": [{"expression": "object.spec.replicas <= int(params.data.maxReplicas)", "message": "too many replicas"}]}}));
    let binding = item(None, "replica-limit", json!({"spec": {"policyName": "replica-limit", "validationActions": ["Deny"], "paramRef": {"name": "limits", "namespace": "policy"}}}));
    lists.extend([
        ("/apis/kyverno.io/v1/clusterpolicies".into(), Reply::Items(vec![kyverno])),
        ("/apis/kyverno.io/v2/policyexceptions".into(), Reply::Items(vec![exception])),
        ("/apis/templates.gatekeeper.sh/v1/constrainttemplates".into(), Reply::Items(vec![template])),
        ("/apis/constraints.gatekeeper.sh/v1beta1".into(), discovery("constraints.gatekeeper.sh/v1beta1", &[("k8srequiredowner", "K8sRequiredOwner", false)])),
        ("/apis/constraints.gatekeeper.sh/v1beta1/k8srequiredowner".into(), Reply::Items(vec![constraint])),
        ("/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies".into(), Reply::Items(vec![admission_policy])),
        ("/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings".into(), Reply::Items(vec![binding])),
        ("/api/v1".into(), discovery("v1", &[("configmaps", "ConfigMap", true), ("pods", "Pod", true)])),
        ("/api/v1/configmaps".into(), Reply::Items(vec![item(Some("policy"), "limits", json!({"data": {"maxReplicas": "1"}}))])),
    ]);
    lists
}

/// `(rule, kind/name, severity)` of the findings of the policy engines.
fn policy_findings(output: &Output) -> Vec<(String, String, String)> {
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
    let mut found: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| ["kyverno/", "gatekeeper/", "vap/"].iter().any(|family| f["rule"].as_str().unwrap().starts_with(family)))
        .map(|f| {
            let object = format!("{}/{}", f["object"]["kind"].as_str().unwrap(), f["object"]["name"].as_str().unwrap());
            (f["rule"].as_str().unwrap().to_owned(), object, f["severity"].as_str().unwrap().to_owned())
        })
        .collect();
    found.sort();
    found
}

fn triple(rule: &str, object: &str, severity: &str) -> (String, String, String) {
    (rule.to_owned(), object.to_owned(), severity.to_owned())
}

#[test]
fn the_policies_installed_in_the_cluster_judge_it() {
    let api = FakeApi::start(lists_with_policies());
    let output = scan(&api, &["--allow-partial", "--fail-on", "never", "-f", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    // The Deployment's pod template lacks the label (autogen); the bare pod is exempted by the
    // PolicyException; both Namespaces lack an owner; the Deployment asks for 2 replicas of 1.
    assert_eq!(policy_findings(&output), [
        triple("gatekeeper/K8sRequiredOwner/namespaces-have-owners", "Namespace/dev", "high"),
        triple("gatekeeper/K8sRequiredOwner/namespaces-have-owners", "Namespace/shop", "high"),
        triple("kyverno/require-team-label/autogen-check-team", "Deployment/web", "high"),
        triple("vap/replica-limit", "Deployment/web", "high"),
    ]);

    // A policy file replaces the installed policy of the same name: here in Audit mode.
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.yaml");
    std::fs::write(&audit, "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: require-team-label}\nspec:\n  validationFailureAction: Audit\n  rules:\n  - name: check-team\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    validate: {message: pods need a team label, pattern: {metadata: {labels: {team: \"?*\"}}}}\n").unwrap();
    let output = scan(&api, &["--allow-partial", "--fail-on", "never", "-f", "json", "--select", "kyverno/", "--policy"].into_iter().chain([audit.to_str().unwrap()]).collect::<Vec<_>>());
    assert_eq!(policy_findings(&output), [triple("kyverno/require-team-label/autogen-check-team", "Deployment/web", "medium")]);

    let output = scan(&api, &["--allow-partial", "--fail-on", "never", "-f", "json", "--ignore-installed-policies"]);
    assert_eq!(policy_findings(&output), []);
    let requests = api.requests();
    assert!(requests.iter().any(|request| request.contains("/apis/kyverno.io/v1/clusterpolicies")), "{requests:?}");
}

#[test]
fn installed_policies_that_cannot_be_read_are_not_evaluated_and_absent_engines_are_not_errors() {
    let mut forbidden = lists_with_policies();
    forbidden.insert("/apis/rbac.authorization.k8s.io/v1/clusterroles".into(), Reply::Items(Vec::new()));
    forbidden.insert("/apis/kyverno.io/v1/clusterpolicies".into(), Reply::Forbidden);
    let api = FakeApi::start(forbidden);
    let output = scan(&api, &["--fail-on", "never", "-f", "json"]);
    assert_eq!(output.status.code(), Some(2), "a policy list that is forbidden is a gap in coverage");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].to_string().contains("not evaluated: clusterpolicies.kyverno.io: 403 Forbidden"), "{errors:#?}");
    assert!(!policy_findings(&output).iter().any(|(rule, ..)| rule.starts_with("kyverno/")));

    // A cluster without any policy engine (every policy kind 404s) is read in full.
    let mut without_engines = lists();
    without_engines.insert("/apis/rbac.authorization.k8s.io/v1/clusterroles".into(), Reply::Items(Vec::new()));
    let api = FakeApi::start(without_engines);
    let output = scan(&api, &["--fail-on", "never", "-f", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
}
