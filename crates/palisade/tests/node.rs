//! `palisade node` end to end: a stand-in control plane audited through `--root`, its snapshot
//! evaluated again elsewhere, every output format, exit codes, broken inputs, PolicyReports
//! written to a fake API server, the one CIS report of `palisade scan`, and the deploy manifests.

#[path = "../../palisade-node/tests/support/mod.rs"]
mod node_support;
#[path = "../../palisade-cluster/tests/support/mod.rs"]
mod cluster_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).output().unwrap()
}

/// `palisade node check --snapshot SNAPSHOT ARGS...`
fn replay(snapshot: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade")).args(["node", "check", "--snapshot"]).arg(snapshot).args(args).output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(output)))
}

/// Every check of a kube-bench document by id, with its status.
fn statuses(document: &Value) -> BTreeMap<String, String> {
    document["Controls"]
        .as_array()
        .unwrap()
        .iter()
        // kube-bench writes an empty list as null.
        .flat_map(|section| section["tests"].as_array().into_iter().flatten())
        .flat_map(|group| group["results"].as_array().into_iter().flatten())
        .map(|check| (check["test_number"].as_str().unwrap().to_owned(), check["status"].as_str().unwrap().to_owned()))
        .collect()
}

/// One audit of a stand-in kubeadm control plane: the snapshot, and the kube-bench document of
/// the live run beside it (`live.json`).
fn control_plane_snapshot(dir: &Path) -> PathBuf {
    let node = node_support::standin::NodeSpec::kubeadm_control_plane().start();
    let (snapshot, live) = (dir.join("cp-1.json"), dir.join("live.json"));
    let output = palisade(&[
        "node", "check", "--root", node.root().to_str().unwrap(), "--node-name", "cp-1", "--benchmark", "cis-1.12",
        "--format", "kube-bench-json", "--fail-on", "never",
        "--write-snapshot", snapshot.to_str().unwrap(), "-o", live.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    snapshot
}

#[test]
fn a_control_plane_is_audited_and_its_snapshot_gives_the_same_report_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = control_plane_snapshot(dir.path());
    let live_bytes = std::fs::read(dir.path().join("live.json")).unwrap();
    let live: Value = serde_json::from_slice(&live_bytes).unwrap();

    // Replayed from the snapshot: the same kube-bench document, byte for byte.
    let replayed = replay(&snapshot, &["-f", "kube-bench-json", "--fail-on", "never"]);
    assert_eq!(replayed.status.code(), Some(0), "{}", stderr(&replayed));
    assert_eq!(replayed.stdout, live_bytes);

    // Every section a control plane has, and verdicts the stand-in's files and flags decide.
    let states = statuses(&live);
    let sections: Vec<&str> = live["Controls"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(sections, ["1", "2", "3", "4", "5"]);
    assert_eq!(states["1.1.1"], "PASS", "the API server manifest is 600");
    assert_eq!(states["1.2.1"], "WARN", "kubeadm leaves --anonymous-auth unset (an unscored check)");
    assert_eq!(states["1.2.15"], "FAIL", "kubeadm does not set --profiling=false");
    assert_eq!(states["1.2.20"], "WARN", "type: manual");
    assert_eq!(states["4.2.1"], "PASS", "the kubelet config disables anonymous auth");
    let totals = &live["Totals"];
    let counted: u64 = ["total_pass", "total_fail", "total_warn", "total_info"].iter().map(|k| totals[k].as_u64().unwrap()).sum();
    assert_eq!(counted as usize, states.len());

    // The text layout of the same results, without colour off a terminal.
    let text = String::from_utf8(replay(&snapshot, &["--fail-on", "never"]).stdout).unwrap();
    assert!(text.starts_with("[INFO] 1 Control Plane Security Configuration\n[INFO] 1.1 Control Plane Node Configuration Files\n[PASS] 1.1.1 "), "{text}");
    assert!(text.contains("\n== Summary total ==\n") && !text.contains('\u{1b}'));

    // Palisade's formats: findings `cis/<id>` on the node, gated by --fail-on.
    let json = replay(&snapshot, &["-f", "json", "--fail-on", "high"]);
    assert_eq!(json.status.code(), Some(1), "a FAIL is high: {}", stderr(&json));
    let report = json_of(&json);
    let findings = report["findings"].as_array().unwrap();
    let profiling = findings.iter().find(|f| f["rule"] == "cis/1.2.15").unwrap();
    assert_eq!(profiling["severity"], "high");
    assert_eq!(profiling["object"], json!({"apiVersion": "v1", "kind": "Node", "namespace": null, "name": "cp-1"}));
    assert!(findings.iter().all(|f| f["rule"] != "cis/1.1.1"), "a PASS is no finding");
    let sarif = json_of(&replay(&snapshot, &["-f", "sarif", "--fail-on", "never"]));
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|rule| rule["id"] == "cis/1.2.15"), "{rules:?}");
    let junit = replay(&snapshot, &["-f", "junit", "--fail-on", "never"]);
    assert!(String::from_utf8(junit.stdout).unwrap().contains("cis/1.2.15"));

    // Filters as kube-bench's flags: --check keeps those checks only, --skip makes them INFO.
    let narrowed = json_of(&replay(&snapshot, &["-f", "kube-bench-json", "--check", "1.1.1,1.2.15", "--skip", "1.2.15"]));
    assert_eq!(statuses(&narrowed), BTreeMap::from([("1.1.1".into(), "PASS".into()), ("1.2.15".into(), "INFO".into())]));
    let both = replay(&snapshot, &["--check", "1.1.1", "--group", "1.2"]);
    assert_eq!(both.status.code(), Some(2));
    assert!(stderr(&both).contains("group option and check option can't be used together"), "{}", stderr(&both));

    // An exception in the configuration takes a node's finding out like any other.
    let config = dir.path().join("exceptions.yaml");
    std::fs::write(&config, "exceptions:\n- rules: [cis/*]\n  kind: Node\n  name: cp-1\n  reason: lab node\n").unwrap();
    let excepted = replay(&snapshot, &["-f", "json", "--config", config.to_str().unwrap()]);
    assert_eq!(excepted.status.code(), Some(0), "{}", stderr(&excepted));
    assert_eq!(json_of(&excepted)["findings"], json!([]));
}

#[test]
fn a_broken_snapshot_or_control_file_is_named_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\n  \"apiVersion\": \"palisade.dev/v1alpha1\",\n  \"kind\": ").unwrap();
    let output = replay(&broken, &["-f", "json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains(&format!("{}:3:", broken.display())), "{}", stderr(&output));

    // Hostile snapshots (nesting a million deep) are named errors in the report, and the good
    // snapshot beside them is still evaluated.
    let deep = dir.path().join("deep.json");
    std::fs::write(&deep, format!("{{\"audits\": {}", "[".repeat(1_000_000))).unwrap();
    let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-node/tests/fixtures/kubeadm.cis-1.12.snapshot.json");
    let output = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["node", "check", "-f", "json", "--fail-on", "never", "--snapshot"])
        .arg(&deep)
        .arg("--snapshot")
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let report = json_of(&output);
    assert_eq!(report["errors"].as_array().unwrap().len(), 1, "{report:#}");
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(&format!("{}:1:13: not a node snapshot", deep.display())), "{message}");
    assert!(report["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "cis/1.2.15"));

    // A configuration directory whose node.yaml is malformed: the error names file and line,
    // and the other control files are still collected.
    let cfg = dir.path().join("cfg");
    std::fs::create_dir_all(cfg.join("cis-1.12")).unwrap();
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-node/cfg");
    std::fs::copy(bundled.join("config.yaml"), cfg.join("config.yaml")).unwrap();
    for file in ["config.yaml", "master.yaml", "etcd.yaml", "controlplane.yaml", "policies.yaml"] {
        std::fs::copy(bundled.join("cis-1.12").join(file), cfg.join("cis-1.12").join(file)).unwrap();
    }
    std::fs::write(cfg.join("cis-1.12/node.yaml"), "controls:\nversion: cis-1.12\nid: 4\ngroups:\n  - id: 4.1\n    checks:\n      - id: 4.1.1\n\ttext: tab\n").unwrap();
    let output = palisade(&[
        "node", "collect", "--config-dir", cfg.to_str().unwrap(), "--benchmark", "cis-1.12",
        "--root", dir.path().to_str().unwrap(), "--targets", "controlplane",
    ]);
    let message = stderr(&output);
    assert!(message.contains("cis-1.12/node.yaml:8:"), "{message}");
    assert_eq!(output.status.code(), Some(0), "{message}");
    assert_eq!(json_of(&output)["targets"][0]["nodeType"], "controlplane");
}

#[test]
fn node_reports_are_applied_one_per_node_and_join_the_cis_report_of_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = control_plane_snapshot(dir.path());

    let api = cluster_support::FakeApi::start(BTreeMap::new());
    let applied = replay(&snapshot, &["--apply-reports", "--kubeconfig", api.kubeconfig.to_str().unwrap(), "--fail-on", "never"]);
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
    let reports = api.applied();
    let report = &reports["/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports/palisade-node-cp-1"];
    assert_eq!(report["kind"], "ClusterPolicyReport");
    // The summary reads like kube-bench's totals: FAIL is fail, WARN is warn.
    let kube_bench = json_of(&replay(&snapshot, &["-f", "kube-bench-json"]));
    assert_eq!(report["summary"]["pass"], kube_bench["Totals"]["total_pass"]);
    assert_eq!(report["summary"]["fail"], kube_bench["Totals"]["total_fail"]);
    assert_eq!(report["summary"]["warn"], kube_bench["Totals"]["total_warn"]);
    let results = report["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["policy"] == "cis/1.2.15" && r["result"] == "fail"));
    assert!(results.iter().any(|r| r["policy"] == "cis/1.2.20" && r["result"] == "warn"), "manual checks are warn");

    // One CIS report: every control of cis-1.12 with a verdict, node sections from the snapshot.
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let scan = palisade(&[
        "scan", examples.to_str().unwrap(), "--framework", "cis", "--node-snapshot", snapshot.to_str().unwrap(),
        "-f", "json", "--fail-on", "never",
    ]);
    assert_eq!(scan.status.code(), Some(0), "{}", stderr(&scan));
    let scan = json_of(&scan);
    let controls: BTreeMap<String, String> = scan["compliance"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_owned(), c["status"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(controls.len(), 131, "every check of cis-1.12");
    assert_eq!(controls["1.1.1"], "passed");
    assert_eq!(controls["1.2.15"], "failed");
    assert_eq!(controls["1.2.20"], "not_evaluated", "manual");
    assert_eq!(controls["5.2.2"], "failed", "examples/insecure has a privileged container");
    assert_eq!(controls["5.3.1"], "not_evaluated", "no rule covers the CNI's capabilities");
    let findings = scan["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["object"]["kind"] == "Node"));
    assert!(findings.iter().all(|f| !f["rule"].as_str().unwrap().starts_with("cis/5.")), "section 5 comes from the rules");
}

#[test]
fn the_node_audit_deployment_passes_its_own_scan_with_documented_privileges() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/node-audit");
    let output = palisade(&["scan", "-f", "json", folder.to_str().unwrap()]);
    let report = json_of(&output);
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    assert_eq!(report["summary"]["input_errors"], 0);
    for finding in report["findings"].as_array().unwrap() {
        assert!(matches!(finding["severity"].as_str(), Some("low" | "info")), "{finding:#}");
    }
    // Scanned alone (at the restricted level), the Job's privileges are reported and each is
    // accepted by an inline exception with its reason.
    let alone = json_of(&palisade(&["scan", "-f", "json", "--fail-on", "never", folder.join("20-job.yaml").to_str().unwrap()]));
    let suppressed: Vec<&str> = alone["exceptions"]["suppressed"].as_array().unwrap().iter().map(|s| s["rule"].as_str().unwrap()).collect();
    for rule in ["pss/hostNamespaces", "pss/restrictedVolumes", "pss/runAsNonRoot", "pss/runAsUser"] {
        assert!(suppressed.contains(&rule), "{rule} in {suppressed:?}");
    }
    // Its only API access: writing ClusterPolicyReports.
    let rbac = std::fs::read_to_string(folder.join("10-rbac.yaml")).unwrap();
    let loaded = palisade_load::load_str(&rbac, "10-rbac.yaml");
    let role = loaded.objects.iter().find(|o| o.kind() == "ClusterRole").unwrap().root.to_json();
    assert_eq!(role["rules"], json!([{"apiGroups": ["wgpolicyk8s.io"], "resources": ["clusterpolicyreports"], "verbs": ["get", "create", "update", "patch"]}]));
}
