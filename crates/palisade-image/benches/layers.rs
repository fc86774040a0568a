//! Layer analysis of an umoci-built image, cold cache vs warm cache (and syft on the same image
//! when it is installed, as a reference).
//!
//! `cargo bench -p palisade-image --bench layers` — the image is the Debian rootfs at
//! `$PALISADE_BENCH_ROOTFS` (default `/tmp/fx/bookworm`, made with `debootstrap
//! --variant=minbase bookworm DIR`), split into three layers, or a generated tree of 20 000 files
//! when there is none.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use palisade_image::{FileAnalyzer, FileMeta, ImageSource, LayerCache, OciLayout, Want, analyze_image};

/// Wants what an OS cataloger wants: the dpkg database, release files, and every `*.list`.
struct Cataloger;

impl FileAnalyzer for Cataloger {
    type Facts = usize;

    fn cache_key(&self) -> String {
        "bench-cataloger-v1".to_owned()
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        if path == "/var/lib/dpkg/status" || path.ends_with("/os-release") {
            Some(Want::Content { limit: 64 << 20 })
        } else if path.starts_with("/var/lib/dpkg/info/") && path.ends_with(".list") {
            Some(Want::Presence)
        } else {
            None
        }
    }

    fn analyze(&self, _path: &str, _meta: &FileMeta, content: &[u8]) -> usize {
        content.iter().filter(|&&byte| byte == b'\n').count()
    }
}

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program).args(args).output().unwrap_or_else(|error| panic!("{program}: {error}"));
    assert!(output.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

fn generated_tree(root: &Path) {
    for index in 0..20_000 {
        let path = root.join(format!("usr/share/gen/{}/{}/file{index}.txt", index % 37, index % 101));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, format!("file {index}\n").repeat(index % 200 + 1)).unwrap();
    }
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::write(root.join("var/lib/dpkg/status"), "Package: x\nVersion: 1\n\n".repeat(500)).unwrap();
}

fn peak_memory_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|line| line.strip_prefix("VmHWM:")).and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok()).unwrap_or(0)
}

fn time<T>(label: &str, runs: usize, mut work: impl FnMut() -> T) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        std::hint::black_box(work());
        best = best.min(start.elapsed());
    }
    println!("{label:<34} {:>9.1} ms (best of {runs})", best.as_secs_f64() * 1000.0);
    best
}

fn main() {
    let temp = tempfile::tempdir().unwrap();
    let rootfs = std::env::var_os("PALISADE_BENCH_ROOTFS").map(std::path::PathBuf::from).unwrap_or_else(|| "/tmp/fx/bookworm".into());
    let rootfs = if rootfs.join("var/lib/dpkg/status").exists() {
        rootfs
    } else {
        let generated = temp.path().join("generated");
        generated_tree(&generated);
        println!("no Debian rootfs at {}: using a generated tree", rootfs.display());
        generated
    };
    let layout = temp.path().join("layout");
    let image = format!("{}:bench", layout.display());
    run("umoci", &["init", "--layout", layout.to_str().unwrap()]);
    run("umoci", &["new", "--image", &image]);
    // Three layers: /usr, the rest, and the dpkg database again (as an upgrade would write it).
    let usr = rootfs.join("usr");
    if usr.exists() {
        run("umoci", &["insert", "--image", &image, usr.to_str().unwrap(), "/usr"]);
    }
    run("umoci", &["insert", "--image", &image, rootfs.to_str().unwrap(), "/"]);
    run("umoci", &["insert", "--image", &image, rootfs.join("var/lib/dpkg").to_str().unwrap(), "/var/lib/dpkg"]);

    let source = OciLayout::open("oci:bench", &layout, None, None).unwrap();
    let layers = source.description().layers.len();
    let blob_bytes: u64 = source.description().layers.iter().map(|layer| layer.size).sum();
    println!("image: {} ({layers} layers, {:.1} MB compressed)", rootfs.display(), blob_bytes as f64 / 1e6);
    let analyzed = analyze_image(&source, &Cataloger, None, &|_| {}).unwrap();
    println!("files analysed: {}, issues: {}", analyzed.files.len(), analyzed.issues.len());

    let no_cache = time("no cache", 3, || analyze_image(&source, &Cataloger, None, &|_| {}).unwrap().files.len());
    let mut round = 0;
    let cold = time("cold cache (empty, then written)", 3, || {
        round += 1;
        let cache = LayerCache::new(temp.path().join(format!("cold-{round}")));
        analyze_image(&source, &Cataloger, Some(&cache), &|_| {}).unwrap().files.len()
    });
    let cache = LayerCache::new(temp.path().join("warm"));
    analyze_image(&source, &Cataloger, Some(&cache), &|_| {}).unwrap();
    let warm = time("warm cache", 5, || analyze_image(&source, &Cataloger, Some(&cache), &|_| {}).unwrap().files.len());
    println!("cold / warm: {:.1}x; no cache / warm: {:.1}x", cold.as_secs_f64() / warm.as_secs_f64(), no_cache.as_secs_f64() / warm.as_secs_f64());
    println!("peak memory of this process: {} KiB", peak_memory_kib());

    if Command::new("syft").arg("version").output().is_ok_and(|output| output.status.success()) {
        let syft = time("syft oci-dir (reference)", 1, || {
            let output = Command::new("syft").args([&format!("oci-dir:{}", layout.display()), "-o", "json", "-q"]).env("SYFT_CHECK_FOR_APP_UPDATE", "false").output().unwrap();
            assert!(output.status.success());
        });
        println!("syft / palisade cold: {:.1}x, syft / palisade warm: {:.1}x", syft.as_secs_f64() / cold.as_secs_f64(), syft.as_secs_f64() / warm.as_secs_f64());
    }
}
