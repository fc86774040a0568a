//! The apk cataloger against Syft 1.18.1 on real apk-tools databases from upstream test data
//! (see `tests/fixtures/apk/SOURCE.md`) with synthetic release files: type, name, version, purl
//! (namespace and `distro=alpine-3.18.0` from os-release, `upstream=` the origin when it differs
//! from the name), licences and locations must equal Syft's.

mod os_support;

use os_support::{assert_differences, compare_with_syft, fixtures, inventory_of};
use palisade_catalog::Scope;

#[test]
fn alpine_3_18_base_equals_syft() {
    for scope in [Scope::Image, Scope::Directory] {
        assert_differences(&compare_with_syft("apk", "alpine-3.18", scope), &[]);
    }
    let inventory = inventory_of(&fixtures().join("apk/alpine-3.18"), Scope::Image);
    assert_eq!(inventory.packages.len(), 15);
    assert!(inventory.issues.is_empty());
}

/// An older database whose licences are not all SPDX expressions (`L:MIT BSD GPL2+`).
#[test]
fn alpine_3_16_with_free_form_licences_equals_syft() {
    assert_differences(&compare_with_syft("apk", "alpine-3.16", Scope::Directory), &[]);
}

/// Without a release file neither tool writes a purl for apk packages: the namespace would be
/// a guess.
#[test]
fn without_a_distribution() {
    assert_differences(&compare_with_syft("apk", "no-os-release", Scope::Directory), &[]);
}
