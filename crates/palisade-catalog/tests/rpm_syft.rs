//! The rpm cataloger against Syft 1.18.1 and rpm itself: a SQLite rpmdb that rpm 4.18 writes in
//! the test (packages built with rpmbuild, a signing key imported with `rpm --import`, RHEL 9.3's
//! os-release), and the BerkeleyDB and NDB databases of `palisade-rpmdb`'s fixtures with release
//! files for the systems they come from (`tests/fixtures/rpm/SOURCE.md`).

mod os_support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use os_support::{assert_differences, compare_root_with_syft, fixtures, inventory_of, tool_available};
use palisade_catalog::Scope;
use palisade_pkg::PackageType;

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("fixture directory") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A root of this crate's release-file fixture `name` plus one database of `palisade-rpmdb`'s
/// fixtures placed where the system keeps it.
fn root_with_database(name: &str, database: &str, place: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("tempdir");
    copy_tree(&fixtures().join("rpm").join(name), root.path());
    let target = root.path().join(place);
    std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-rpmdb/tests/fixtures").join(database);
    std::fs::copy(&source, &target).unwrap_or_else(|error| panic!("{}: {error}", source.display()));
    root
}

fn compare_fixture(name: &str, database: &str, place: &str) -> Vec<String> {
    let root = root_with_database(name, database, place);
    compare_root_with_syft(root.path(), &fixtures().join("rpm").join(format!("syft-{name}.json")), Scope::Directory)
}

/// RHEL 8 BerkeleyDB `Packages` with one package whose header spans 20 overflow pages.
#[test]
fn berkeley_db_rhel_8_equals_syft() {
    assert_differences(
        &compare_fixture("rhel-8.8-bdb", "bdb-libuuid/Packages", "var/lib/rpm/Packages"),
        &[],
    );
}

/// A BerkeleyDB package with an epoch: version `1:0.0.1-rls` for both, the purl differs.
#[test]
fn berkeley_db_with_an_epoch_equals_syft() {
    assert_differences(
        &compare_fixture("centos-7-bdb-epoch", "bdb-epoch/Packages", "var/lib/rpm/Packages"),
        &[],
    );
}

/// SUSE's NDB `Packages.db` (bci-minimal 15.3, 35 packages).
#[test]
fn ndb_sles_15_equals_syft() {
    let differences = compare_fixture("sles-15.3-ndb", "ndb-sle15-bci/Packages.db", "usr/lib/sysimage/rpm/Packages.db");
    assert_differences(&differences, &[]);
    let root = root_with_database("sles-15.3-ndb", "ndb-sle15-bci/Packages.db", "usr/lib/sysimage/rpm/Packages.db");
    let inventory = inventory_of(root.path(), Scope::Image);
    assert_eq!(inventory.packages.len(), 35);
    assert!(inventory.issues.is_empty(), "{:?}", inventory.issues);
}

const HELLO_SPEC: &str = "Name: hello\nEpoch: 2\nVersion: 1.0\nRelease: 3.el9\nSummary: hello\nLicense: MIT and GPLv2+\nBuildArch: noarch\n\
%description\nhello\n%install\nmkdir -p %{buildroot}/usr/share/hello\necho hi > %{buildroot}/usr/share/hello/greeting\n%files\n/usr/share/hello/greeting\n";
const PLAIN_SPEC: &str = "Name: plain\nVersion: 2.4.1\nRelease: 1.el9\nSummary: plain\nLicense: Apache-2.0\nBuildArch: noarch\n%description\nplain\n%files\n";
/// No BuildArch: the build machine's architecture, without compiling anything.
const NATIVE_SPEC: &str = "Name: native\nVersion: 0.9\nRelease: 7.el9\nSummary: native\nLicense: BSD\n%description\nnative\n%files\n";

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap_or_else(|error| panic!("{command:?}: {error}"));
    assert!(output.status.success(), "{command:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// A SQLite rpmdb written by rpm 4.18 (the RHEL 9 format) read as Syft and `rpm -qa` read it.
#[test]
fn sqlite_rpmdb_written_by_rpm_equals_syft_and_rpm() {
    if !tool_available("rpm", &["--version"]) || !tool_available("rpmbuild", &["--version"]) || !tool_available("gpg", &["--version"]) {
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    for (name, spec) in [("hello", HELLO_SPEC), ("plain", PLAIN_SPEC), ("native", NATIVE_SPEC)] {
        let spec_path = work.path().join(format!("{name}.spec"));
        std::fs::write(&spec_path, spec).expect("spec");
        run(Command::new("rpmbuild").arg("--quiet").arg("--define").arg(format!("_topdir {}", work.path().join("top").display())).arg("-bb").arg(&spec_path));
    }
    let mut packages: Vec<_> = Vec::new();
    for directory in std::fs::read_dir(work.path().join("top/RPMS")).expect("RPMS") {
        packages.extend(std::fs::read_dir(directory.expect("entry").path()).expect("arch directory").map(|entry| entry.expect("entry").path()));
    }
    assert_eq!(packages.len(), 3);

    let root = work.path().join("root");
    let rpm = || {
        let mut command = Command::new("rpm");
        command.arg("--root").arg(&root).args(["--dbpath", "/var/lib/rpm", "--define", "_db_backend sqlite"]);
        command
    };
    run(rpm().arg("--initdb"));
    run(rpm().args(["-i", "--justdb", "--nodeps", "--noscripts", "--nosignature"]).args(&packages));
    // An imported signing key is a `gpg-pubkey` header in the database, listed by rpm -qa and Syft.
    let gnupg = work.path().join("gnupg");
    std::fs::create_dir(&gnupg).expect("gnupg home");
    let gpg = || {
        let mut command = Command::new("gpg");
        command.env("GNUPGHOME", &gnupg).args(["--batch", "--quiet", "--passphrase", ""]);
        command
    };
    run(gpg().args(["--quick-gen-key", "Palisade Test <test@example.invalid>", "rsa2048", "sign", "never"]));
    std::fs::write(work.path().join("key.asc"), run(gpg().args(["--armor", "--export", "test@example.invalid"]))).expect("key");
    run(rpm().arg("--import").arg(work.path().join("key.asc")));
    std::fs::create_dir_all(root.join("etc")).expect("etc");
    std::fs::write(
        root.join("etc/os-release"),
        "NAME=\"Red Hat Enterprise Linux\"\nVERSION=\"9.3 (Plow)\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"9.3\"\nPRETTY_NAME=\"Red Hat Enterprise Linux 9.3 (Plow)\"\n",
    )
    .expect("os-release");

    let inventory = inventory_of(&root, Scope::Image);
    assert!(inventory.issues.is_empty(), "{:?}", inventory.issues);
    assert!(inventory.packages.iter().all(|package| package.kind == PackageType::Rpm && package.locations[0].path == "/var/lib/rpm/rpmdb.sqlite"));

    // rpm: the same packages, versions as EPOCH:VERSION-RELEASE, architectures, licences.
    let listed = run(rpm().args(["-qa", "--qf", "%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE} %{NAME} %{ARCH} %{LICENSE}\\n"]));
    let rpm_says: BTreeSet<String> = listed.lines().map(str::to_owned).collect();
    let ours: BTreeSet<String> = inventory
        .packages
        .iter()
        .map(|package| format!("{} {} {} {}", package.version, package.name, package.arch.as_deref().unwrap_or("(none)"), package.licenses.join(" ")))
        .collect();
    assert_eq!(ours, rpm_says);
    assert_eq!(ours.len(), 4);

    if !tool_available("syft", &["version"]) {
        return;
    }
    let differences = os_support::differences(&os_support::trimmed_inventory(&inventory), &os_support::run_syft(&root));
    assert_differences(&differences, &[]);
}
