//! The detector's throughput with gitleaks' default rules on one core, over every file of a
//! tree: `PALISADE_SECRETS_BENCH=DIR cargo bench -p palisade-secrets --bench detect`.

use std::path::PathBuf;
use std::time::Instant;

use palisade_secrets::config::Config;
use palisade_secrets::detect::{Detector, Fragment};

fn files(root: &PathBuf, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(root) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            files(&path, out);
        } else if kind.is_file() {
            if let Ok(bytes) = std::fs::read(&path) {
                out.push((path.to_string_lossy().into_owned(), bytes));
            }
        }
    }
}

fn main() {
    let Some(root) = std::env::var_os("PALISADE_SECRETS_BENCH") else {
        eprintln!("set PALISADE_SECRETS_BENCH to a directory to scan");
        return;
    };
    let mut corpus = Vec::new();
    files(&PathBuf::from(root), &mut corpus);
    let bytes: usize = corpus.iter().map(|(_, content)| content.len()).sum();
    let detector = Detector::new(&Config::default_rules());
    for round in 0..3 {
        let start = Instant::now();
        let found: usize = corpus.iter().map(|(path, content)| detector.detect(&Fragment::file(content, path)).len()).sum();
        let seconds = start.elapsed().as_secs_f64();
        println!("round {round}: {} files, {:.1} MB in {seconds:.2} s: {:.1} MB/s on one core, {found} findings", corpus.len(), bytes as f64 / 1e6, bytes as f64 / 1e6 / seconds);
    }
}
