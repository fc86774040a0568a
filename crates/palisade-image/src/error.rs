//! Every way reading an image can fail, each naming the file, layer or reference and the problem.

use std::path::PathBuf;

/// Why an image, or one of its layers, could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// A source reference or platform the user wrote does not parse.
    #[error("{reference}: {problem}")]
    Reference { reference: String, problem: String },
    /// A file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// A file of the image (index, manifest, config, archive member) is not what it must be:
    /// `layout/index.json: manifests[1].digest: not a digest`.
    #[error("{file}: {problem}")]
    Invalid { file: String, problem: String },
    /// The tag or digest asked for is not in the image layout or archive.
    #[error("{reference}: no image {wanted}; {}", available_list(available))]
    NotFound { reference: String, wanted: String, available: Vec<String> },
    /// A multi-platform index has no image for the platform asked for.
    #[error("{reference}: no image for platform {wanted}; the index has {}", available_list(available))]
    Platform { reference: String, wanted: String, available: Vec<String> },
    /// One layer could not be read to the end; the other layers are still analysed.
    #[error("layer {digest} ({position}/{count}): {problem}")]
    Layer { digest: String, position: usize, count: usize, problem: LayerProblem },
    /// The registry could not be reached, refused access or sent something unusable.
    #[error("{reference}: {problem}")]
    Registry { reference: String, problem: crate::registry::RegistryProblem },
}

fn available_list(available: &[String]) -> String {
    if available.is_empty() { "it has none".to_owned() } else { format!("available: {}", available.join(", ")) }
}

/// What went wrong inside one layer's blob.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LayerProblem {
    /// The compressed stream ended before its end marker: `truncated gzip stream at byte 1234`.
    #[error("truncated {format} stream at byte {at}")]
    TruncatedCompression { format: &'static str, at: u64 },
    /// The compressed stream is not valid: `corrupt gzip stream at byte 10: invalid block type`.
    #[error("corrupt {format} stream at byte {at}: {message}")]
    CorruptCompression { format: &'static str, at: u64, message: String },
    /// The tar stream ended inside a header or a file's data.
    #[error("truncated tar stream at byte {at} (uncompressed)")]
    TruncatedTar { at: u64 },
    /// The tar stream is not a tar archive or has a broken header.
    #[error("invalid tar stream at byte {at} (uncompressed): {message}")]
    InvalidTar { at: u64, message: String },
    /// The blob's bytes do not hash to the layer's digest (or the tar to its diff id).
    #[error("{what} mismatch: expected {expected}, the content hashes to {actual}")]
    DigestMismatch { what: &'static str, expected: String, actual: String },
    /// The media type says one compression, the first bytes say another.
    #[error("media type {media_type} but the blob starts like {found}")]
    WrongMediaType { media_type: String, found: &'static str },
    /// A media type this reader does not know how to decompress.
    #[error("unsupported media type {0}")]
    UnsupportedMediaType(String),
    /// More uncompressed bytes than the per-layer cap: a decompression bomb, or a layer too big
    /// to be analysed with these limits.
    #[error("more than {limit} bytes uncompressed (limit): decompression bomb or oversized layer")]
    TooLarge { limit: u64 },
    /// The uncompressed stream grows far faster than the compressed one.
    #[error("{uncompressed} bytes uncompressed from {compressed} compressed: ratio above the limit of {limit}:1 (decompression bomb)")]
    Ratio { uncompressed: u64, compressed: u64, limit: u64 },
    /// More tar entries than the per-layer cap.
    #[error("more than {limit} entries (limit)")]
    TooManyEntries { limit: u64 },
    /// Reading the blob failed (source error, network, disk).
    #[error("read failed at byte {at}: {message}")]
    Read { at: u64, message: String },
}
