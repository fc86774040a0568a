//! The loader's own throughput next to the raw parser's, on real files:
//!
//!     python3 bench/gen_corpus.py /tmp/corpus --objects 20000 --per-file 20000
//!     cargo bench -p palisade-load --bench load -- /tmp/corpus/000/manifests-00000.yaml
//!
//! Prints MB/s (best of three runs) for: libyaml-safer's events alone; the loader on one thread
//! (splitting, events, tree, scalar resolution, duplicate keys, type checks); the loader as the
//! scan uses it (`visit_objects`, documents of a large file in parallel).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use libyaml_safer::{EventData, Parser};
use palisade_load::Limits;
use palisade_load::yaml::{parse_chunk, split_documents};

fn best_of_three(megabytes: f64, mut run: impl FnMut() -> usize) -> (f64, usize) {
    let mut best = f64::MAX;
    let mut count = 0;
    for _ in 0..3 {
        let start = Instant::now();
        count = run();
        best = best.min(start.elapsed().as_secs_f64());
    }
    (megabytes / best, count)
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).filter(|arg| !arg.starts_with("--")).collect();
    assert!(!files.is_empty(), "usage: cargo bench -p palisade-load --bench load -- FILE...");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read the file");
        let megabytes = text.len() as f64 / 1e6;
        let limits = Limits::default();
        println!("{file}: {megabytes:.1} MB");

        let (speed, events) = best_of_three(megabytes, || {
            let mut events = 0;
            for chunk in split_documents(&text) {
                let mut input = chunk.text.as_bytes();
                let mut parser = Parser::new();
                parser.set_input_string(&mut input);
                loop {
                    let event = parser.parse().expect("valid YAML");
                    events += 1;
                    if matches!(event.data, EventData::StreamEnd) {
                        break;
                    }
                }
            }
            events
        });
        println!("  raw parser (libyaml-safer events): {speed:6.1} MB/s  ({events} events)");

        let (speed, documents) = best_of_three(megabytes, || {
            split_documents(&text).into_iter().map(|chunk| parse_chunk(chunk, &limits)).filter(|doc| doc.result.is_ok()).count()
        });
        println!("  loader, one thread:                {speed:6.1} MB/s  ({documents} documents)");

        let (speed, objects) = best_of_three(megabytes, || {
            let objects = AtomicUsize::new(0);
            let (errors, _) = palisade_load::visit_objects(&text, &file.as_str().into(), &limits, |_| {
                objects.fetch_add(1, Ordering::Relaxed);
            });
            assert!(errors.is_empty(), "{errors:?}");
            objects.into_inner()
        });
        println!("  loader, visit_objects (all cores): {speed:6.1} MB/s  ({objects} objects)");
    }
}
