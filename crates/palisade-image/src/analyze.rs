//! The analysis of a whole image: layers analysed in parallel (or taken from the cache), then
//! squashed into the files the image finally holds, each with its analyser facts.

use palisade_pkg::ImageDescription;
use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::cache::LayerCache;
use crate::digest::Digest;
use crate::layer::{LayerAnalysis, analyze_layer};
use crate::squash::{SymlinkTable, squash};
use crate::{ImageError, ImageSource};

/// Something that reads files of an image or directory: it picks files by path and metadata
/// before they are read, and turns each one's bytes into facts. Facts are cached per layer, so
/// they must depend on nothing but the path, the metadata and the bytes.
pub trait FileAnalyzer: Sync {
    type Facts: Serialize + DeserializeOwned + Send + Sync;

    /// Names the analyser and its version: part of the cache path, so results of other code are
    /// never reused.
    fn cache_key(&self) -> String;

    /// Whether to read the file at this absolute, normalised path (`/var/lib/dpkg/status`), and
    /// how much of it.
    fn wants(&self, path: &str, meta: &FileMeta) -> Option<Want>;

    /// The facts of one wanted file; `content` is empty for [`Want::Presence`].
    fn analyze(&self, path: &str, meta: &FileMeta, content: &[u8]) -> Self::Facts;
}

/// What the archive or filesystem says of a file before it is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    pub size: u64,
    /// Permission bits (`0o755`).
    pub mode: u32,
}

/// How much of a wanted file to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// Only that the file is there: the analyser gets no bytes.
    Presence,
    /// The whole file, if it has at most `limit` bytes; a bigger file is reported, not read.
    Content { limit: u64 },
}

/// Caps that keep hostile images from exhausting memory, disk or time. The defaults are far
/// above what real images need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Tar entries in one layer (a Debian base has ~10 000, big images ~200 000).
    pub max_entries_per_layer: u64,
    /// Bytes of one path (Linux's PATH_MAX is 4096).
    pub max_path_bytes: usize,
    /// Uncompressed bytes of one layer.
    pub max_layer_bytes: u64,
    /// Uncompressed bytes per compressed byte, checked once `ratio_grace_bytes` are out: gzip
    /// of real files stays under 20:1, a bomb of zeros reaches 1000:1.
    pub max_ratio: u64,
    pub ratio_grace_bytes: u64,
    /// Bytes of an index, manifest, config, `manifest.json` or PAX header.
    pub max_metadata_bytes: u64,
    /// Symlinks or hard links followed to resolve one path (Linux stops at 40).
    pub max_symlink_hops: usize,
    /// Directory depth walked by `analyze_directory`.
    pub max_directory_depth: usize,
    /// Zstandard window size accepted (memory held while decompressing).
    pub max_zstd_window: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entries_per_layer: 2_000_000,
            max_path_bytes: 4096,
            max_layer_bytes: 64 << 30,
            max_ratio: 250,
            ratio_grace_bytes: 64 << 20,
            max_metadata_bytes: 4 << 20,
            max_symlink_hops: 40,
            max_directory_depth: 256,
            max_zstd_window: 128 << 20,
        }
    }
}

/// A file of the final filesystem that the analyser wanted, with what it found.
#[derive(Clone, Debug, PartialEq)]
pub struct FinalFile<F> {
    /// Absolute and normalised: `/var/lib/dpkg/status`.
    pub path: String,
    /// The layer that wrote it (0 for a directory).
    pub layer_index: usize,
    /// That layer's diff id (its digest when the diff id is unknown); `None` for a directory.
    pub layer_digest: Option<String>,
    pub meta: FileMeta,
    pub facts: F,
}

/// A problem met reading the image: a layer that could not be read to the end, a hostile path,
/// a wanted file too big to read.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AnalysisIssue {
    /// The layer's digest, for images.
    pub layer: Option<String>,
    pub path: Option<String>,
    pub message: String,
}

/// An image's final files (those the analyser wanted), its symlinks and the problems met.
#[derive(Clone, Debug)]
pub struct AnalyzedImage<F> {
    pub description: ImageDescription,
    /// Sorted by path.
    pub files: Vec<FinalFile<F>>,
    /// Wanted files that a later layer deleted or replaced: gone from the final filesystem,
    /// yet in the image's layers for anyone who pulls it. In layer order, then by path.
    pub hidden: Vec<FinalFile<F>>,
    pub symlinks: SymlinkTable,
    pub issues: Vec<AnalysisIssue>,
}

/// Where the analysis of one layer stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerProgress {
    /// 0-based position in the image's layers.
    pub index: usize,
    pub count: usize,
    pub digest: String,
    pub stage: LayerStage,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayerStage {
    /// Reading started.
    Reading,
    /// Results taken from the cache; nothing read.
    Cached,
    /// Read to the end: uncompressed bytes and entries.
    Done { bytes: u64, entries: usize },
    /// Could not be read to the end; the message names the problem.
    Failed { message: String },
}

/// The key a layer's results are cached under: the diff id (the same tar compressed two ways
/// has one), else the blob digest. Only SHA-256 keys, the ones checked while streaming: a
/// layer is cached only once its content has been shown to be what the key says.
fn layer_key(layer: &palisade_pkg::LayerDescription) -> Option<&str> {
    [layer.diff_id.as_str(), layer.digest.as_str()].into_iter().find(|key| Digest::parse(key).is_ok_and(|digest| digest.is_sha256()))
}

/// Analyses every layer of `source` (in parallel, or from `cache`) and squashes them, with the
/// default [`Limits`].
pub fn analyze_image<A: FileAnalyzer>(source: &dyn ImageSource, analyzer: &A, cache: Option<&LayerCache>, progress: &(dyn Fn(LayerProgress) + Sync)) -> Result<AnalyzedImage<A::Facts>, ImageError> {
    analyze_image_with_limits(source, analyzer, cache, progress, &Limits::default())
}

/// [`analyze_image`] with explicit limits. Layers that cannot be read to the end are issues;
/// only an image none of whose layers could be read is an error.
pub fn analyze_image_with_limits<A: FileAnalyzer>(
    source: &dyn ImageSource,
    analyzer: &A,
    cache: Option<&LayerCache>,
    progress: &(dyn Fn(LayerProgress) + Sync),
    limits: &Limits,
) -> Result<AnalyzedImage<A::Facts>, ImageError> {
    let description = source.description();
    let count = description.layers.len();
    let analyzer_key = analyzer.cache_key();
    let outcomes: Vec<(LayerAnalysis<A::Facts>, Option<ImageError>)> = (0..count)
        .into_par_iter()
        .map(|index| {
            let layer = &description.layers[index];
            let report = |stage| progress(LayerProgress { index, count, digest: layer.digest.clone(), stage });
            let key = layer_key(layer);
            if let (Some(cache), Some(key)) = (cache, key) {
                if let Some(analysis) = cache.load(&analyzer_key, key, limits) {
                    report(LayerStage::Cached);
                    return (analysis, None);
                }
            }
            report(LayerStage::Reading);
            let outcome = analyze_layer(source, index, analyzer, limits);
            match &outcome.error {
                None => {
                    if let (Some(cache), Some(key)) = (cache, key) {
                        // The cache only saves time: a full disk or a read-only home must not
                        // fail the scan.
                        let _ = cache.store(&analyzer_key, key, limits, &outcome.analysis);
                    }
                    report(LayerStage::Done { bytes: outcome.analysis.bytes, entries: outcome.analysis.entries.len() });
                }
                Some(error) => report(LayerStage::Failed { message: error.to_string() }),
            }
            (outcome.analysis, outcome.error)
        })
        .collect();

    let mut issues = Vec::new();
    let mut layers = Vec::with_capacity(count);
    let mut failed = Vec::new();
    for (index, (analysis, error)) in outcomes.into_iter().enumerate() {
        let digest = &description.layers[index].digest;
        if let Some(error) = error {
            issues.push(AnalysisIssue { layer: Some(digest.clone()), path: None, message: error.to_string() });
            failed.push(error);
        }
        issues.extend(analysis.issues.iter().map(|issue| AnalysisIssue { layer: Some(digest.clone()), path: Some(issue.path.clone()), message: issue.message.clone() }));
        layers.push(analysis);
    }
    if count > 0 && failed.len() == count {
        if let Some(error) = failed.into_iter().next() {
            return Err(error);
        }
    }

    let (view, symlinks, problems) = squash(&layers, limits.max_symlink_hops);
    for (index, path, message) in problems {
        issues.push(AnalysisIssue { layer: Some(description.layers[index].digest.clone()), path: Some(path), message });
    }
    let layer_digests: Vec<String> = description.layers.iter().map(|layer| if layer.diff_id.is_empty() { layer.digest.clone() } else { layer.diff_id.clone() }).collect();
    let mut files = Vec::new();
    for (path, (layer_index, entry_index)) in view {
        let entry = &mut layers[layer_index].entries[entry_index];
        if let Some(message) = entry.issue.take() {
            issues.push(AnalysisIssue { layer: Some(description.layers[layer_index].digest.clone()), path: Some(path.clone()), message });
        }
        if let Some(facts) = entry.facts.take() {
            let meta = entry.meta();
            files.push(FinalFile { path, layer_index, layer_digest: Some(layer_digests[layer_index].clone()), meta, facts });
        }
    }
    let mut hidden = Vec::new();
    for (layer_index, layer) in layers.iter_mut().enumerate() {
        for entry in &mut layer.entries {
            if let Some(facts) = entry.facts.take() {
                let meta = entry.meta();
                hidden.push(FinalFile { path: entry.path.clone(), layer_index, layer_digest: Some(layer_digests[layer_index].clone()), meta, facts });
            }
        }
    }
    hidden.sort_by(|a, b| (a.layer_index, &a.path).cmp(&(b.layer_index, &b.path)));
    Ok(AnalyzedImage { description: description.clone(), files, hidden, symlinks, issues })
}
