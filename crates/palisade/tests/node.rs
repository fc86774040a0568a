//! `palisade node` end to end: a stand-in control plane audited through `--root`, its snapshot
//! evaluated again elsewhere, every output format, exit codes, broken inputs, PolicyReports
//! written to a fake API server, the one CIS report of `palisade scan`, and the deploy manifests.

#[path = "../../palisade-cluster/tests/support/mod.rs"]
mod cluster_support;
#[path = "../../palisade-node/tests/support/mod.rs"]
mod node_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
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
        .map(|check| {
            (
                check["test_number"].as_str().unwrap().to_owned(),
                check["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// One audit of a stand-in kubeadm control plane, kept as a snapshot for the other tests.
fn control_plane_snapshot(dir: &Path) -> std::path::PathBuf {
    let node = node_support::standin::NodeSpec::kubeadm_control_plane().start();
    let root = node.root().to_str().unwrap();
    let snapshot = dir.join("cp-1.json");
    let live = dir.join("live.json");
    let output = palisade(&[
        "node",
        "check",
        "--root",
        root,
        "--node-name",
        "cp-1",
        "--benchmark",
        "cis-1.12",
        "--format",
        "kube-bench-json",
        "--fail-on",
        "never",
        "--write-snapshot",
        snapshot.to_str().unwrap(),
        "-o",
        live.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    snapshot
}

#[test]
fn a_control_plane_is_audited_and_its_snapshot_gives_the_same_report_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = control_plane_snapshot(dir.path());
    let live: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("live.json")).unwrap()).unwrap();

    // Replayed from the snapshot: the same kube-bench document, byte for byte.
    let replayed = palisade(&[
        "node",
        "check",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "-f",
        "kube-bench-json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(replayed.status.code(), Some(0), "{}", stderr(&replayed));
    assert_eq!(
        replayed.stdout,
        std::fs::read(dir.path().join("live.json")).unwrap()
    );

    // Every section a control plane has, and verdicts the stand-in's files and flags decide.
    let states = statuses(&live);
    let sections: Vec<&str> = live["Controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(sections, ["1", "2", "3", "4", "5"]);
    assert_eq!(states["1.1.1"], "PASS", "the API server manifest is 600");
    assert_eq!(
        states["1.2.1"].as_str(),
        "WARN",
        "kubeadm leaves --anonymous-auth unset (an unscored check)"
    );
    assert_eq!(
        states["1.2.15"], "FAIL",
        "kubeadm does not set --profiling=false"
    );
    assert_eq!(states["1.2.20"], "WARN", "type: manual");
    assert_eq!(
        states["4.2.1"], "PASS",
        "the kubelet config disables anonymous auth"
    );
    let totals = &live["Totals"];
    let counted: u64 = ["total_pass", "total_fail", "total_warn", "total_info"]
        .iter()
        .map(|k| totals[k].as_u64().unwrap())
        .sum();
    assert_eq!(counted as usize, states.len());

    // The text layout of the same results.
    let text = palisade(&[
        "node",
        "check",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "--fail-on",
        "never",
    ]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.starts_with("[INFO] 1 Control Plane Security Configuration\n[INFO] 1.1 Control Plane Node Configuration Files\n[PASS] 1.1.1 "), "{text}");
    assert!(
        text.contains("\n== Summary total ==\n") && !text.contains('\u{1b}'),
        "no colour off a terminal"
    );

    // Palisade's formats: findings `cis/<id>` on the node, gated by --fail-on.
    let json = palisade(&[
        "node",
        "check",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "-f",
        "json",
        "--fail-on",
        "high",
    ]);
    assert_eq!(
        json.status.code(),
        Some(1),
        "a FAIL is high: {}",
        stderr(&json)
    );
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    let profiling = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "cis/1.2.15")
        .unwrap();
    assert_eq!(
        (
            profiling["severity"].as_str(),
            profiling["object"]["kind"].as_str(),
            profiling["object"]["name"].as_str()
        ),
        (Some("high"), Some("Node"), Some("cp-1"))
    );
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != "cis/1.1.1"),
        "a PASS is no finding"
    );
    let sarif = palisade(&[
        "node",
        "check",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "-f",
        "sarif",
        "--fail-on",
        "never",
    ]);
    let sarif: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(
        rules.iter().any(|rule| rule["id"] == "cis/1.2.15"),
        "{rules:?}"
    );
    let junit = palisade(&[
        "node",
        "check",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "-f",
        "junit",
        "--fail-on",
        "never",
    ]);
    assert!(
        String::from_utf8(junit.stdout)
            .unwrap()
            .contains("cis/1.2.15")
    );

    // Filters as kube-bench's flags: --check keeps those checks only, --skip makes them INFO.
    let narrowed = palisade(&[
        "node",
        "check",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "-f",
        "kube-bench-json",
        "--check",
        "1.1.1,1.2.15",
        "--skip",
        "1.2.15",
    ]);
    let narrowed: Value = serde_json::from_slice(&narrowed.stdout).unwrap();
    assert_eq!(
        statuses(&narrowed),
        BTreeMap::from([
            ("1.1.1".into(), "PASS".into()),
            ("1.2.15".into(), "INFO".into())
        ])
    );
    assert_eq!(
        palisade(&[
            "node",
            "check",
            "--snapshot",
            "x",
            "--check",
            "1.1.1",
            "--group",
            "1.2"
        ])
        .status
        .code(),
        Some(2)
    );

    // An exception in the configuration takes a node's finding out like any other.
    let config = dir.path().join("exceptions.yaml");
    std::fs::write(
        &config,
        "exceptions:\n- rules: [cis/*]\n  kind: Node\n  name: cp-1\n  reason: lab node\n",
    )
    .unwrap();
    let excepted = palisade(&[
        "node",
        "check",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "-f",
        "json",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(excepted.status.code(), Some(0), "{}", stderr(&excepted));
    let excepted: Value = serde_json::from_slice(&excepted.stdout).unwrap();
    assert_eq!(excepted["findings"], json!([]));
}

#[test]
fn a_broken_snapshot_or_control_file_is_named_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        "{\n  \"apiVersion\": \"palisade.dev/v1alpha1\",\n  \"kind\": ",
    )
    .unwrap();
    let output = palisade(&[
        "node",
        "check",
        "--snapshot",
        broken.to_str().unwrap(),
        "-f",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(&format!("{}:3:", broken.display())),
        "{}",
        stderr(&output)
    );

    // A configuration directory whose node.yaml is malformed: the error names file and line,
    // and the other control files are still evaluated.
    let cfg = dir.path().join("cfg");
    std::fs::create_dir_all(cfg.join("cis-1.12")).unwrap();
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-node/cfg");
    std::fs::copy(bundled.join("config.yaml"), cfg.join("config.yaml")).unwrap();
    for file in [
        "config.yaml",
        "master.yaml",
        "etcd.yaml",
        "controlplane.yaml",
        "policies.yaml",
    ] {
        std::fs::copy(
            bundled.join("cis-1.12").join(file),
            cfg.join("cis-1.12").join(file),
        )
        .unwrap();
    }
    std::fs::write(cfg.join("cis-1.12/node.yaml"), "controls:\nversion: cis-1.12\nid: 4\ngroups:\n  - id: 4.1\n    checks:\n      - id: 4.1.1\n\ttext: tab\n").unwrap();
    let output = palisade(&[
        "node",
        "collect",
        "--config-dir",
        cfg.to_str().unwrap(),
        "--benchmark",
        "cis-1.12",
        "--root",
        dir.path().to_str().unwrap(),
        "--targets",
        "controlplane",
    ]);
    let message = stderr(&output);
    assert!(message.contains("cis-1.12/node.yaml:8:"), "{message}");
    assert_eq!(output.status.code(), Some(0), "{message}");
    let snapshot: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(snapshot["targets"][0]["nodeType"], "controlplane");
}

#[test]
fn node_reports_are_applied_one_per_node_and_join_the_cis_report_of_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = control_plane_snapshot(dir.path());

    let api = cluster_support::FakeApi::start(BTreeMap::new());
    let applied = palisade(&[
        "node",
        "check",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "--apply-reports",
        "--kubeconfig",
        api.kubeconfig.to_str().unwrap(),
        "--fail-on",
        "never",
    ]);
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
    let reports = api.applied();
    let report = &reports["/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports/palisade-node-cp-1"];
    assert_eq!(report["kind"], "ClusterPolicyReport");
    let kube_bench: Value = serde_json::from_slice(
        &palisade(&[
            "node",
            "check",
            "--snapshot",
            snapshot.to_str().unwrap(),
            "-f",
            "kube-bench-json",
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(
        report["summary"]["pass"],
        kube_bench["Totals"]["total_pass"]
    );
    assert_eq!(
        report["summary"]["fail"],
        kube_bench["Totals"]["total_fail"]
    );
    assert_eq!(
        report["summary"]["warn"],
        kube_bench["Totals"]["total_warn"]
    );
    let results = report["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["policy"] == "cis/1.2.15" && r["result"] == "fail")
    );
    assert!(
        results
            .iter()
            .any(|r| r["policy"] == "cis/1.2.20" && r["result"] == "warn"),
        "manual checks are warn"
    );

    // One CIS report: every control of cis-1.12 with a verdict, node sections from the snapshot.
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let scan = palisade(&[
        "scan",
        examples.to_str().unwrap(),
        "--framework",
        "cis",
        "--node-snapshot",
        snapshot.to_str().unwrap(),
        "-f",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(scan.status.code(), Some(0), "{}", stderr(&scan));
    let scan: Value = serde_json::from_slice(&scan.stdout).unwrap();
    let controls: BTreeMap<String, String> = scan["compliance"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(controls.len(), 131, "every check of cis-1.12");
    assert_eq!(controls["1.1.1"], "passed");
    assert_eq!(controls["1.2.15"], "failed");
    assert_eq!(controls["1.2.20"], "not_evaluated", "manual");
    assert_eq!(
        controls["5.2.2"], "failed",
        "examples/insecure has a privileged container"
    );
    assert_eq!(
        controls["5.3.1"], "not_evaluated",
        "no rule covers the CNI's capabilities"
    );
    let node_findings = scan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["object"]["kind"] == "Node")
        .count();
    assert!(node_findings > 0);
    assert!(
        scan["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| !f["rule"].as_str().unwrap().starts_with("cis/5.")),
        "section 5 comes from the rules"
    );
}

#[test]
fn the_node_audit_deployment_passes_its_own_scan_with_documented_privileges() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/node-audit");
    let output = palisade(&["scan", "-f", "json", folder.to_str().unwrap()]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    assert_eq!(report["summary"]["input_errors"], 0);
    for finding in report["findings"].as_array().unwrap() {
        assert!(
            matches!(finding["severity"].as_str(), Some("low" | "info")),
            "{finding:#}"
        );
    }
    // Scanned alone (at the restricted level), the Job's privileges are reported and each is
    // accepted by an inline exception with its reason.
    let job = folder.join("20-job.yaml");
    let alone: Value = serde_json::from_slice(
        &palisade(&[
            "scan",
            "-f",
            "json",
            "--fail-on",
            "never",
            job.to_str().unwrap(),
        ])
        .stdout,
    )
    .unwrap();
    let suppressed: Vec<&str> = alone["exceptions"]["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rule"].as_str().unwrap())
        .collect();
    for rule in [
        "pss/hostNamespaces",
        "pss/restrictedVolumes",
        "pss/runAsNonRoot",
        "pss/runAsUser",
    ] {
        assert!(suppressed.contains(&rule), "{rule} in {suppressed:?}");
    }
    // Its only API access: writing ClusterPolicyReports.
    let rbac = std::fs::read_to_string(folder.join("10-rbac.yaml")).unwrap();
    let loaded = palisade_load::load_str(&rbac, "10-rbac.yaml");
    let role = loaded
        .objects
        .iter()
        .find(|o| o.kind() == "ClusterRole")
        .unwrap()
        .root
        .to_json();
    assert_eq!(
        role["rules"],
        json!([{"apiGroups": ["wgpolicyk8s.io"], "resources": ["clusterpolicyreports"], "verbs": ["get", "create", "update", "patch"]}])
    );
}
