//! A source read into an index partition on disk or into memory: the records in parallel,
//! their keys, counts, newest date and the malformed ones.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use crate::clock;
use crate::error::{DbError, RecordError};
use crate::index::{self, Writer};
use crate::meta::{self, Partition, SourceStatus};
use crate::model::Advisory;
use crate::name::normalize_name;
use crate::source::Source;
use crate::Progress;

/// The keys (ecosystem as written, normalized name) a record is found under, each once.
pub(crate) fn keys_of(advisory: &Advisory) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = advisory
        .affected
        .iter()
        .filter_map(|affected| affected.package.as_ref())
        .filter(|package| !package.ecosystem.is_empty() && !package.name.is_empty())
        .map(|package| (package.ecosystem.clone(), normalize_name(&package.ecosystem, &package.name).into_owned()))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Counts and dates of a source's records as they are read.
#[derive(Default)]
struct Tally {
    records: usize,
    ecosystems: BTreeMap<String, usize>,
    newest_modified: Option<String>,
    issues: Vec<RecordError>,
}

const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

impl Tally {
    fn count(&mut self, keys: &[(String, String)], modified: &str) {
        self.records += 1;
        let mut last: Option<&str> = None;
        for (ecosystem, _) in keys {
            // keys are sorted: each ecosystem's keys are adjacent.
            if last != Some(ecosystem) {
                *self.ecosystems.entry(ecosystem.clone()).or_default() += 1;
                last = Some(ecosystem);
            }
        }
        // Go's vulndb repository writes Go's zero time until vuln.go.dev publishes a record:
        // it dates nothing.
        let dated = !modified.is_empty() && modified != GO_ZERO_TIME;
        if dated && self.newest_modified.as_deref().is_none_or(|newest| clock::compare(modified, newest).is_gt()) {
            self.newest_modified = Some(modified.to_owned());
        }
    }

    fn into_status(self, source: &Source, name: &str, location: &str) -> (SourceStatus, Vec<RecordError>) {
        let status = SourceStatus {
            name: name.to_owned(),
            kind: Some(source.kind),
            location: location.to_owned(),
            revision: source.revision.clone(),
            records: self.records,
            ecosystems: self.ecosystems,
            issues: self.issues.len(),
            imported_at: clock::now(),
            newest_modified: self.newest_modified,
            ..SourceStatus::default()
        };
        (status, self.issues)
    }
}

/// Writes `source` as a new partition file in `directory` (atomically: a temporary file renamed
/// when complete) and returns its entry for `meta.json` and every malformed record (the entry
/// keeps only the first ones).
pub(crate) fn to_partition(source: &Source, directory: &Path, name: &str, location: &str, progress: &mut dyn FnMut(Progress<'_>)) -> Result<(Partition, Vec<RecordError>), DbError> {
    let file = meta::partition_file(name);
    let temporary = directory.join(format!(".{file}.tmp"));
    let result = write_partition(source, &temporary, name, location, progress);
    let (mut status, issues, bytes) = match result {
        Ok(written) => written,
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            return Err(error);
        }
    };
    let path = directory.join(&file);
    std::fs::rename(&temporary, &path).map_err(|error| DbError::io(&path, error))?;
    status.index_bytes = bytes;
    Ok((Partition { file, status, malformed: Partition::keep_issues(&issues) }, issues))
}

fn write_partition(source: &Source, temporary: &Path, name: &str, location: &str, progress: &mut dyn FnMut(Progress<'_>)) -> Result<(SourceStatus, Vec<RecordError>, u64), DbError> {
    let mut writer = Writer::create(temporary)?;
    let mut tally = Tally::default();
    let mut failure = None;
    let total = source.len();
    let mut done = 0;
    source.read(
        |record| {
            record.map(|mut advisory| {
                let keys = keys_of(&advisory);
                let modified = advisory.modified.clone();
                (index::encode(&mut advisory), keys, modified)
            })
        },
        |batch| {
            done += batch.len();
            for record in batch {
                match record {
                    Ok((bytes, keys, modified)) => {
                        tally.count(&keys, &modified);
                        if failure.is_none() {
                            failure = writer.add(&bytes, &keys).err();
                        }
                    }
                    Err(issue) => tally.issues.push(issue),
                }
            }
            progress(Progress::Records { source: name, done, total });
        },
    );
    if let Some(error) = failure {
        return Err(error);
    }
    let bytes = writer.finish()?;
    let (status, issues) = tally.into_status(source, name, location);
    Ok((status, issues, bytes))
}

/// Records by key, in memory.
pub(crate) type MemoryIndex = HashMap<(String, String), Vec<Arc<Advisory>>>;

/// Reads `source` into `into`; returns its status and malformed records.
pub(crate) fn to_memory(source: &Source, into: &mut MemoryIndex, progress: &mut dyn FnMut(Progress<'_>)) -> (SourceStatus, Vec<RecordError>) {
    let name = source.path.display().to_string();
    let mut tally = Tally::default();
    let total = source.len();
    let mut done = 0;
    source.read(
        |record| record.map(|advisory| (keys_of(&advisory), Arc::new(advisory))),
        |batch| {
            done += batch.len();
            for record in batch {
                match record {
                    Ok((keys, advisory)) => {
                        tally.count(&keys, &advisory.modified);
                        for key in keys {
                            into.entry(key).or_default().push(advisory.clone());
                        }
                    }
                    Err(issue) => tally.issues.push(issue),
                }
            }
            progress(Progress::Records { source: &name, done, total });
        },
    );
    tally.into_status(source, &name, &name)
}
