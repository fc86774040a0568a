//! Real BerkeleyDB and NDB databases from upstream test data (see tests/fixtures/SOURCE.md),
//! compared with the package lists upstream's tests expect, with rpm 4.18 itself where it can
//! read the format (BerkeleyDB, read-only) and with syft 1.18.1.

mod common;

use std::path::Path;

use common::{RPM_FILES_FORMAT, RPM_QUERY_FORMAT, expected_lines, file_lines, fixture, fixture_path, rpm_query, sorted, summary, syft_summaries, tools_available, write_os_release};
use palisade_rpmdb::{DbFormat, RpmPackage, detect, parse_header, read};

/// Reads a fixture that must parse without issues.
fn read_fixture(relative: &str, format: DbFormat) -> Vec<RpmPackage> {
    let bytes = fixture(relative);
    assert_eq!(detect(&format!("/var/lib/rpm/{relative}"), &bytes), Some(format), "{relative}");
    let result = read(format, &bytes).unwrap_or_else(|error| panic!("{relative}: {error}"));
    assert_eq!(result.issues, Vec::<String>::new(), "{relative}");
    result.packages
}

/// Compares with rpm reading a copy of the BerkeleyDB file through its read-only backend.
fn assert_matches_rpm_bdb(relative: &str, packages: &[RpmPackage]) {
    if !tools_available(&["rpm"]) {
        return;
    }
    let db_dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(fixture_path(relative), db_dir.path().join("Packages")).expect("copy");
    let backend = ["--define", "_db_backend bdb_ro"];
    assert_eq!(packages.iter().map(summary).collect::<Vec<_>>(), rpm_query(db_dir.path(), &backend, RPM_QUERY_FORMAT), "{relative}");
    assert_eq!(file_lines(packages), rpm_query(db_dir.path(), &backend, RPM_FILES_FORMAT), "{relative}");
}

/// Compares with syft scanning a root that holds the database at `db_path` (relative to the root).
fn assert_matches_syft(relative: &str, db_path: &str, os_release: &str, packages: &[RpmPackage]) {
    if !tools_available(&["syft"]) {
        return;
    }
    let root = tempfile::tempdir().expect("tempdir");
    let target = root.path().join(db_path);
    std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
    std::fs::copy(fixture_path(relative), &target).expect("copy");
    write_os_release(root.path(), os_release);
    assert_eq!(sorted(packages.iter().map(summary).collect()), syft_summaries(root.path()), "{relative}");
}

#[test]
fn berkeley_db_with_an_overflow_chain_reads_as_go_rpmdb_rpm_and_syft_list_it() {
    let packages = read_fixture("bdb-libuuid/Packages", DbFormat::BerkeleyDb);
    assert_eq!(packages.iter().map(summary).collect::<Vec<_>>(), expected_lines("bdb-libuuid/expected.txt"));
    assert_eq!(file_lines(&packages), expected_lines("bdb-libuuid/expected-files.txt"));
    assert_matches_rpm_bdb("bdb-libuuid/Packages", &packages);
    assert_matches_syft("bdb-libuuid/Packages", "var/lib/rpm/Packages", "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nVERSION_ID=\"8.8\"\n", &packages);
}

#[test]
fn berkeley_db_with_an_epoch_and_a_free_page_reads_as_osv_scalibr_rpm_and_syft_list_it() {
    let packages = read_fixture("bdb-epoch/Packages", DbFormat::BerkeleyDb);
    assert_eq!(packages.iter().map(summary).collect::<Vec<_>>(), expected_lines("bdb-epoch/expected.txt"));
    assert_eq!(file_lines(&packages).len(), 1);
    assert_matches_rpm_bdb("bdb-epoch/Packages", &packages);
    assert_matches_syft("bdb-epoch/Packages", "var/lib/rpm/Packages", "NAME=Fedora\nID=fedora\nVERSION_ID=32\n", &packages);
}

#[test]
fn ndb_package_file_reads_as_go_rpmdb_and_syft_list_it() {
    let packages = read_fixture("ndb-sle15-bci/Packages.db", DbFormat::Ndb);
    assert_eq!(packages.iter().map(summary).collect::<Vec<_>>(), expected_lines("ndb-sle15-bci/expected.txt"));
    // Debian's rpm has no NDB backend, so file lists are checked for shape: absolute, and each
    // package's own (filesystem owns the directory tree, bash its binary).
    let files = file_lines(&packages);
    assert!(files.iter().all(|line| line.split_once(':').is_some_and(|(_, path)| path.starts_with('/'))));
    assert!(files.contains(&"bash:/usr/bin/bash".to_owned()), "{files:?}");
    assert!(files.contains(&"filesystem:/usr/lib64".to_owned()), "{files:?}");
    assert_matches_syft("ndb-sle15-bci/Packages.db", "usr/lib/sysimage/rpm/Packages.db", "NAME=\"SLES\"\nID=\"sles\"\nVERSION_ID=\"15.3\"\n", &packages);
}

#[test]
fn header_whose_directory_indexes_overrun_keeps_its_package_without_files() {
    let parsed = parse_header(&fixture("header-blob.bin")).expect("header parses");
    assert_eq!(summary(&parsed.package), "publicsuffix-list-dafsa|(none)|20210518|2.fc35|noarch|publicsuffix-list-20210518-2.fc35.src.rpm|MPLv2.0|Fedora Project|68815|(none)");
    assert!(parsed.package.files.is_empty());
    let error = parsed.file_list_error.expect("file list error");
    assert_eq!(error.problem, "DIRINDEXES[3] is 4 but there are 4 DIRNAMES");
}

#[test]
fn detect_uses_the_magic_first_and_the_file_name_for_unrecognisable_bytes() {
    let bdb = fixture("bdb-epoch/Packages");
    let ndb = fixture("ndb-sle15-bci/Packages.db");
    // The magic wins over a misleading name.
    assert_eq!(detect("/var/lib/rpm/rpmdb.sqlite", &bdb), Some(DbFormat::BerkeleyDb));
    assert_eq!(detect("/somewhere/Packages", &ndb), Some(DbFormat::Ndb));
    assert_eq!(detect("/x/y", b"SQLite format 3\0rest"), Some(DbFormat::Sqlite));
    // Empty or damaged files named like a database are still offered, so reading them reports why.
    assert_eq!(detect("/var/lib/rpm/rpmdb.sqlite", b""), Some(DbFormat::Sqlite));
    assert_eq!(detect("/usr/lib/sysimage/rpm/Packages.db", b"junk"), Some(DbFormat::Ndb));
    assert_eq!(detect("/var/lib/rpm/Packages", b""), Some(DbFormat::BerkeleyDb));
    assert_eq!(detect("/var/lib/rpm/Packages.bak", b"junk"), None);
    assert_eq!(detect(&Path::new("/etc/passwd").display().to_string(), b"root:x:0:0"), None);
    let error = read(DbFormat::Sqlite, b"").expect_err("empty");
    assert_eq!(error.to_string(), "SQLite rpmdb offset 0: not an SQLite 3 database (no \"SQLite format 3\" magic)");
}
