//! The oracle fixtures: stand-in nodes, the snapshots collected from them, and the filters
//! each expected output was made with.

use std::collections::BTreeSet;
use std::path::PathBuf;

use palisade_node::bundled::ConfigDir;
use palisade_node::collect::{CollectOptions, choose_benchmark, collect};
use palisade_node::controls::{Benchmark, load_benchmark};
use palisade_node::evaluate::{Filter, evaluate};
use palisade_node::kube_bench::{self, TextOptions};
use palisade_node::snapshot::Snapshot;

use crate::support::standin::{NodeSpec, ProcessSpec};

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures_dir() -> PathBuf {
    manifest_dir().join("tests/fixtures")
}

/// kube-bench's filter and output flags, given to both sides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flags {
    pub check: String,
    pub group: String,
    pub skip: String,
    pub scored: bool,
    pub unscored: bool,
    pub no_totals: bool,
    /// The text output's flags (`no_totals` is the one above).
    pub text: TextOptions,
}

impl Default for Flags {
    fn default() -> Self {
        Self {
            check: String::new(),
            group: String::new(),
            skip: String::new(),
            scored: true,
            unscored: true,
            no_totals: false,
            text: TextOptions::default(),
        }
    }
}

impl Flags {
    pub fn filter(&self) -> Filter {
        Filter::from_flags(
            &self.check,
            &self.group,
            &self.skip,
            self.scored,
            self.unscored,
        )
        .expect("valid filter flags")
    }

    pub fn oracle_args(&self) -> Vec<String> {
        vec![
            format!("-check={}", self.check),
            format!("-group={}", self.group),
            format!("-skip={}", self.skip),
            format!("-scored={}", self.scored),
            format!("-unscored={}", self.unscored),
            format!("-nototals={}", self.no_totals),
        ]
    }

    /// The oracle's arguments for kube-bench's text output.
    pub fn oracle_text_args(&self) -> Vec<String> {
        let mut args = self.oracle_args();
        args.extend([
            "-text".to_owned(),
            format!("-noresults={}", self.text.no_results),
            format!("-noremediations={}", self.text.no_remediations),
            format!("-nosummary={}", self.text.no_summary),
            format!("-include-test-output={}", self.text.include_test_output),
            format!("-color={}", self.text.color),
        ]);
        args
    }

    fn text_options(&self) -> TextOptions {
        TextOptions {
            no_totals: self.no_totals,
            ..self.text
        }
    }
}

/// Where a fixture's control files come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Controls {
    /// Palisade's built-in copy of kube-bench's cfg/.
    Bundled,
    /// tests/fixtures/cfg: our own control files, reaching what the CIS files do not.
    Edges,
}

impl Controls {
    /// The directory the oracle reads.
    pub fn dir(self) -> PathBuf {
        match self {
            Controls::Bundled => manifest_dir().join("cfg"),
            Controls::Edges => fixtures_dir().join("cfg"),
        }
    }

    pub fn config_dir(self) -> ConfigDir {
        match self {
            Controls::Bundled => ConfigDir::Bundled,
            Controls::Edges => ConfigDir::Dir(self.dir()),
        }
    }
}

/// A stand-in node, as a function of the benchmark collected from it.
pub struct Node {
    pub name: &'static str,
    /// The node name collection records.
    pub node_name: &'static str,
    pub spec: fn(&str) -> NodeSpec,
}

/// kubeadm 1.32's control plane with its defaults (the stand-in preset).
pub const KUBEADM: Node = Node {
    name: "kubeadm",
    node_name: "cp-1",
    spec: |_| NodeSpec::kubeadm_control_plane(),
};

/// kind's control plane: kindest/node v1.20 for cis-1.20 (as in kube-bench's own integration
/// test, integration/testdata/Expected_output.data), v1.32 otherwise. kindnet keeps its IPAM
/// state under /run, so there is no /var/lib/cni on a kind node.
pub const KIND: Node = Node {
    name: "kind",
    node_name: "kind-control-plane",
    spec: |benchmark| {
        let spec = NodeSpec::kind_control_plane().without("/var/lib/cni");
        if benchmark != "cis-1.20" {
            return spec;
        }
        // kubeadm 1.20 still closed the insecure ports with --insecure-port=0 and --port=0;
        // kind 0.11's kubelet flags.
        spec.file(
            "/usr/bin/kubelet",
            0o755,
            "#!/bin/sh\necho \"Kubernetes v1.20.7\"\n",
        )
        .flag("kube-apiserver", "--insecure-port", Some("0"))
        .flag("kube-controller-manager", "--port", Some("0"))
        .flag("kube-scheduler", "--port", Some("0"))
        .flag("kubelet", "--container-runtime", Some("remote"))
        .flag("kubelet", "--fail-swap-on", Some("false"))
        .flag("kubelet", "--cgroup-root", Some("/kubelet"))
    },
};

/// An EKS worker running the kubelet only (kube-proxy replaced by the CNI).
pub const EKS: Node = Node {
    name: "eks",
    node_name: "ip-192-168-1-10.ec2.internal",
    spec: |_| {
        NodeSpec::eks_worker()
            .without_process("kube-proxy")
            .without("/var/lib/kube-proxy")
    },
};

/// A kubeadm worker whose kubelet runs through a hyperkube binary (`hyperkube kubelet`), so
/// that `$kubeletbin` is two words; Kubernetes 1.20.
pub const HYPERKUBE: Node = Node {
    name: "hyperkube",
    node_name: "worker-1",
    spec: |_| {
        let kubelet = NodeSpec::kubeadm_control_plane()
            .processes
            .into_iter()
            .find(|process| process.name() == "kubelet")
            .expect("the preset runs a kubelet");
        let mut args = vec!["kubelet".to_owned()];
        args.extend(kubelet.args);
        let mut hyperkube = ProcessSpec::new("/usr/local/bin/hyperkube", &[]);
        hyperkube.args = args;
        NodeSpec::kubeadm_control_plane()
            .without_process("kube-apiserver")
            .without_process("kube-controller-manager")
            .without_process("kube-scheduler")
            .without_process("etcd")
            .without_process("kubelet")
            .without("/etc/kubernetes/manifests")
            .without("/etc/kubernetes/pki")
            .without("/etc/kubernetes/admin.conf")
            .without("/etc/kubernetes/super-admin.conf")
            .without("/etc/kubernetes/controller-manager.conf")
            .without("/etc/kubernetes/scheduler.conf")
            .without("/var/lib/etcd")
            .without("/usr/bin/kubelet")
            .file(
                "/etc/kubernetes/pki/ca.crt",
                0o644,
                "-----BEGIN CERTIFICATE-----\nstand-in ca\n-----END CERTIFICATE-----\n",
            )
            .file(
                "/usr/local/bin/hyperkube",
                0o755,
                "#!/bin/sh\necho \"Kubernetes v1.20.15\"\n",
            )
            .process(hyperkube)
    },
};

/// The kubeadm node with the files and etcd environment the edges control files read.
pub const EDGES: Node = Node {
    name: "kubeadm-edges",
    node_name: "cp-1",
    spec: |_| {
        NodeSpec::kubeadm_control_plane()
            .file("/etc/edges/kubelet.yaml", 0o644, EDGES_KUBELET_YAML)
            .file("/etc/edges/kubelet.json", 0o644, EDGES_KUBELET_JSON)
            .file(
                "/etc/edges/two-documents.yaml",
                0o644,
                "first: 1\n---\nsecond: 2\n",
            )
            .file(
                "/etc/edges/broken.yaml",
                0o644,
                "authentication: [unclosed\n  anonymous: {enabled\n",
            )
            .file("/etc/edges/perms/a", 0o600, "")
            .file("/etc/edges/perms/b", 0o644, "")
            .env("etcd", "ETCD_AUTO_TLS", "false")
            .env("etcd", "ETCD_PEER_AUTO_TLS", "TRUE")
            .env("etcd", "ETCD_LOG_LEVEL", "")
            .env("etcd", "ETCD_MAX_WALS", "5")
    },
};

const EDGES_KUBELET_YAML: &str = "\
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
podPidsLimit: 1000000
eventRecordQPS: 0
clusterDNS:
- 10.96.0.10
- fd00::a
tlsCipherSuites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]
evictionHard:
  memory.available: 100Mi
  nodefs.available: 10%
featureGates:
  RotateKubeletServerCertificate: yes
";

const EDGES_KUBELET_JSON: &str = r#"{
  "kind": "KubeletConfiguration",
  "podPidsLimit": 1000000,
  "imageGCHighThresholdPercent": 85,
  "eventBurst": 0.5,
  "serverTLSBootstrap": true,
  "cgroupRoot": null,
  "allowedUnsafeSysctls": ["kernel.msg*", "net.core.somaxconn"]
}
"#;

/// One expected output: a node's snapshot for a benchmark, evaluated with some flags.
pub struct Fixture {
    pub node: &'static Node,
    pub benchmark: &'static str,
    pub controls: Controls,
    /// `None`: every check, with totals; else the variant's name and flags.
    pub variant: Option<(&'static str, Flags)>,
}

impl Fixture {
    /// `<node>.<benchmark>[.<variant>]`
    pub fn name(&self) -> String {
        match &self.variant {
            Some((variant, _)) => format!("{}.{variant}", self.snapshot_name()),
            None => self.snapshot_name(),
        }
    }

    fn snapshot_name(&self) -> String {
        format!("{}.{}", self.node.name, self.benchmark)
    }

    pub fn flags(&self) -> Flags {
        self.variant
            .as_ref()
            .map(|(_, flags)| flags.clone())
            .unwrap_or_default()
    }

    pub fn snapshot_path(&self) -> PathBuf {
        fixtures_dir().join(format!("{}.snapshot.json", self.snapshot_name()))
    }

    pub fn expected_path(&self) -> PathBuf {
        fixtures_dir().join(format!("{}.kube-bench.json", self.name()))
    }

    pub fn expected_text_path(&self) -> PathBuf {
        fixtures_dir().join(format!("{}.kube-bench.txt", self.name()))
    }

    pub fn snapshot(&self) -> Snapshot {
        let path = self.snapshot_path();
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        Snapshot::from_json(&path.display().to_string(), &text).expect("a fixture snapshot")
    }

    pub fn benchmark(&self) -> Benchmark {
        let loaded = load_benchmark(&self.controls.config_dir(), self.benchmark);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        loaded.benchmark
    }

    pub fn expected(&self) -> String {
        read(&self.expected_path())
    }

    pub fn expected_text(&self) -> String {
        read(&self.expected_text_path())
    }
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Palisade's `--json` document for `snapshot`, as `palisade node check --format kube-bench-json`
/// prints it.
pub fn palisade(benchmark: &Benchmark, snapshot: &Snapshot, flags: &Flags) -> String {
    let report = evaluate(benchmark, snapshot, &flags.filter());
    let mut out = Vec::new();
    if flags.no_totals {
        kube_bench::write_json_without_totals(&report, &mut out)
    } else {
        kube_bench::write_json(&report, &mut out)
    }
    .expect("writing to memory");
    String::from_utf8(out).expect("UTF-8")
}

/// Palisade's text output for `snapshot`, as kube-bench prints it without `--json`.
pub fn palisade_text(benchmark: &Benchmark, snapshot: &Snapshot, flags: &Flags) -> String {
    let report = evaluate(benchmark, snapshot, &flags.filter());
    let mut out = Vec::new();
    kube_bench::write_text(&report, &mut out, &flags.text_options()).expect("writing to memory");
    String::from_utf8(out).expect("UTF-8")
}

pub fn fixtures() -> Vec<Fixture> {
    let plain = |node, benchmark, controls| Fixture {
        node,
        benchmark,
        controls,
        variant: None,
    };
    let variant = |node, benchmark, controls, name, flags| Fixture {
        node,
        benchmark,
        controls,
        variant: Some((name, flags)),
    };
    let mut fixtures = Vec::new();
    for node in [&KUBEADM, &KIND, &EKS, &HYPERKUBE] {
        for benchmark in ["cis-1.12", "cis-1.20"] {
            fixtures.push(plain(node, benchmark, Controls::Bundled));
        }
    }
    fixtures.push(plain(&EDGES, "edges", Controls::Edges));
    fixtures.push(variant(
        &KUBEADM,
        "cis-1.12",
        Controls::Bundled,
        "skip",
        Flags {
            skip: "1.3,4.2.6, 5.1".into(),
            text: TextOptions {
                include_test_output: true,
                ..TextOptions::default()
            },
            ..Flags::default()
        },
    ));
    fixtures.push(variant(
        &KIND,
        "cis-1.20",
        Controls::Bundled,
        "scored-groups",
        Flags {
            group: ",1.2, 4.2,".into(),
            unscored: false,
            text: TextOptions {
                no_remediations: true,
                color: true,
                ..TextOptions::default()
            },
            ..Flags::default()
        },
    ));
    fixtures.push(variant(
        &EKS,
        "cis-1.12",
        Controls::Bundled,
        "checks-nototals",
        Flags {
            check: "4.1.1,4.2.1,4.3.1,5.1.1".into(),
            scored: true,
            unscored: false,
            no_totals: true,
            ..Flags::default()
        },
    ));
    fixtures.push(variant(
        &EDGES,
        "edges",
        Controls::Edges,
        "group",
        Flags {
            group: "1.1".into(),
            text: TextOptions {
                no_results: true,
                no_summary: true,
                include_test_output: true,
                ..TextOptions::default()
            },
            ..Flags::default()
        },
    ));
    fixtures
}

/// Collects `node` for `benchmark`: detected when the node's kubelet version maps to it (the
/// snapshot then records that version), else given as `--benchmark`.
pub fn collect_node(node: &Node, benchmark: &str, controls: Controls) -> Snapshot {
    let spec = (node.spec)(benchmark);
    let standin = spec.start();
    let options = CollectOptions {
        config_dir: controls.config_dir(),
        root: Some(standin.root().to_owned()),
        node_name: Some(node.node_name.to_owned()),
        ..CollectOptions::default()
    };
    let choice = match choose_benchmark(&options, None, None) {
        Ok(choice) if choice.benchmark == benchmark => choice,
        _ => choose_benchmark(&options, None, Some(benchmark)).expect("benchmark"),
    };
    let options = CollectOptions {
        kubernetes_version: choice.kubernetes_version,
        version_detected_by: choice.detected_by,
        ..options
    };
    let loaded = load_benchmark(&options.config_dir, benchmark);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let snapshot = collect(&options, &loaded.benchmark).expect("collect");
    let pids: BTreeSet<String> = spec
        .processes
        .iter()
        .filter_map(|process| standin.pid(process.name()))
        .map(|pid| pid.to_string())
        .collect();
    assert_only_own_processes(&snapshot, &pids);
    snapshot
}

/// Stand-ins are processes of this machine: a collection must not have seen another test's.
fn assert_only_own_processes(snapshot: &Snapshot, pids: &BTreeSet<String>) {
    for audit in &snapshot.audits {
        // The process listings: `/bin/ps -ef | grep …` and `/bin/ps -fC …`.
        if !audit.command.starts_with("/bin/ps -") {
            continue;
        }
        for line in audit
            .output
            .lines()
            .filter(|line| !line.starts_with("UID "))
        {
            let pid = line.split_whitespace().nth(1).unwrap_or_default();
            assert!(
                pids.contains(pid),
                "{:?} saw a process not of this node: {line}",
                audit.command
            );
        }
    }
}
