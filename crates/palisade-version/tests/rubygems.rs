//! rubygems ordering. No vectors file exists for this ecosystem; the table below is osv-scalibr's
//! hand-written fixture `semantic/testdata/rubygems-versions.txt` (google/osv-scalibr, commit
//! c2094f2d68e3994551d9998a54e2e97985a18a39, Apache-2.0), transcribed row for row with its comments.

mod common;

use std::cmp::Ordering;

use palisade_version::rubygems;

fn check(table: &[(&str, &str, &str)], compare: fn(&str, &str) -> Ordering) {
    let wrong: Vec<String> = table
        .iter()
        .filter(|(a, op, b)| {
            let expected = common::ordering(op);
            compare(a, b) != expected || compare(b, a) != expected.reverse()
        })
        .map(|(a, op, b)| format!("{a} {op} {b}: got {:?}", compare(a, b)))
        .collect();
    assert!(wrong.is_empty(), "{} of {} rows disagree:\n{}", wrong.len(), table.len(), wrong.join("\n"));
}

/// google/osv-scalibr `semantic/testdata/rubygems-versions.txt`.
const OSV_SCALIBR: &[(&str, &str, &str)] = &[
    ("3.10", ">", "3.2"),
    ("3.2", "<", "3.10"),
    ("1", ">", "1beta"),
    ("1.2.4.beta", "<", "1.2.4"),
    ("1.2.4", "<", "1.3.0"),
    ("1.0.a10", ">", "1.0.a9"),
    ("1.0.a.10", ">", "1.0.a9"),
    ("1.0.a10", ">", "1.0.a.9"),
    ("1.0.a.10", ">", "1.0.a.9"),
    ("1.0.a9", "<", "1.0.a10"),
    ("1.0.a9", "<", "1.0.a.10"),
    ("1.0.a.9", "<", "1.0.a10"),
    ("1.0.a.9", "<", "1.0.a.10"),
    ("1.0.a.9", "<", "1.0.b.9"),
    ("1.0.b.9", ">", "1.0.a.9"),
    ("1.0.a2", "=", "1.0.a.2"),
    ("1.0", ">", "1.0.b1"),
    ("1.0.b1", ">", "1.0.a.2"),
    ("1.0.a.2", ">", "0.9"),
    ("1.0.b1", ">", "0.9"),
    ("1", ">", "1gamma"),
    ("1.2.4.gamma", "<", "1.2.4"),
    ("1.0", ">", "1.0.g1"),
    ("999999999999999999999999999991", "<", "999999999999999999999999999999"),
    ("999999999999999999999999999991.999999999999999999999999999991.999999999999999999999999999991", "<", "999999999999999999999999999999.999999999999999999999999999991.999999999999999999999999999991"),
];

#[test]
fn ordering_as_osv_scalibr_fixture() {
    check(OSV_SCALIBR, rubygems::compare);
}
