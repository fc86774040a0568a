//! Per-layer analysis results kept on disk, addressed by the layer's content digest and the
//! analyser, so a layer shared by many images is read once.
//!
//! Each entry is a header (format version, layer digest, limits fingerprint, body length and
//! digest) and the JSON body. An entry that does not match in every respect is ignored and rewritten; entries are
//! written to a temporary file and renamed into place, so readers never see half an entry.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Limits;
use crate::digest::{Digest, sha256_of};
use crate::layer::LayerAnalysis;

const MAGIC: &str = "palisade-layer-cache";
/// Bumped whenever the layout of [`LayerAnalysis`] or what it records changes.
const FORMAT: u32 = 1;
/// No layer's entry list comes near this; a bigger file is not a cache entry of ours.
const MAX_ENTRY_BYTES: u64 = 1 << 30;

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Where per-layer results are kept: `ROOT/layers/<analyser>/<digest>`.
#[derive(Clone, Debug)]
pub struct LayerCache {
    root: PathBuf,
}

/// The directory Palisade keeps its caches in (layers, the vulnerability database):
/// `$PALISADE_CACHE_DIR`, else `$XDG_CACHE_HOME/palisade`, else `~/.cache/palisade`; `None`
/// when none of them is set.
pub fn cache_root() -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty()).map(PathBuf::from);
    non_empty("PALISADE_CACHE_DIR")
        .or_else(|| non_empty("XDG_CACHE_HOME").map(|dir| dir.join("palisade")))
        .or_else(|| non_empty("HOME").map(|home| home.join(".cache").join("palisade")))
}

impl LayerCache {
    /// A cache under `root` (the directory `palisade` keeps its caches in).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// A cache under [`cache_root`].
    pub fn from_environment() -> Option<Self> {
        cache_root().map(Self::new)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file of one layer's results; `None` when the layer key is not a digest.
    fn entry_path(&self, analyzer_key: &str, layer_key: &str) -> Option<PathBuf> {
        let digest = Digest::parse(layer_key).ok()?;
        Some(self.root.join("layers").join(analyzer_directory(analyzer_key)).join(format!("{}-{}", digest.algorithm, digest.encoded)))
    }

    /// The cached results of a layer, if a valid entry is there.
    pub(crate) fn load<F: DeserializeOwned>(&self, analyzer_key: &str, layer_key: &str, limits: &Limits) -> Option<LayerAnalysis<F>> {
        let path = self.entry_path(analyzer_key, layer_key)?;
        let file = std::fs::File::open(path).ok()?;
        let mut bytes = Vec::new();
        file.take(MAX_ENTRY_BYTES + 1).read_to_end(&mut bytes).ok()?;
        let header_end = bytes.iter().position(|&b| b == b'\n')?;
        let header = std::str::from_utf8(&bytes[..header_end]).ok()?;
        let mut fields = header.split(' ');
        let valid = fields.next() == Some(MAGIC)
            && fields.next()? == FORMAT.to_string()
            && fields.next()? == layer_key
            && fields.next()? == limits_fingerprint(limits)
            && fields.next()?.parse::<usize>().ok()? == bytes.len() - header_end - 1
            && fields.next()? == sha256_of(&bytes[header_end + 1..])
            && fields.next().is_none();
        if !valid {
            return None;
        }
        serde_json::from_slice(&bytes[header_end + 1..]).ok()
    }

    /// Keeps a layer's results; an error leaves the cache as it was.
    pub(crate) fn store<F: Serialize>(&self, analyzer_key: &str, layer_key: &str, limits: &Limits, analysis: &LayerAnalysis<F>) -> io::Result<()> {
        let Some(path) = self.entry_path(analyzer_key, layer_key) else { return Ok(()) };
        let Some(directory) = path.parent() else { return Ok(()) };
        std::fs::create_dir_all(directory)?;
        let body = serde_json::to_vec(analysis).map_err(io::Error::other)?;
        let header = format!("{MAGIC} {FORMAT} {layer_key} {} {} {}\n", limits_fingerprint(limits), body.len(), sha256_of(&body));
        let temporary = directory.join(format!(".tmp-{}-{}", std::process::id(), TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)));
        let written = (|| {
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(header.as_bytes())?;
            file.write_all(&body)?;
            file.sync_all()?;
            std::fs::rename(&temporary, &path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        written
    }
}

/// A directory name for an analyser's cache key: readable start, hash of the whole key (keys
/// can be long and hold any character).
fn analyzer_directory(key: &str) -> String {
    let readable: String = key.chars().take(48).map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' }).collect();
    let hash = sha256_of(key.as_bytes());
    format!("{readable}-{}", &hash[7..23])
}

/// The limits that shape a successful layer's results.
fn limits_fingerprint(limits: &Limits) -> String {
    let hash = sha256_of(format!("{} {} {}", limits.max_path_bytes, limits.max_metadata_bytes, limits.max_symlink_hops).as_bytes());
    hash[7..19].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{Kind, LayerEntry};

    fn sample() -> LayerAnalysis<Vec<String>> {
        LayerAnalysis {
            entries: vec![LayerEntry { path: "/etc/os-release".into(), kind: Kind::File, target: None, size: 3, mode: 0o644, facts: Some(vec!["debian".into()]), issue: None }],
            whiteouts: vec!["/gone".into()],
            opaques: Vec::new(),
            issues: Vec::new(),
            bytes: 2048,
        }
    }

    #[test]
    fn entries_round_trip_and_damaged_ones_are_ignored() {
        let temp = tempfile::tempdir().unwrap();
        let cache = LayerCache::new(temp.path());
        let limits = Limits::default();
        let layer = format!("sha256:{}", "ab".repeat(32));
        let key = "catalog-v1-image-dpkg/os release";
        assert!(cache.load::<Vec<String>>(key, &layer, &limits).is_none());
        cache.store(key, &layer, &limits, &sample()).unwrap();
        assert_eq!(cache.load::<Vec<String>>(key, &layer, &limits).unwrap(), sample());
        assert!(cache.load::<Vec<String>>("another analyser", &layer, &limits).is_none());
        assert!(cache.load::<Vec<String>>(key, &layer, &Limits { max_path_bytes: 10, ..Limits::default() }).is_none());

        let path = cache.entry_path(key, &layer).unwrap();
        let good = std::fs::read(&path).unwrap();
        std::fs::write(&path, &good[..good.len() - 1]).unwrap();
        assert!(cache.load::<Vec<String>>(key, &layer, &limits).is_none(), "truncated entry trusted");
        // Still valid JSON, but not what was written.
        let mut flipped = good.clone();
        let at = flipped.windows(6).position(|window| window == b"debian").unwrap();
        flipped[at] = b'D';
        std::fs::write(&path, &flipped).unwrap();
        assert!(cache.load::<Vec<String>>(key, &layer, &limits).is_none(), "corrupt body trusted");
        std::fs::write(&path, b"garbage").unwrap();
        assert!(cache.load::<Vec<String>>(key, &layer, &limits).is_none());
        cache.store(key, &layer, &limits, &sample()).unwrap();
        assert_eq!(cache.load::<Vec<String>>(key, &layer, &limits).unwrap(), sample());
        assert!(cache.entry_path(key, "sha256:../../x").is_none());
        // Facts that serialise to null are still there when read back.
        let unit = LayerAnalysis { entries: vec![LayerEntry { path: "/a".into(), kind: Kind::File, target: None, size: 0, mode: 0, facts: Some(()), issue: None }], ..LayerAnalysis::default() };
        cache.store("unit", &layer, &limits, &unit).unwrap();
        assert_eq!(cache.load::<()>("unit", &layer, &limits).unwrap(), unit);
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }
}
