//! Malformed OS package databases through the whole catalog: each unreadable file is an issue
//! that names the file, the cataloger and the line (or database position), the rest of the
//! filesystem is still inventoried, and nothing panics.

mod os_support;

use os_support::inventory_of;
use palisade_catalog::Scope;

fn write(root: &std::path::Path, path: &str, content: &[u8]) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, content).expect("write");
}

#[test]
fn malformed_databases_are_named_issues() {
    let root = tempfile::tempdir().expect("tempdir");
    let garbage: Vec<u8> = (0u32..50_000).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).filter(|byte| *byte != b'\n').collect();
    write(root.path(), "var/lib/dpkg/status", &garbage);
    write(root.path(), "var/lib/dpkg/status.d/nameless", b"Version: 1.0\nArchitecture: amd64\n");
    write(root.path(), "var/lib/dpkg/status.d/good", b"Package: good\nVersion: 1.0\nArchitecture: all\n");
    write(root.path(), "lib/apk/db/installed", b"asdf\n\nyolo\n");
    write(root.path(), "var/lib/rpm/rpmdb.sqlite", &garbage);
    write(root.path(), "usr/lib/sysimage/rpm/Packages.db", b"");
    write(root.path(), "etc/os-release", b"\xff\xfe\x00garbage without assignments\n");
    write(root.path(), "usr/lib/os-release", b"ID=debian\nVERSION_ID=\"12\"\n");
    let inventory = inventory_of(root.path(), Scope::Image);

    let packages: Vec<&str> = inventory.packages.iter().map(|package| package.name.as_str()).collect();
    assert_eq!(packages, ["good"]);
    assert_eq!(inventory.packages[0].purl, "pkg:deb/debian/good@1.0?arch=all&distro=debian-12");
    let issues: Vec<(&str, &str)> = inventory.issues.iter().map(|issue| (issue.location.path.as_str(), issue.message.as_str())).collect();
    let issue = |path: &str| issues.iter().filter(|(at, _)| *at == path).map(|(_, message)| *message).collect::<Vec<_>>().join("; ");
    assert!(issue("/var/lib/dpkg/status").starts_with("dpkg-db-cataloger: line 1: "), "{issues:#?}");
    assert_eq!(issue("/var/lib/dpkg/status.d/nameless"), "dpkg-db-cataloger: line 1: stanza without a Package field");
    assert_eq!(issue("/lib/apk/db/installed"), "apk-db-cataloger: line 1: not an `X:value` line; line 3: not an `X:value` line");
    assert!(issue("/var/lib/rpm/rpmdb.sqlite").starts_with("rpm-db-cataloger: SQLite rpmdb "), "{issues:#?}");
    assert!(issue("/usr/lib/sysimage/rpm/Packages.db").starts_with("rpm-db-cataloger: NDB rpmdb "), "{issues:#?}");
    assert_eq!(issue("/etc/os-release"), "os-release: no distribution named in this release file");
    assert_eq!(inventory.issues.len(), 6, "{issues:#?}");
    assert_eq!(inventory.distro.expect("distro").location.expect("location").path, "/usr/lib/os-release");
}
