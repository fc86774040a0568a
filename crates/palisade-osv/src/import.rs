//! `palisade db import PATH...`: directories, zips and git checkouts of OSV records written into
//! an index directory, each as its own partition (importing the same path again replaces it).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::build;
use crate::error::{DbError, RecordError};
use crate::meta::{Meta, SourceStatus};
use crate::source::Source;
use crate::Progress;

#[derive(Clone, Debug, serde::Serialize)]
pub struct ImportReport {
    pub sources: Vec<SourceStatus>,
    /// Malformed records skipped, every one of them.
    pub issues: Vec<RecordError>,
    pub elapsed: Duration,
    /// Bytes of the whole index directory afterwards.
    pub index_bytes: u64,
}

/// Reads every source and writes it into the index at `db_dir` (created if missing); sources
/// already there under other names are kept. Nothing in the index changes unless every
/// source was read.
pub fn import(sources: &[PathBuf], db_dir: &Path, progress: &mut dyn FnMut(Progress<'_>)) -> Result<ImportReport, DbError> {
    let started = Instant::now();
    std::fs::create_dir_all(db_dir).map_err(|error| DbError::io(db_dir, error))?;
    let _writer = crate::lock::WriterLock::acquire(db_dir)?;
    let mut meta = Meta::load_for_writing(db_dir)?;
    let mut written = Vec::new();
    let mut issues = Vec::new();
    for path in sources {
        // The absolute path names the source, so importing it again from elsewhere replaces it.
        let name = std::path::absolute(path).unwrap_or_else(|_| path.clone()).display().to_string();
        let built = Source::open(path).and_then(|source| build::to_partition(&source, db_dir, &name, &name, progress));
        match built {
            Ok((partition, source_issues)) => {
                issues.extend(source_issues);
                written.push(partition);
            }
            Err(error) => {
                for partition in &written {
                    let _ = std::fs::remove_file(db_dir.join(&partition.file));
                }
                return Err(error);
            }
        }
    }
    let reported = written.iter().map(|partition| partition.status.clone()).collect();
    for partition in written {
        meta.replace(partition);
    }
    meta.save(db_dir)?;
    Ok(ImportReport { sources: reported, issues, elapsed: started.elapsed(), index_bytes: directory_bytes(db_dir) })
}

pub(crate) fn directory_bytes(directory: &Path) -> u64 {
    std::fs::read_dir(directory).map(|entries| entries.flatten().filter_map(|entry| entry.metadata().ok()).filter(|metadata| metadata.is_file()).map(|metadata| metadata.len()).sum()).unwrap_or(0)
}
