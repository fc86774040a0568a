//! Hostile and broken input through the real binary: each bad file is reported with its name
//! and line, the good files are still scanned, the exit code is 2, and nothing crashes, hangs
//! or takes a large amount of memory.

use std::path::Path;
use std::process::Command;

fn palisade() -> Command {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
}

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) {
    std::fs::write(dir.join(name), content).unwrap();
}

/// Peak resident memory of the largest child this process has waited for, in bytes.
fn peak_child_memory() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage only writes the struct we pass; RUSAGE_CHILDREN is always valid.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    usage.ru_maxrss as u64 * 1024
}

const GOOD_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: good\nspec:\n  containers:\n  - name: app\n    image: nginx\n    securityContext:\n      privileged: true\n";

#[test]
fn hostile_files_are_reported_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a-good.yaml", GOOD_POD);

    // Billion laughs: ten levels of ten aliases each.
    let mut bomb = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        let items = vec![format!("*l{}", level - 1); 10].join(", ");
        bomb.push_str(&format!("  l{level}: &l{level} [{items}]\n"));
    }
    write(root, "b-alias-bomb.yaml", bomb);

    let depth = 200_000;
    write(root, "c-deep-flow.json", format!("{}{}", "[".repeat(depth), "]".repeat(depth)));
    // Compact block sequences: every `- ` opens one more level on the same line.
    write(root, "d-deep-block.yaml", format!("{}x\n", "- ".repeat(depth)));

    let mut junk = Vec::with_capacity(1 << 20);
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..(1 << 20) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        junk.push(state as u8);
    }
    write(root, "e-junk.yaml", &junk);

    write(root, "f-truncated.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"unterminated\n");
    let huge = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: huge}}\ndata:\n  blob: \"{}\"\n", "x".repeat(60 << 20));
    write(root, "g-huge-string.yaml", huge);
    write(root, "h-second-good.yaml", GOOD_POD.replace("name: good", "name: good2"));

    let output = palisade().args(["scan", "--format", "json"]).arg(root).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    let errors = report["errors"].as_array().unwrap();
    let error_for = |name: &str| {
        errors
            .iter()
            .find(|error| error["file"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("no error for {name}: {errors:#?}"))
    };
    for (name, expected) in [
        ("b-alias-bomb.yaml", "alias bomb"),
        ("c-deep-flow.json", "nesting deeper than"),
        ("d-deep-block.yaml", "nesting deeper than"),
        ("e-junk.yaml", "not UTF-8"),
        ("f-truncated.yaml", ""),
        ("g-huge-string.yaml", "more than the limit"),
    ] {
        let error = error_for(name);
        assert!(error["line"].as_u64().unwrap() >= 1, "{name} error has no line: {error}");
        assert!(error["message"].as_str().unwrap().contains(expected), "{name}: {error}");
    }
    assert_eq!(errors.len(), 6, "{errors:#?}");

    let objects: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["rule"] == "pss/privileged")
        .map(|finding| finding["object"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(objects, ["good", "good2"]);

    let peak = peak_child_memory();
    assert!(peak < 1 << 30, "peak memory {} MiB", peak >> 20);
}

/// What kubectl reads is what is scanned: Helm's empty documents are skipped, a duplicate key is
/// scanned with the value kubectl applies and reported, a YAML 1.1 boolean where a string
/// belongs and an unrendered chart are errors, never silent passes.
#[test]
fn streams_are_read_as_kubectl_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a-helm.yaml", format!("---\n# Source: chart/templates/empty.yaml\n---\n# Source: chart/templates/pod.yaml\n{GOOD_POD}"));
    let hidden = GOOD_POD.replace("name: good", "name: hidden").replace("privileged: true", "privileged: false\n    securityContext:\n      privileged: true");
    write(root, "b-duplicate.yaml", hidden);
    write(root, "c-namespace-y.yaml", GOOD_POD.replace("name: good", "name: rescoped\n  namespace: y"));
    std::fs::create_dir_all(root.join("d-chart/templates")).unwrap();
    write(&root.join("d-chart"), "Chart.yaml", "apiVersion: v2\nname: d-chart\nversion: 0.1.0\n");
    write(&root.join("d-chart/templates"), "pod.yaml", "{{ .Values.pod | toYaml }}\n");

    let output = palisade().args(["scan", "--format", "json"]).arg(root).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let errors: Vec<_> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| (error["file"].as_str().unwrap().rsplit('/').next().unwrap().to_owned(), error["line"].as_u64().unwrap(), error["message"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_eq!((errors[0].0.as_str(), errors[0].1), ("c-namespace-y.yaml", 5));
    assert!(errors[0].2.contains("`/metadata/namespace` is the boolean true"), "{errors:?}");
    assert_eq!(errors[1].0, "d-chart");
    assert!(errors[1].2.contains("helm template"), "{errors:?}");

    let findings = report["findings"].as_array().unwrap();
    let found = |rule: &str| -> Vec<(String, u64)> {
        findings
            .iter()
            .filter(|finding| finding["rule"] == rule)
            .map(|finding| (finding["object"]["name"].as_str().unwrap().to_owned(), finding["location"]["line"].as_u64().unwrap()))
            .collect()
    };
    assert_eq!(found("pss/privileged"), [("good".to_owned(), 14), ("hidden".to_owned(), 12)]);
    assert_eq!(found("manifest/duplicate-key"), [("hidden".to_owned(), 11)]);
}

#[test]
fn exit_codes_follow_the_fail_on_threshold() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pod.yaml", GOOD_POD);
    let status = |args: &[&str]| {
        palisade().arg("scan").args(args).arg(dir.path()).output().unwrap().status.code()
    };
    assert_eq!(status(&["--fail-on", "critical"]), Some(1));
    assert_eq!(status(&["--fail-on", "never"]), Some(0));
    assert_eq!(status(&["--fail-on", "critical", "--select", "pss/hostPorts"]), Some(0));
    assert_eq!(status(&["--fail-on", "sometimes"]), Some(2));
    assert_eq!(status(&["--format", "yaml"]), Some(2));
}

#[test]
fn stdin_is_scanned_as_dash() {
    use std::io::Write;
    let mut child = palisade()
        .args(["scan", "-", "--format", "json", "--select", "pss/privileged"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(GOOD_POD.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let finding = &report["findings"][0];
    assert_eq!(finding["location"]["file"], "-");
    assert_eq!(finding["location"]["line"], 10);
    assert_eq!(finding["location"]["path"], "/spec/containers/0/securityContext/privileged");
}
