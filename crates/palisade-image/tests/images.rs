//! Real images built here with umoci (layers, whiteouts, opaque directories, a raw layer with hard
//! links) and converted with skopeo (docker-archive, zstd), read back through the public API and
//! compared with syft's view of the same files.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Lister, Recorder, TarWriter, have, run};
use palisade_image::{
    AnalyzedImage, DockerArchive, ImageError, ImageSource, LayerCache, LayerProgress, LayerStage, OciLayout, OciSelector, Platform, SourceRef, analyze_directory, analyze_image,
};
use palisade_pkg::ImageDescription;

const WANTED: [&str; 6] = ["/etc", "/opt", "/usr/share/x", "/usr/lib/os-release", "/var/lib", "/extra.txt"];

fn write(path: &Path, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// Five layers: a base; an overwrite; a whiteout; an opaque directory; a raw layer with a hard
/// link and a directory whiteout.
fn build_layout(work: &Path) -> PathBuf {
    let base = work.join("base");
    write(&base.join("usr/lib/os-release"), "ID=testos\nVERSION_ID=1\n");
    std::fs::create_dir_all(base.join("etc")).unwrap();
    std::os::unix::fs::symlink("../usr/lib/os-release", base.join("etc/os-release")).unwrap();
    write(&base.join("etc/gone.conf"), "removed later");
    write(&base.join("etc/kept.conf"), "kept");
    write(&base.join("opt/app/old.txt"), "hidden by opaque");
    write(&base.join("opt/app/sub/deep.txt"), "hidden too");
    write(&base.join("usr/share/x/data.txt"), "v1");
    write(&base.join("var/lib/dpkg/status"), "Package: gone\n");
    let v2 = work.join("data-v2.txt");
    write(&v2, "v2");
    let newapp = work.join("newapp");
    write(&newapp.join("new.txt"), "new");
    let raw = work.join("raw.tar");
    std::fs::write(&raw, TarWriter::default().dir("usr/share/x").file("usr/share/x/hard.txt", b"linked").hardlink("usr/share/x/hardlink", "usr/share/x/hard.txt").file("var/.wh.lib", b"").finish()).unwrap();

    let layout = work.join("layout");
    let image = format!("{}:t", layout.display());
    run("umoci", &["init", "--layout", layout.to_str().unwrap()]);
    run("umoci", &["new", "--image", &image]);
    run("umoci", &["insert", "--image", &image, base.to_str().unwrap(), "/"]);
    run("umoci", &["insert", "--image", &image, v2.to_str().unwrap(), "/usr/share/x/data.txt"]);
    run("umoci", &["insert", "--image", &image, "--whiteout", "/etc/gone.conf"]);
    run("umoci", &["insert", "--image", &image, "--opaque", newapp.to_str().unwrap(), "/opt/app"]);
    run("umoci", &["raw", "add-layer", "--image", &image, raw.to_str().unwrap()]);
    layout
}

fn contents(analyzed: &AnalyzedImage<String>) -> Vec<(String, usize, String)> {
    analyzed.files.iter().map(|file| (file.path.clone(), file.layer_index, file.facts.clone())).collect()
}

fn expected() -> Vec<(String, usize, String)> {
    [
        ("/etc/kept.conf", 0, "kept"),
        ("/opt/app/new.txt", 3, "new"),
        ("/usr/lib/os-release", 0, "ID=testos\nVERSION_ID=1\n"),
        ("/usr/share/x/data.txt", 1, "v2"),
        ("/usr/share/x/hard.txt", 4, "linked"),
        ("/usr/share/x/hardlink", 4, "linked"),
    ]
    .iter()
    .map(|(path, layer, content)| ((*path).to_owned(), *layer, (*content).to_owned()))
    .collect()
}

fn check_squash(analyzed: &AnalyzedImage<String>) {
    assert_eq!(contents(analyzed), expected(), "issues: {:?}", analyzed.issues);
    assert!(analyzed.issues.is_empty(), "{:?}", analyzed.issues);
    let data = analyzed.files.iter().find(|file| file.path == "/usr/share/x/data.txt").unwrap();
    assert_eq!(data.layer_digest.as_deref(), Some(analyzed.description.layers[1].diff_id.as_str()));
    assert_eq!(analyzed.symlinks.links().get("/etc/os-release").map(String::as_str), Some("../usr/lib/os-release"));
    assert_eq!(analyzed.symlinks.resolve("/etc/os-release", 40).unwrap(), "/usr/lib/os-release");
}

fn quiet(_: LayerProgress) {}

#[test]
fn umoci_layers_squash_like_a_runtime_in_every_format() {
    if !have("umoci") || !have("skopeo") {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let layout = build_layout(temp.path());
    let analyzer = Recorder::new(&WANTED);

    let oci = OciLayout::open("oci:layout:t", &layout, Some(&OciSelector::Tag("t".into())), None).unwrap();
    assert_eq!(oci.description().layers.len(), 5);
    assert_eq!(oci.description().tags, vec!["t".to_owned()]);
    assert!(oci.description().layers.iter().all(|layer| layer.media_type == "application/vnd.oci.image.layer.v1.tar+gzip"));
    let from_oci = analyze_image(&oci, &analyzer, None, &quiet).unwrap();
    check_squash(&from_oci);

    let archive = temp.path().join("image.tar");
    run("skopeo", &["copy", "--insecure-policy", &format!("oci:{}:t", layout.display()), &format!("docker-archive:{}:app:v1", archive.display())]);
    let source = SourceRef::parse(&format!("docker-archive:{}", archive.display())).unwrap();
    let docker = source.open_image("docker-archive:image.tar", None).unwrap();
    assert_eq!(docker.description().tags, vec!["docker.io/library/app:v1".to_owned()]);
    assert_eq!(docker.description().config_digest, oci.description().config_digest);
    let diff_ids = |description: &ImageDescription| description.layers.iter().map(|layer| layer.diff_id.clone()).collect::<Vec<_>>();
    assert_eq!(diff_ids(docker.description()), diff_ids(oci.description()));
    let from_docker = analyze_image(docker.as_ref(), &analyzer, None, &quiet).unwrap();
    check_squash(&from_docker);
    assert_eq!(from_docker.files, from_oci.files, "same files, layers and facts from both formats");
    let named = DockerArchive::open("docker-archive", &archive, Some("app:v1"), None).unwrap();
    assert_eq!(named.description().config_digest, oci.description().config_digest);
    let missing = DockerArchive::open("docker-archive", &archive, Some("app:v2"), None).err().unwrap();
    assert_eq!(missing.to_string(), "docker-archive: no image tagged app:v2; available: docker.io/library/app:v1");

    let zstd = temp.path().join("zstd");
    run("skopeo", &["copy", "--insecure-policy", "--dest-compress-format", "zstd", &format!("oci:{}:t", layout.display()), &format!("oci:{}:t", zstd.display())]);
    let zstd = OciLayout::open("oci:zstd:t", &zstd, Some(&OciSelector::Tag("t".into())), None).unwrap();
    assert!(zstd.description().layers.iter().all(|layer| layer.media_type == "application/vnd.oci.image.layer.v1.tar+zstd"));
    let from_zstd = analyze_image(&zstd, &analyzer, None, &quiet).unwrap();
    assert_eq!(from_zstd.files, from_oci.files);
}

/// Docker 25+ `docker save` writes an OCI layout with a `manifest.json` beside it, naming blobs
/// by digest; made here from the umoci layout (its layers stay gzip, so sniffing is exercised).
#[test]
fn oci_shaped_docker_archives_are_read_with_their_manifest_digest() {
    if !have("umoci") {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let layout = build_layout(temp.path());
    let oci = OciLayout::open("oci", &layout, None, None).unwrap();
    let description = oci.description();
    let blob = |digest: &str| format!("blobs/sha256/{}", &digest[7..]);
    let manifest = serde_json::json!([{
        "Config": blob(&description.config_digest),
        "RepoTags": ["app:v1"],
        "Layers": description.layers.iter().map(|layer| blob(&layer.digest)).collect::<Vec<_>>(),
    }]);
    let archive = temp.path().join("docker25.tar");
    let mut builder = tar::Builder::new(std::fs::File::create(&archive).unwrap());
    builder.append_dir_all(".", &layout).unwrap();
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let mut header = tar::Header::new_ustar();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append_data(&mut header, "manifest.json", bytes.as_slice()).unwrap();
    builder.into_inner().unwrap();

    let docker = DockerArchive::open("docker-archive:docker25.tar", &archive, None, None).unwrap();
    assert_eq!(docker.description().manifest_digest, description.manifest_digest);
    assert_eq!(docker.description().config_digest, description.config_digest);
    let digests = |description: &ImageDescription| description.layers.iter().map(|layer| (layer.digest.clone(), layer.diff_id.clone(), layer.size)).collect::<Vec<_>>();
    assert_eq!(digests(docker.description()), digests(description));
    let analyzer = Recorder::new(&WANTED);
    let from_docker = analyze_image(&docker, &analyzer, None, &quiet).unwrap();
    check_squash(&from_docker);
    assert_eq!(from_docker.files, analyze_image(&oci, &analyzer, None, &quiet).unwrap().files);
}

/// syft's file catalog of the same image (every regular file with its layer, and the symlinks),
/// a peer view of the squash: whiteouts, opaque directories and overwrites must agree.
#[test]
fn final_files_layers_and_digests_equal_syfts() {
    if !have("umoci") || !have("skopeo") || !have("syft") {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let layout = build_layout(temp.path());
    let archive = temp.path().join("image.tar");
    run("skopeo", &["copy", "--insecure-policy", &format!("oci:{}:t", layout.display()), &format!("docker-archive:{}:app:v1", archive.display())]);
    for reference in [format!("oci-dir:{}", layout.display()), format!("docker-archive:{}", archive.display())] {
        let source = SourceRef::parse(&reference.replace("oci-dir:", "oci:")).unwrap().open_image(&reference, None).unwrap();
        let ours = analyze_image(source.as_ref(), &Lister, None, &quiet).unwrap();
        let mine: BTreeSet<(String, String)> = ours.files.iter().map(|file| (file.path.clone(), file.layer_digest.clone().unwrap())).collect();
        let my_links: BTreeSet<String> = ours.symlinks.links().keys().cloned().collect();
        let syft = syft_json(&reference);
        let (theirs, their_links) = syft_files(&syft);
        assert_eq!(mine, theirs, "{reference}");
        assert_eq!(my_links, their_links, "{reference}");
        let metadata = &syft["source"]["metadata"];
        let description = source.description();
        assert_eq!(metadata["manifestDigest"], description.manifest_digest.as_str(), "{reference}");
        assert_eq!(metadata["imageID"], description.config_digest.as_str(), "{reference}");
        let their_layers: Vec<&str> = metadata["layers"].as_array().unwrap().iter().map(|layer| layer["digest"].as_str().unwrap()).collect();
        let diff_ids: Vec<&str> = description.layers.iter().map(|layer| layer.diff_id.as_str()).collect();
        assert_eq!(their_layers, diff_ids, "{reference}");
        if reference.starts_with("docker-archive:") {
            assert_eq!(metadata["tags"], serde_json::json!(description.tags), "{reference}");
        }
    }
}

fn syft_json(source: &str) -> serde_json::Value {
    let output = Command::new("syft").args([source, "-o", "json", "-q"]).env("SYFT_FILE_METADATA_SELECTION", "all").env("SYFT_CHECK_FOR_APP_UPDATE", "false").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// (path, layer) of syft's regular files and hard links, and its symlinks.
fn syft_files(json: &serde_json::Value) -> (BTreeSet<(String, String)>, BTreeSet<String>) {
    let mut files = BTreeSet::new();
    let mut links = BTreeSet::new();
    for file in json["files"].as_array().unwrap() {
        let path = file["location"]["path"].as_str().unwrap().to_owned();
        match file["metadata"]["type"].as_str() {
            Some("RegularFile" | "HardLink") => {
                files.insert((path, file["location"]["layerID"].as_str().unwrap().to_owned()));
            }
            Some("SymbolicLink") => {
                links.insert(path);
            }
            _ => {}
        }
    }
    (files, links)
}

/// Counts the layers read, around a real source.
struct Counting<S> {
    inner: S,
    opened: AtomicUsize,
}

impl<S: ImageSource> ImageSource for Counting<S> {
    fn description(&self) -> &ImageDescription {
        self.inner.description()
    }

    fn open_layer(&self, index: usize) -> Result<Box<dyn std::io::Read + Send + '_>, ImageError> {
        self.opened.fetch_add(1, Ordering::Relaxed);
        self.inner.open_layer(index)
    }
}

#[test]
fn second_analysis_reads_only_the_cache_and_shared_layers_are_read_once() {
    if !have("umoci") {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let layout = build_layout(temp.path());
    let cache = LayerCache::new(temp.path().join("cache"));
    let analyzer = Recorder::new(&WANTED);
    let open = |tag: &str| Counting { inner: OciLayout::open("oci", &layout, Some(&OciSelector::Tag(tag.into())), None).unwrap(), opened: AtomicUsize::new(0) };
    let stages = Mutex::new(Vec::new());
    let record = |progress: LayerProgress| stages.lock().unwrap().push((progress.index, progress.stage));

    let cold = open("t");
    let first = analyze_image(&cold, &analyzer, Some(&cache), &record).unwrap();
    check_squash(&first);
    // Five layers, and the raw layer once more for its wanted hard link.
    assert_eq!(cold.opened.load(Ordering::Relaxed), 6);

    stages.lock().unwrap().clear();
    let warm = open("t");
    let analysed_before = analyzer.analysed.load(Ordering::Relaxed);
    let second = analyze_image(&warm, &analyzer, Some(&cache), &record).unwrap();
    assert_eq!(warm.opened.load(Ordering::Relaxed), 0, "a warm analysis reads no layer");
    assert_eq!(analyzer.analysed.load(Ordering::Relaxed), analysed_before, "nor analyses any file");
    assert_eq!(second.files, first.files);
    let mut seen = stages.lock().unwrap().clone();
    seen.sort_by_key(|(index, _)| *index);
    assert_eq!(seen, (0..5).map(|index| (index, LayerStage::Cached)).collect::<Vec<_>>());

    // Another image on the same base: only its own layer is read.
    let extra = temp.path().join("extra.txt");
    std::fs::write(&extra, "extra").unwrap();
    run("umoci", &["insert", "--image", &format!("{}:t", layout.display()), "--tag", "more", extra.to_str().unwrap(), "/extra.txt"]);
    let more = open("more");
    let analyzed = analyze_image(&more, &analyzer, Some(&cache), &quiet).unwrap();
    assert_eq!(more.opened.load(Ordering::Relaxed), 1);
    assert!(analyzed.files.iter().any(|file| file.path == "/extra.txt" && file.layer_index == 5));

    // A damaged entry is not trusted: that layer is read again and the entry rewritten.
    let entries: Vec<PathBuf> = walk(&temp.path().join("cache"));
    assert_eq!(entries.len(), 6, "{entries:?}");
    let victim = entries.iter().find(|path| std::fs::metadata(path).unwrap().len() > 300).unwrap();
    let bytes = std::fs::read(victim).unwrap();
    std::fs::write(victim, &bytes[..bytes.len() - 5]).unwrap();
    let again = open("t");
    assert_eq!(analyze_image(&again, &analyzer, Some(&cache), &quiet).unwrap().files, first.files);
    assert!((1..=2).contains(&again.opened.load(Ordering::Relaxed)), "{}", again.opened.load(Ordering::Relaxed));
    assert_eq!(std::fs::read(victim).unwrap(), bytes, "entry rewritten");
    let last = open("t");
    analyze_image(&last, &analyzer, Some(&cache), &quiet).unwrap();
    assert_eq!(last.opened.load(Ordering::Relaxed), 0);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { found.extend(walk(&path)) } else { found.push(path) }
    }
    found
}

/// A multi-platform index (nested under the tagged index, as registries' images are) built from
/// two umoci images of different architectures.
#[test]
fn platforms_are_chosen_from_nested_indexes() {
    if !have("umoci") {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let layout = temp.path().join("layout");
    let root = temp.path().join("root");
    write(&root.join("etc/arch"), "amd64");
    run("umoci", &["init", "--layout", layout.to_str().unwrap()]);
    for arch in ["amd64", "arm64"] {
        let image = format!("{}:{arch}", layout.display());
        run("umoci", &["new", "--image", &image]);
        write(&root.join("etc/arch"), arch);
        run("umoci", &["insert", "--image", &image, root.to_str().unwrap(), "/"]);
        run("umoci", &["config", "--image", &image, "--architecture", arch]);
    }
    let index_path = layout.join("index.json");
    let mut index: serde_json::Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let manifests: Vec<serde_json::Value> = index["manifests"].as_array().unwrap().clone();
    let by_tag = |tag: &str| manifests.iter().find(|descriptor| descriptor["annotations"]["org.opencontainers.image.ref.name"] == tag).unwrap().clone();
    let with_platform = |mut descriptor: serde_json::Value, arch: &str, variant: Option<&str>| {
        descriptor.as_object_mut().unwrap().remove("annotations");
        let mut platform = serde_json::json!({"os": "linux", "architecture": arch});
        if let Some(variant) = variant {
            platform["variant"] = variant.into();
        }
        descriptor["platform"] = platform;
        descriptor
    };
    let put_blob = |value: &serde_json::Value| {
        let bytes = serde_json::to_vec(value).unwrap();
        let digest = common::sha256(&bytes);
        std::fs::write(layout.join("blobs/sha256").join(&digest[7..]), &bytes).unwrap();
        serde_json::json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest, "size": bytes.len()})
    };
    let inner = put_blob(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [with_platform(by_tag("amd64"), "amd64", None), with_platform(by_tag("arm64"), "arm64", Some("v8")), {
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": by_tag("amd64")["digest"], "size": by_tag("amd64")["size"],
            "platform": {"os": "unknown", "architecture": "unknown"}, "annotations": {"vnd.docker.reference.type": "attestation-manifest"}
        }]
    }));
    let mut outer = put_blob(&serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [inner]}));
    outer["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": "multi"});
    index["manifests"].as_array_mut().unwrap().push(outer);
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();

    let multi = Some(OciSelector::Tag("multi".into()));
    let arch_of = |platform: Option<&Platform>| {
        let image = OciLayout::open("oci:layout:multi", &layout, multi.as_ref(), platform)?;
        let analyzed = analyze_image(&image, &Recorder::new(&["/etc"]), None, &quiet)?;
        Ok::<_, ImageError>((image.description().architecture.clone(), analyzed.files[0].facts.clone()))
    };
    assert_eq!(arch_of(None).unwrap(), ("amd64".to_owned(), "amd64".to_owned()));
    assert_eq!(arch_of(Some(&Platform::parse("linux/arm64").unwrap())).unwrap(), ("arm64".to_owned(), "arm64".to_owned()));
    assert_eq!(arch_of(Some(&Platform::parse("linux/arm64/v8").unwrap())).unwrap().0, "arm64");
    let error = arch_of(Some(&Platform::parse("linux/s390x").unwrap())).unwrap_err();
    assert_eq!(error.to_string(), "oci:layout:multi: no image for platform linux/s390x; the index has available: linux/amd64, linux/arm64/v8");
    let error = OciLayout::open("oci:layout", &layout, None, None).err().unwrap();
    assert_eq!(error.to_string(), "oci:layout: no image named (the layout holds several; add :TAG); available: amd64, arm64, multi");
    let error = OciLayout::open("oci:layout:nope", &layout, Some(&OciSelector::Tag("nope".into())), None).err().unwrap();
    assert_eq!(error.to_string(), "oci:layout:nope: no image tagged nope; available: amd64, arm64, multi");
    let arm = by_tag("arm64")["digest"].as_str().unwrap().to_owned();
    let by_digest = OciLayout::open("oci:layout@", &layout, Some(&OciSelector::Digest(arm.clone())), None).unwrap();
    assert_eq!((by_digest.description().architecture.as_str(), by_digest.description().manifest_digest.as_str()), ("arm64", arm.as_str()));
}

/// A Debian 12 root filesystem (debootstrap minbase) packed with umoci: the image's final files
/// are the directory's files, and syft sees the same files in the same layer.
#[test]
fn debian_rootfs_image_equals_its_directory_and_syfts_view() {
    let rootfs = std::env::var_os("PALISADE_TEST_ROOTFS").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/image-fixtures/rootfs-debian"));
    if !rootfs.join("var/lib/dpkg/status").exists() {
        assert!(std::env::var("CI").map_or(true, |value| value != "true"), "CI needs a Debian rootfs: debootstrap --variant=minbase bookworm {}", rootfs.display());
        eprintln!("skipping: no Debian rootfs at {} (debootstrap --variant=minbase bookworm DIR; PALISADE_TEST_ROOTFS=DIR)", rootfs.display());
        return;
    }
    if !have("umoci") || !have("syft") {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let layout = temp.path().join("layout");
    let image = format!("{}:bookworm", layout.display());
    run("umoci", &["init", "--layout", layout.to_str().unwrap()]);
    run("umoci", &["new", "--image", &image]);
    run("umoci", &["insert", "--image", &image, rootfs.to_str().unwrap(), "/"]);
    let oci = OciLayout::open("oci", &layout, None, None).unwrap();
    let analyzed = analyze_image(&oci, &Lister, None, &quiet).unwrap();
    assert!(analyzed.issues.is_empty(), "{:?}", analyzed.issues);
    let directory = analyze_directory(&rootfs, &Lister).unwrap();
    let image_paths: Vec<&str> = analyzed.files.iter().map(|file| file.path.as_str()).collect();
    let directory_paths: Vec<&str> = directory.files.iter().map(|file| file.path.as_str()).collect();
    assert!(image_paths.len() > 5000, "{}", image_paths.len());
    assert_eq!(image_paths, directory_paths);
    assert_eq!(analyzed.symlinks, directory.symlinks);
    let sizes = |files: &[palisade_image::FinalFile<()>]| files.iter().map(|file| file.meta).collect::<Vec<_>>();
    assert_eq!(sizes(&analyzed.files), sizes(&directory.files));

    let (theirs, their_links) = syft_files(&syft_json(&format!("oci-dir:{}", layout.display())));
    let mine: BTreeSet<(String, String)> = analyzed.files.iter().map(|file| (file.path.clone(), file.layer_digest.clone().unwrap())).collect();
    assert_eq!(mine, theirs);
    assert_eq!(analyzed.symlinks.links().keys().cloned().collect::<BTreeSet<_>>(), their_links);

    let status = analyze_image(&oci, &Recorder::new(&["/var/lib/dpkg/status"]), None, &quiet).unwrap();
    assert_eq!(status.files[0].facts, std::fs::read_to_string(rootfs.join("var/lib/dpkg/status")).unwrap());
}
