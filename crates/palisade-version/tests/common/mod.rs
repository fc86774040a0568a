//! Reading `$PALISADE_UPSTREAM/version-vectors/*.tsv` (never copied into the repository).
// Each test file uses the part it needs.
#![allow(dead_code)]

use std::cmp::Ordering;
use std::io::Write;
use std::path::PathBuf;

/// The rows of one vectors file, header dropped, split on tabs; `None` (after a visible
/// SKIPPED line) when the data is missing outside CI; under `CI=true` missing data fails.
pub fn rows(file: &str) -> Option<Vec<Vec<String>>> {
    let dir = std::env::var_os("PALISADE_UPSTREAM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream"));
    let path = dir.join("version-vectors").join(file);
    let Ok(text) = std::fs::read_to_string(&path) else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{} is missing under CI", path.display());
        // Past the harness's capture, so the skip shows in every run.
        writeln!(std::io::stderr(), "SKIPPED: {} not found (set PALISADE_UPSTREAM)", path.display()).unwrap();
        return None;
    };
    Some(text.lines().skip(1).filter(|line| !line.is_empty()).map(|line| line.split('\t').map(str::to_owned).collect()).collect())
}

pub fn ordering(op: &str) -> Ordering {
    match op {
        "<" => Ordering::Less,
        "=" => Ordering::Equal,
        ">" => Ordering::Greater,
        other => panic!("unknown op {other:?}"),
    }
}

/// Checks every ordering row (`a op b … source`) with `compare`, both ways round, and fails
/// listing the first disagreements and their count.
pub fn check_ordering(file: &str, compare: impl Fn(&str, &str) -> Ordering) {
    let Some(rows) = rows(file) else { return };
    let mut wrong = Vec::new();
    for row in &rows {
        let (a, op, b) = (&row[0], &row[1], &row[2]);
        let expected = ordering(op);
        let forward = compare(a, b);
        let backward = compare(b, a);
        if forward != expected || backward != expected.reverse() {
            wrong.push(format!("{a} {op} {b} ({}): got {forward:?}/{backward:?}", row.last().unwrap()));
        }
    }
    assert!(wrong.is_empty(), "{file}: {} of {} rows disagree:\n{}", wrong.len(), rows.len(), wrong.iter().take(40).cloned().collect::<Vec<_>>().join("\n"));
    eprintln!("{file}: {} rows agree", rows.len());
}

/// Checks every `(a, op, b)` of a table taken from an upstream test suite, both ways round.
pub fn check_table(table: &[(&str, &str, &str)], compare: fn(&str, &str) -> Ordering) {
    let wrong: Vec<String> = table
        .iter()
        .filter(|(a, op, b)| {
            let expected = ordering(op);
            compare(a, b) != expected || compare(b, a) != expected.reverse()
        })
        .map(|(a, op, b)| format!("{a} {op} {b}: got {:?}", compare(a, b)))
        .collect();
    assert!(wrong.is_empty(), "{} of {} rows disagree:\n{}", wrong.len(), table.len(), wrong.join("\n"));
}
