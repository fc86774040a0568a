//! The distribution found by the `os-release` cataloger against Syft 1.18.1's on small root
//! directories of release files (`tests/fixtures/os/`, written for these tests in the form the
//! distributions ship them).

mod os_support;

use os_support::{assert_differences, compare_with_syft};
use palisade_catalog::Scope;

fn differences(name: &str) -> Vec<String> {
    compare_with_syft("os", name, Scope::Directory)
}

#[test]
fn os_release_files_equal_syft() {
    for name in ["debian-12", "ubuntu-22.04", "rhel-9.3", "os-release-wins"] {
        assert_differences(&differences(name), &[]);
    }
}

/// Debian testing/unstable's os-release has no VERSION_ID; Syft 1.18.1 reads nothing else when
/// os-release names a distribution, so purls say `distro=debian` (newer Syft versions put
/// `/etc/debian_version` in VERSION_ID only when it is a number, which `trixie/sid` is not).
#[test]
fn debian_sid_has_no_version() {
    assert_differences(&differences("debian-sid"), &[]);
}

/// CentOS 6 has no os-release: Syft's `/etc/system-release-cpe` pattern never matches a file
/// that ends with a newline, so `/etc/redhat-release` decides (`centos` 6.10); ranked the same
/// way here.
#[test]
fn centos_6_from_redhat_release() {
    assert_differences(&differences("centos-6"), &[]);
}

/// Syft keeps single quotes around os-release values (it unquotes only values that hold a
/// double quote); the os-release specification says the value is in shell syntax.
#[test]
fn single_quoted_values() {
    assert_differences(&differences("single-quotes"), &[r#"distro: ours {"id":"debian","versionID":"12"} syft {"id":"'debian'","versionID":"'12'"}"#]);
}

/// Release files Syft does not read, used only when there is no os-release (rank after every
/// file Syft reads): Syft finds no distribution at all.
#[test]
fn release_files_syft_does_not_read() {
    assert_differences(&differences("alpine-release-only"), &[r#"distro: ours {"id":"alpine","versionID":"3.19.1"} syft null"#]);
    assert_differences(&differences("debian-version-only"), &[r#"distro: ours {"id":"debian","versionID":"12"} syft null"#]);
}
