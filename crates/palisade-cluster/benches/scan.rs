//! `palisade scan --cluster` against the simulated API server, at several cluster sizes:
//!
//! ```sh
//! cargo build --release -p palisade
//! cargo bench -p palisade-cluster --bench scan -- [--objects 10000,25000,100000] [--latency-ms 10] [--binary PATH] [--keep DIR] [--top-rules N]
//! ```
//!
//! For each size, the simulated cluster (tests/support/simulated.rs: a kubeadm cluster with
//! application namespaces, objects as the API server returns them, about 3 KB each with their
//! managedFields) is served in-process on 127.0.0.1 over TLS, with `--latency-ms` per list
//! request, and the release binary scans it as a child process:
//! `palisade scan --cluster --kubeconfig K -f json -o FILE --fail-on never --list-timeout 600`.
//! Reported per size: objects, wall seconds, objects/s, the child's CPU seconds (user + system,
//! from wait4's rusage), its peak RSS (`VmHWM`, sampled every 5 ms: `ru_maxrss` would count
//! the memory it shared with this process before exec), the bytes the server sent (gzip when the
//! client asks for it), the server's own CPU seconds, the findings and errors of the report;
//! then the memory slope in MiB per 1,000 objects between consecutive sizes.
//! `--keep DIR` also writes each size's manifests to `DIR/N/` for a file scan of the same objects;
//! `--top-rules N` prints the N rules with the most findings at each size.
//! Run with RUST_BACKTRACE unset: backtrace capture costs the scan time.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

struct Run {
    objects: usize,
    wall: f64,
    cpu: f64,
    peak_mib: f64,
    wire_mib: f64,
    served_mib: f64,
    server_cpu: f64,
    findings: u64,
    errors: u64,
    scanned: u64,
    status: i32,
}

fn main() {
    let mut sizes = vec![10_000, 25_000, 100_000];
    let mut latency = Duration::from_millis(10);
    let mut binary = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/palisade");
    let mut keep: Option<PathBuf> = None;
    let mut top_rules = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--objects" => sizes = args.next().expect("--objects N,N").split(',').map(|n| n.trim().replace('_', "").parse().expect("a number of objects")).collect(),
            "--latency-ms" => latency = Duration::from_millis(args.next().expect("--latency-ms N").parse().expect("milliseconds")),
            "--binary" => binary = args.next().expect("--binary PATH").into(),
            "--keep" => keep = Some(args.next().expect("--keep DIR").into()),
            "--top-rules" => top_rules = args.next().expect("--top-rules N").parse().expect("a number"),
            // cargo bench passes --bench to harness = false targets.
            "--bench" => {}
            other => panic!("unknown argument {other}; usage: -- [--objects 10000,25000,100000] [--latency-ms 10] [--binary PATH] [--keep DIR] [--top-rules N]"),
        }
    }
    assert!(binary.exists(), "{} is missing: run `cargo build --release -p palisade` first", binary.display());
    if std::env::var_os("RUST_BACKTRACE").is_some() {
        eprintln!("warning: RUST_BACKTRACE is set; unset it for representative figures");
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("palisade scan --cluster, simulated API server on 127.0.0.1 (TLS, {} ms per list request), {cores} cores", latency.as_millis());
    println!("binary: {}", binary.display());
    println!();
    println!("{:>8} {:>7} {:>9} {:>8} {:>9} {:>9} {:>9} {:>10} {:>9} {:>8} {:>6}", "objects", "wall s", "objects/s", "CPU s", "peak MiB", "JSON MiB", "wire MiB", "server CPU", "findings", "errors", "exit");
    let mut runs: Vec<Run> = Vec::new();
    for &size in &sizes {
        let generated = Instant::now();
        let cluster = support::cluster(size);
        let generation = generated.elapsed();
        if let Some(dir) = &keep {
            cluster.write_manifests(&dir.join(size.to_string())).expect("write the manifests");
        }
        let api = cluster.serve();
        api.set_latency(latency);
        let run = scan(&binary, &api, &cluster, top_rules);
        println!(
            "{:>8} {:>7.2} {:>9.0} {:>8.2} {:>9.1} {:>9.1} {:>9.1} {:>10.2} {:>9} {:>8} {:>6}",
            run.objects,
            run.wall,
            run.objects as f64 / run.wall,
            run.cpu,
            run.peak_mib,
            run.served_mib,
            run.wire_mib,
            run.server_cpu,
            run.findings,
            run.errors,
            run.status
        );
        if run.scanned != run.objects as u64 {
            println!("         note: the report counts {} objects scanned of {} served", run.scanned, run.objects);
        }
        eprintln!(
            "         ({size}: generated in {:.1}s: {} pods, {} namespaces, {} nodes, {:.1} KB per object)",
            generation.as_secs_f64(),
            cluster.count("Pod"),
            cluster.count("Namespace"),
            cluster.nodes(),
            cluster.bytes() as f64 / cluster.len() as f64 / 1000.0
        );
        runs.push(run);
    }
    if runs.len() > 1 {
        println!();
        println!("memory slope (peak RSS growth per 1,000 objects):");
        for pair in runs.windows(2) {
            let slope = (pair[1].peak_mib - pair[0].peak_mib) / ((pair[1].objects as f64 - pair[0].objects as f64) / 1000.0);
            println!("  {:>7} -> {:>7}: {slope:.2} MiB per 1,000 objects", pair[0].objects, pair[1].objects);
        }
    }
}

fn scan(binary: &std::path::Path, api: &support::FakeApi, cluster: &support::SimulatedCluster, top_rules: usize) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let stderr = std::fs::File::create(dir.path().join("stderr")).unwrap();
    let server_before = self_cpu_seconds();
    let started = Instant::now();
    // Reaped by wait4 below, which also gives its resource usage.
    #[allow(clippy::zombie_processes)]
    let child = std::process::Command::new(binary)
        .args(["scan", "--cluster", "--kubeconfig"])
        .arg(&api.kubeconfig)
        .args(["-f", "json", "--fail-on", "never", "--list-timeout", "600", "-o"])
        .arg(&report)
        .env_remove("RUST_BACKTRACE")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("start palisade");
    let pid = child.id() as libc::pid_t;
    let high_water = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampler = std::thread::spawn({
        let high_water = high_water.clone();
        move || high_water_mark(pid, &high_water)
    });
    let (status, usage) = wait4(pid);
    sampler.join().unwrap();
    // ru_maxrss also counts the memory the child shared with this process between fork and
    // exec (the simulated cluster, hundreds of MiB at 100k objects); VmHWM is the scan's own.
    let peak_kib = high_water.load(std::sync::atomic::Ordering::Relaxed);
    let wall = started.elapsed().as_secs_f64();
    let server_cpu = self_cpu_seconds() - server_before;
    let seconds = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 / 1e6;
    let summary = summary_of(&report);
    if top_rules > 0 {
        print_top_rules(&report, top_rules);
    }
    if status != 0 && status != 1 {
        eprintln!("palisade exited {status}:\n{}", std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default());
    }
    Run {
        objects: cluster.len(),
        wall,
        cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        peak_mib: peak_kib as f64 / 1024.0,
        wire_mib: api.bytes_sent() as f64 / (1 << 20) as f64,
        served_mib: api.recorded().iter().map(|r| r.raw_bytes as f64).sum::<f64>() / (1 << 20) as f64,
        server_cpu,
        findings: summary["findings"].as_u64().unwrap_or(0),
        errors: summary["input_errors"].as_u64().unwrap_or(0),
        scanned: summary["objects_scanned"].as_u64().unwrap_or(0),
        status,
    }
}

/// Samples the child's `VmHWM` (its peak resident memory since exec, which only grows) every
/// 5 ms until it exits, keeping the last value read.
fn high_water_mark(pid: libc::pid_t, high_water: &std::sync::atomic::AtomicU64) {
    let path = format!("/proc/{pid}/status");
    while let Ok(status) = std::fs::read_to_string(&path) {
        let Some(kib) = status.lines().find_map(|line| line.strip_prefix("VmHWM:")).and_then(|value| value.trim().trim_end_matches("kB").trim().parse::<u64>().ok()) else { break };
        high_water.fetch_max(kib, std::sync::atomic::Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Reaps the child with its own resource usage.
fn wait4(pid: libc::pid_t) -> (i32, libc::rusage) {
    let mut status = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: wait4 writes the status and the rusage we pass; pid is our child, reaped once.
    let usage = unsafe {
        let reaped = libc::wait4(pid, &mut status, 0, usage.as_mut_ptr());
        assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
        usage.assume_init()
    };
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 128 + libc::WTERMSIG(status) };
    (code, usage)
}

/// CPU seconds of this process (the in-process API server, mostly).
fn self_cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage only writes the struct we pass; RUSAGE_SELF is always valid.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let seconds = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The `summary` of a JSON report, which comes last: read from the end, so that a report of
/// hundreds of thousands of findings is not parsed whole.
fn summary_of(report: &std::path::Path) -> serde_json::Value {
    let Ok(text) = std::fs::read(report) else { return serde_json::Value::Null };
    let tail_start = text.len().saturating_sub(64 * 1024);
    let tail = String::from_utf8_lossy(&text[tail_start..]);
    let Some(at) = tail.rfind("\"summary\"") else { return serde_json::Value::Null };
    let object = &tail[at..];
    let Some(open) = object.find('{') else { return serde_json::Value::Null };
    let mut depth = 0;
    for (i, c) in object[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return serde_json::from_str(&object[open..open + i + 1]).unwrap_or(serde_json::Value::Null);
                }
            }
            _ => {}
        }
    }
    serde_json::Value::Null
}

/// The rules with the most findings in a JSON report, counted from its `"rule"` fields.
fn print_top_rules(report: &std::path::Path, count: usize) {
    let text = std::fs::read_to_string(report).unwrap_or_default();
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for piece in text.split("\"rule\": \"").skip(1) {
        if let Some(end) = piece.find('"') {
            *counts.entry(&piece[..end]).or_default() += 1;
        }
    }
    let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
    counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let listed: Vec<String> = counts.iter().take(count).map(|(rule, n)| format!("{rule} {n}")).collect();
    eprintln!("         top rules: {}", listed.join(", "));
}
