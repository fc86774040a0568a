//! The loader's own throughput next to the raw parser's, on real files:
//!
//!     python3 bench/gen_corpus.py /tmp/corpus --objects 20000 --per-file 20000
//!     cargo bench -p palisade-load --bench load -- /tmp/corpus/000/manifests-00000.yaml
//!
//! Prints MB/s (best of three runs) for: libyaml-safer's events alone and the loader on one
//! thread (splitting, events, tree, scalar resolution, merge and duplicate keys), both per CPU
//! second so that a busy machine does not skew them; the loader as the scan uses it
//! (`visit_objects`: type checks too, documents of a large file in parallel), by wall time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use libyaml_safer::{EventData, Parser};
use palisade_load::Limits;
use palisade_load::yaml::{parse_chunk, split_documents};

/// CPU seconds this process has used: on a shared machine a single-threaded phase is measured
/// by the CPU time it takes, which other processes do not inflate the way they do wall time.
fn cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage only writes the struct we pass; RUSAGE_SELF is always valid.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let seconds = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// MB/s over the best of three runs, by CPU time (single-threaded phases) or by wall time.
fn best_of_three(megabytes: f64, by_cpu: bool, mut run: impl FnMut() -> usize) -> (f64, usize) {
    let mut best = f64::MAX;
    let mut count = 0;
    for _ in 0..3 {
        let (wall, cpu) = (Instant::now(), cpu_seconds());
        count = run();
        best = best.min(if by_cpu { cpu_seconds() - cpu } else { wall.elapsed().as_secs_f64() });
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

        let (speed, events) = best_of_three(megabytes, true, || {
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
        println!("  raw parser (libyaml-safer events), per CPU second: {speed:6.1} MB/s  ({events} events)");

        let (speed, documents) = best_of_three(megabytes, true, || {
            split_documents(&text).into_iter().map(|chunk| parse_chunk(chunk, &limits)).filter(|doc| doc.result.is_ok()).count()
        });
        println!("  loader, one thread, per CPU second:                {speed:6.1} MB/s  ({documents} documents)");

        let (speed, objects) = best_of_three(megabytes, false, || {
            let objects = AtomicUsize::new(0);
            let (errors, _) = palisade_load::visit_objects(&text, &file.as_str().into(), &limits, |_| {
                objects.fetch_add(1, Ordering::Relaxed);
            });
            assert!(errors.is_empty(), "{errors:?}");
            objects.into_inner()
        });
        println!("  loader, visit_objects (all cores), wall time:      {speed:6.1} MB/s  ({objects} objects)");
    }
}
