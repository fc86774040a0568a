//! `palisade secrets DIR` without the CLI: the engine's start-up (default rules loaded and
//! compiled) and the parallel scan of a tree, timed apart, with the binary's allocator.
//!
//!     PALISADE_SECRETS_BENCH=DIR cargo bench -p palisade-secrets-scan --bench scan
//!
//! Threads: rayon's default (RAYON_NUM_THREADS to change; pin with taskset to compare cores).

use std::path::PathBuf;
use std::time::Instant;

use palisade_secrets::config::Config;
use palisade_secrets::decode::DecodeLimits;
use palisade_secrets_scan::{Engine, Options, scan_paths};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let Some(root) = std::env::var_os("PALISADE_SECRETS_BENCH") else {
        eprintln!("set PALISADE_SECRETS_BENCH to a directory to scan");
        return;
    };
    let root = PathBuf::from(root);
    for round in 0..3 {
        let start = Instant::now();
        let config = Config::default_rules();
        let loaded = start.elapsed().as_secs_f64();
        let engine = Engine::new(config, DecodeLimits::default(), "built-in".into());
        let ready = start.elapsed().as_secs_f64();
        let scan = scan_paths(&engine, std::slice::from_ref(&root), &Options::default(), &|_| {});
        let scanned = start.elapsed().as_secs_f64() - ready;
        let megabytes = scan.stats.bytes as f64 / 1e6;
        println!(
            "round {round}: start-up {:.0} ms (rules loaded in {:.0} ms); {} files, {megabytes:.1} MB scanned in {scanned:.2} s ({:.0} MB/s), {:.0} MB/s with start-up; {} findings",
            ready * 1e3,
            loaded * 1e3,
            scan.stats.scanned,
            megabytes / scanned,
            megabytes / (scanned + ready),
            scan.findings.len()
        );
    }
}
