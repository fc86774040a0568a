//! Live collection on this machine: stand-in nodes (files under a temporary root, component
//! processes with real command lines) collected with `--root`, as `palisade node collect`
//! collects a node.

mod support;

use std::time::{Duration, Instant};

use palisade_node::bundled::ConfigDir;
use palisade_node::collect::{CollectOptions, choose_benchmark, collect};
use palisade_node::controls::{Benchmark, load_benchmark};
use palisade_node::evaluate::{Filter, State, evaluate};
use palisade_node::snapshot::{Audit, Snapshot};
use support::standin::{NodeSpec, StandInNode};

const ENCRYPTION_CONFIG: &str = "\
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources:
      - secrets
    providers:
      - aescbc:
          keys:
            - name: key1
              secret: c2VjcmV0IGlzIHNlY3VyZQ==
      - identity: {}
";

fn bundled(name: &str) -> Benchmark {
    let loaded = load_benchmark(&ConfigDir::Bundled, name);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.benchmark
}

fn options(node: &StandInNode) -> CollectOptions {
    CollectOptions {
        root: Some(node.root().to_owned()),
        node_name: Some("cp-1".into()),
        ..CollectOptions::default()
    }
}

/// The audit recorded for `command`, which must be there.
fn audit<'s>(snapshot: &'s Snapshot, command: &str) -> &'s Audit {
    snapshot.audit(command).unwrap_or_else(|| {
        let commands: Vec<&str> = snapshot
            .audits
            .iter()
            .map(|audit| audit.command.as_str())
            .collect();
        panic!("no audit {command:?} among {commands:#?}")
    })
}

fn ok_output<'s>(snapshot: &'s Snapshot, command: &str) -> &'s str {
    let audit = audit(snapshot, command);
    assert_eq!(
        (audit.exit_status, audit.error.as_deref()),
        (Some(0), None),
        "{audit:?}"
    );
    &audit.output
}

/// The audit of check `id` as collection ran it: its control file prepared with the variables
/// the snapshot recorded for that file.
fn prepared_audit(benchmark: &Benchmark, snapshot: &Snapshot, id: &str) -> String {
    for target in &snapshot.targets {
        let controls = benchmark
            .sections
            .iter()
            .find(|controls| controls.node_type == target.node_type)
            .unwrap();
        let prepared = palisade_node::variables::prepare(controls, &target.variables);
        if let Some(check) = prepared
            .groups
            .iter()
            .flat_map(|group| &group.checks)
            .find(|check| check.id == id)
        {
            return check.audit.trim().to_owned();
        }
    }
    panic!("no check {id}")
}

fn hardened_control_plane() -> NodeSpec {
    NodeSpec::kubeadm_control_plane()
        .flag("kube-apiserver", "--anonymous-auth", Some("false"))
        .flag("kube-apiserver", "--profiling", Some("false"))
        .flag(
            "kube-apiserver",
            "--encryption-provider-config",
            Some("/etc/kubernetes/enc/enc.yaml"),
        )
        .file("/etc/kubernetes/enc/enc.yaml", 0o600, ENCRYPTION_CONFIG)
        .mode("/etc/kubernetes/manifests/etcd.yaml", 0o644)
        .mode("/etc/kubernetes/super-admin.conf", 0o640)
        .env("etcd", "ETCD_CLIENT_CERT_AUTH", "true")
        .env("etcd", "ETCD_AUTO_TLS", "false")
        .env("etcd", "ETCD_INITIAL_CLUSTER_TOKEN", "do-not-record")
        // kubeadm leaves etcd's data directory to root; here another user owns it (uid 1).
        .owner("/var/lib/etcd", 1, 1)
}

#[test]
fn a_kubeadm_control_plane_is_collected_as_kube_bench_sees_it() {
    let spec = hardened_control_plane();
    let node = spec.start();
    let options = options(&node);
    let choice = choose_benchmark(&options, None, None).expect("benchmark");
    assert_eq!(choice.benchmark, "cis-1.12");
    assert_eq!(choice.kubernetes_version.as_deref(), Some("1.32"));
    let benchmark = bundled(&choice.benchmark);
    let options = CollectOptions {
        kubernetes_version: choice.kubernetes_version,
        ..options
    };
    let started = Instant::now();
    let snapshot = collect(&options, &benchmark).expect("collect");
    let elapsed = started.elapsed();
    eprintln!(
        "collected {} audits in {} ms",
        snapshot.audits.len(),
        elapsed.as_millis()
    );
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");

    assert_eq!(snapshot.node, "cp-1");
    assert_eq!(snapshot.benchmark, "cis-1.12");
    assert_eq!(snapshot.kubernetes_version.as_deref(), Some("1.32"));
    assert_eq!(
        snapshot.root.as_deref(),
        Some(
            std::fs::canonicalize(node.root())
                .unwrap()
                .to_str()
                .unwrap()
        )
    );
    let types: Vec<&str> = snapshot
        .targets
        .iter()
        .map(|target| target.node_type.as_str())
        .collect();
    assert_eq!(
        types,
        ["master", "etcd", "controlplane", "node", "policies"]
    );
    let commands: Vec<&String> = snapshot.audits.iter().map(|audit| &audit.command).collect();
    assert!(
        commands.windows(2).all(|pair| pair[0] < pair[1]),
        "sorted and unique"
    );

    // Variables: running binaries, first existing candidates, defaults.
    let master = &snapshot.targets[0].variables;
    assert!(
        snapshot.targets[0].notes.is_empty(),
        "{:?}",
        snapshot.targets[0].notes
    );
    assert_eq!(master.bin["apiserver"], "kube-apiserver");
    assert_eq!(master.bin["controllermanager"], "kube-controller-manager");
    assert_eq!(master.bin["etcd"], "etcd");
    assert_eq!(master.bin["kubelet"], "kubelet");
    assert_eq!(master.bin["flanneld"], "flanneld");
    assert_eq!(
        master.conf["apiserver"],
        "/etc/kubernetes/manifests/kube-apiserver.yaml"
    );
    assert_eq!(master.conf["etcd"], "/etc/kubernetes/manifests/etcd.yaml");
    assert_eq!(
        master.kubeconfig["scheduler"],
        "/etc/kubernetes/scheduler.conf"
    );
    assert_eq!(master.datadir["etcd"], "/var/lib/etcd/default.etcd");
    let worker = &snapshot.targets[3].variables;
    assert_eq!(snapshot.targets[3].node_type, "node");
    assert_eq!(worker.bin["kubelet"], "kubelet");
    assert_eq!(worker.bin["proxy"], "kube-proxy");
    assert_eq!(worker.conf["kubelet"], "/var/lib/kubelet/config.yaml");
    assert_eq!(
        worker.svc["kubelet"],
        "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"
    );
    assert_eq!(worker.kubeconfig["kubelet"], "/etc/kubernetes/kubelet.conf");
    assert_eq!(worker.cafile["kubelet"], "/etc/kubernetes/pki/ca.crt");
    assert_eq!(worker.kubeconfig["proxy"], "/etc/kubernetes/proxy.conf");

    // File audits read the root.
    let stat = |kind: &str, path: &str| {
        format!("/bin/sh -c 'if test -e {path}; then stat -c {kind} {path}; fi'")
    };
    assert_eq!(
        ok_output(
            &snapshot,
            &stat(
                "permissions=%a",
                "/etc/kubernetes/manifests/kube-apiserver.yaml"
            )
        ),
        "permissions=600\n"
    );
    assert_eq!(
        ok_output(
            &snapshot,
            &stat("permissions=%a", "/var/lib/kubelet/config.yaml")
        ),
        "permissions=644\n"
    );
    assert_eq!(
        ok_output(
            &snapshot,
            &stat("permissions=%a", "/etc/kubernetes/proxy.conf")
        ),
        ""
    );
    assert_eq!(
        ok_output(
            &snapshot,
            "/bin/sh -c 'if test -e /etc/kubernetes/manifests/etcd.yaml; then find /etc/kubernetes/manifests/etcd.yaml -name '*etcd*' | xargs stat -c permissions=%a; fi'"
        ),
        "permissions=644\n"
    );
    assert_eq!(
        ok_output(
            &snapshot,
            "for adminconf in /etc/kubernetes/admin.conf /etc/kubernetes/super-admin.conf; do if test -e $adminconf; then stat -c \"permissions=%a %n\" $adminconf; fi; done"
        ),
        "permissions=600 /etc/kubernetes/admin.conf\npermissions=640 /etc/kubernetes/super-admin.conf\n"
    );
    let keys = ok_output(
        &snapshot,
        "find /etc/kubernetes/pki/ -name '*.key' | xargs stat -c permissions=%a",
    );
    assert_eq!(keys.lines().count(), 11);
    assert!(keys.lines().all(|line| line == "permissions=600"), "{keys}");
    let data_dir = prepared_audit(&benchmark, &snapshot, "1.1.11");
    assert!(
        data_dir.contains("grep etcd |")
            && data_dir.contains("DATA_DIR=/var/lib/etcd/default.etcd"),
        "{data_dir}"
    );
    assert_eq!(ok_output(&snapshot, &data_dir), "permissions=700\n");
    let cni = prepared_audit(&benchmark, &snapshot, "1.1.9");
    assert_eq!(
        ok_output(&snapshot, &cni),
        "permissions=600\npermissions=600\n"
    );
    assert_eq!(
        ok_output(&snapshot, "/bin/cat /var/lib/kubelet/config.yaml"),
        support::standin::KUBEADM_KUBELET_CONFIG
    );
    if node.owners_applied() {
        let owner = std::process::Command::new("stat")
            .args(["-c", "%U:%G"])
            .arg(node.root().join("var/lib/etcd"))
            .output()
            .unwrap();
        let owner = String::from_utf8(owner.stdout).unwrap();
        assert_ne!(owner, "root:root\n");
        assert_eq!(
            ok_output(&snapshot, &prepared_audit(&benchmark, &snapshot, "1.1.12")),
            owner
        );
        assert_eq!(
            ok_output(
                &snapshot,
                &stat("%U:%G", "/etc/kubernetes/manifests/kube-apiserver.yaml")
            ),
            "root:root\n"
        );
        assert_eq!(
            ok_output(
                &snapshot,
                "/bin/sh -c \"if test -e /etc/systemd/system/kubelet.service.d/10-kubeadm.conf; then stat -c %U:%G /etc/systemd/system/kubelet.service.d/10-kubeadm.conf; else echo \\\"File not found\\\"; fi\""
            ),
            "root:root\n"
        );
    }
    // 1.2.28 reads the file named on the API server's command line.
    let providers = prepared_audit(&benchmark, &snapshot, "1.2.28");
    assert_eq!(ok_output(&snapshot, &providers), "provider=aescbc\n");
    // 4.1.7 falls back to the default CA file: kubeadm's kubelet has no --client-ca-file flag.
    assert_eq!(
        ok_output(&snapshot, &prepared_audit(&benchmark, &snapshot, "4.1.7")),
        "permissions=644\n"
    );

    // Process audits see the stand-ins' command lines.
    let apiserver = ok_output(
        &snapshot,
        "/bin/ps -ef | grep kube-apiserver | grep -v grep",
    );
    let line = apiserver
        .lines()
        .find(|line| line.contains("--encryption-provider-config=/etc/kubernetes/enc/enc.yaml"))
        .expect(apiserver);
    assert!(
        line.contains(&format!(" {} ", node.pid("kube-apiserver").unwrap())),
        "{line}"
    );
    let command_line = |name: &str| {
        spec.processes
            .iter()
            .find(|process| process.name() == name)
            .unwrap()
            .command_line()
    };
    assert!(
        line.ends_with(&format!(" {}", command_line("kube-apiserver"))),
        "{line}"
    );
    let controller = ok_output(
        &snapshot,
        "/bin/ps -ef | grep kube-controller-manager | grep -v grep",
    );
    assert!(
        controller.contains("kube-controller-manager --allocate-node-cidrs=true"),
        "{controller}"
    );
    let kubelet = ok_output(&snapshot, "/bin/ps -fC kubelet");
    assert!(kubelet.starts_with("UID "), "{kubelet}");
    assert!(
        kubelet.contains(
            "/usr/bin/kubelet --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf"
        ),
        "{kubelet}"
    );
    assert!(
        ok_output(&snapshot, "/bin/ps -fC kube-proxy")
            .contains("/usr/local/bin/kube-proxy --config=/var/lib/kube-proxy/config.conf")
    );
    // etcd's environment, redacted but for the variables tests read.
    let environment = ok_output(
        &snapshot,
        "cat \"/proc/$(/bin/ps -C etcd -o pid= | tr -d ' ')/environ\" | tr '\\0' '\\n'",
    );
    assert!(
        environment
            .lines()
            .any(|line| line == "ETCD_CLIENT_CERT_AUTH=true"),
        "{environment}"
    );
    assert!(
        environment
            .lines()
            .any(|line| line == "ETCD_AUTO_TLS=false"),
        "{environment}"
    );
    assert!(!environment.contains("do-not-record"), "{environment}");
    assert!(
        environment
            .lines()
            .any(|line| line.starts_with("ETCD_INITIAL_CLUSTER_TOKEN=")),
        "{environment}"
    );
    // Credentials read by an audit never reach the snapshot.
    assert!(
        !serde_json::to_string(&snapshot)
            .unwrap()
            .contains("LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQ==")
    );

    // Evaluated as kube-bench evaluates it.
    let report = evaluate(&benchmark, &snapshot, &Filter::default());
    let mut expected = vec![
        ("1.1.1", State::Pass),  // kube-apiserver.yaml 600
        ("1.1.7", State::Fail),  // etcd.yaml 644
        ("1.1.11", State::Pass), // etcd data directory 700
        ("1.1.13", State::Fail), // super-admin.conf 640
        ("1.1.20", State::Pass), // certificates 644
        ("1.2.1", State::Pass),  // --anonymous-auth=false
        ("1.2.15", State::Pass), // --profiling=false
        ("1.2.16", State::Fail), // no --audit-log-path
        ("1.2.28", State::Pass), // aescbc first
        ("2.2", State::Pass),    // --client-cert-auth=true
        ("4.1.7", State::Pass),  // default CA file 644
        ("4.1.9", State::Fail),  // kubelet config 644
        ("4.2.1", State::Pass),  // authentication.anonymous.enabled: false
        ("4.2.4", State::Pass),  // no readOnlyPort
        ("4.2.10", State::Pass), // rotateCertificates: true
        ("4.2.12", State::Warn), // no tlsCipherSuites (unscored)
    ];
    if node.owners_applied() {
        expected.extend([("1.1.2", State::Pass), ("1.1.12", State::Fail)]);
    }
    for (id, state) in expected {
        let check = report
            .sections
            .iter()
            .flat_map(|section| &section.groups)
            .flat_map(|group| &group.checks)
            .find(|check| check.id == id)
            .unwrap_or_else(|| panic!("no check {id}"));
        assert_eq!(check.state, state, "{id}: {check:#?}");
    }
}

#[test]
fn a_worker_without_control_plane_collects_node_and_policies() {
    let node = NodeSpec::eks_worker().start();
    let options = options(&node);
    let choice = choose_benchmark(&options, None, None).expect("benchmark");
    assert_eq!(
        (
            choice.benchmark.as_str(),
            choice.kubernetes_version.as_deref()
        ),
        ("cis-1.11", Some("1.31"))
    );
    let benchmark = bundled("cis-1.12");
    let snapshot = collect(&options, &benchmark).expect("collect");
    let types: Vec<&str> = snapshot
        .targets
        .iter()
        .map(|target| target.node_type.as_str())
        .collect();
    assert_eq!(types, ["node", "policies"]);
    let worker = &snapshot.targets[0].variables;
    assert_eq!(
        worker.conf["kubelet"],
        "/etc/kubernetes/kubelet/kubelet-config.json"
    );
    assert_eq!(worker.kubeconfig["kubelet"], "/var/lib/kubelet/kubeconfig");
    assert_eq!(worker.svc["kubelet"], "/etc/systemd/system/kubelet.service");
    assert_eq!(worker.bin["proxy"], "kube-proxy");
    let config = ok_output(
        &snapshot,
        "/bin/cat /etc/kubernetes/kubelet/kubelet-config.json",
    );
    assert!(config.contains("\"readOnlyPort\": 0"), "{config}");
    // No control plane runs: asked for anyway, master's binaries are left unsubstituted.
    let options = CollectOptions {
        targets: vec!["master".into()],
        ..options
    };
    let snapshot = collect(&options, &benchmark).expect("collect master");
    let master = &snapshot.targets[0];
    assert!(
        master.variables.bin.is_empty(),
        "{:?}",
        master.variables.bin
    );
    assert!(
        master.notes[0]
            .starts_with("unable to detect running programs for component \"apiserver\""),
        "{:?}",
        master.notes
    );
    assert!(
        snapshot
            .audit("/bin/ps -ef | grep $apiserverbin | grep -v grep")
            .is_some()
    );
}

#[test]
fn kind_differs_from_kubeadm_in_the_kubelet_flags_only() {
    let node = NodeSpec::kind_control_plane().start();
    let options = CollectOptions {
        targets: vec!["master".into(), "node".into()],
        ..options(&node)
    };
    let benchmark = bundled("cis-1.12");
    let snapshot = collect(&options, &benchmark).expect("collect");
    // kubeadm's API server flags: no --anonymous-auth (unscored: WARN), no --profiling=false.
    let report = evaluate(&benchmark, &snapshot, &Filter::default());
    let state = |id: &str| {
        report
            .sections
            .iter()
            .flat_map(|s| &s.groups)
            .flat_map(|g| &g.checks)
            .find(|c| c.id == id)
            .map(|c| c.state)
    };
    assert_eq!(state("1.2.1"), Some(State::Warn));
    assert_eq!(state("1.2.15"), Some(State::Fail));
    assert_eq!(state("1.2.7"), Some(State::Pass));
    assert_eq!(state("2.1"), None, "etcd was not collected");
    let kubelet = ok_output(&snapshot, "/bin/ps -fC kubelet");
    assert!(
        kubelet.contains("--provider-id=kind://docker/kind/kind-control-plane"),
        "{kubelet}"
    );
    assert_eq!(
        snapshot.targets[1].variables.conf["kubelet"],
        "/var/lib/kubelet/config.yaml"
    );
}

#[test]
fn candidates_fall_through_as_in_kube_bench() {
    // Without /var/lib/kubelet/config.yaml the kubelet's "config" is the first candidate that
    // exists: kubeadm's systemd drop-in (kube-bench's fallback, see its config.yaml). Without
    // kube-proxy running, $proxybin is the component's name.
    let node = NodeSpec::kubeadm_control_plane()
        .without("/var/lib/kubelet")
        .without_process("kube-proxy")
        .without_flag("kubelet", "--config")
        .start();
    let options = CollectOptions {
        targets: vec!["node".into()],
        ..options(&node)
    };
    let snapshot = collect(&options, &bundled("cis-1.12")).expect("collect");
    let worker = &snapshot.targets[0].variables;
    assert_eq!(
        worker.conf["kubelet"],
        "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"
    );
    assert_eq!(worker.bin["proxy"], "proxy");
    assert!(!ok_output(&snapshot, "/bin/ps -fC kubelet").contains("--config="));
    assert!(
        ok_output(
            &snapshot,
            "/bin/cat /etc/systemd/system/kubelet.service.d/10-kubeadm.conf"
        )
        .starts_with("# Note: This dropin")
    );
}

/// A control directory of one benchmark (`tiny`) with a node file of the given checks.
fn tiny_config_dir(checks: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.yaml"),
        "node:\n  components: [kubelet]\n  kubelet:\n    optional: true\n    bins: [kubelet]\n    defaultconf: /var/lib/kubelet/config.yaml\nversion_mapping:\n  \"1.32\": tiny\ntarget_mapping:\n  tiny: [node]\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("tiny")).unwrap();
    std::fs::write(
        dir.path().join("tiny/node.yaml"),
        format!("---\ncontrols:\nversion: tiny\nid: 4\ntext: Worker\ntype: node\ngroups:\n  - id: \"4.1\"\n    text: files\n    checks:\n{checks}"),
    )
    .unwrap();
    dir
}

fn check(id: &str, audit: &str) -> String {
    format!(
        "      - id: {id}\n        text: check {id}\n        audit: {audit:?}\n        tests:\n          test_items:\n            - flag: x\n        remediation: none\n        scored: true\n"
    )
}

#[test]
fn hanging_and_failing_audits_become_audit_errors() {
    let node = NodeSpec::default()
        .file(
            "/var/lib/kubelet/config.yaml",
            0o600,
            "kind: KubeletConfiguration\n",
        )
        .start();
    let checks = [
        check("4.1.1", "sleep 100"),
        check("4.1.2", "echo partial; echo trouble >&2; exit 3"),
        check("4.1.3", "/bin/cat $kubeletconf"),
        // Manual and skipped checks are never run: their audits are not recorded.
        check("4.1.4", "echo manual")
            .replace("scored: true", "scored: false\n        type: manual"),
        check("4.1.5", "echo skipped").replace("scored: true", "scored: true\n        type: skip"),
    ]
    .concat();
    let config = tiny_config_dir(&checks);
    let config_dir = ConfigDir::Dir(config.path().to_owned());
    let loaded = load_benchmark(&config_dir, "tiny");
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let options = CollectOptions {
        config_dir,
        timeout: Duration::from_secs(1),
        notes: vec!["the Kubernetes version was not detected".into()],
        ..options(&node)
    };
    let started = Instant::now();
    let snapshot = collect(&options, &loaded.benchmark).expect("collect");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let commands: Vec<&str> = snapshot
        .audits
        .iter()
        .map(|audit| audit.command.as_str())
        .collect();
    assert_eq!(
        commands,
        [
            "/bin/cat /var/lib/kubelet/config.yaml",
            "echo partial; echo trouble >&2; exit 3",
            "sleep 100"
        ]
    );
    assert_eq!(
        snapshot.targets[0].notes,
        ["the Kubernetes version was not detected"]
    );
    let hanging = audit(&snapshot, "sleep 100");
    assert_eq!(
        (hanging.exit_status, hanging.error.as_deref()),
        (None, Some("timed out after 1s"))
    );
    let failing = audit(&snapshot, "echo partial; echo trouble >&2; exit 3");
    assert_eq!(
        (
            failing.exit_status,
            failing.error.as_deref(),
            failing.output.as_str()
        ),
        (Some(3), None, "partial\ntrouble\n")
    );
    assert_eq!(
        ok_output(&snapshot, "/bin/cat /var/lib/kubelet/config.yaml"),
        "kind: KubeletConfiguration\n"
    );
    // The targets asked for must be configured for the benchmark.
    let options = CollectOptions {
        targets: vec!["master".into()],
        ..options
    };
    let error = collect(&options, &loaded.benchmark).unwrap_err();
    assert_eq!(
        error.to_string(),
        "The specified --targets \"master\" are not configured for the CIS Benchmark tiny\n Valid targets [node]"
    );
}

#[test]
fn every_node_audit_of_the_bundled_cis_benchmarks_runs_under_the_root() {
    let node = hardened_control_plane().start();
    for name in ["cis-1.10", "cis-1.11", "cis-1.12", "cis-1.20"] {
        let targets = ["master", "etcd", "controlplane", "node"]
            .map(str::to_owned)
            .to_vec();
        let options = CollectOptions {
            targets,
            ..options(&node)
        };
        let snapshot = collect(&options, &bundled(name)).expect("collect");
        for audit in &snapshot.audits {
            assert_eq!(
                (audit.exit_status, audit.error.as_deref()),
                (Some(0), None),
                "{name}: {audit:#?}"
            );
            assert!(
                !audit.output.contains("palisade-node-"),
                "{name}: the scratch directory shows: {audit:#?}"
            );
        }
    }
}
