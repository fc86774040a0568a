//! Test helpers: an analyser that records wanted files, in-memory images, a tar writer that can
//! write what hostile archives hold, and the external tools (umoci, skopeo).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use palisade_image::{FileAnalyzer, FileMeta, ImageError, ImageSource, Want};
use palisade_pkg::{ImageDescription, LayerDescription};
use sha2::{Digest, Sha256};

/// Wants every file under the given directories (and the exact paths given), reads up to
/// `limit` bytes; its facts are the file's content as text.
pub struct Recorder {
    pub prefixes: Vec<String>,
    pub limit: u64,
    pub analysed: AtomicUsize,
}

impl Recorder {
    pub fn new(prefixes: &[&str]) -> Self {
        Self { prefixes: prefixes.iter().map(|prefix| (*prefix).to_owned()).collect(), limit: 1 << 20, analysed: AtomicUsize::new(0) }
    }
}

impl FileAnalyzer for Recorder {
    type Facts = String;

    fn cache_key(&self) -> String {
        format!("recorder-v1-{}-{}", self.prefixes.join(","), self.limit)
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        self.prefixes.iter().any(|prefix| path == prefix || path.starts_with(&format!("{}/", prefix.trim_end_matches('/')))).then_some(Want::Content { limit: self.limit })
    }

    fn analyze(&self, _path: &str, _meta: &FileMeta, content: &[u8]) -> String {
        self.analysed.fetch_add(1, Ordering::Relaxed);
        String::from_utf8_lossy(content).into_owned()
    }
}

/// Wants every regular file, reads nothing.
pub struct Lister;

impl FileAnalyzer for Lister {
    type Facts = ();

    fn cache_key(&self) -> String {
        "lister-v1".to_owned()
    }

    fn wants(&self, _path: &str, _meta: &FileMeta) -> Option<Want> {
        Some(Want::Presence)
    }

    fn analyze(&self, _path: &str, _meta: &FileMeta, _content: &[u8]) {}
}

pub fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut text = "sha256:".to_owned();
    for byte in digest.iter() {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

pub fn sha256_file(path: &Path) -> String {
    let mut file = std::fs::File::open(path).unwrap();
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer).unwrap();
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    let mut text = "sha256:".to_owned();
    for byte in hasher.finalize().iter() {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

pub enum Blob {
    Bytes(Vec<u8>),
    File(PathBuf),
}

/// An image held in memory (or in loose files), with layer descriptions as given.
pub struct MemoryImage {
    pub description: ImageDescription,
    pub blobs: Vec<Blob>,
    pub opened: AtomicUsize,
}

impl MemoryImage {
    pub fn new(layers: Vec<(LayerDescription, Blob)>) -> Self {
        let (layers, blobs): (Vec<_>, Vec<_>) = layers.into_iter().unzip();
        let description = ImageDescription {
            reference: "memory:test".to_owned(),
            config_digest: sha256(b"config"),
            manifest_digest: sha256(b"manifest"),
            os: "linux".to_owned(),
            architecture: "amd64".to_owned(),
            layers,
            ..ImageDescription::default()
        };
        Self { description, blobs, opened: AtomicUsize::new(0) }
    }
}

impl ImageSource for MemoryImage {
    fn description(&self) -> &ImageDescription {
        &self.description
    }

    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, ImageError> {
        self.opened.fetch_add(1, Ordering::Relaxed);
        match &self.blobs[index] {
            Blob::Bytes(bytes) => Ok(Box::new(bytes.as_slice())),
            Blob::File(path) => Ok(Box::new(std::io::BufReader::new(std::fs::File::open(path).map_err(|source| ImageError::Io { path: path.clone(), source })?))),
        }
    }
}

/// A layer whose digests are right: `blob` as stored, `tar` uncompressed.
pub fn layer(media_type: &str, blob: Vec<u8>, tar: &[u8]) -> (LayerDescription, Blob) {
    (LayerDescription { digest: sha256(&blob), diff_id: sha256(tar), media_type: media_type.to_owned(), size: blob.len() as u64 }, Blob::Bytes(blob))
}

pub fn tar_layer(tar: Vec<u8>) -> (LayerDescription, Blob) {
    let copy = tar.clone();
    layer("application/vnd.oci.image.layer.v1.tar", tar, &copy)
}

pub fn gzip_layer(tar: Vec<u8>) -> (LayerDescription, Blob) {
    let blob = gzip(&tar);
    layer("application/vnd.oci.image.layer.v1.tar+gzip", blob, &tar)
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A tar writer that writes whatever it is told, `..` and absolute paths included.
#[derive(Default)]
pub struct TarWriter {
    pub bytes: Vec<u8>,
}

pub fn header(name: &[u8], typeflag: u8, size: u64, link: &[u8]) -> [u8; 512] {
    let mut block = [0u8; 512];
    block[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
    block[100..107].copy_from_slice(b"0000644");
    block[108..115].copy_from_slice(b"0000000");
    block[116..123].copy_from_slice(b"0000000");
    if size < 1 << 33 {
        block[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    } else {
        block[124] = 0x80;
        block[128..136].copy_from_slice(&size.to_be_bytes());
    }
    block[136..147].copy_from_slice(b"00000000000");
    block[156] = typeflag;
    block[157..157 + link.len().min(100)].copy_from_slice(&link[..link.len().min(100)]);
    block[257..263].copy_from_slice(b"ustar\0");
    block[263..265].copy_from_slice(b"00");
    seal(&mut block);
    block
}

/// A 12-byte numeric field: octal when it fits, GNU base-256 otherwise.
fn number(field: &mut [u8], value: u64) {
    if value < 1 << 33 {
        field[..11].copy_from_slice(format!("{value:011o}").as_bytes());
    } else {
        field.fill(0);
        field[0] = 0x80;
        field[4..12].copy_from_slice(&value.to_be_bytes());
    }
}

pub fn seal(block: &mut [u8; 512]) {
    block[148..156].copy_from_slice(b"        ");
    let sum: u64 = block.iter().map(|&b| u64::from(b)).sum();
    block[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
}

impl TarWriter {
    fn data(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
        let padding = (512 - data.len() % 512) % 512;
        self.bytes.resize(self.bytes.len() + padding, 0);
    }

    pub fn file(mut self, path: &str, data: &[u8]) -> Self {
        self.bytes.extend_from_slice(&header(path.as_bytes(), b'0', data.len() as u64, b""));
        self.data(data);
        self
    }

    pub fn dir(mut self, path: &str) -> Self {
        self.bytes.extend_from_slice(&header(path.as_bytes(), b'5', 0, b""));
        self
    }

    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.bytes.extend_from_slice(&header(path.as_bytes(), b'2', 0, target.as_bytes()));
        self
    }

    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        self.bytes.extend_from_slice(&header(path.as_bytes(), b'1', 0, target.as_bytes()));
        self
    }

    /// A GNU long name entry for the next entry.
    pub fn long_name(mut self, name: &[u8]) -> Self {
        self.bytes.extend_from_slice(&header(b"././@LongLink", b'L', name.len() as u64, b""));
        self.data(name);
        self
    }

    /// A GNU sparse file of `real_size` bytes whose data chunks are `chunks` (offset, bytes).
    pub fn sparse(mut self, path: &str, real_size: u64, chunks: &[(u64, &[u8])]) -> Self {
        let stored: usize = chunks.iter().map(|(_, data)| data.len()).sum();
        let mut block = header(path.as_bytes(), b'S', stored as u64, b"");
        block[257..265].copy_from_slice(b"ustar  \0");
        for (index, (offset, data)) in chunks.iter().take(4).enumerate() {
            let at = 386 + index * 24;
            number(&mut block[at..at + 12], *offset);
            number(&mut block[at + 12..at + 24], data.len() as u64);
        }
        number(&mut block[483..495], real_size);
        seal(&mut block);
        self.bytes.extend_from_slice(&block);
        let data: Vec<u8> = chunks.iter().flat_map(|(_, data)| data.iter().copied()).collect();
        self.data(&data);
        self
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.bytes.extend_from_slice(&[0u8; 1024]);
        self.bytes
    }
}

/// Whether an external tool is there; without it the test is skipped, visibly, except in CI.
pub fn have(tool: &str) -> bool {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|output| output.status.success());
    if !found {
        if std::env::var("CI").is_ok_and(|value| value == "true") {
            panic!("{tool} is required in CI (Debian package {tool})");
        }
        eprintln!("skipping: {tool} is not installed");
    }
    found
}

pub fn run(program: &str, args: &[&str]) {
    let output = Command::new(program).args(args).output().unwrap_or_else(|error| panic!("{program}: {error}"));
    assert!(output.status.success(), "{program} {args:?} failed: {}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
}
