//! The admission webhook as shipped: `deploy/` passes its own scan, the Helm chart holds the same
//! objects as the plain manifests, and `palisade certs` + `palisade serve admission` answer a
//! real AdmissionReview over TLS with the configuration file applied.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn deploy_manifests_report_nothing_above_low() {
    let output = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .current_dir(repo())
        .args(["scan", "deploy/admission", "--format", "json", "--fail-on", "medium"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    assert_eq!(report["summary"]["input_errors"], 0, "{report:#}");
    assert_eq!(report["summary"]["objects_scanned"], 11);
    // The chart's templates are manifests only once rendered: the chart is reported as not
    // evaluated, never passed in silence.
    let chart = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .current_dir(repo())
        .args(["scan", "deploy/helm", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(chart.status.code(), Some(2));
    let chart: Value = serde_json::from_slice(&chart.stdout).unwrap();
    assert!(chart["errors"][0]["message"].as_str().unwrap().contains("helm template"), "{chart:#}");
    for finding in report["findings"].as_array().unwrap() {
        assert!(matches!(finding["severity"].as_str(), Some("low" | "info")), "{finding:#}");
    }
}

#[test]
fn chart_templates_hold_the_same_objects_as_the_plain_manifests() {
    let mut plain = support::objects_in(&repo().join("deploy/admission"));
    // The chart installs into the release namespace instead of creating one.
    plain.remove(&("Namespace".to_owned(), "palisade-system".to_owned()));
    let mut chart = support::objects_in(&repo().join("deploy/helm/palisade/templates"));
    // The audit receiver's objects, behind audit.enabled, are compared in audit_attack.rs.
    chart.retain(|(_, name), _| !name.starts_with("palisade-audit"));
    // cert-manager objects exist only in the chart, behind certManager.enabled.
    chart.retain(|(kind, _), _| kind != "Issuer" && kind != "Certificate");
    assert_eq!(plain.values().sum::<usize>(), 10, "{plain:?}");
    assert_eq!(plain, chart);
}

#[test]
fn certs_then_serve_admission_answers_reviews_with_the_configuration_applied() {
    let dir = tempfile::tempdir().unwrap();
    let certs = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["certs", "--name", "localhost", "--days", "2", "-o"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(certs.status.success(), "{}", String::from_utf8_lossy(&certs.stderr));
    let ca_pem = std::fs::read_to_string(dir.path().join("ca.crt")).unwrap();
    // The printed caBundle is the CA certificate, base64-encoded on one line.
    let bundle = String::from_utf8(certs.stdout).unwrap();
    assert_eq!(bundle.lines().count(), 1);
    assert!(bundle.starts_with("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"), "{bundle}");

    let config = dir.path().join("palisade.yaml");
    std::fs::write(
        &config,
        "admission:\n  namespaces:\n    legacy: {enforce: privileged}\n  exemptions:\n    usernames: [ops]\n",
    )
    .unwrap();
    // A Gatekeeper template and constraint, enforced with the same verdicts as in scans.
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::copy(repo().join("crates/palisade-gatekeeper/tests/gatekeeper-library/library/general/allowedrepos/template.yaml"), policies.join("template.yaml")).unwrap();
    std::fs::write(
        policies.join("constraint.yaml"),
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sAllowedRepos\nmetadata: {name: internal-only}\nspec:\n  match:\n    namespaces: [gated]\n  parameters:\n    repos: [registry.internal/]\n",
    )
    .unwrap();
    // A Kyverno ClusterPolicy in Enforce mode, through the same engine as `palisade scan`.
    std::fs::write(
        policies.join("kyverno.yaml"),
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: require-team}\nspec:\n  validationFailureAction: Enforce\n  rules:\n  - name: team-label\n    match:\n      any:\n      - resources: {kinds: [Pod], namespaces: [gated]}\n    validate:\n      message: \"Pods in {{request.object.metadata.namespace}} need a team label.\"\n      pattern: {metadata: {labels: {team: \"?*\"}}}\n",
    )
    .unwrap();
    let serve = ["serve", "admission", "--listen", "127.0.0.1:0", "--no-kube", "--policy"].map(std::ffi::OsStr::new);
    let (mut server, mut stderr) = support::spawn_tls_server(serve.into_iter().chain([policies.as_os_str(), "--config".as_ref(), config.as_os_str()]), dir.path());
    // The first log line on stderr names the bound address.
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let started: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not a JSON line: {line}"));
    let port = started["addr"].as_str().unwrap().rsplit(':').next().unwrap().to_owned();

    let agent = support::agent_trusting(ca_pem.as_bytes(), Duration::from_secs(5));
    let review = |uid: &str, namespace: &str, user: &str| -> Value {
        let body = json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": uid,
                "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "namespace": namespace,
                "operation": "CREATE",
                "userInfo": {"username": user},
                "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                           "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "busybox:1.36"}]}}
            }
        });
        let mut response = agent
            .post(format!("https://localhost:{port}/validate"))
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes())
            .unwrap();
        assert_eq!(response.status(), 200);
        serde_json::from_str::<Value>(&response.body_mut().read_to_string().unwrap()).unwrap()["response"].take()
    };
    let denied = review("1", "shop", "alice");
    let legacy = review("2", "legacy", "alice");
    let exempt = review("3", "shop", "ops");
    let gated = review("4", "gated", "alice");
    let ready = agent.get(format!("https://localhost:{port}/readyz")).call().unwrap().status();
    // One decision line per review on stdout. A background writer prints them, so they are read
    // before the server is killed (a killed process loses what its writer had not written yet).
    let (lines, received) = std::sync::mpsc::channel();
    let stdout = server.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if lines.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let decisions: Vec<Value> = (0..4)
        .map(|n| {
            let line = received.recv_timeout(Duration::from_secs(10)).unwrap_or_else(|_| panic!("decision line {n} not written"));
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("not a JSON line: {line}"))
        })
        .collect();
    server.kill().unwrap();
    server.wait().unwrap();

    assert_eq!(ready, 200);
    assert_eq!(denied["allowed"], false);
    assert!(denied["status"]["message"].as_str().unwrap().contains("pss/hostNamespaces (high) at spec.hostNetwork"), "{denied}");
    assert_eq!(legacy["allowed"], true, "the configured privileged namespace: {legacy}");
    assert_eq!(exempt["allowed"], true, "the exempt user: {exempt}");
    assert_eq!(gated["allowed"], false);
    let message = gated["status"]["message"].as_str().unwrap();
    assert!(message.contains("gatekeeper/K8sAllowedRepos/internal-only") && message.contains("container <c> has an invalid image repo <busybox:1.36>"), "{gated}");
    assert!(message.contains("kyverno/require-team/team-label") && message.contains("Pods in gated need a team label."), "{gated}");
    assert!(!legacy["status"]["message"].as_str().unwrap_or("").contains("gatekeeper/"), "the constraint matches only `gated`: {legacy}");
    assert!(!denied["status"]["message"].as_str().unwrap_or("").contains("kyverno/"), "the Kyverno rule matches only `gated`: {denied}");
    let results: Vec<_> = decisions.iter().map(|line| (line["uid"].as_str().unwrap(), line["result"].as_str().unwrap())).collect();
    assert_eq!(results, [("1", "denied"), ("2", "allowed"), ("3", "exempt"), ("4", "denied")]);
}
