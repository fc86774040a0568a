//! What goes wrong: a record that cannot be read (reported, skipped) and a database that
//! cannot be used (an error).

use std::fmt;
use std::path::PathBuf;

/// A malformed record, skipped while the rest is read. `file` is the path of the file, or
/// `archive.zip!entry/name.json` for a zip entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecordError {
    pub file: String,
    /// 1-based, where the problem is known to be on a line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub message: String,
}

impl fmt::Display for RecordError {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        match self.line {
            Some(line) => write!(formatter, "{}:{line}: {}", self.file, self.message),
            None => write!(formatter, "{}: {}", self.file, self.message),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("{path}: not a directory, a .zip or an OSV index")]
    UnknownSource { path: PathBuf },
    #[error("{path}: not a Palisade advisory index ({reason})")]
    Foreign { path: PathBuf, reason: String },
    #[error("{path}: index format {found}, this Palisade reads format {expected}; rebuild it with `palisade db update` or `palisade db import`")]
    Stale { path: PathBuf, found: u32, expected: u32 },
    #[error("{path}: the index is damaged ({reason}); rebuild it with `palisade db update` or `palisade db import`")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path}: {message}")]
    Archive { path: PathBuf, message: String },
    #[error("{0}")]
    Setup(String),
}

impl DbError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: impl fmt::Display) -> Self {
        DbError::Io { path: path.into(), message: error.to_string() }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        DbError::Corrupt { path: path.into(), reason: reason.into() }
    }
}
