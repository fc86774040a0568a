//! FalcoAuditRules read from a cluster (a fake HTTPS API server): `palisade audit` loads them
//! after the rules files, errors name the cluster, the object and the rule, and `serve audit`
//! reloads them when they change, keeping the rules in use when the new ones do not load.

#[path = "../../palisade-cluster/tests/support/mod.rs"]
mod fake_api;
mod support;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use fake_api::{FakeApi, Reply, item};
use serde_json::{Value, json};

const LIST: &str = "/apis/deckhouse.io/v1alpha1/falcoauditrules";

fn object(name: &str, rule: &str, condition: &str) -> Value {
    item(None, name, json!({"spec": {"rules": [
        {"macro": {"name": "pod_exec", "condition": "ka.target.resource=pods and ka.target.subresource=exec"}},
        {"rule": {"name": rule, "desc": "d", "condition": condition, "output": "exec by %ka.user.name", "priority": "Warning", "source": "K8sAudit"}}
    ]}}))
}

fn fake_api_serving(objects: Vec<Value>) -> FakeApi {
    FakeApi::start(BTreeMap::from([(LIST.to_owned(), Reply::Items(objects))]))
}

const EXEC: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"1","stage":"ResponseComplete","stageTimestamp":"2026-12-05T10:00:00Z","requestURI":"/api/v1/namespaces/a/pods/p/exec","verb":"create","user":{"username":"eve"},"objectRef":{"resource":"pods","namespace":"a","name":"p","subresource":"exec"}}"#;

fn rules_fired(alerts: &str) -> Vec<String> {
    alerts.lines().map(|line| serde_json::from_str::<Value>(line).unwrap()["rule"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn audit_loads_the_clusters_falco_audit_rules_and_names_them_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("audit.log");
    std::fs::write(&events, EXEC).unwrap();
    let api = fake_api_serving(vec![object("exec", "Exec into pod", "pod_exec")]);
    let output = Command::new(env!("CARGO_BIN_EXE_palisade")).args(["audit", "--kubeconfig"]).arg(&api.kubeconfig).arg(&events).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(rules_fired(&String::from_utf8_lossy(&output.stdout)), ["Exec into pod"]);
    assert!(api.requests().iter().any(|request| request.starts_with(&format!("GET {LIST}"))), "{:?}", api.requests());

    let broken = fake_api_serving(vec![object("exec", "Exec into pod", "pod_exec and and")]);
    let output = Command::new(env!("CARGO_BIN_EXE_palisade")).args(["audit", "--kubeconfig"]).arg(&broken.kubeconfig).arg(&events).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("cluster {}: FalcoAuditRules exec: rule 'Exec into pod': ", fake_api::CONTEXT)), "{stderr}");
}

#[test]
fn serve_audit_reloads_falco_audit_rules_and_keeps_the_last_that_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let certs = Command::new(env!("CARGO_BIN_EXE_palisade")).args(["certs", "--name", "localhost", "--days", "1", "-o"]).arg(dir.path()).output().unwrap();
    assert!(certs.status.success());
    let ca = std::fs::read_to_string(dir.path().join("ca.crt")).unwrap();
    let alerts = dir.path().join("alerts.jsonl");
    let api = fake_api_serving(vec![object("exec", "Exec (first)", "pod_exec")]);
    let args = ["serve", "audit", "--listen", "127.0.0.1:0", "--allow-unauthenticated", "--no-stdout", "--rules-refresh", "1", "--output-file"];
    let (mut child, stderr) = support::spawn_tls_server(
        args.iter().map(std::ffi::OsStr::new).chain([alerts.as_os_str(), std::ffi::OsStr::new("--kubeconfig"), api.kubeconfig.as_os_str()]),
        dir.path(),
    );
    let port = support::logged_port(stderr).unwrap_or_else(|line| panic!("serve audit did not say where it listens; last line: {line}"));
    let agent = support::agent_trusting(ca.as_bytes(), Duration::from_secs(10));
    let fired = |expected: usize| {
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(&alerts).unwrap_or_default();
            if text.lines().count() >= expected || started.elapsed() > Duration::from_secs(20) {
                return rules_fired(&text);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let post = || assert_eq!(agent.post(format!("https://localhost:{port}/k8s-audit")).send(EXEC).unwrap().status().as_u16(), 200);
    post();
    assert_eq!(fired(1), ["Exec (first)"]);
    // Changed in the cluster: read again within the refresh period.
    api.set(LIST, Reply::Items(vec![object("exec", "Exec (second)", "pod_exec")]));
    std::thread::sleep(Duration::from_millis(2500));
    post();
    assert_eq!(fired(2), ["Exec (first)", "Exec (second)"]);
    // Rules that do not load leave the last ones that did.
    api.set(LIST, Reply::Items(vec![object("exec", "Exec (broken)", "pod_exec and and")]));
    std::thread::sleep(Duration::from_millis(2500));
    post();
    assert_eq!(fired(3), ["Exec (first)", "Exec (second)", "Exec (second)"]);
    child.kill().unwrap();
    child.wait().unwrap();
}
