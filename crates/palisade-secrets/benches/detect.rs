//! The detector's throughput with gitleaks' default rules on one core, over every file of a
//! tree: `PALISADE_SECRETS_BENCH=DIR cargo bench -p palisade-secrets --bench detect`.
//! With `PALISADE_SECRETS_BENCH_RULES=1` as well, it shows instead where regex time goes: each
//! rule's regex alone over the files holding one of its keywords.

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

/// Each rule's regex alone over the files holding one of its keywords, the most expensive first,
/// with the detector's cache size (a first untimed run fills each regex's cache).
fn rule_costs(config: &Config, corpus: &[(String, Vec<u8>)]) {
    let mut keywords: Vec<&str> = config.rules.iter().flat_map(|rule| rule.keywords.iter().map(String::as_str)).collect();
    keywords.sort_unstable();
    keywords.dedup();
    let automaton = aho_corasick::AhoCorasick::builder().ascii_case_insensitive(true).build(&keywords).expect("keywords build");
    let present: Vec<Vec<bool>> = corpus
        .iter()
        .map(|(_, content)| {
            let mut present = vec![false; keywords.len()];
            automaton.find_overlapping_iter(content.as_slice()).for_each(|found| present[found.pattern().as_usize()] = true);
            present
        })
        .collect();
    let mut costs: Vec<(f64, usize, &str)> = Vec::new();
    for rule in &config.rules {
        let Some(regex) = &rule.regex else { continue };
        let regex = regex::bytes::RegexBuilder::new(regex.as_str()).unicode(false).octal(true).dfa_size_limit(32 << 20).build().expect("rebuilds");
        let texts: Vec<&[u8]> = corpus
            .iter()
            .zip(&present)
            .filter(|(_, present)| rule.keywords.is_empty() || rule.keywords.iter().any(|k| present[keywords.binary_search(&k.as_str()).unwrap_or(0)]))
            .map(|((_, content), _)| content.as_slice())
            .collect();
        texts.iter().for_each(|text| _ = std::hint::black_box(regex.find_iter(text).count()));
        let start = Instant::now();
        texts.iter().for_each(|text| _ = std::hint::black_box(regex.find_iter(text).count()));
        costs.push((start.elapsed().as_secs_f64(), texts.iter().map(|t| t.len()).sum(), &rule.id));
    }
    costs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let total: f64 = costs.iter().map(|c| c.0).sum();
    println!("all regexes: {total:.2} s");
    for (seconds, scanned, id) in costs.iter().take(25) {
        println!("{seconds:8.3} s {:8.1} MB {id}", *scanned as f64 / 1e6);
    }
}
