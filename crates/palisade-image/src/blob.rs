//! A layer blob turned into its uncompressed tar stream: compression chosen by media type (and
//! checked against the first bytes), digests computed on both sides while streaming, and the
//! uncompressed size capped absolutely and relative to the compressed size.

use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::MultiGzDecoder;
use palisade_pkg::LayerDescription;
use ruzstd::decoding::FrameDecoder;
use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use sha2::{Digest as _, Sha256};

use crate::digest::{Digest, sha256_text};
use crate::error::LayerProblem;
use crate::tar_stream::Skip;
use crate::Limits;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// Enough to see a tar header's `ustar` magic at offset 257.
const SNIFF_BYTES: usize = 262;
const BUFFER: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    fn name(self) -> &'static str {
        match self {
            Self::None => "tar",
            Self::Gzip => "gzip",
            Self::Zstd => "zstd",
        }
    }
}

/// The compression a media type declares; `Ok(None)` when only the bytes can tell (Docker's
/// generic layer type, which `docker save` archives use for every layer, or no type at all).
fn declared_compression(media_type: &str) -> Result<Option<Compression>, LayerProblem> {
    match media_type {
        "application/vnd.oci.image.layer.v1.tar" | "application/vnd.oci.image.layer.nondistributable.v1.tar" => Ok(Some(Compression::None)),
        "application/vnd.oci.image.layer.v1.tar+gzip"
        | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
        | "application/vnd.docker.image.rootfs.diff.tar.gzip"
        | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => Ok(Some(Compression::Gzip)),
        "application/vnd.oci.image.layer.v1.tar+zstd" | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd" => Ok(Some(Compression::Zstd)),
        "" | "application/vnd.docker.image.rootfs.diff.tar" | "application/x-tar" => Ok(None),
        other => Err(LayerProblem::UnsupportedMediaType(other.to_owned())),
    }
}

fn sniff(start: &[u8]) -> (Option<Compression>, &'static str) {
    if start.starts_with(&GZIP_MAGIC) {
        (Some(Compression::Gzip), "gzip")
    } else if start.starts_with(&ZSTD_MAGIC) {
        (Some(Compression::Zstd), "zstd")
    } else if start.get(257..262) == Some(b"ustar") {
        (Some(Compression::None), "an uncompressed tar")
    } else if start.is_empty() {
        (None, "nothing (empty blob)")
    } else {
        (None, "unrecognised data (neither gzip, zstd nor tar)")
    }
}

/// The blob as read: counted and hashed, with the first bytes kept for sniffing.
struct BlobReader<'a> {
    inner: Box<dyn Read + Send + 'a>,
    hasher: Sha256,
    bytes: u64,
    ended: bool,
    failure: Option<String>,
    replay: Vec<u8>,
    replayed: usize,
}

impl BlobReader<'_> {
    fn sniff_start(&mut self) -> io::Result<()> {
        let mut start = vec![0u8; SNIFF_BYTES];
        let mut filled = 0;
        while filled < start.len() {
            let read = self.read_inner(&mut start[filled..])?;
            if read == 0 {
                break;
            }
            filled += read;
        }
        start.truncate(filled);
        self.replay = start;
        Ok(())
    }

    fn read_inner(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(read) => {
                self.hasher.update(&buf[..read]);
                self.bytes += read as u64;
                self.ended |= read == 0 && !buf.is_empty();
                Ok(read)
            }
            Err(error) => {
                self.failure = Some(error.to_string());
                Err(error)
            }
        }
    }
}

impl Read for BlobReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.replayed < self.replay.len() {
            let count = buf.len().min(self.replay.len() - self.replayed);
            buf[..count].copy_from_slice(&self.replay[self.replayed..self.replayed + count]);
            self.replayed += count;
            return Ok(count);
        }
        self.read_inner(buf)
    }
}

/// Zstandard streams of several frames (zstd:chunked writes many) with skippable frames between.
struct ZstdFrames<R> {
    source: R,
    decoder: FrameDecoder,
    in_frame: bool,
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.in_frame {
                if self.decoder.can_collect() > 0 {
                    return self.decoder.read(buf);
                }
                if self.decoder.is_finished() {
                    if let (Some(stored), Some(computed)) = (self.decoder.get_checksum_from_data(), self.decoder.get_calculated_checksum()) {
                        if stored != computed {
                            return Err(io::Error::other(format!("frame checksum mismatch (stored {stored:08x}, computed {computed:08x})")));
                        }
                    }
                    self.in_frame = false;
                    continue;
                }
                self.decoder.decode_blocks(&mut self.source, ruzstd::decoding::BlockDecodingStrategy::UptoBlocks(1)).map_err(zstd_error)?;
            } else {
                if self.source.fill_buf()?.is_empty() {
                    return Ok(0);
                }
                match self.decoder.reset(&mut self.source) {
                    Ok(()) => self.in_frame = true,
                    Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame { length, .. })) => {
                        let skipped = io::copy(&mut (&mut self.source).take(u64::from(length)), &mut io::sink())?;
                        if skipped < u64::from(length) {
                            return Err(io::ErrorKind::UnexpectedEof.into());
                        }
                    }
                    Err(error) => return Err(zstd_error(error)),
                }
            }
        }
    }
}

fn zstd_error(error: FrameDecoderError) -> io::Error {
    io::Error::other(error.to_string())
}

enum Decoder<'a> {
    Plain(BlobReader<'a>),
    Gzip(Box<MultiGzDecoder<BufReader<BlobReader<'a>>>>),
    Zstd(Box<ZstdFrames<BufReader<BlobReader<'a>>>>),
}

impl<'a> Decoder<'a> {
    fn blob(&self) -> &BlobReader<'a> {
        match self {
            Self::Plain(blob) => blob,
            Self::Gzip(decoder) => decoder.get_ref().get_ref(),
            Self::Zstd(decoder) => decoder.source.get_ref(),
        }
    }

    fn blob_mut(&mut self) -> &mut BlobReader<'a> {
        match self {
            Self::Plain(blob) => blob,
            Self::Gzip(decoder) => decoder.get_mut().get_mut(),
            Self::Zstd(decoder) => decoder.source.get_mut(),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(blob) => blob.read(buf),
            Self::Gzip(decoder) => decoder.read(buf),
            Self::Zstd(decoder) => decoder.read(buf),
        }
    }
}

/// The uncompressed tar stream of one layer.
pub(crate) struct LayerInput<'a> {
    decoder: Decoder<'a>,
    compression: Compression,
    tar_hasher: Sha256,
    tar_bytes: u64,
    max_bytes: u64,
    max_ratio: u64,
    ratio_grace: u64,
    problem: Option<LayerProblem>,
}

impl<'a> LayerInput<'a> {
    /// Picks the decompressor for `layer` from its media type and the blob's first bytes.
    pub fn new(blob: Box<dyn Read + Send + 'a>, layer: &LayerDescription, limits: &Limits) -> Result<Self, LayerProblem> {
        let declared = declared_compression(&layer.media_type)?;
        let mut blob = BlobReader { inner: blob, hasher: Sha256::new(), bytes: 0, ended: false, failure: None, replay: Vec::new(), replayed: 0 };
        blob.sniff_start().map_err(|error| LayerProblem::Read { at: blob.bytes, message: error.to_string() })?;
        let (sniffed, found) = sniff(&blob.replay);
        let compression = match (declared, sniffed) {
            (Some(declared), Some(sniffed)) if declared == sniffed => declared,
            // A tar's magic is optional (old V7 headers have none); anything not compressed is
            // left to the tar reader to judge.
            (Some(Compression::None), None) => Compression::None,
            (Some(_), _) => return Err(LayerProblem::WrongMediaType { media_type: layer.media_type.clone(), found }),
            (None, sniffed) => sniffed.unwrap_or(Compression::None),
        };
        let decoder = match compression {
            Compression::None => Decoder::Plain(blob),
            Compression::Gzip => Decoder::Gzip(Box::new(MultiGzDecoder::new(BufReader::with_capacity(BUFFER, blob)))),
            Compression::Zstd => {
                let mut frames = FrameDecoder::new();
                frames.set_max_window_size(limits.max_zstd_window);
                Decoder::Zstd(Box::new(ZstdFrames { source: BufReader::with_capacity(BUFFER, blob), decoder: frames, in_frame: false }))
            }
        };
        Ok(Self {
            decoder,
            compression,
            tar_hasher: Sha256::new(),
            tar_bytes: 0,
            max_bytes: limits.max_layer_bytes,
            max_ratio: limits.max_ratio,
            ratio_grace: limits.ratio_grace_bytes,
            problem: None,
        })
    }

    /// Uncompressed bytes read so far.
    pub fn uncompressed_bytes(&self) -> u64 {
        self.tar_bytes
    }

    /// What made the last read fail, if this layer's stream (not the tar in it) is at fault.
    pub fn problem(&self) -> Option<&LayerProblem> {
        self.problem.as_ref()
    }

    fn fail(&mut self, problem: LayerProblem) -> io::Error {
        let error = io::Error::other(problem.to_string());
        self.problem = Some(problem);
        error
    }

    /// Reads the rest of the stream (the tar's end blocks and whatever follows) so that both
    /// digests cover the whole blob, then checks them against the layer's description.
    pub fn finish(mut self, layer: &LayerDescription) -> Result<u64, LayerProblem> {
        let mut sink = [0u8; 16 * 1024];
        loop {
            match self.read(&mut sink) {
                Ok(0) => break,
                Ok(_) => {}
                Err(error) => return Err(self.problem.take().unwrap_or(LayerProblem::Read { at: self.tar_bytes, message: error.to_string() })),
            }
        }
        // Bytes after the compressed stream's end (gzip and zstd decoders stop at it).
        let blob = self.decoder.blob_mut();
        loop {
            match blob.read(&mut sink) {
                Ok(0) => break,
                Ok(_) => {}
                Err(error) => return Err(LayerProblem::Read { at: blob.bytes, message: error.to_string() }),
            }
        }
        let blob_bytes = blob.bytes;
        let blob_digest = sha256_text(std::mem::take(&mut blob.hasher));
        let tar_digest = sha256_text(std::mem::take(&mut self.tar_hasher));
        // A docker-archive names a compressed layer by its diff id only; then the blob has no
        // digest of its own to check.
        let blob_named_by_diff_id = layer.digest == layer.diff_id && self.compression != Compression::None;
        if Digest::parse(&layer.digest).is_ok_and(|digest| digest.is_sha256()) && !blob_named_by_diff_id && blob_digest != layer.digest {
            return Err(LayerProblem::DigestMismatch { what: "layer digest", expected: layer.digest.clone(), actual: blob_digest });
        }
        if Digest::parse(&layer.diff_id).is_ok_and(|digest| digest.is_sha256()) && tar_digest != layer.diff_id {
            return Err(LayerProblem::DigestMismatch { what: "diff id", expected: layer.diff_id.clone(), actual: tar_digest });
        }
        Ok(blob_bytes)
    }
}

impl Read for LayerInput<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(problem) = &self.problem {
            return Err(io::Error::other(problem.to_string()));
        }
        match self.decoder.read(buf) {
            Ok(read) => {
                self.tar_hasher.update(&buf[..read]);
                self.tar_bytes += read as u64;
                let compressed = self.decoder.blob().bytes;
                if self.tar_bytes > self.max_bytes {
                    return Err(self.fail(LayerProblem::TooLarge { limit: self.max_bytes }));
                }
                if self.tar_bytes > self.ratio_grace && self.tar_bytes / compressed.max(1) > self.max_ratio {
                    return Err(self.fail(LayerProblem::Ratio { uncompressed: self.tar_bytes, compressed, limit: self.max_ratio }));
                }
                Ok(read)
            }
            Err(error) => {
                let blob = self.decoder.blob();
                let problem = match (&blob.failure, self.compression) {
                    (Some(message), _) => LayerProblem::Read { at: blob.bytes, message: message.clone() },
                    (None, Compression::None) => LayerProblem::Read { at: blob.bytes, message: error.to_string() },
                    (None, compression) if blob.ended || error.kind() == io::ErrorKind::UnexpectedEof => {
                        LayerProblem::TruncatedCompression { format: compression.name(), at: blob.bytes }
                    }
                    (None, compression) => LayerProblem::CorruptCompression { format: compression.name(), at: blob.bytes, message: error.to_string() },
                };
                Err(self.fail(problem))
            }
        }
    }
}

impl Skip for LayerInput<'_> {}
