//! The detector's throughput with gitleaks' default rules on one core, over every file of a
//! tree: `PALISADE_SECRETS_BENCH=DIR cargo bench -p palisade-secrets --bench detect`.
//! With `PALISADE_SECRETS_BENCH_RULES=1` as well, it shows instead where regex time goes: each
//! rule's regex as configured, alone, over the files holding one of its keywords.

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
    let config = Config::default_rules();
    if std::env::var_os("PALISADE_SECRETS_BENCH_RULES").is_some() {
        rule_costs(&config, &corpus);
        return;
    }
    let detector = Detector::new(&config);
    for round in 0..3 {
        let start = Instant::now();
        let found: usize = corpus.iter().map(|(path, content)| detector.detect(&Fragment::file(content, path)).len()).sum();
        let seconds = start.elapsed().as_secs_f64();
        println!("round {round}: {} files, {:.1} MB in {seconds:.2} s: {:.1} MB/s on one core, {found} findings", corpus.len(), bytes as f64 / 1e6, bytes as f64 / 1e6 / seconds);
    }
}

/// Each rule's regex alone over the files holding one of its keywords, the most expensive first
/// (the detector's own regexes have larger caches, so this is an upper bound per rule).
fn rule_costs(config: &Config, corpus: &[(String, Vec<u8>)]) {
    let lowered: Vec<Vec<u8>> = corpus.iter().map(|(_, content)| content.to_ascii_lowercase()).collect();
    let mut costs: Vec<(f64, usize, &str)> = Vec::new();
    for rule in &config.rules {
        let Some(regex) = &rule.regex else { continue };
        let holds = |lower: &[u8], keyword: &str| lower.windows(keyword.len()).any(|w| w == keyword.as_bytes());
        let texts: Vec<&[u8]> = corpus
            .iter()
            .zip(&lowered)
            .filter(|(_, lower)| rule.keywords.is_empty() || rule.keywords.iter().any(|k| holds(lower, k)))
            .map(|((_, content), _)| content.as_slice())
            .collect();
        let start = Instant::now();
        texts.iter().for_each(|text| drop(regex.find_iter(text).count()));
        costs.push((start.elapsed().as_secs_f64(), texts.iter().map(|t| t.len()).sum(), &rule.id));
    }
    costs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let total: f64 = costs.iter().map(|c| c.0).sum();
    println!("all regexes: {total:.2} s");
    for (seconds, scanned, id) in costs.iter().take(25) {
        println!("{seconds:8.3} s {:8.1} MB {id}", *scanned as f64 / 1e6);
    }
}
