//! nuget ordering. No vectors file exists for this ecosystem; the table below is osv-scalibr's
//! hand-written fixture `semantic/testdata/nuget-versions.txt` (google/osv-scalibr, commit
//! c2094f2d68e3994551d9998a54e2e97985a18a39, Apache-2.0), transcribed row for row with its comments.

mod common;

use std::cmp::Ordering;

use palisade_version::nuget;

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

/// google/osv-scalibr `semantic/testdata/nuget-versions.txt`.
const OSV_SCALIBR: &[(&str, &str, &str)] = &[
    ("1.0.0", "=", "1.0.0"),
    ("1.0.0-BETA", "=", "1.0.0-beta"),
    ("1.0.0-BETA+AA", "=", "1.0.0-beta+aa"),
    ("1.0.0-BETA.X.y.5.77.0+AA", "=", "1.0.0-beta.x.y.5.77.0+aa"),
    ("1.0.0", "=", "1.0.0+beta"),
    ("1.0", "=", "1.0.0.0"),
    ("1.0+test", "=", "1.0.0.0"),
    ("1.0.0.1-1.2.A", "=", "1.0.0.1-1.2.a+A"),
    ("1.0.01", "=", "1.0.1.0"),
    ("1.0", "<", "1.0.0.1"),
    ("1.0+test", "<", "1.0.0.1"),
    ("1.0.0.1-1.2.A", "<", "1.0.0.1-1.2.a.A+A"),
    ("1.0.01", "<", "1.0.1.2"),
    ("1.0.0", ">", "0.0.0"),
    ("1.1.0", ">", "1.0.0"),
    ("1.0.1", ">", "1.0.0"),
    ("1.0.0-beta2", ">", "1.0.0-BETA"),
    ("1.0.0+AA", ">", "1.0.0-beta+aa"),
    ("1.0.0-BETA.X.y.5.77.0+AA", "<", "1.0.0-beta.x.y.5.79.0+aa"),
    ("0.0.0", "<", "1.0.0"),
    ("1.0.0", "<", "1.1.0"),
    ("1.0.0", "<", "1.0.1"),
    ("1.999.9999", "<", "2.1.1"),
    ("1.0.0-BETA", "<", "1.0.0-beta2"),
    ("1.0.0-beta+AA", "<", "1.0.0+aa"),
    ("1.0.0-BETA", "<", "1.0.0-beta.1+AA"),
    ("1.0.0-BETA.X.y.5.77.0+AA", "<", "1.0.0-beta.x.y.5.79.0+aa"),
    ("1.0.0-BETA.X.y.5.79.0+AA", "<", "1.0.0-beta.x.y.5.790.0+abc"),
    ("1.0.0", "<", "1.0.0.1"),
    ("1.0.0.1-alpha", "<", "1.0.0.1-pre"),
    ("1.0.0-pre", "<", "1.0.0.1-alpha"),
    ("1.0.0", "<", "1.0.0.1-alpha"),
    ("0.9.9.1", "<", "1.0.0"),
    ("999999999999999999999999999991", "<", "999999999999999999999999999999"),
    ("999999999999999999999999999991.999999999999999999999999999991.999999999999999999999999999991", "<", "999999999999999999999999999999.999999999999999999999999999991.999999999999999999999999999991"),
];

#[test]
fn ordering_as_osv_scalibr_fixture() {
    check(OSV_SCALIBR, nuget::compare);
}
