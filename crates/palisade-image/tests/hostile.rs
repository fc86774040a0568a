//! Hostile and broken layers, generated here: each gives a named problem, memory stays bounded,
//! and the other layers of the image are still analysed.

mod common;

use common::{Blob, Lister, MemoryImage, Recorder, TarWriter, gzip, gzip_layer, layer, tar_layer};
use palisade_image::{AnalyzedImage, ImageError, LayerProblem, Limits, analyze_image, analyze_image_with_limits};

fn no_progress(_: palisade_image::LayerProgress) {}

fn good(name: &str) -> (palisade_pkg::LayerDescription, Blob) {
    gzip_layer(TarWriter::default().dir("etc").file(&format!("etc/{name}"), name.as_bytes()).finish())
}

/// An image of `hostile` between two good layers; the good layers' files must be there.
fn sandwich(hostile: (palisade_pkg::LayerDescription, Blob)) -> (AnalyzedImage<String>, String) {
    let image = MemoryImage::new(vec![good("first"), hostile, good("last")]);
    let digest = image.description.layers[1].digest.clone();
    let analyzed = analyze_image(&image, &Recorder::new(&["/etc", "/x"]), None, &no_progress).unwrap();
    let paths: Vec<&str> = analyzed.files.iter().map(|file| file.path.as_str()).collect();
    assert!(paths.contains(&"/etc/first") && paths.contains(&"/etc/last"), "good layers lost: {paths:?}");
    (analyzed, digest)
}

fn layer_issue(analyzed: &AnalyzedImage<String>, digest: &str) -> String {
    let issues: Vec<&str> = analyzed.issues.iter().filter(|issue| issue.layer.as_deref() == Some(digest) && issue.path.is_none()).map(|issue| issue.message.as_str()).collect();
    assert_eq!(issues.len(), 1, "{:?}", analyzed.issues);
    issues[0].to_owned()
}

#[test]
fn path_traversal_and_absolute_paths_are_named() {
    let tar = TarWriter::default().file("../../etc/passwd", b"root::0:0").file("/x/absolute", b"abs").file("/x/absolute2", b"abs").file("x/a/../b", b"b").finish();
    let (analyzed, digest) = sandwich(tar_layer(tar));
    let at = |path: &str| analyzed.issues.iter().find(|issue| issue.path.as_deref() == Some(path) && issue.layer.as_deref() == Some(digest.as_str())).map(|issue| issue.message.clone());
    assert_eq!(at("../../etc/passwd").unwrap(), "path climbs above the root with '..': entry ignored");
    assert_eq!(at("/x/absolute").unwrap(), "2 absolute paths in the archive (this is the first): read relative to the image root");
    let files: Vec<(&str, &str)> = analyzed.files.iter().map(|file| (file.path.as_str(), file.facts.as_str())).collect();
    assert!(files.contains(&("/x/absolute", "abs")) && files.contains(&("/x/b", "b")), "{files:?}");
    assert!(!files.iter().any(|(_, content)| content.contains("root::")), "the escaping entry was read: {files:?}");
}

#[test]
fn symlink_loops_are_named_and_resolution_stops() {
    let tar = TarWriter::default().symlink("x/a", "b").symlink("x/b", "a").file("x/a/inside", b"i").symlink("x/self", "self").finish();
    let (analyzed, digest) = sandwich(tar_layer(tar));
    let issue = analyzed.issues.iter().find(|issue| issue.path.as_deref() == Some("/x/a/inside")).unwrap();
    assert_eq!(issue.layer.as_deref(), Some(digest.as_str()));
    assert!(issue.message.contains("more than 40 symlinks"), "{}", issue.message);
    assert!(analyzed.symlinks.resolve("/x/self", 40).unwrap_err().contains("more than 40 symlinks"));
    assert_eq!(analyzed.symlinks.links().get("/x/a").map(String::as_str), Some("b"));
}

#[test]
fn huge_sparse_files_never_materialise() {
    // 1 TiB of holes around 512 stored bytes; and a small sparse file read back with its holes.
    let tar = TarWriter::default().sparse("x/huge", 1 << 40, &[(1 << 39, &[7u8; 512])]).sparse("x/small", 4096, &[(1024, &[9u8; 512]), (3584, &[1u8; 512])]).finish();
    let (analyzed, digest) = sandwich(tar_layer(tar));
    let huge = analyzed.issues.iter().find(|issue| issue.path.as_deref() == Some("/x/huge")).unwrap();
    assert_eq!(huge.layer.as_deref(), Some(digest.as_str()));
    assert_eq!(huge.message, "1099511627776 bytes, more than the 1048576 the analyser reads: not analysed");
    let small = analyzed.files.iter().find(|file| file.path == "/x/small").unwrap();
    let mut expected = vec![0u8; 4096];
    expected[1024..1536].fill(9);
    expected[3584..].fill(1);
    assert_eq!(small.facts.as_bytes(), String::from_utf8_lossy(&expected).as_bytes());
    assert_eq!(small.meta.size, 4096);
}

#[test]
fn truncated_gzip_names_the_byte() {
    let tar = TarWriter::default().file("x/one", &[b'a'; 100_000]).file("x/two", b"two").finish();
    let blob = gzip(&tar);
    let cut = blob[..blob.len() / 2].to_vec();
    let cut_length = cut.len();
    let (analyzed, digest) = sandwich(layer("application/vnd.oci.image.layer.v1.tar+gzip", cut, &tar));
    assert_eq!(layer_issue(&analyzed, &digest), format!("layer {digest} (2/3): truncated gzip stream at byte {cut_length}"));
}

#[test]
fn truncated_tar_names_the_byte() {
    let tar = TarWriter::default().file("x/small", b"complete").file("x/one", &[b'a'; 10_000]).finish();
    let cut = tar[..6000].to_vec();
    let (analyzed, digest) = sandwich(tar_layer(cut));
    assert_eq!(layer_issue(&analyzed, &digest), format!("layer {digest} (2/3): truncated tar stream at byte 6000 (uncompressed)"));
    // What was read before the cut is kept.
    assert!(analyzed.files.iter().any(|file| file.path == "/x/small" && file.facts == "complete"));
}

#[test]
fn garbage_and_wrong_media_types_are_named() {
    let garbage: Vec<u8> = (0..10_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let (analyzed, digest) = sandwich(layer("application/vnd.oci.image.layer.v1.tar+gzip", garbage.clone(), b""));
    assert_eq!(
        layer_issue(&analyzed, &digest),
        format!("layer {digest} (2/3): media type application/vnd.oci.image.layer.v1.tar+gzip but the blob starts like unrecognised data (neither gzip, zstd nor tar)")
    );
    let (analyzed, digest) = sandwich(layer("application/vnd.oci.image.layer.v1.tar", garbage, b""));
    let message = layer_issue(&analyzed, &digest);
    assert!(message.starts_with(&format!("layer {digest} (2/3): invalid tar stream at byte 0 (uncompressed): header checksum mismatch")), "{message}");

    let tar = TarWriter::default().file("x/file", b"content").finish();
    let (analyzed, digest) = sandwich(layer("application/vnd.oci.image.layer.v1.tar+zstd", gzip(&tar), &tar));
    assert_eq!(layer_issue(&analyzed, &digest), format!("layer {digest} (2/3): media type application/vnd.oci.image.layer.v1.tar+zstd but the blob starts like gzip"));
    let (analyzed, digest) = sandwich(layer("application/vnd.example.unknown", gzip(&tar), &tar));
    assert_eq!(layer_issue(&analyzed, &digest), format!("layer {digest} (2/3): unsupported media type application/vnd.example.unknown"));
    // Docker's generic type: the bytes decide.
    let (analyzed, _) = sandwich(layer("application/vnd.docker.image.rootfs.diff.tar", gzip(&tar), &tar));
    assert!(analyzed.files.iter().any(|file| file.path == "/x/file" && file.facts == "content"));
}

#[test]
fn digest_mismatches_are_named() {
    let tar = TarWriter::default().file("x/file", b"content").finish();
    let (mut description, blob) = gzip_layer(tar.clone());
    let actual = description.digest.clone();
    description.digest = common::sha256(b"something else");
    let expected = description.digest.clone();
    let (analyzed, _) = sandwich((description, blob));
    assert_eq!(layer_issue(&analyzed, &expected), format!("layer {expected} (2/3): layer digest mismatch: expected {expected}, the content hashes to {actual}"));

    let (mut description, blob) = gzip_layer(tar.clone());
    description.diff_id = common::sha256(b"other tar");
    let digest = description.digest.clone();
    let (analyzed, _) = sandwich((description, blob));
    assert!(layer_issue(&analyzed, &digest).contains(&format!("diff id mismatch: expected {}, the content hashes to {}", common::sha256(b"other tar"), common::sha256(&tar))));
}

#[test]
fn zstd_layers_with_several_frames_and_skippable_frames() {
    let first = TarWriter::default().file("x/one", b"one").bytes;
    let second = TarWriter::default().file("x/two", b"two").finish();
    let tar = [first.clone(), second.clone()].concat();
    let mut blob = ruzstd::encoding::compress_to_vec(first.as_slice(), ruzstd::encoding::CompressionLevel::Fastest);
    // A skippable frame, as zstd:chunked writes for its table of contents.
    blob.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4]);
    blob.extend(ruzstd::encoding::compress_to_vec(second.as_slice(), ruzstd::encoding::CompressionLevel::Fastest));
    let (analyzed, _) = sandwich(layer("application/vnd.oci.image.layer.v1.tar+zstd", blob.clone(), &tar));
    let contents: Vec<(&str, &str)> = analyzed.files.iter().map(|file| (file.path.as_str(), file.facts.as_str())).collect();
    assert!(contents.contains(&("/x/one", "one")) && contents.contains(&("/x/two", "two")), "{contents:?}");

    let cut = blob[..blob.len() - 10].to_vec();
    let length = cut.len();
    let (analyzed, digest) = sandwich(layer("application/vnd.oci.image.layer.v1.tar+zstd", cut, &tar));
    assert_eq!(layer_issue(&analyzed, &digest), format!("layer {digest} (2/3): truncated zstd stream at byte {length}"));
}

#[test]
fn entry_and_path_limits() {
    let long = "d/".repeat(3000) + "file";
    let tar = TarWriter::default().long_name(long.as_bytes()).file("ignored-name", b"x").file("x/after", b"after").finish();
    let (analyzed, digest) = sandwich(tar_layer(tar));
    let issue = analyzed.issues.iter().find(|issue| issue.layer.as_deref() == Some(digest.as_str()) && issue.path.is_some()).unwrap();
    assert_eq!(issue.message, "GNU long name of 6004 bytes (limit 4096): entry ignored");
    assert!(analyzed.files.iter().any(|file| file.path == "/x/after"));

    let many = (0..100).fold(TarWriter::default(), |tar, index| tar.file(&format!("x/{index}"), b"")).finish();
    let image = MemoryImage::new(vec![good("first"), tar_layer(many), good("last")]);
    let digest = image.description.layers[1].digest.clone();
    let limits = Limits { max_entries_per_layer: 50, ..Limits::default() };
    let analyzed = analyze_image_with_limits(&image, &Recorder::new(&["/etc"]), None, &no_progress, &limits).unwrap();
    assert_eq!(layer_issue(&analyzed, &digest), format!("layer {digest} (2/3): more than 50 entries (limit)"));
}

#[test]
fn hard_links_to_wanted_files_are_analysed() {
    let tar = TarWriter::default().file("x/target", b"shared content").hardlink("x/link", "x/target").hardlink("x/chain", "x/link").hardlink("x/outside", "../../etc/shadow").finish();
    let (analyzed, digest) = sandwich(tar_layer(tar));
    let contents: Vec<(&str, &str)> = analyzed.files.iter().map(|file| (file.path.as_str(), file.facts.as_str())).collect();
    for path in ["/x/target", "/x/link", "/x/chain"] {
        assert!(contents.contains(&(path, "shared content")), "{path}: {contents:?}");
    }
    let issue = analyzed.issues.iter().find(|issue| issue.path.as_deref() == Some("/x/outside")).unwrap();
    assert_eq!(issue.layer.as_deref(), Some(digest.as_str()));
    assert_eq!(issue.message, "hard link to \"../../etc/shadow\", outside the image root: entry ignored");
}

#[test]
fn an_image_whose_every_layer_fails_is_an_error() {
    let image = MemoryImage::new(vec![layer("application/vnd.oci.image.layer.v1.tar+gzip", b"not gzip at all".to_vec(), b"")]);
    let error = analyze_image(&image, &Lister, None, &no_progress).unwrap_err();
    assert!(matches!(error, ImageError::Layer { position: 1, count: 1, problem: LayerProblem::WrongMediaType { .. }, .. }), "{error}");
}

/// Random damage (bytes changed, streams cut) to layers and to a docker archive never panics and
/// never hangs: every outcome is files or named problems.
#[test]
fn mutated_layers_and_archives_never_panic() {
    let tar = TarWriter::default()
        .dir("etc")
        .file("etc/os-release", b"ID=x\n")
        .long_name(b"etc/a/rather/long/name/that/needs/a/gnu/long/name/entry/to/be/stored/in/the/archive/because/it/is/over/100")
        .file("ignored", b"long")
        .sparse("etc/sparse", 8192, &[(4096, &[5u8; 512])])
        .symlink("etc/link", "os-release")
        .hardlink("etc/hard", "etc/os-release")
        .file("etc/.wh.gone", b"")
        .finish();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..600 {
        let mut damaged = if round % 2 == 0 { tar.clone() } else { gzip(&tar) };
        for _ in 0..1 + next() % 4 {
            let at = (next() % damaged.len() as u64) as usize;
            damaged[at] = next() as u8;
        }
        if round % 3 == 0 {
            let keep = (next() % damaged.len() as u64) as usize;
            damaged.truncate(keep);
        }
        let media_type = if round % 2 == 0 { "application/vnd.oci.image.layer.v1.tar" } else { "application/vnd.oci.image.layer.v1.tar+gzip" };
        let image = MemoryImage::new(vec![good("first"), layer(media_type, damaged, &tar)]);
        let analyzed = analyze_image(&image, &Recorder::new(&["/etc"]), None, &no_progress).unwrap();
        assert!(analyzed.files.iter().any(|file| file.path == "/etc/first"));
    }

    let temp = tempfile::tempdir().unwrap();
    let config = br#"{"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":["DIFF"]}}"#;
    let config = String::from_utf8_lossy(config).replace("DIFF", &common::sha256(&tar)).into_bytes();
    let manifest = br#"[{"Config":"config.json","RepoTags":["a:b"],"Layers":["layer.tar"]}]"#;
    let archive = TarWriter::default().file("manifest.json", manifest).file("config.json", &config).file("layer.tar", &tar).finish();
    let path = temp.path().join("archive.tar");
    std::fs::write(&path, &archive).unwrap();
    let intact = palisade_image::DockerArchive::open("docker-archive", &path, None, None).unwrap();
    let files = analyze_image(&intact, &Recorder::new(&["/etc"]), None, &no_progress).unwrap().files;
    let paths: Vec<&str> = files.iter().map(|file| file.path.as_str()).collect();
    assert_eq!(paths.len(), 4, "{paths:?}");
    assert!(["/etc/hard", "/etc/os-release", "/etc/sparse"].iter().all(|path| paths.contains(path)), "{paths:?}");
    for _ in 0..300 {
        let mut damaged = archive.clone();
        for _ in 0..1 + next() % 3 {
            let at = (next() % 2048) as usize;
            damaged[at] = next() as u8;
        }
        std::fs::write(&path, &damaged).unwrap();
        if let Ok(image) = palisade_image::DockerArchive::open("docker-archive", &path, None, None) {
            let _ = analyze_image(&image, &Recorder::new(&["/etc"]), None, &no_progress);
        }
    }
}
