//! Matching a 500-package inventory against every advisory of its ecosystems.
//!
//! `PALISADE_OSV_BENCH=DIR[:DIR…]`: directories of OSV records (e.g. a checkout of
//! rustsec/advisory-db's `osv` branch, golang/vulndb's `data/osv`, pypa/advisory-database's
//! `vulns`), each opened in memory and measured on its own. The inventory takes package names
//! from the JSON records themselves (Go modules, crates, PyPI projects, round robin) at
//! `v1.0.0`/`0.0.1`/`1.0.0`, so every lookup finds advisories to evaluate. Skipped, saying so, when the variable is unset.
//!
//! `cargo bench -p palisade-vuln --bench match`

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use palisade_osv::Database;
use palisade_pkg::{Inventory, Location, Package, PackageType, SourceDescription};
use palisade_vuln::{match_inventory, MatchOptions};

fn main() {
    let Ok(paths) = std::env::var("PALISADE_OSV_BENCH") else {
        println!("skipped: set PALISADE_OSV_BENCH to directories of OSV records");
        return;
    };
    for path in paths.split(':').filter(|path| !path.is_empty()) {
        let started = Instant::now();
        let database = match Database::open(Path::new(path)) {
            Ok(database) => database,
            Err(error) => {
                println!("{path}: {error}");
                continue;
            }
        };
        let status = database.status();
        println!("{path}: {} records opened in memory in {:.2?}", status.records, started.elapsed());
        let inventory = inventory_of(path, &status.ecosystems.keys().cloned().collect::<Vec<_>>());
        if inventory.packages.is_empty() {
            println!("{path}: no Go, crates.io or PyPI records");
            continue;
        }
        let mut best = f64::MAX;
        let mut report = None;
        for _ in 0..5 {
            let started = Instant::now();
            let matched = match_inventory(&inventory, &database, &MatchOptions::default());
            best = best.min(started.elapsed().as_secs_f64());
            report = Some(matched);
        }
        let report = report.unwrap();
        println!(
            "{path}: {} packages matched in {:.1} ms (best of 5): {} matches, {} packages affected, {} issues",
            inventory.packages.len(),
            best * 1e3,
            report.matches.len(),
            report.ecosystems.values().map(|counts| counts.affected).sum::<usize>(),
            report.issues.len()
        );
    }
}

/// 500 packages named after the records' own packages.
fn inventory_of(paths: &str, ecosystems: &[String]) -> Inventory {
    let kinds = [("Go", PackageType::GoModule, "v1.0.0"), ("crates.io", PackageType::RustCrate, "0.0.1"), ("PyPI", PackageType::Python, "1.0.0")];
    let mut names: Vec<BTreeSet<String>> = vec![BTreeSet::new(); kinds.len()];
    for (index, (ecosystem, _, _)) in kinds.iter().enumerate() {
        if !ecosystems.iter().any(|known| known == ecosystem) {
            continue;
        }
        names[index] = record_names(paths, ecosystem);
    }
    let mut iterators: Vec<_> = names.iter().map(|set| set.iter()).collect();
    let mut packages = Vec::new();
    while packages.len() < 500 {
        let before = packages.len();
        for (index, iterator) in iterators.iter_mut().enumerate() {
            if let Some(name) = iterator.next() {
                let (_, kind, version) = kinds[index];
                packages.push(Package { locations: vec![Location::new("/bench")], ..Package::new(kind, name.clone(), version, "") });
            }
        }
        if packages.len() == before {
            break;
        }
    }
    packages.truncate(500);
    Inventory { source: SourceDescription::Directory { path: "/bench".into() }, distro: None, packages, issues: vec![] }
}

/// Every `affected[].package.name` of `ecosystem` in the JSON records under `paths`.
fn record_names(paths: &str, ecosystem: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for path in paths.split(':') {
        collect_names(Path::new(path), ecosystem, &mut names);
    }
    names
}

fn collect_names(directory: &Path, ecosystem: &str, names: &mut BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(directory) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if !entry.file_name().to_string_lossy().starts_with('.') {
                collect_names(&path, ecosystem, names);
            }
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
        for affected in value["affected"].as_array().into_iter().flatten() {
            let package = &affected["package"];
            if package["ecosystem"] == ecosystem {
                if let Some(name) = package["name"].as_str() {
                    names.insert(name.to_owned());
                }
            }
        }
    }
}
