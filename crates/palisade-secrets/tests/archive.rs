//! Archive walking: nested names, depth, caps on hostile archives, truncation, binary members.

use std::io::Write;

use palisade_secrets::archive::{is_binary, looks_like_archive, walk, ArchiveKind, ArchiveLimits, SkipReason, WalkReport};

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        writer.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        builder.append_data(&mut header, name, *bytes).unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn run(name: &str, bytes: &[u8], limits: &ArchiveLimits) -> (Vec<(String, String)>, WalkReport) {
    let mut seen = Vec::new();
    let report = walk(name, bytes, limits, |m| seen.push((m.name.to_string(), String::from_utf8_lossy(m.bytes).into_owned())));
    (seen, report)
}

fn depth(max_depth: usize) -> ArchiveLimits {
    ArchiveLimits { max_depth, ..ArchiveLimits::default() }
}

const SECRET: &[u8] = b"aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n";

/// outer.zip > inner/pack.tar.gz > deep.zip > creds.txt, plus a text file at each level.
fn nested() -> Vec<u8> {
    let deep = zip_of(&[("creds.txt", SECRET)]);
    let pack = gzip(&tar_of(&[("./conf/app.env", b"PASSWORD=hunter2\n"), ("deep.zip", &deep)]));
    zip_of(&[("readme.md", b"hello\n"), ("inner/pack.tar.gz", &pack)])
}

#[test]
fn nested_archives_name_members_with_bangs() {
    let (seen, report) = run("outer.zip", &nested(), &depth(3));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let names: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["outer.zip!readme.md", "outer.zip!inner/pack.tar.gz!conf/app.env", "outer.zip!inner/pack.tar.gz!deep.zip!creds.txt"]);
    assert_eq!(seen[2].1.as_bytes(), SECRET);
    assert_eq!(report.visited, 3);
}

#[test]
fn depth_limit_is_respected() {
    let (seen, report) = run("outer.zip", &nested(), &depth(2));
    assert_eq!(seen.len(), 2);
    assert_eq!(report.skipped, vec![("outer.zip!inner/pack.tar.gz!deep.zip".to_string(), SkipReason::Depth)]);

    let (seen, report) = run("outer.zip", &nested(), &depth(1));
    assert_eq!(seen.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["outer.zip!readme.md"]);
    assert_eq!(report.skipped, vec![("outer.zip!inner/pack.tar.gz".to_string(), SkipReason::Depth)]);

    // gitleaks' default: archives are not opened.
    let (seen, report) = run("outer.zip", &nested(), &ArchiveLimits::default());
    assert!(seen.is_empty());
    assert_eq!(report.skipped, vec![("outer.zip".to_string(), SkipReason::Depth)]);
}

#[test]
fn plain_gzip_is_one_level_named_like_the_file() {
    let (seen, _) = run("logs/app.log.gz", &gzip(SECRET), &depth(1));
    assert_eq!(seen, vec![("logs/app.log.gz".to_string(), String::from_utf8(SECRET.to_vec()).unwrap())]);
    let (seen, _) = run("bundle.tgz", &gzip(&tar_of(&[("a.txt", SECRET)])), &depth(1));
    assert_eq!(seen[0].0, "bundle.tgz!a.txt");
    let (seen, _) = run("lib.jar", &zip_of(&[("META-INF/app.properties", SECRET)]), &depth(1));
    assert_eq!(seen[0].0, "lib.jar!META-INF/app.properties");
}

#[test]
fn zip_bomb_and_huge_declared_sizes_stop_at_caps() {
    // 200 MB of zeros deflates to ~200 kB: the ratio cap refuses it without inflating.
    let zeros = vec![0u8; 200 << 20];
    let bomb = zip_of(&[("bomb.txt", &zeros), ("ok.txt", SECRET)]);
    drop(zeros);
    let limits = ArchiveLimits { max_depth: 1, max_member_bytes: 1 << 30, ..ArchiveLimits::default() };
    let (seen, report) = run("bomb.zip", &bomb, &limits);
    assert_eq!(seen.len(), 1, "the walk goes on past the bomb");
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].path, "bomb.zip!bomb.txt");
    assert!(report.errors[0].problem.contains("compression ratio"), "{}", report.errors[0]);
    assert!(report.decompressed_bytes < 1 << 20);

    // Declared size over the member cap.
    let big = zip_of(&[("big.txt", &vec![b'a'; 3 << 20])]);
    let (seen, report) = run("big.zip", &big, &ArchiveLimits { max_depth: 1, max_member_bytes: 1 << 20, ..ArchiveLimits::default() });
    assert!(seen.is_empty());
    assert_eq!(report.errors[0].path, "big.zip!big.txt");
    assert!(report.errors[0].problem.contains("declared size"), "{}", report.errors[0]);

    // A gzip stream stops at the total decompressed cap, named.
    let limits = ArchiveLimits { max_depth: 1, max_total_bytes: 1 << 20, ..ArchiveLimits::default() };
    let (seen, report) = run("huge.tar.gz", &gzip(&tar_of(&[("a.txt", &vec![b'x'; 4 << 20])])), &limits);
    assert!(seen.is_empty());
    assert_eq!(report.errors.len(), 1);
    assert!(report.errors[0].path.starts_with("huge.tar.gz"), "{}", report.errors[0]);
    assert!(report.decompressed_bytes <= 1 << 20);
}

#[test]
fn entry_cap_stops_the_walk() {
    let files: Vec<(String, Vec<u8>)> = (0..50).map(|i| (format!("f{i}.txt"), b"x\n".to_vec())).collect();
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let limits = ArchiveLimits { max_depth: 1, max_entries: 10, ..ArchiveLimits::default() };
    let (seen, report) = run("many.tar", &tar_of(&refs), &limits);
    assert_eq!(seen.len(), 10);
    assert_eq!(report.errors.len(), 1);
    assert!(report.errors[0].problem.contains("entry cap"));
}

#[test]
fn truncated_archives_are_reported() {
    let zip = nested();
    let (_, report) = run("cut.zip", &zip[..zip.len() / 2], &depth(3));
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].path, "cut.zip");

    let tgz = gzip(&tar_of(&[("a.txt", SECRET), ("b.txt", &vec![b'y'; 100_000])]));
    let (seen, report) = run("cut.tar.gz", &tgz[..tgz.len() - 40], &depth(1));
    assert_eq!(seen.len(), 1, "members before the cut are still scanned");
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert!(report.errors[0].path.starts_with("cut.tar.gz"));

    let tar = tar_of(&[("a.txt", SECRET), ("b.txt", &vec![b'y'; 10_000])]);
    let (seen, report) = run("cut.tar", &tar[..3000], &depth(1));
    assert_eq!(seen.len(), 1);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(report.errors[0].path, "cut.tar!b.txt");
}

#[test]
fn binary_members_are_skipped() {
    let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
    elf.resize(4096, 0);
    let mut png_like = b"\x89PNG\r\n\x1a\n".to_vec();
    png_like.extend_from_slice(SECRET);
    let archive = zip_of(&[("bin/tool", &elf), ("doc.pdf", b"%PDF-1.7\n..."), ("img.png", &png_like), ("a.txt", SECRET)]);
    let (seen, report) = run("mixed.zip", &archive, &depth(1));
    // gitleaks only skips application/* types: images are scanned.
    assert_eq!(seen.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["mixed.zip!img.png", "mixed.zip!a.txt"]);
    assert_eq!(report.skipped, vec![("mixed.zip!bin/tool".to_string(), SkipReason::Binary), ("mixed.zip!doc.pdf".to_string(), SkipReason::Binary)]);
    assert!(!is_binary(SECRET));
}

#[test]
fn archive_kind_comes_from_the_name_unless_the_bytes_contradict() {
    assert_eq!(looks_like_archive("a/b/x.ZIP", b"PK\x03\x04"), Some(ArchiveKind::Zip));
    assert_eq!(looks_like_archive("x.tar.gz", &[]), Some(ArchiveKind::TarGz));
    assert_eq!(looks_like_archive("x.tar", &[]), Some(ArchiveKind::Tar));
    assert_eq!(looks_like_archive("x.gz", &[0x1f, 0x8b, 8]), Some(ArchiveKind::Gzip));
    assert_eq!(looks_like_archive("notes.zip", b"just text"), None);
    assert_eq!(looks_like_archive("x.7z", &[]), None);
    assert_eq!(looks_like_archive("README", &[]), None);
    let (seen, report) = run("notes.txt", b"text", &depth(1));
    assert!(seen.is_empty());
    assert_eq!(report.errors[0].path, "notes.txt");
}
