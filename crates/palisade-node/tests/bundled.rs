//! The control files built into `palisade node`: they load, hold the checks the CIS benchmarks
//! have, are all built in, and are byte copies of kube-bench's.

use std::io::Write;
use std::path::{Path, PathBuf};

use palisade_node::bundled::ConfigDir;
use palisade_node::controls::{Check, load_benchmark};

/// Checks per section (ids 1 to 5) of every built-in benchmark, counted from the files.
const CHECKS: &[(&str, [usize; 5])] = &[
    ("cis-1.10", [59, 7, 5, 24, 35]),
    ("cis-1.11", [60, 7, 5, 26, 35]),
    ("cis-1.12", [60, 7, 5, 25, 34]),
    ("cis-1.20", [64, 7, 3, 23, 26]),
    ("eks-stig-kubernetes-v1r6", [0, 11, 18, 3, 63]),
];

fn cfg_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cfg")
}

/// Every file under `dir`, as paths relative to it with `/` separators, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap();
                files.push(relative.to_str().unwrap().replace('\\', "/"));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_built_in_benchmark_loads_with_its_checks() {
    let names: Vec<&str> = CHECKS.iter().map(|(name, _)| *name).collect();
    assert_eq!(ConfigDir::Bundled.benchmarks().unwrap(), names);
    for (name, per_section) in CHECKS {
        let loaded = load_benchmark(&ConfigDir::Bundled, name);
        assert_eq!(loaded.errors, [], "{name}");
        let sections = &loaded.benchmark.sections;
        let ids: Vec<&str> = sections.iter().map(|section| section.id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3", "4", "5"], "{name}");
        let counts: Vec<usize> = sections
            .iter()
            .map(|section| section.groups.iter().map(|group| group.checks.len()).sum())
            .collect();
        assert_eq!(counts, per_section, "{name}");
        for section in sections {
            assert_eq!(section.version, *name, "{}", section.file);
        }
    }
}

#[test]
fn cis_1_12_checks_are_scored_and_manual_as_the_research_notes_count_them() {
    let benchmark = load_benchmark(&ConfigDir::Bundled, "cis-1.12").benchmark;
    let checks: Vec<&Check> = benchmark
        .sections
        .iter()
        .flat_map(|section| &section.groups)
        .flat_map(|group| &group.checks)
        .collect();
    assert_eq!(checks.len(), 131);
    assert_eq!(checks.iter().filter(|check| check.scored).count(), 65);
    assert_eq!(
        checks.iter().filter(|check| check.kind == "manual").count(),
        28
    );
    let executable = checks
        .iter()
        .filter(|check| check.kind.is_empty() && check.tests.is_some())
        .count();
    assert_eq!(executable, 103);
}

#[test]
fn every_control_file_is_built_in() {
    let cfg = cfg_dir();
    for file in files_under(&cfg) {
        if file == "SOURCE.md" {
            continue;
        }
        let on_disk = std::fs::read_to_string(cfg.join(&file)).unwrap();
        let (_, built_in) = ConfigDir::Bundled
            .read(&file)
            .unwrap_or_else(|error| panic!("{file}: {error}"));
        assert!(built_in == on_disk, "{file} differs from its built-in copy");
    }
}

/// kube-bench's files, next to the workspace by default (`PALISADE_UPSTREAM`).
fn upstream_dir() -> PathBuf {
    match std::env::var_os("PALISADE_UPSTREAM") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream"),
    }
    .join("kube-bench")
}

#[test]
fn control_files_are_byte_copies_of_kube_bench() {
    let upstream = upstream_dir();
    if !upstream.is_dir() {
        let message = format!(
            "{} is missing: set PALISADE_UPSTREAM to the folder holding kube-bench/",
            upstream.display()
        );
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        // Written past the test harness's capture, so the skip shows in every run.
        writeln!(
            std::io::stderr(),
            "SKIPPED control_files_are_byte_copies_of_kube_bench: {message}"
        )
        .unwrap();
        return;
    }
    let cfg = cfg_dir();
    // SOURCE.md is each side's own provenance note, not a kube-bench file.
    let ours: Vec<String> = files_under(&cfg)
        .into_iter()
        .filter(|file| file != "SOURCE.md")
        .collect();
    let theirs: Vec<String> = files_under(&upstream)
        .into_iter()
        .filter(|file| file != "SOURCE.md")
        .collect();
    assert_eq!(ours, theirs, "the same files on both sides");
    for file in ours {
        let here = std::fs::read(cfg.join(&file)).unwrap();
        let there = std::fs::read(upstream.join(&file)).unwrap();
        assert!(
            here == there,
            "cfg/{file} differs from {}",
            upstream.join(&file).display()
        );
    }
}
