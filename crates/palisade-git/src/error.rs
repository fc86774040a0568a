//! Errors that stop a walk, and problems that only skip one object.

use std::path::PathBuf;

/// A failure that stops the walk before or while it starts.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The path is not inside a git repository (or the repository cannot be opened).
    #[error("{path}: not a git repository: {message}")]
    NotARepository { path: PathBuf, message: String },
    /// The references could not be listed.
    #[error("{path}: cannot list references: {message}")]
    References { path: PathBuf, message: String },
    /// The commit walk could not start.
    #[error("{path}: cannot walk commits: {message}")]
    Walk { path: PathBuf, message: String },
}

/// An object the walk could not read; the walk skipped it and went on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The commit being read, when known.
    pub commit: Option<String>,
    /// The file path in that commit, when the problem is about one file.
    pub path: Option<String>,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.commit, &self.path) {
            (Some(commit), Some(path)) => write!(f, "commit {commit}: {path}: {}", self.message),
            (Some(commit), None) => write!(f, "commit {commit}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}
