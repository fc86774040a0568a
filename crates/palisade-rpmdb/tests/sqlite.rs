//! A real SQLite rpmdb, written by rpm 4.18 itself: packages built with rpmbuild from spec files
//! generated here, installed with `rpm --root R -i --justdb`, then read by our pure-Rust SQLite
//! reader and compared with what rpm (the reference implementation) and syft list.
//!
//! The packages are shaped to exercise the reader: an epoch, a vendor, a modularity label, a
//! compound licence, a main package with 400 files (a header of tens of KiB that spills over a
//! chain of overflow pages) and 30 subpackages of 25 files (enough rows for the `Packages` table
//! to need interior B-tree pages).

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use common::{RPM_FILES_FORMAT, RPM_QUERY_FORMAT, assert_damage_is_reported, file_lines, rpm_query, run, sorted, summary, syft_summaries, tools_available, write_os_release};
use palisade_rpmdb::{DbFormat, detect, read};

const SUBPACKAGES: usize = 30;

fn alpha_spec() -> String {
    "Name: alpha\nEpoch: 3\nVersion: 1.0\nRelease: 1\nSummary: alpha\nLicense: MIT\nVendor: Palisade Tests\nBuildArch: noarch\n\
     %description\nalpha\n\
     %install\nmkdir -p %{buildroot}/usr/share/alpha\necho alpha > %{buildroot}/usr/share/alpha/README\n\
     %files\n/usr/share/alpha\n"
        .to_owned()
}

fn beta_spec() -> String {
    let mut spec = String::from(
        "Name: beta\nVersion: 2.3.4\nRelease: 5.fc40\nSummary: beta\nLicense: GPL-2.0-or-later AND (MIT OR Apache-2.0)\nBuildArch: noarch\n\
         %description\nbeta\n",
    );
    for n in 0..SUBPACKAGES {
        let _ = write!(spec, "%package -n beta-part-{n:02}\nSummary: part {n}\n%description -n beta-part-{n:02}\npart {n}\n");
    }
    spec.push_str("%install\nfor i in $(seq 1 400); do mkdir -p %{buildroot}/usr/share/beta/dir-$((i % 7)); echo $i > %{buildroot}/usr/share/beta/dir-$((i % 7))/data-file-with-a-long-name-$i.txt; done\n");
    for n in 0..SUBPACKAGES {
        let _ = writeln!(spec, "mkdir -p %{{buildroot}}/usr/lib/beta-part-{n:02}; for i in $(seq 1 25); do echo $i > %{{buildroot}}/usr/lib/beta-part-{n:02}/part-file-$i; done");
    }
    spec.push_str("%files\n/usr/share/beta\n");
    for n in 0..SUBPACKAGES {
        let _ = write!(spec, "%files -n beta-part-{n:02}\n/usr/lib/beta-part-{n:02}\n");
    }
    spec
}

fn rpmbuild(work: &Path, name: &str, spec: &str, defines: &[&str]) {
    let spec_path = work.join(format!("{name}.spec"));
    std::fs::write(&spec_path, spec).expect("write spec");
    let mut command = Command::new("rpmbuild");
    command.arg("--quiet").arg("--define").arg(format!("_topdir {}", work.join("top").display()));
    for define in defines {
        command.args(["--define", define]);
    }
    run(command.arg("-bb").arg(&spec_path));
}

#[test]
fn sqlite_rpmdb_written_by_rpm_reads_as_rpm_and_syft_list_it() {
    if !tools_available(&["rpm", "rpmbuild"]) {
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    rpmbuild(work.path(), "alpha", &alpha_spec(), &["modularitylabel alpha:1:20240101:abcdef"]);
    rpmbuild(work.path(), "beta", &beta_spec(), &[]);
    let mut packages: Vec<_> = std::fs::read_dir(work.path().join("top/RPMS/noarch")).expect("RPMS").map(|entry| entry.expect("entry").path()).collect();
    packages.sort();
    assert_eq!(packages.len(), 2 + SUBPACKAGES);

    let root = work.path().join("root");
    let rpm_in_root = || {
        let mut command = Command::new("rpm");
        command.arg("--root").arg(&root).args(["--dbpath", "/var/lib/rpm", "--define", "_db_backend sqlite"]);
        command
    };
    run(rpm_in_root().arg("--initdb"));
    run(rpm_in_root().args(["-i", "--justdb", "--nodeps", "--noscripts", "--nosignature"]).args(&packages));
    let db_path = root.join("var/lib/rpm/rpmdb.sqlite");
    let bytes = std::fs::read(&db_path).expect("rpmdb.sqlite");
    assert!(!root.join("var/lib/rpm/rpmdb.sqlite-wal").exists() || std::fs::metadata(root.join("var/lib/rpm/rpmdb.sqlite-wal")).expect("wal").len() == 0, "rpm left changes in the WAL");

    assert_eq!(detect("/var/lib/rpm/rpmdb.sqlite", &bytes), Some(DbFormat::Sqlite));
    let result = read(DbFormat::Sqlite, &bytes).expect("read");
    assert_eq!(result.issues, Vec::<String>::new());
    assert_eq!(result.packages.len(), 2 + SUBPACKAGES);

    // rpm, the reference implementation: same packages, fields and order, same files.
    let db_dir = root.join("var/lib/rpm");
    let ours: Vec<String> = result.packages.iter().map(summary).collect();
    assert_eq!(ours, rpm_query(&db_dir, &[], RPM_QUERY_FORMAT));
    assert!(ours.contains(&"alpha|3|1.0|1|noarch|alpha-1.0-1.src.rpm|MIT|Palisade Tests|6|alpha:1:20240101:abcdef".to_owned()), "{ours:#?}");
    assert_eq!(file_lines(&result.packages), rpm_query(&db_dir, &[], RPM_FILES_FORMAT));
    let beta = result.packages.iter().find(|package| package.name == "beta").expect("beta");
    assert_eq!(beta.files.len(), 400 + 7 + 1, "400 files, 7 directories and /usr/share/beta");

    if tools_available(&["syft"]) {
        write_os_release(&root, "NAME=\"Fedora Linux\"\nID=fedora\nVERSION_ID=40\n");
        assert_eq!(sorted(ours), syft_summaries(&root));
    }

    assert_damage_is_reported(DbFormat::Sqlite, &bytes, "generated rpmdb.sqlite", 1000);
    assert_tree_cycle_is_reported(&bytes);
}

/// rpm creates `Packages` first, so its B-tree is rooted at page 2; with 32 rows of several KiB
/// the root is an interior page. Pointing its right-most child back at itself is a cycle.
fn assert_tree_cycle_is_reported(bytes: &[u8]) {
    let page_size = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    let root = page_size;
    assert_eq!(bytes[root], 0x05, "Packages root (page 2) is an interior table page");
    let mut damaged = bytes.to_vec();
    damaged[root + 8..root + 12].copy_from_slice(&2u32.to_be_bytes());
    let result = read(DbFormat::Sqlite, &damaged).expect("the rows left of the cycle are read");
    assert!(result.packages.len() < 2 + SUBPACKAGES);
    assert_eq!(result.issues, vec!["SQLite rpmdb page 2: child page 2 is reached twice (a cycle)".to_owned()]);
}
