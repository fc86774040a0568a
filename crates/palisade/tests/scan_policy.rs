//! `palisade scan` with configuration, exceptions, baselines, policies and frameworks, through
//! the real binary.

use std::path::Path;
use std::process::Command;

const SECRET: &str = "zq8Lw3Rt5Yp2Xc7V";

fn scan(dir: &Path, args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_palisade")).current_dir(dir).arg("scan").args(args).output().unwrap();
    (output.status.code().unwrap(), String::from_utf8(output.stdout).unwrap() + &String::from_utf8_lossy(&output.stderr))
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.yaml"),
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, namespace: shop}}\ndata:\n  DB_PASSWORD: {SECRET}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: nginx:latest\n        env: [{{name: API_TOKEN, value: {SECRET}}}]\n"),
    )
    .unwrap();
    dir
}

#[test]
fn detected_credentials_appear_in_no_output_format() {
    let dir = project();
    for format in ["text", "json", "sarif", "junit"] {
        let (code, out) = scan(dir.path(), &["app.yaml", "-f", format, "--select", "secrets/"]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("secrets/plaintext-in-configmap") && out.contains("secrets/plaintext-in-env"), "{format}: {out}");
        assert!(!out.contains(SECRET) && !out.contains(&SECRET[4..]), "{format} leaks the value:\n{out}");
    }
}

#[test]
fn a_baseline_reports_only_new_findings_and_config_exceptions_apply() {
    let dir = project();
    let (code, _) = scan(dir.path(), &["app.yaml", "--select", "workload/image-tag-latest", "--write-baseline", "base.json"]);
    assert_eq!(code, 1);
    let (code, out) = scan(dir.path(), &["app.yaml", "--select", "workload/image-tag-latest", "--baseline", "base.json"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 finding suppressed by exceptions"), "{out}");

    std::fs::write(
        dir.path().join(".palisade.yaml"),
        "rules:\n  disable: [secrets]\nexceptions:\n- rules: [workload/image-tag-latest]\n  kind: Deployment\n  name: web\n  reason: pinned by the release pipeline\n",
    )
    .unwrap();
    let (code, out) = scan(dir.path(), &["app.yaml", "--select", "workload/image-tag-latest,secrets/", "-f", "json"]);
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["findings"].as_array().unwrap().len(), 0);
    assert_eq!(json["exceptions"]["suppressed"][0]["reason"], "pinned by the release pipeline");
}

#[test]
fn framework_filters_rules_and_summarises_controls() {
    let dir = project();
    let (_, out) = scan(dir.path(), &["app.yaml", "--framework", "cis", "-f", "json"]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["compliance"]["framework"], "cis");
    let controls = json["compliance"]["controls"].as_array().unwrap();
    let secrets_as_files = controls.iter().find(|c| c["id"] == "5.4.1").unwrap();
    assert_eq!(secrets_as_files["status"], "passed");
    assert!(json["findings"].as_array().unwrap().iter().all(|f| f["controls"].as_array().unwrap().iter().any(|c| c["framework"] == "cis")));
}

#[test]
fn policies_from_the_command_line_report_under_their_ids() {
    let dir = project();
    std::fs::write(
        dir.path().join("policy.yaml"),
        "apiVersion: deckhouse.io/v1alpha1\nkind: OperationPolicy\nmetadata: {name: common}\nspec:\n  policies:\n    allowedRepos: [myregistry.example.com]\n",
    )
    .unwrap();
    let (code, out) = scan(dir.path(), &["app.yaml", "--policy", "policy.yaml", "--select", "operationpolicy/"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("operationpolicy/allowed-repos") && out.contains(r#"(OperationPolicy "common")"#), "{out}");
}

fn gatekeeper_library(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-gatekeeper/tests/gatekeeper-library/library").join(path)
}

#[test]
fn gatekeeper_constraints_from_a_policy_directory_report_under_their_ids() {
    let dir = project();
    std::fs::create_dir(dir.path().join("policies")).unwrap();
    std::fs::copy(gatekeeper_library("general/disallowedtags/template.yaml"), dir.path().join("policies/template.yaml")).unwrap();
    std::fs::write(
        dir.path().join("policies/constraint.yaml"),
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sDisallowedTags\nmetadata: {name: no-latest}\nspec:\n  match:\n    kinds: [{apiGroups: [\"\"], kinds: [Pod]}]\n  parameters:\n    tags: [latest]\n",
    )
    .unwrap();
    // Gatekeeper's templates judge the objects they are written for: this one, Pods only.
    std::fs::write(dir.path().join("pod.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers: [{name: app, image: nginx:latest}]\n").unwrap();
    let (code, out) = scan(dir.path(), &["app.yaml", "pod.yaml", "--policy", "policies", "--select", "gatekeeper/", "-f", "json"]);
    assert_eq!(code, 1, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{out}");
    assert_eq!(findings[0]["rule"], "gatekeeper/K8sDisallowedTags/no-latest");
    assert!(findings[0]["message"].as_str().unwrap().contains("uses a disallowed tag <nginx:latest>"), "{out}");
}

#[test]
fn policy_test_runs_gator_suites_and_fails_on_a_wrong_expectation() {
    let run = |path: &Path| {
        let output = Command::new(env!("CARGO_BIN_EXE_palisade")).args(["policy", "test", "-v"]).arg(path).output().unwrap();
        (output.status.code().unwrap(), String::from_utf8(output.stdout).unwrap() + &String::from_utf8_lossy(&output.stderr))
    };
    let (code, out) = run(&gatekeeper_library("general/allowedrepos"));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 suites: 5 cases passed, 0 failed, 0 skipped or not evaluated") && out.contains("ok   allowed-repos / example-allowed"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    for file in ["template.yaml", "samples/repo-must-be-openpolicyagent/constraint.yaml", "samples/repo-must-be-openpolicyagent/example_allowed.yaml"] {
        let target = dir.path().join(file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(gatekeeper_library("general/allowedrepos").join(file), target).unwrap();
    }
    let suite = std::fs::read_to_string(gatekeeper_library("general/allowedrepos/suite.yaml")).unwrap();
    let wrong: String = suite.split("\n  - name: container-disallowed").next().unwrap().replace("violations: no", "violations: 1");
    std::fs::write(dir.path().join("suite.yaml"), wrong).unwrap();
    let (code, out) = run(dir.path());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL allowed-repos / example-allowed: got 0 violations but want exactly 1"), "{out}");

    let (code, out) = run(&dir.path().join("samples"));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no gator suite"), "{out}");
}

fn kyverno_library(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-kyverno/tests/kyverno-policies").join(path)
}

#[test]
fn policy_test_runs_kyverno_tests_and_fails_on_a_wrong_expectation() {
    let run = |path: &Path| {
        let output = Command::new(env!("CARGO_BIN_EXE_palisade")).args(["policy", "test", "-v"]).arg(path).output().unwrap();
        (output.status.code().unwrap(), String::from_utf8(output.stdout).unwrap() + &String::from_utf8_lossy(&output.stderr))
    };
    let (code, out) = run(&kyverno_library("best-practices/require-labels"));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 suites: 4 cases passed, 0 failed, 0 skipped or not evaluated"), "{out}");
    assert!(out.contains("ok   require-labels / require-labels/check-for-labels v1/Pod/default/badpod01: fail"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let tests = dir.path().join(".kyverno-test");
    std::fs::create_dir(&tests).unwrap();
    std::fs::copy(kyverno_library("best-practices/require-labels/require-labels.yaml"), dir.path().join("require-labels.yaml")).unwrap();
    std::fs::copy(kyverno_library("best-practices/require-labels/.kyverno-test/resource.yaml"), tests.join("resource.yaml")).unwrap();
    let test = std::fs::read_to_string(kyverno_library("best-practices/require-labels/.kyverno-test/kyverno-test.yaml")).unwrap();
    std::fs::write(tests.join("kyverno-test.yaml"), test.replacen("result: fail", "result: pass", 1)).unwrap();
    let (code, out) = run(dir.path());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL require-labels / require-labels/check-for-labels v1/Pod/default/badpod01: pass: want pass, got fail"), "{out}");
}
