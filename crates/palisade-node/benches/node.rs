//! `cargo bench -p palisade-node --bench node`: the figures of docs/node.md#performance.
//!
//! 1. A full node audit of a stand-in kubeadm control plane (files under a temporary root,
//!    component processes with kubeadm's flags; tests/support/standin.rs): collection (every
//!    audit script of cis-1.12's node-side targets run once) and evaluation, best and median of
//!    `RUNS`.
//!    With `KUBE_BENCH_ORACLE` (scripts/kube-bench-oracle, `-live`), side by side with kube-bench's
//!    own check code running the same control files' audits with its own runner (one `/bin/sh`
//!    per audit of every check, in order), both on this machine's `/` with the stand-in
//!    processes running: kube-bench's detection and Palisade's are left out of both.
//! 2. A fleet: 1,000 snapshots (the kubeadm fixture, each with its own node name and one flag
//!    changed), each read from JSON, evaluated, turned into findings and written as kube-bench
//!    JSON, on one thread.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use palisade_node::bundled::ConfigDir;
use palisade_node::collect::{CollectOptions, collect};
use palisade_node::controls::load_benchmark;
use palisade_node::evaluate::{Filter, evaluate};
use palisade_node::snapshot::Snapshot;

const RUNS: usize = 10;
const FLEET: usize = 1000;

fn main() {
    let loaded = load_benchmark(&ConfigDir::Bundled, "cis-1.12");
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let benchmark = loaded.benchmark;

    let node = support::standin::NodeSpec::kubeadm_control_plane().start();
    let options = CollectOptions {
        root: Some(node.root().to_owned()),
        node_name: Some("cp-1".into()),
        // The node-side sections; section 5 runs kubectl against an API server, which a node
        // audit leaves to `palisade scan --cluster`.
        targets: ["master", "etcd", "controlplane", "node"].map(str::to_owned).to_vec(),
        ..CollectOptions::default()
    };
    let (mut collecting, mut evaluating) = (Vec::new(), Vec::new());
    let mut audits = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let snapshot = collect(&options, &benchmark).expect("collect");
        collecting.push(start.elapsed());
        let start = Instant::now();
        let report = evaluate(&benchmark, &snapshot, &Filter::default());
        evaluating.push(start.elapsed());
        audits = snapshot.audits.len();
        assert!(report.totals.pass > 0);
    }
    let peer = std::env::var_os("KUBE_BENCH_ORACLE").map(|oracle| side_by_side(&oracle, &options, &benchmark));
    drop(node);
    if let Some((ours, theirs)) = peer {
        println!("side by side on this machine's / (no --root), {RUNS} runs each, best / median:");
        println!("  palisade collect+evaluate {:>7.1} / {:>7.1} ms", ms(ours.0), ms(ours.1));
        println!("  kube-bench check code     {:>7.1} / {:>7.1} ms", ms(theirs.0), ms(theirs.1));
        println!("  ratio (median)            {:>7.1}x", theirs.1.as_secs_f64() / ours.1.as_secs_f64());
    }
    println!("full node audit, cis-1.12 master+etcd+controlplane+node, {audits} audit scripts, {RUNS} runs:");
    println!("  collect   best {:>7.1} ms  median {:>7.1} ms", ms(best(&collecting)), ms(median(&mut collecting)));
    println!("  evaluate  best {:>7.2} ms  median {:>7.2} ms", ms(best(&evaluating)), ms(median(&mut evaluating)));

    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kubeadm.cis-1.12.snapshot.json");
    let base = Snapshot::from_json(fixture, &std::fs::read_to_string(fixture).expect("fixture")).expect("snapshot");
    let fleet: Vec<String> = (0..FLEET)
        .map(|index| {
            let mut snapshot = base.clone();
            snapshot.node = format!("node-{index:04}");
            if index % 2 == 1 {
                for audit in snapshot.audits.iter_mut().filter(|audit| audit.output.contains("--profiling=false")) {
                    audit.output = audit.output.replace("--profiling=false", "--profiling=true");
                }
            }
            snapshot.to_json()
        })
        .collect();
    let bytes: usize = fleet.iter().map(String::len).sum();
    let start = Instant::now();
    let (mut findings, mut written) = (0, 0);
    for (index, text) in fleet.iter().enumerate() {
        let snapshot = Snapshot::from_json("fleet.json", text).expect("snapshot");
        let report = evaluate(&benchmark, &snapshot, &Filter::default());
        findings += palisade_node::findings::findings(&report, &format!("fleet/{index}")).findings.len();
        let mut out = Vec::new();
        palisade_node::kube_bench::write_json(&report, &mut out).expect("json");
        written += out.len();
    }
    let elapsed = start.elapsed();
    println!(
        "fleet: {FLEET} snapshots ({:.1} MB of JSON) read, evaluated, {findings} findings, {:.1} MB of kube-bench JSON written in {:.2} s on one thread: {:.0} snapshots/s",
        bytes as f64 / 1e6,
        written as f64 / 1e6,
        elapsed.as_secs_f64(),
        FLEET as f64 / elapsed.as_secs_f64()
    );
}

/// (best, median) of Palisade's collect+evaluate and of kube-bench's check code on the same
/// targets and variables, both reading this machine's files.
fn side_by_side(
    oracle: &std::ffi::OsStr,
    options: &CollectOptions,
    benchmark: &palisade_node::controls::Benchmark,
) -> ((Duration, Duration), (Duration, Duration)) {
    let options = CollectOptions { root: None, ..options.clone() };
    let snapshot_file = std::env::temp_dir().join(format!("palisade-bench-{}.json", std::process::id()));
    let mut ours = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let snapshot = collect(&options, benchmark).expect("collect");
        let report = evaluate(benchmark, &snapshot, &Filter::default());
        ours.push(start.elapsed());
        assert!(!report.sections.is_empty());
        std::fs::write(&snapshot_file, snapshot.to_json()).expect("snapshot");
    }
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/cfg");
    let mut theirs = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let output = std::process::Command::new(oracle)
            .args(["-live", "-config-dir", cfg, "-snapshot"])
            .arg(&snapshot_file)
            .output()
            .expect("kube-bench oracle");
        theirs.push(start.elapsed());
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let _ = std::fs::remove_file(&snapshot_file);
    ((best(&ours), median(&mut ours)), (best(&theirs), median(&mut theirs)))
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn best(runs: &[Duration]) -> Duration {
    runs.iter().copied().min().unwrap_or_default()
}

fn median(runs: &mut [Duration]) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}
