//! `cargo bench -p palisade-node --bench node`: the figures of docs/node.md#performance.
//!
//! 1. A full node audit of a stand-in kubeadm control plane (files under a temporary root,
//!    component processes with kubeadm's flags; tests/support/standin.rs): collection (every
//!    audit script of cis-1.12's node-side targets run once) and evaluation, best and median of
//!    `RUNS`.
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
    drop(node);
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
