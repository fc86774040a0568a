//! Reading real OSV records (RustSec, Go vulndb, PyPA; see tests/data/osv/SOURCE.md) from a
//! directory, a zip, a git checkout and an index, and what each must give back.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use palisade_osv::{import, Database, DbError, Event, RangeKind, SourceKind};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/osv")
}

/// Every fixture file, relative to the fixture directory, without SOURCE.md.
fn fixture_files() -> Vec<PathBuf> {
    fn walk(directory: &Path, base: &Path, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(directory).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, files);
            } else if path.file_name().unwrap() != "SOURCE.md" {
                files.push(path.strip_prefix(base).unwrap().to_owned());
            }
        }
    }
    let mut files = Vec::new();
    walk(&fixtures(), &fixtures(), &mut files);
    files.sort();
    files
}

fn copy_fixtures(to: &Path) {
    for file in fixture_files() {
        std::fs::create_dir_all(to.join(&file).parent().unwrap()).unwrap();
        std::fs::copy(fixtures().join(&file), to.join(&file)).unwrap();
    }
}

fn zip_of(entries: &[(String, Vec<u8>)], to: &Path) {
    let mut writer = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(name.as_str(), options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap();
}

fn fixture_zip(to: &Path) {
    let entries: Vec<(String, Vec<u8>)> = fixture_files().iter().map(|file| (file.to_string_lossy().replace('\\', "/"), std::fs::read(fixtures().join(file)).unwrap())).collect();
    zip_of(&entries, to);
}

/// A git checkout as `git clone -b osv` leaves it: the working tree plus `.git`, whose files
/// (including a JSON one) are not records.
fn fixture_checkout(to: &Path) {
    copy_fixtures(to);
    std::fs::create_dir_all(to.join(".git/refs/heads")).unwrap();
    std::fs::write(to.join(".git/HEAD"), "ref: refs/heads/osv\n").unwrap();
    std::fs::write(to.join(".git/refs/heads/osv"), "7fa931cb90251ad2affbddac32885f3ed29a63eb\n").unwrap();
    std::fs::write(to.join(".git/description.json"), "[\"not a record\"]").unwrap();
    std::fs::write(to.join("README.md"), "# advisories\n").unwrap();
}

/// (ecosystem, name as a user writes it) → ids expected, from the fixture records.
const LOOKUPS: &[(&str, &str, &[&str])] = &[
    ("crates.io", "openssl", &["RUSTSEC-2016-0001"]),
    ("crates.io", "dirs", &["RUSTSEC-2020-0053"]),
    ("Go", "github.com/gin-gonic/gin", &["GO-2020-0001"]),
    ("Go", "stdlib", &["GO-2026-6091"]),
    // PEP 503: pip's `PyYAML` and the advisory's `pyyaml` are one project, as are `JW_Util` and `jw.util`.
    ("PyPI", "PyYAML", &["PYSEC-2020-176"]),
    ("PyPI", "JW_Util", &["PYSEC-2020-341"]),
    ("PyPI", "jw-util", &["PYSEC-2020-341"]),
    // Exact ecosystem and (outside PyPI) exact name.
    ("crates.io", "OpenSSL", &[]),
    ("npm", "openssl", &[]),
    ("Go", "github.com/gin-gonic/Gin", &[]),
];

fn ids(database: &Database, ecosystem: &str, name: &str) -> Vec<String> {
    database.advisories(ecosystem, name).unwrap().iter().map(|advisory| advisory.id.clone()).collect()
}

fn assert_lookups(database: &Database, what: &str) {
    for (ecosystem, name, expected) in LOOKUPS {
        assert_eq!(ids(database, ecosystem, name), *expected, "{what}: {ecosystem} {name}");
    }
    assert_eq!(database.ecosystems(), ["Go", "PyPI", "crates.io"], "{what}");
    assert!(database.issues().is_empty(), "{what}: {:?}", database.issues());
    let status = database.status();
    assert_eq!(status.records, 6, "{what}");
    assert_eq!(status.ecosystems.get("PyPI"), Some(&2), "{what}");

    // The withdrawn RustSec record is kept with its date; the matcher skips it.
    let dirs = database.advisories("crates.io", "dirs").unwrap();
    assert_eq!(dirs[0].withdrawn.as_deref(), Some("2021-04-19T12:00:00Z"), "{what}");
    // A YAML record read with its ranges as written (`5.2b1` stays text).
    let pyyaml = database.advisories("PyPI", "pyyaml").unwrap();
    let range = pyyaml[0].affected[0].ranges.iter().find(|range| range.kind == RangeKind::Ecosystem).unwrap();
    assert_eq!(range.events, [Event::Introduced("5.1".into()), Event::Fixed("5.2b1".into())], "{what}");
    let stdlib = database.advisories("Go", "stdlib").unwrap();
    assert_eq!(stdlib[0].affected[0].ranges[0].events.last(), Some(&Event::Fixed("1.27.0-rc.3".into())), "{what}");
}

#[test]
fn a_directory_a_zip_a_git_checkout_and_an_index_give_the_same_lookups() {
    let scratch = tempfile::tempdir().unwrap();
    let (directory, zip, checkout, index) = (scratch.path().join("records"), scratch.path().join("all.zip"), scratch.path().join("checkout"), scratch.path().join("db"));
    copy_fixtures(&directory);
    fixture_zip(&zip);
    fixture_checkout(&checkout);

    let from_directory = Database::open(&directory).unwrap();
    assert_lookups(&from_directory, "directory");
    assert_eq!(from_directory.status().sources[0].kind, Some(SourceKind::Directory));
    let from_zip = Database::open(&zip).unwrap();
    assert_lookups(&from_zip, "zip");
    let from_checkout = Database::open(&checkout).unwrap();
    assert_lookups(&from_checkout, "git checkout");
    let source = &from_checkout.status().sources[0];
    assert_eq!((source.kind, source.revision.as_deref()), (Some(SourceKind::GitCheckout), Some("7fa931cb90251ad2affbddac32885f3ed29a63eb (osv)")));

    let report = import(&[zip.clone()], &index, &mut |_| {}).unwrap();
    assert_eq!((report.sources[0].records, report.issues.len()), (6, 0));
    assert!(report.index_bytes > 0);
    let from_index = Database::open(&index).unwrap();
    assert_lookups(&from_index, "index");
    // The index holds the records as read (details are under 1 KiB here, so nothing is cut).
    for (ecosystem, name, _) in LOOKUPS {
        assert_eq!(from_index.advisories(ecosystem, name).unwrap(), from_directory.advisories(ecosystem, name).unwrap(), "{ecosystem} {name}");
    }
}

#[test]
fn malformed_records_are_reported_with_file_and_line_and_the_rest_is_read() {
    let scratch = tempfile::tempdir().unwrap();
    let directory = scratch.path().join("records");
    copy_fixtures(&directory);
    std::fs::write(directory.join("broken.json"), "{\n  \"id\": \"X-1\",\n  \"affected\": [\n").unwrap();
    std::fs::write(directory.join("list.json"), "[{\"id\": \"X-2\"}]").unwrap();
    std::fs::write(directory.join("no-id.yaml"), "summary: nothing\naffected: []\n").unwrap();
    std::fs::write(directory.join("bad-yaml.yml"), "id: X-3\naffected:\n  - package: {name: [\n").unwrap();
    // Tolerated: a future event kind, an unknown range type, extra fields, missing optional ones.
    std::fs::write(
        directory.join("future.json"),
        r#"{"id": "X-4", "schema_version": "9.9", "new": true, "affected": [{"package": {"ecosystem": "crates.io", "name": "openssl"},
            "ranges": [{"type": "FUTURE", "events": [{"introduced": "0"}, {"rolled_back": "1.0"}]}]}]}"#,
    )
    .unwrap();
    std::fs::write(directory.join("notes.txt"), "not a record, not read").unwrap();

    for database in [Database::open(&directory).unwrap(), {
        let index = scratch.path().join("db");
        import(&[directory.clone()], &index, &mut |_| {}).unwrap();
        Database::open(&index).unwrap()
    }] {
        let mut issues: Vec<(String, Option<u32>, String)> = database.issues().iter().map(|issue| (Path::new(&issue.file).file_name().unwrap().to_string_lossy().into_owned(), issue.line, issue.message.clone())).collect();
        issues.sort();
        assert_eq!(issues.len(), 4, "{issues:?}");
        assert_eq!((issues[0].0.as_str(), issues[0].1), ("bad-yaml.yml", Some(4)), "{issues:?}");
        assert_eq!((issues[1].0.as_str(), issues[1].1), ("broken.json", Some(4)), "{issues:?}");
        assert_eq!((issues[2].0.as_str(), issues[2].1), ("list.json", Some(1)), "{issues:?}");
        assert!(issues[2].2.contains("not a JSON object"), "{issues:?}");
        assert_eq!(issues[3].0, "no-id.yaml");
        assert!(issues[3].2.contains("missing field `id`"), "{issues:?}");
        assert_eq!(ids(&database, "crates.io", "openssl"), ["RUSTSEC-2016-0001", "X-4"]);
        let future = database.advisories("crates.io", "openssl").unwrap();
        assert_eq!(future[1].affected[0].ranges[0].kind, RangeKind::Other("FUTURE".into()));
        assert_eq!(future[1].affected[0].ranges[0].events, [Event::Introduced("0".into())]);
        assert_eq!(database.status().issues, 4);
    }
}

#[test]
fn zip_entries_over_the_size_cap_are_reported_not_read() {
    let scratch = tempfile::tempdir().unwrap();
    let zip = scratch.path().join("all.zip");
    let openssl = std::fs::read(fixtures().join("rustsec/crates/RUSTSEC-2016-0001.json")).unwrap();
    // 17 MiB of spaces after a valid record: compresses to almost nothing, must not be inflated whole.
    let mut huge = std::fs::read(fixtures().join("golang/GO-2020-0001.json")).unwrap();
    huge.resize(17 << 20, b' ');
    zip_of(&[("RUSTSEC-2016-0001.json".into(), openssl), ("GO-2020-0001.json".into(), huge)], &zip);
    let database = Database::open(&zip).unwrap();
    assert_eq!(ids(&database, "crates.io", "openssl"), ["RUSTSEC-2016-0001"]);
    assert_eq!(ids(&database, "Go", "github.com/gin-gonic/gin"), Vec::<String>::new());
    assert_eq!(database.issues().len(), 1);
    assert!(database.issues()[0].file.ends_with("all.zip!GO-2020-0001.json"), "{:?}", database.issues());
    assert!(database.issues()[0].message.contains("more than the 16777216"), "{:?}", database.issues());
}

#[test]
fn status_counts_dates_and_staleness() {
    let scratch = tempfile::tempdir().unwrap();
    let index = scratch.path().join("db");
    import(&[fixtures()], &index, &mut |_| {}).unwrap();
    let status = Database::open(&index).unwrap().status();
    assert_eq!(status.format, Some(palisade_osv::INDEX_FORMAT));
    assert_eq!(status.sources.len(), 1);
    assert_eq!(status.ecosystems.iter().map(|(ecosystem, count)| (ecosystem.as_str(), *count)).collect::<Vec<_>>(), [("Go", 2), ("PyPI", 2), ("crates.io", 2)]);
    // An import is as current as its newest record: the newest `modified` of the six files.
    let newest = fixture_files()
        .iter()
        .map(|file| std::fs::read_to_string(fixtures().join(file)).unwrap())
        .filter_map(|text| text.lines().find_map(|line| line.trim().strip_prefix("\"modified\": \"").or_else(|| line.strip_prefix("modified: '")).map(|rest| rest.trim_end_matches([',', '"', '\'']).to_owned())))
        .max()
        .unwrap();
    assert_eq!(status.as_of.as_deref(), Some(newest.as_str()));
    assert!(status.sources[0].index_bytes > 0);
    assert!(!status.stale(Duration::from_secs(100 * 365 * 24 * 3600)));
    let age = status.age.unwrap();
    assert_eq!(status.stale(Duration::ZERO), age > Duration::ZERO);
}

#[test]
fn importing_the_same_path_again_replaces_it_and_other_sources_stay() {
    let scratch = tempfile::tempdir().unwrap();
    let (directory, zip, index) = (scratch.path().join("records"), scratch.path().join("all.zip"), scratch.path().join("db"));
    copy_fixtures(&directory);
    zip_of(&[("RUSTSEC-2016-0001.json".into(), std::fs::read(fixtures().join("rustsec/crates/RUSTSEC-2016-0001.json")).unwrap())], &zip);
    import(&[directory.clone(), zip.clone()], &index, &mut |_| {}).unwrap();
    std::fs::remove_file(directory.join("golang/GO-2020-0001.json")).unwrap();
    import(&[directory.clone()], &index, &mut |_| {}).unwrap();
    let database = Database::open(&index).unwrap();
    assert_eq!(database.status().sources.len(), 2);
    assert_eq!(database.status().records, 5 + 1);
    assert_eq!(ids(&database, "Go", "github.com/gin-gonic/gin"), Vec::<String>::new());
    // In both sources, returned once.
    assert_eq!(ids(&database, "crates.io", "openssl"), ["RUSTSEC-2016-0001"]);
    let files: Vec<_> = std::fs::read_dir(&index).unwrap().map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned()).filter(|name| name.ends_with(".osvidx")).collect();
    assert_eq!(files.len(), 2, "replaced partitions are removed: {files:?}");

    // A reader that stays open learns that the index was written again, and still reads the
    // partition it opened (replaced files are unlinked, not truncated).
    assert!(!database.rewritten());
    std::thread::sleep(std::time::Duration::from_millis(20));
    import(&[zip.clone()], &index, &mut |_| {}).unwrap();
    assert!(database.rewritten());
    assert_eq!(ids(&database, "crates.io", "openssl"), ["RUSTSEC-2016-0001"]);
    assert!(!Database::open(&index).unwrap().rewritten());
    assert!(!Database::open(&directory).unwrap().rewritten(), "records in memory are never rewritten");
}

#[test]
fn a_stale_foreign_or_damaged_index_is_refused_with_a_clear_error() {
    let scratch = tempfile::tempdir().unwrap();
    let index = scratch.path().join("db");
    import(&[fixtures()], &index, &mut |_| {}).unwrap();
    let partition = std::fs::read_dir(&index).unwrap().map(|entry| entry.unwrap().path()).find(|path| path.extension().is_some_and(|extension| extension == "osvidx")).unwrap();
    let original = std::fs::read(&partition).unwrap();

    std::fs::write(&partition, &original[..original.len() - 10]).unwrap();
    let error = Database::open(&index).err().unwrap();
    assert!(matches!(error, DbError::Corrupt { .. }), "{error}");
    assert!(error.to_string().contains("rebuild it with `palisade db update` or `palisade db import`"), "{error}");

    let mut foreign = original.clone();
    foreign[..8].copy_from_slice(b"SQLite f");
    std::fs::write(&partition, &foreign).unwrap();
    assert!(matches!(Database::open(&index), Err(DbError::Foreign { .. })));

    // A record area overwritten: found at lookup, not at open.
    let mut damaged = original.clone();
    damaged[48..60].copy_from_slice(b"\0\0\0\0\0\0\0\0\0\0\0\0");
    std::fs::write(&partition, &damaged).unwrap();
    let database = Database::open(&index).unwrap();
    let failures = LOOKUPS.iter().filter(|(ecosystem, name, _)| matches!(database.advisories(ecosystem, name), Err(DbError::Corrupt { .. }))).count();
    assert_eq!(failures, 1, "exactly the record at the start of the area is damaged, found under one name");

    std::fs::write(&partition, &original).unwrap();
    let meta = index.join("meta.json");
    let text = std::fs::read_to_string(&meta).unwrap();
    std::fs::write(&meta, text.replacen(&format!("\"format\": {}", palisade_osv::INDEX_FORMAT), "\"format\": 99", 1)).unwrap();
    let error = Database::open(&index).err().unwrap();
    assert!(matches!(error, DbError::Stale { found: 99, .. }), "{error}");
    assert!(error.to_string().contains("index format 99"), "{error}");
}
