//! rubygems ordering. No vectors file exists for this ecosystem; the table below is osv-scalibr's
//! hand-written fixture `semantic/testdata/rubygems-versions.txt` (google/osv-scalibr, commit
//! c2094f2d68e3994551d9998a54e2e97985a18a39, Apache-2.0), transcribed row for row with its comments.

mod common;

use palisade_version::rubygems;

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
    common::check_table(OSV_SCALIBR, rubygems::compare);
}
