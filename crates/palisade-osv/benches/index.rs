//! Index build and lookup figures on real OSV data, which stays out of the repository.
//!
//! `PALISADE_OSV_DATA=dir1:dir2:all.zip cargo bench -p palisade-osv --bench index`
//! (directories, zips or git checkouts of OSV records, e.g. rustsec/advisory-db's `osv` branch,
//! golang/vulndb's `data/osv`, pypa/advisory-database's `vulns`). Optional
//! `PALISADE_OSV_SYNTHETIC=N` also builds an index of N records made from those (ids and
//! package names varied) to see how the build scales. Prints records/s, the index's size on disk,
//! open and lookup times.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use palisade_osv::{import, Database};

fn main() {
    let Some(paths) = std::env::var_os("PALISADE_OSV_DATA") else {
        eprintln!("PALISADE_OSV_DATA is not set: no figures (see benches/index.rs)");
        return;
    };
    let sources: Vec<PathBuf> = std::env::split_paths(&paths).collect();
    let scratch = tempfile::tempdir().unwrap();
    let names = package_names(&sources);
    measure("real data", &sources, &scratch.path().join("db"), &names);
    if let Some(count) = std::env::var("PALISADE_OSV_SYNTHETIC").ok().and_then(|count| count.parse::<usize>().ok()) {
        let zip = scratch.path().join("synthetic.zip");
        synthesize(&sources, count, &zip);
        // The synthetic records' names end in `-0` … `-49`.
        let names: Vec<(String, String)> = names.iter().map(|(ecosystem, name)| (ecosystem.clone(), format!("{name}-0"))).collect();
        measure(&format!("synthetic {count}"), &[zip], &scratch.path().join("synthetic-db"), &names);
    }
}

fn measure(label: &str, sources: &[PathBuf], db: &std::path::Path, names: &[(String, String)]) {
    let started = Instant::now();
    let report = import(sources, db, &mut |_| {}).unwrap();
    let elapsed = started.elapsed();
    let records: usize = report.sources.iter().map(|source| source.records).sum();
    println!("{label}: {records} records ({} malformed) indexed in {:.2} s: {:.0} records/s on {} threads", report.issues.len(), elapsed.as_secs_f64(), records as f64 / elapsed.as_secs_f64(), rayon::current_num_threads());
    println!("{label}: index on disk {:.1} MiB ({} bytes)", report.index_bytes as f64 / (1 << 20) as f64, report.index_bytes);

    let started = Instant::now();
    let database = Database::open(db).unwrap();
    println!("{label}: open {:.3} ms", started.elapsed().as_secs_f64() * 1e3);
    // Every package name once: one lookup per name, as a scan of that many packages would do.
    let started = Instant::now();
    let mut found = 0;
    for (ecosystem, name) in names {
        found += database.advisories(ecosystem, name).unwrap().len();
    }
    let first = started.elapsed();
    let started = Instant::now();
    for (ecosystem, name) in names {
        database.advisories(ecosystem, name).unwrap();
    }
    let again = started.elapsed();
    println!(
        "{label}: {} lookups ({found} advisories): first pass {:.1} µs/lookup (reads records), second {:.1} µs/lookup (decoded records cached)",
        names.len(),
        first.as_secs_f64() * 1e6 / names.len().max(1) as f64,
        again.as_secs_f64() * 1e6 / names.len().max(1) as f64
    );
}

/// The (ecosystem, name) pairs of the JSON records in `sources` (YAML ones are not looked up).
fn package_names(sources: &[PathBuf]) -> Vec<(String, String)> {
    let mut records = Vec::new();
    for source in sources {
        collect_json(source, &mut records);
    }
    let mut names: Vec<(String, String)> = records
        .iter()
        .flat_map(|record| record["affected"].as_array().cloned().unwrap_or_default())
        .filter_map(|affected| Some((affected["package"]["ecosystem"].as_str()?.to_owned(), affected["package"]["name"].as_str()?.to_owned())))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A zip of `count` records: the real ones repeated with new ids and package names.
fn synthesize(sources: &[PathBuf], count: usize, to: &std::path::Path) {
    let mut records = Vec::new();
    for source in sources {
        collect_json(source, &mut records);
    }
    assert!(!records.is_empty(), "no JSON records in PALISADE_OSV_DATA to build the synthetic set from");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for index in 0..count {
        let mut record = records[index % records.len()].clone();
        let round = index / records.len();
        let id = format!("SYN-{index}");
        record["id"] = id.clone().into();
        if let Some(affected) = record["affected"].as_array_mut() {
            for entry in affected {
                if let Some(name) = entry["package"]["name"].as_str() {
                    entry["package"]["name"] = format!("{name}-{}", round % 50).into();
                }
            }
        }
        writer.start_file(format!("{id}.json"), options).unwrap();
        writer.write_all(&serde_json::to_vec(&record).unwrap()).unwrap();
    }
    writer.finish().unwrap();
}

fn collect_json(path: &std::path::Path, records: &mut Vec<serde_json::Value>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap().flatten() {
            if !entry.file_name().to_string_lossy().starts_with('.') {
                collect_json(&entry.path(), records);
            }
        }
    } else if path.extension().is_some_and(|extension| extension == "json") {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&std::fs::read(path).unwrap()) {
            if value.get("id").is_some() {
                records.push(value);
            }
        }
    }
}
