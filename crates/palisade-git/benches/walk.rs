//! Walks a generated 10,000-commit repository and prints the time, next to `git log -p -U0
//! --full-history --all` (what gitleaks reads) on the same repository.
//!
//! `cargo bench -p palisade-git --bench walk [-- COMMITS]`

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use palisade_git::{History, Options};

const FILES: usize = 100;
const LINES_PER_FILE: usize = 40;

/// A `git fast-import` stream: one commit per step on `main`, each rewriting one line of one of
/// 100 files (~2 KiB each), and every tenth commit adding a new small file.
fn fast_import_stream(commits: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut files: Vec<Vec<String>> =
        (0..FILES).map(|f| (0..LINES_PER_FILE).map(|l| format!("file {f} line {l} initial text of the file")).collect()).collect();
    for c in 0..commits {
        let file = c % FILES;
        let line = (c / FILES) % LINES_PER_FILE;
        files[file][line] = format!("file {file} line {line} changed in commit {c}: key_{:016x}", (c as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let message = format!("commit {c}\n");
        writeln!(out, "commit refs/heads/main\nmark :{}", c + 1).unwrap();
        let time = 1_700_000_000 + c as u64 * 60;
        writeln!(out, "author Bench <bench@example.test> {time} +0000\ncommitter Bench <bench@example.test> {time} +0000").unwrap();
        write!(out, "data {}\n{message}", message.len()).unwrap();
        if c > 0 {
            writeln!(out, "from :{c}").unwrap();
        }
        let touched: Vec<usize> = if c == 0 { (0..FILES).collect() } else { vec![file] };
        for f in touched {
            let content = files[f].join("\n") + "\n";
            write!(out, "M 100644 inline src/file{f}.txt\ndata {}\n{content}\n", content.len()).unwrap();
        }
        if c % 10 == 0 {
            let content = format!("new file in commit {c}\nsecond line\n");
            write!(out, "M 100644 inline added/new{c}.txt\ndata {}\n{content}\n", content.len()).unwrap();
        }
    }
    out
}

fn main() {
    let commits: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temporary directory");
    let git = |args: &[&str]| {
        let mut command = Command::new("git");
        command.args(args).current_dir(dir.path()).env("HOME", dir.path());
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        command
    };

    let started = Instant::now();
    assert!(git(&["init", "-q", "-b", "main"]).status().expect("git init").success());
    let mut import = git(&["fast-import", "--quiet"]).spawn().expect("git fast-import");
    import.stdin.take().expect("stdin").write_all(&fast_import_stream(commits)).expect("stream written");
    let output = import.wait_with_output().expect("fast-import finishes");
    assert!(output.status.success(), "git fast-import: {}", String::from_utf8_lossy(&output.stderr));
    println!("generated {commits} commits with git fast-import in {:.2?}", started.elapsed());

    let history = History::open(dir.path()).expect("repository opens");
    for run in 1..=3 {
        let started = Instant::now();
        let mut lines = 0u64;
        let summary = history
            .walk(&Options::default(), |change| lines += change.hunks.iter().map(|h| h.lines().count() as u64).sum::<u64>())
            .expect("walk");
        let elapsed = started.elapsed();
        assert_eq!(summary.commits, commits as u64);
        assert!(summary.problems.is_empty(), "{:?}", summary.problems);
        println!(
            "palisade-git walk #{run}: {} commits, {} changes, {lines} added lines, {} bytes in {elapsed:.2?} ({:.0} commits/s)",
            summary.commits,
            summary.changes,
            summary.added_bytes,
            summary.commits as f64 / elapsed.as_secs_f64()
        );
    }

    let started = Instant::now();
    let output = git(&["log", "-p", "-U0", "--full-history", "--all", "--diff-filter=tuxdb"]).output().expect("git log");
    assert!(output.status.success());
    println!("git log -p -U0 --full-history --all (gitleaks' input): {} bytes in {:.2?}", output.stdout.len(), started.elapsed());
}
