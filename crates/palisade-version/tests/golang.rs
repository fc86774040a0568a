//! Go conformance: every row of `version-vectors/go.tsv` (golang.org/x/mod's `semver_test.go`
//! and `module/pseudo_test.go`) and `go-canonical.tsv` (`semver.Canonical`, `<invalid>` when
//! `semver.IsValid` is false).

mod common;

use palisade_version::golang;

#[test]
fn agrees_with_every_go_ordering_row() {
    common::check_ordering("go.tsv", golang::compare);
}

#[test]
fn agrees_with_every_canonical_form_row() {
    let Some(rows) = common::rows("go-canonical.tsv") else { return };
    let wrong: Vec<_> = rows
        .iter()
        .filter(|row| {
            let expected = (row[1] != "<invalid>").then(|| row[1].clone());
            golang::canonical(&row[0]) != expected || golang::is_valid(&row[0]) != expected.is_some()
        })
        .collect();
    assert!(wrong.is_empty(), "go-canonical.tsv: {} of {} rows disagree: {wrong:?}", wrong.len(), rows.len());
    eprintln!("go-canonical.tsv: {} rows agree", rows.len());
}
