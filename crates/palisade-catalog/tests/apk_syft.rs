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

/// Without a release file Syft writes no purl for apk packages (it would look for
/// `/etc/apk/repositories` beside the database); `palisade_pkg::purl::os_package` names the
/// usual namespace instead.
#[test]
fn without_a_distribution() {
    assert_differences(
        &compare_with_syft("apk", "no-os-release", Scope::Directory),
        &[r#"pkgname: purl: ours "pkg:apk/alpine/pkgname@1.2.3?arch=x86_64" syft """#],
    );
}
