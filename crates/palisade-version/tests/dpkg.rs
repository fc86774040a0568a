//! dpkg conformance: every row of `version-vectors/debian.tsv` (dpkg's own `Dpkg_Version.t`,
//! python-debian's tests, and osv-scalibr's pairs checked with `dpkg --compare-versions`).

mod common;

#[test]
fn agrees_with_every_debian_row() {
    common::check_ordering("debian.tsv", palisade_version::dpkg::compare);
}
