//! RPM conformance: every row of `version-vectors/rpm.tsv` (rpm's own `tests/rpmvercmp.at` and
//! osv-scalibr's Red Hat pairs), rpmvercmp strings and full `[epoch:]version[-release]` alike.

mod common;

#[test]
fn agrees_with_every_rpm_row() {
    common::check_ordering("rpm.tsv", palisade_version::rpm::compare);
}
