//! apk conformance: every row of `version-vectors/alpine.tsv` (apk-tools' own
//! `test/unit/version.data`, osv-scalibr's hand-written Alpine cases and its pairs checked with
//! `apk version -t`), `alpine-fuzzy.tsv` (fuzzy operators) and `alpine-valid.tsv` (validity).

mod common;

use palisade_version::apk;

#[test]
fn agrees_with_every_alpine_ordering_row() {
    common::check_ordering("alpine.tsv", apk::compare);
}

#[test]
fn strings_apk_3_rejects_get_osv_answers() {
    use std::cmp::Ordering::*;
    // osv-scalibr's comparator; apk-tools 2.x answers the opposite on each (as osv-scalibr's
    // alpine-versions.txt stated at 3743bb271cfa473f162903677230a80258ed6557).
    assert_eq!(apk::compare("1-r-0", "1-r0"), Less);
    assert_eq!(apk::compare("0.r1", "0r2"), Less);
    assert_eq!(apk::compare("1.2.0A", "1.2.0d"), Less);
    assert_eq!(apk::compare("1", "1-ruff"), Greater);
    assert_eq!(apk::compare("1-ruff2", "1--ruff1"), Equal);
}

#[test]
fn agrees_with_every_fuzzy_operator_row() {
    let Some(rows) = common::rows("alpine-fuzzy.tsv") else { return };
    let wrong: Vec<_> = rows.iter().filter(|row| apk::matches(&row[0], &row[1], &row[2]) != Some(true)).collect();
    assert!(wrong.is_empty(), "alpine-fuzzy.tsv: {} of {} rows disagree: {wrong:?}", wrong.len(), rows.len());
    eprintln!("alpine-fuzzy.tsv: {} rows agree", rows.len());
}

#[test]
fn agrees_with_every_validity_row() {
    let Some(rows) = common::rows("alpine-valid.tsv") else { return };
    let wrong: Vec<_> = rows.iter().filter(|row| apk::is_valid(&row[0]).to_string() != row[1]).collect();
    assert!(wrong.is_empty(), "alpine-valid.tsv: {} of {} rows disagree: {wrong:?}", wrong.len(), rows.len());
    eprintln!("alpine-valid.tsv: {} rows agree", rows.len());
}
