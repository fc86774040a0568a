//! A decompression bomb: a gzip layer of ~10 MB that inflates to 10 GiB of zeros. The ratio cap
//! stops it early, with a named error, and the process's peak memory stays small. (Its own test
//! binary, so the peak memory measured is this test's.)

mod common;

use std::io::Write;

use common::{Blob, MemoryImage, Recorder, TarWriter, gzip_layer, header};
use flate2::{Compress, Compression, FlushCompress};
use palisade_pkg::LayerDescription;

const ZEROS: u64 = 10 << 30;
const CHUNK: usize = 1 << 20;

/// Writes the bomb to `path` without holding it: the tar header and a 1 MiB block of zeros are
/// deflated once each with full flushes (byte-aligned, no back references), and the zeros'
/// block is repeated.
fn write_bomb(path: &std::path::Path) {
    let mut compress = Compress::new(Compression::best(), false);
    let mut deflate = |input: &[u8], flush: FlushCompress| {
        let mut output = Vec::with_capacity(input.len() + 1024);
        let before = compress.total_in();
        compress.compress_vec(input, &mut output, flush).unwrap();
        assert_eq!(compress.total_in() - before, input.len() as u64, "output buffer too small");
        output
    };
    let tar_header = header(b"zeros", b'0', ZEROS, b"");
    let head = deflate(&tar_header, FlushCompress::Full);
    let zeros = vec![0u8; CHUNK];
    let block = deflate(&zeros, FlushCompress::Full);
    assert_eq!(deflate(&zeros, FlushCompress::Full), block, "full flushes must give identical blocks");
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    file.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]).unwrap();
    file.write_all(&head).unwrap();
    for _ in 0..ZEROS / CHUNK as u64 {
        file.write_all(&block).unwrap();
    }
    // Never reached: the cap stops reading long before the end.
    file.write_all(&[3, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    file.flush().unwrap();
}

fn peak_memory_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|line| line.strip_prefix("VmHWM:")).and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok()).unwrap_or(0)
}

#[test]
fn gzip_bomb_is_stopped_by_the_ratio_cap() {
    let temp = tempfile::tempdir().unwrap();
    let bomb = temp.path().join("bomb.gz");
    write_bomb(&bomb);
    let size = std::fs::metadata(&bomb).unwrap().len();
    assert!(size < 20 << 20, "bomb is {size} bytes");
    let digest = common::sha256_file(&bomb);
    let description = LayerDescription { digest: digest.clone(), diff_id: String::new(), media_type: "application/vnd.oci.image.layer.v1.tar+gzip".to_owned(), size };
    let good = gzip_layer(TarWriter::default().file("etc/after", b"still read").finish());
    let image = MemoryImage::new(vec![(description, Blob::File(bomb)), good]);
    let before = peak_memory_kib();
    let analyzed = palisade_image::analyze_image(&image, &Recorder::new(&["/etc", "/zeros"]), None, &|_| {}).unwrap();
    let issue = analyzed.issues.iter().find(|issue| issue.layer.as_deref() == Some(digest.as_str())).unwrap();
    assert!(issue.message.starts_with(&format!("layer {digest} (1/2): ")), "{}", issue.message);
    assert!(issue.message.contains("ratio above the limit of 250:1 (decompression bomb)"), "{}", issue.message);
    // Stopped just past the 64 MiB grace, not at 10 GiB.
    let uncompressed: u64 = issue.message.split(' ').nth(3).and_then(|count| count.parse().ok()).unwrap();
    assert!(uncompressed < 128 << 20, "{}", issue.message);
    assert!(analyzed.files.iter().any(|file| file.path == "/etc/after"));
    let after = peak_memory_kib();
    eprintln!("peak memory: {before} KiB before, {after} KiB after");
    if before > 0 {
        assert!(after < before + 200 * 1024, "peak memory grew from {before} KiB to {after} KiB");
    }
}
