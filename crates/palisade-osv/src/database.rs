//! The advisory database a scan asks: an index directory made by `import`/`update`, or OSV
//! records (a directory, zip or git checkout) read into memory when opened.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::build::{self, MemoryIndex};
use crate::clock;
use crate::error::{DbError, RecordError};
use crate::index::{self, Partition};
use crate::meta::{Meta, SourceStatus};
use crate::model::Advisory;
use crate::name::normalize_name;
use crate::source::Source;
use crate::Progress;

pub struct Database {
    location: PathBuf,
    store: Store,
    sources: Vec<SourceStatus>,
    issues: Vec<RecordError>,
    /// When the index's `meta.json` was last written, as it was at opening (`None` for
    /// records read into memory).
    written: Option<std::time::SystemTime>,
}

enum Store {
    /// Partition files, each with the ecosystems it holds.
    Index(Vec<(Partition, BTreeSet<String>)>),
    Memory(MemoryIndex),
}

/// What a database holds and how old it is.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Status {
    /// The index directory or the records opened.
    pub location: PathBuf,
    /// The index format; `None` for records read into memory.
    pub format: Option<u32>,
    pub sources: Vec<SourceStatus>,
    /// Records per ecosystem over all sources.
    pub ecosystems: BTreeMap<String, usize>,
    pub records: usize,
    pub issues: usize,
    /// The oldest source's [`SourceStatus::as_of`]: the data is at least this current.
    pub as_of: Option<String>,
    /// Time since `as_of`.
    pub age: Option<Duration>,
}

impl Status {
    /// Older than `max_age`, or of unknown age (no dated source).
    pub fn stale(&self, max_age: Duration) -> bool {
        self.age.is_none_or(|age| age > max_age)
    }
}

impl Database {
    /// An index directory, or a directory / zip / git checkout of OSV records imported in memory.
    pub fn open(path: &Path) -> Result<Database, DbError> {
        Database::open_with_progress(path, &mut |_| {})
    }

    pub fn open_with_progress(path: &Path, progress: &mut dyn FnMut(Progress<'_>)) -> Result<Database, DbError> {
        if path.is_dir() && Meta::is_index(path) {
            return Database::open_index(path);
        }
        if !path.exists() {
            return Err(DbError::io(path, "no such file or directory"));
        }
        let source = Source::open(path)?;
        let mut memory = MemoryIndex::new();
        let (status, issues) = build::to_memory(&source, &mut memory, progress);
        Ok(Database { location: path.to_owned(), store: Store::Memory(memory), sources: vec![status], issues, written: None })
    }

    fn open_index(directory: &Path) -> Result<Database, DbError> {
        let written = meta_written(directory);
        let meta = Meta::load(directory)?;
        let mut partitions = Vec::with_capacity(meta.partitions.len());
        let mut sources = Vec::with_capacity(meta.partitions.len());
        let mut issues = Vec::new();
        for entry in meta.partitions {
            let partition = Partition::open(&directory.join(&entry.file))?;
            partitions.push((partition, entry.status.ecosystems.keys().cloned().collect()));
            issues.extend(entry.malformed);
            sources.push(entry.status);
        }
        Ok(Database { location: directory.to_owned(), store: Store::Index(partitions), sources, issues, written })
    }

    /// Whether the index was written again (`db update`, `db import`) since it was opened, so a
    /// long-running reader should open it anew. Records read into memory never are.
    pub fn rewritten(&self) -> bool {
        self.written.is_some() && meta_written(&self.location) != self.written
    }

    /// The ecosystem strings present, suffixes included (`Debian:12`), sorted.
    pub fn ecosystems(&self) -> Vec<String> {
        let all: BTreeSet<&String> = self.sources.iter().flat_map(|source| source.ecosystems.keys()).collect();
        all.into_iter().cloned().collect()
    }

    /// The records with an affected package of exactly `ecosystem` and `name` (normalized as
    /// [`normalize_name`] says), each id once (the newest `modified` when sources overlap),
    /// sorted by id. Withdrawn records are included: the matcher skips them.
    pub fn advisories(&self, ecosystem: &str, name: &str) -> Result<Vec<Arc<Advisory>>, DbError> {
        let name = normalize_name(ecosystem, name);
        let mut found: Vec<Arc<Advisory>> = match &self.store {
            Store::Memory(memory) => memory.get(&(ecosystem.to_owned(), name.into_owned())).cloned().unwrap_or_default(),
            Store::Index(partitions) => {
                let mut found = Vec::new();
                for (partition, ecosystems) in partitions {
                    if ecosystems.contains(ecosystem) {
                        found.extend(partition.lookup(ecosystem, &name)?);
                    }
                }
                found
            }
        };
        // Newest first within an id, so dedup keeps it.
        found.sort_by(|a, b| a.id.cmp(&b.id).then_with(|| clock::compare(&b.modified, &a.modified)));
        found.dedup_by(|later, kept| later.id == kept.id);
        Ok(found)
    }

    pub fn status(&self) -> Status {
        let mut ecosystems = BTreeMap::new();
        for source in &self.sources {
            for (ecosystem, count) in &source.ecosystems {
                *ecosystems.entry(ecosystem.clone()).or_default() += count;
            }
        }
        let dates: Vec<&str> = self.sources.iter().filter_map(SourceStatus::as_of).collect();
        let as_of = dates.iter().copied().min_by(|a, b| clock::compare(a, b)).map(str::to_owned);
        Status {
            location: self.location.clone(),
            format: matches!(self.store, Store::Index(_)).then_some(index::FORMAT),
            sources: self.sources.clone(),
            ecosystems,
            records: self.sources.iter().map(|source| source.records).sum(),
            issues: self.sources.iter().map(|source| source.issues).sum(),
            age: as_of.as_deref().and_then(clock::age),
            as_of,
        }
    }

    /// Malformed records skipped (for an index, those kept in `meta.json`: the first 200 per source).
    pub fn issues(&self) -> &[RecordError] {
        &self.issues
    }
}

/// When `meta.json` was last written: an index is rewritten by renaming a new one into place.
fn meta_written(directory: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(directory.join(crate::meta::META_FILE)).and_then(|metadata| metadata.modified()).ok()
}
