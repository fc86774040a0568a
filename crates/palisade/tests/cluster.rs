//! `palisade scan --cluster` end to end against a fake HTTPS API server: exit codes with and
//! without `--allow-partial`, cluster-only rules, derived objects, PolicyReports.

#[path = "../../palisade-cluster/tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::process::Output;

use serde_json::{Value, json};
use support::{FakeApi, Fault, Reply, discovery, item};

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

// ---------------------------------------------------------------------------------------------
// Against the simulated API server's faults (tests/support in palisade-cluster): what is retried
// recovers, what does not end or keeps failing is named and exits 2, nothing read is no pass.

const PODS: &str = "/api/v1/pods";

/// Pods in the `shop` namespace, named in storage-key order: 1,200 of them are three pages.
fn many_pods(count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| item(Some("shop"), &format!("pod-{i:04}"), json!({"metadata": {"uid": format!("p{i}")}, "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}})))
        .collect()
}

/// The CLI tests' cluster with every list readable and `pods` of `/api/v1/pods`.
fn readable(pods: usize) -> FakeApi {
    let mut lists = lists();
    lists.insert("/apis/rbac.authorization.k8s.io/v1/clusterroles".into(), Reply::Items(Vec::new()));
    lists.insert(PODS.into(), Reply::Items(many_pods(pods)));
    FakeApi::start(lists)
}

/// Namespaces, the Deployment and its ReplicaSet of [`lists`], and the pods.
const OTHER_OBJECTS: u64 = 4;

/// What a scan gave, with its wall time and the child's peak memory.
struct Scanned {
    report: Value,
    code: Option<i32>,
    elapsed: std::time::Duration,
    peak_mib: f64,
}

/// Scans as JSON with `--fail-on never`, measuring the child (wait4's rusage).
fn scan_json(api: &FakeApi, extra: &[&str]) -> Scanned {
    use std::io::Read;
    let started = std::time::Instant::now();
    // Reaped by wait4 below, which also gives its peak memory.
    #[allow(clippy::zombie_processes)]
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "--cluster", "--kubeconfig"])
        .arg(&api.kubeconfig)
        .args(["-f", "json", "--fail-on", "never"])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (mut stdout, mut stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut out = Vec::new();
    stdout.read_to_end(&mut out).unwrap();
    let (mut status, mut usage) = (0, std::mem::MaybeUninit::<libc::rusage>::zeroed());
    // SAFETY: wait4 writes the status and rusage we pass; the child is ours and reaped once.
    let usage = unsafe {
        assert_eq!(libc::wait4(child.id() as libc::pid_t, &mut status, 0, usage.as_mut_ptr()), child.id() as libc::pid_t);
        usage.assume_init()
    };
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let elapsed = started.elapsed();
    let stderr = errors.join().unwrap();
    let report = serde_json::from_slice(&out).unwrap_or_else(|_| panic!("no JSON report (exit {code:?}); stderr: {stderr}"));
    Scanned { report, code, elapsed, peak_mib: usage.ru_maxrss as f64 / 1024.0 }
}

/// A scan of 1,200 pods whose list meets `faults` and recovers: every pod read once, no gap.
fn recovers_from(faults: Vec<Fault>) -> Vec<support::Recorded> {
    let api = readable(1200);
    api.fault(PODS, faults.clone());
    let Scanned { report, code, .. } = scan_json(&api, &[]);
    assert_eq!(code, Some(0), "{faults:?}: {:#}", report["errors"]);
    assert_eq!(report["errors"], json!([]), "{faults:?}");
    assert_eq!(report["summary"]["objects_scanned"], 1200 + OTHER_OBJECTS, "{faults:?}: every pod once");
    let requests = api.recorded_for(PODS);
    assert!(requests.len() > 3, "{faults:?}: the failed request was tried again: {requests:#?}");
    requests
}

#[test]
fn a_429_is_tried_again_after_its_retry_after() {
    let requests = recovers_from(vec![Fault::Status(429, Some(1))]);
    assert_eq!((requests[0].status, requests[1].status), (429, 200));
    assert!(requests[1].continue_token.is_none(), "the same first page again");
    let waited = requests[1].at - requests[0].at;
    assert!(waited >= std::time::Duration::from_millis(950), "Retry-After: 1 honoured, waited {waited:?}");
}

#[test]
fn unavailable_servers_dropped_connections_and_cut_bodies_are_tried_again() {
    let statuses = |requests: &[support::Recorded]| requests.iter().map(|r| r.status).collect::<Vec<_>>();
    let requests = recovers_from(vec![Fault::Status(503, None), Fault::Status(503, None)]);
    assert_eq!(statuses(&requests), [503, 503, 200, 200, 200]);
    // Dropped on the second page: the same page is asked for again, with the same token.
    let requests = recovers_from(vec![Fault::Pass, Fault::Drop]);
    assert_eq!(statuses(&requests), [200, 0, 200, 200]);
    assert_eq!(requests[1].continue_token, requests[2].continue_token);
    let requests = recovers_from(vec![Fault::Truncate]);
    assert_eq!(requests[0].fault.as_deref(), Some("truncate"));
    assert_eq!(statuses(&requests), [200, 200, 200, 200]);
}

#[test]
fn a_list_that_keeps_failing_is_named_with_its_status() {
    let api = readable(10);
    api.fault_always(PODS, Fault::Status(500, None));
    let Scanned { report, code, elapsed, .. } = scan_json(&api, &["--list-timeout", "3"]);
    assert_eq!(code, Some(2));
    let errors = report["errors"].to_string();
    assert!(errors.contains("not evaluated: pods: 500 InternalError"), "{errors}");
    assert!(api.recorded_for(PODS).len() >= 3, "tried again before giving up");
    assert!(elapsed < std::time::Duration::from_secs(15), "{elapsed:?}");
}

#[test]
fn lists_that_do_not_end_are_named_at_once() {
    for (fault, words) in [(Fault::StuckContinue, "continue token"), (Fault::LyingRemaining, "remainingItemCount")] {
        let api = readable(1200);
        api.fault(PODS, vec![fault.clone()]);
        let Scanned { report, code, elapsed, peak_mib } = scan_json(&api, &["--list-timeout", "30"]);
        let errors = report["errors"].to_string();
        let measured = format!("{fault:?} after {elapsed:.1?}, {peak_mib:.0} MiB at most, {} requests: {errors}", api.recorded_for(PODS).len());
        assert_eq!(code, Some(2), "{measured}");
        assert!(errors.contains("not evaluated: pods: ") && errors.contains(words), "{measured}");
        // Failed as soon as the server repeated itself or overran its count, not at the deadline,
        // and without piling up the pages that kept coming.
        assert!(elapsed < std::time::Duration::from_secs(10), "{fault:?}: {elapsed:?}");
        assert!(peak_mib < 300.0, "{fault:?}: {peak_mib:.0} MiB");
        assert!(api.recorded_for(PODS).len() <= 5, "{fault:?}: {:#?}", api.recorded_for(PODS));
    }
}

#[test]
fn an_expired_continue_token_lists_again_from_the_start() {
    let api = readable(1200);
    api.fault(PODS, vec![Fault::ExpiredContinue]);
    let Scanned { report, code, .. } = scan_json(&api, &[]);
    assert_eq!(code, Some(0), "{:#}", report["errors"]);
    assert_eq!(report["summary"]["objects_scanned"], 1200 + OTHER_OBJECTS, "every pod once");
    let requests = api.recorded_for(PODS);
    let seen: Vec<(u16, bool)> = requests.iter().map(|r| (r.status, r.continue_token.is_some())).collect();
    assert_eq!(seen[..3], [(200, false), (410, true), (200, false)], "{requests:#?}");
    assert_eq!(seen.len(), 5, "then the rest of the new list: {requests:#?}");
}

#[test]
fn a_scan_that_read_nothing_never_passes() {
    let api = readable(3);
    api.revoke_token();
    for extra in [&["--allow-partial"][..], &["--allow-partial", "--fail-on", "never"]] {
        let output = scan(&api, extra);
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {text}");
        assert!(!text.contains("passed"), "{extra:?}: {text}");
        assert!(text.contains("401"), "the lists are named with their status: {text}");
    }
}

#[test]
fn lists_ask_for_gzip_and_name_palisade() {
    let api = readable(1200);
    api.set_gzip_threshold(0);
    let Scanned { report, code, .. } = scan_json(&api, &[]);
    assert_eq!(code, Some(0), "{:#}", report["errors"]);
    assert_eq!(report["summary"]["objects_scanned"], 1200 + OTHER_OBJECTS, "compressed pages are read");
    let requests = api.recorded();
    assert!(requests.len() > 25, "{}", requests.len());
    for request in &requests {
        assert!(request.accepts_gzip, "{request:?}");
        assert!(request.user_agent.as_deref().is_some_and(|agent| agent.starts_with("palisade/")), "{request:?}");
    }
    assert!(api.recorded_for(PODS).iter().all(|r| r.gzipped && r.bytes * 4 < r.raw_bytes));
}

/// `(rule, kind, namespace, name, path, message)` of each finding, counted.
type FindingKey = (String, String, String, String, String, String);

fn finding_keys(report: &Value, keep: impl Fn(&FindingKey) -> bool) -> BTreeMap<FindingKey, usize> {
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let mut keys = BTreeMap::new();
    for finding in report["findings"].as_array().unwrap() {
        let object = &finding["object"];
        let key = (text(&finding["rule"]), text(&object["kind"]), text(&object["namespace"]), text(&object["name"]), text(&finding["location"]["path"]), text(&finding["message"]));
        if keep(&key) {
            *keys.entry(key).or_default() += 1;
        }
    }
    keys
}

/// 2,500 objects by default; `PALISADE_SIMULATED_OBJECTS=100000 cargo test --release -p palisade
/// --test cluster a_simulated_cluster` compares at scale.
#[test]
fn a_simulated_cluster_scans_as_its_manifests_do() {
    let size = std::env::var("PALISADE_SIMULATED_OBJECTS").ok().and_then(|n| n.parse().ok()).unwrap_or(2500);
    let cluster = support::cluster(size);
    let api = cluster.serve();
    let Scanned { report: live, code, .. } = scan_json(&api, &["--list-timeout", "600"]);
    assert_eq!(code, Some(0), "{:#}", live["errors"]);
    assert_eq!(live["summary"]["objects_scanned"], size);

    let dir = tempfile::tempdir().unwrap();
    cluster.write_manifests(dir.path()).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_palisade")).args(["scan", "-f", "json", "--fail-on", "never"]).arg(dir.path()).output().unwrap();
    let files: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(files["errors"], json!([]));
    assert_eq!(files["summary"]["objects_scanned"], size);

    // A cluster scan reports findings on what a listed controller created on the controller
    // only, and has rules of its own; the rest is the same finding for finding.
    let derived = cluster.derived();
    let from_files = finding_keys(&files, |(_, kind, namespace, name, ..)| !derived.contains(&(kind.clone(), namespace.clone(), name.clone())));
    let from_cluster = finding_keys(&live, |(rule, ..)| !rule.starts_with("cluster/"));
    let only_files: Vec<_> = from_files.iter().filter(|(key, count)| from_cluster.get(*key) != Some(count)).take(10).collect();
    let only_cluster: Vec<_> = from_cluster.iter().filter(|(key, count)| from_files.get(*key) != Some(count)).take(10).collect();
    assert!(only_files.is_empty() && only_cluster.is_empty(), "file scan only: {only_files:#?}\ncluster scan only: {only_cluster:#?}");
    let total: usize = from_cluster.values().sum();
    assert!(total > 1000, "the rules fire on the simulated cluster: {total} findings");
    let rules: std::collections::BTreeSet<&str> = from_cluster.keys().map(|key| key.0.as_str()).collect();
    assert!(rules.len() > 30, "{rules:?}");
}

#[test]
fn namespaces_of_a_simulated_cluster_are_listed_alone() {
    let cluster = support::cluster(1500);
    let api = cluster.serve();
    let wanted = ["kube-system", cluster.namespaces().last().unwrap().as_str()];
    let Scanned { report, code, .. } = scan_json(&api, &["-n", wanted[0], "-n", wanted[1]]);
    assert_eq!(code, Some(0), "{:#}", report["errors"]);
    // Namespaced kinds from those namespaces, cluster-scoped kinds whole, Namespaces narrowed.
    let expected: usize = palisade_cluster::RESOURCES
        .iter()
        .map(|resource| {
            let items = cluster.items(&resource.kind);
            match (resource.namespaced, resource.kind.as_ref()) {
                (true, _) => items.iter().filter(|o| wanted.contains(&o["metadata"]["namespace"].as_str().unwrap())).count(),
                (false, "Namespace") => wanted.len(),
                (false, _) => items.len(),
            }
        })
        .sum();
    assert_eq!(report["summary"]["objects_scanned"], expected);
    let paths: std::collections::BTreeSet<String> = api.recorded().into_iter().filter(|r| r.path.contains("/namespaces/")).map(|r| r.path).collect();
    assert!(paths.contains("/api/v1/namespaces/kube-system/pods") && paths.contains(&format!("/apis/apps/v1/namespaces/{}/deployments", wanted[1])), "{paths:?}");
}
