//! `meta.json` of an index directory: which sources it holds, in which partition files, with
//! their counts, dates and (for downloads) the validators that make the next update conditional.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{DbError, RecordError};
use crate::index::FORMAT;
use crate::source::SourceKind;

pub(crate) const META_FILE: &str = "meta.json";
/// What says this `meta.json` is ours.
const MARKER: &str = "palisade-osv-index";
/// Malformed records kept per source in `meta.json` (the count is always complete).
const KEPT_ISSUES: usize = 200;

/// One source of a database, as `status` reports it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceStatus {
    /// What identifies the source: the ecosystem of a download, the path of an import.
    pub name: String,
    pub kind: Option<SourceKind>,
    /// The URL downloaded or the path imported.
    pub location: String,
    /// A git checkout's `HEAD` commit (and branch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    pub records: usize,
    /// Records per ecosystem string, suffixes included (`Debian:12`); a record affecting
    /// several ecosystems counts in each.
    pub ecosystems: BTreeMap<String, usize>,
    /// Malformed records skipped.
    pub issues: usize,
    /// RFC 3339 time the records were read into the index (or into memory).
    pub imported_at: String,
    /// RFC 3339 time the download was last confirmed current (a `304` counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<String>,
    /// The newest `modified` among the records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest_modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Bytes of the partition file (0 when held in memory).
    #[serde(default)]
    pub index_bytes: u64,
}

impl SourceStatus {
    /// When the data was known to be current: a download when it was last checked, an import
    /// as of its newest record.
    pub fn as_of(&self) -> Option<&str> {
        match self.kind {
            Some(SourceKind::Download) => self.checked_at.as_deref().or(Some(self.imported_at.as_str())),
            _ => self.newest_modified.as_deref(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Partition {
    /// File name in the index directory.
    pub file: String,
    #[serde(flatten)]
    pub status: SourceStatus,
    /// The first malformed records (the source's `issues` counts them all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub malformed: Vec<RecordError>,
}

impl Partition {
    pub(crate) fn keep_issues(issues: &[RecordError]) -> Vec<RecordError> {
        issues.iter().take(KEPT_ISSUES).cloned().collect()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Meta {
    pub kind: String,
    pub format: u32,
    pub generator: String,
    pub partitions: Vec<Partition>,
}

impl Meta {
    pub(crate) fn new() -> Meta {
        Meta { kind: MARKER.to_owned(), format: FORMAT, generator: concat!("palisade-osv ", env!("CARGO_PKG_VERSION")).to_owned(), partitions: Vec::new() }
    }

    /// Whether `directory` holds an index (of any format): it has our `meta.json`.
    pub(crate) fn is_index(directory: &Path) -> bool {
        std::fs::read(directory.join(META_FILE)).ok().and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok()).is_some_and(|value| value.get("kind").and_then(|kind| kind.as_str()) == Some(MARKER))
    }

    /// The index's `meta.json`; an index of another format is `Stale`.
    pub(crate) fn load(directory: &Path) -> Result<Meta, DbError> {
        let path = directory.join(META_FILE);
        let bytes = std::fs::read(&path).map_err(|error| DbError::io(&path, error))?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|error| DbError::corrupt(&path, error.to_string()))?;
        if value.get("kind").and_then(|kind| kind.as_str()) != Some(MARKER) {
            return Err(DbError::Foreign { path, reason: format!("no \"kind\": \"{MARKER}\"") });
        }
        let found = value.get("format").and_then(|format| format.as_u64()).unwrap_or(0);
        if found != u64::from(FORMAT) {
            return Err(DbError::Stale { path, found: u32::try_from(found).unwrap_or(u32::MAX), expected: FORMAT });
        }
        serde_json::from_value(value).map_err(|error| DbError::corrupt(&path, error.to_string()))
    }

    /// The meta to extend when writing into `directory`: the present one, or a new one when
    /// there is none or it is of another format (its partitions cannot be read any more; their
    /// files are removed by the next [`Meta::save`]).
    pub(crate) fn load_for_writing(directory: &Path) -> Result<Meta, DbError> {
        match Meta::load(directory) {
            Ok(meta) => Ok(meta),
            Err(DbError::Stale { .. }) => Ok(Meta::new()),
            Err(DbError::Io { .. }) if !directory.join(META_FILE).exists() => Ok(Meta::new()),
            Err(error) => Err(error),
        }
    }

    /// Writes `meta.json` atomically (temporary file, then rename), then removes partition
    /// files it no longer names.
    pub(crate) fn save(&self, directory: &Path) -> Result<(), DbError> {
        let path = directory.join(META_FILE);
        let temporary = directory.join(format!(".{META_FILE}.{}.tmp", std::process::id()));
        let bytes = serde_json::to_vec_pretty(self).expect("meta always serializes");
        std::fs::write(&temporary, bytes).map_err(|error| DbError::io(&temporary, error))?;
        std::fs::rename(&temporary, &path).map_err(|error| DbError::io(&path, error))?;
        let entries = std::fs::read_dir(directory).map_err(|error| DbError::io(directory, error))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(PARTITION_EXTENSION) && !self.partitions.iter().any(|partition| partition.file == name) {
                // A leftover of a replaced partition: removing it only frees space.
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(())
    }

    pub(crate) fn replace(&mut self, partition: Partition) {
        self.partitions.retain(|present| !(present.status.name == partition.status.name && same_family(present.status.kind, partition.status.kind)));
        self.partitions.push(partition);
        self.partitions.sort_by(|a, b| a.status.name.cmp(&b.status.name));
    }
}

/// A download and an import of the same name are different sources.
fn same_family(a: Option<SourceKind>, b: Option<SourceKind>) -> bool {
    (a == Some(SourceKind::Download)) == (b == Some(SourceKind::Download))
}

pub(crate) const PARTITION_EXTENSION: &str = ".osvidx";

/// A fresh file name for a partition of `name`: readable, safe on every file system, and new
/// each time so the old file stays valid until `meta.json` names the new one.
pub(crate) fn partition_file(name: &str) -> String {
    let mut safe: String = name.chars().map(|character| if character.is_ascii_alphanumeric() || character == '.' || character == '-' { character } else { '_' }).collect();
    safe.truncate(60);
    let unique = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_nanos());
    format!("{}-{unique:x}-{}{PARTITION_EXTENSION}", safe.trim_start_matches('.'), std::process::id())
}
