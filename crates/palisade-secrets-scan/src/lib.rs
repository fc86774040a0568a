//! The secrets door: where `palisade secrets` looks (files and directories with the archives
//! in them, git history, image layers), each source's text handed to one configured
//! [`Engine`] and every leak turned into the shared [`Finding`](palisade_core::Finding).

mod content;
mod files;
mod git;
mod image;

use std::path::Path;
use std::sync::Arc;

use palisade_core::{Finding, InputError, ObjectRef};
use palisade_secrets::archive::ArchiveLimits;
use palisade_secrets::config::Config;
use palisade_secrets::decode::DecodeLimits;
use palisade_secrets::detect::Detector;
use palisade_secrets::ignore::Ignore;

pub use files::{Progress, scan_paths};
pub use git::{GitOptions, scan_git};
pub use image::scan_image;

/// The rules, as configured, ready to scan.
pub struct Engine {
    config: Config,
    detector: Detector,
    ignore: Ignore,
    /// What the configuration was read from: part of the image cache's key.
    identity: String,
}

impl Engine {
    /// An engine for `config`, identified by `identity` (the configuration's text, or a name
    /// for the built-in rules) so cached image results of other rules are never reused.
    pub fn new(config: Config, decode: DecodeLimits, identity: String) -> Engine {
        let detector = Detector::new(&config).with_decode_limits(decode.clone());
        let identity = format!("{identity}\ndecode-depth={}", decode.max_depth);
        Engine { config, detector, ignore: Ignore::default(), identity }
    }

    /// Findings whose gitleaks fingerprint `ignore` lists are dropped (`.gitleaksignore`).
    pub fn with_ignore(mut self, ignore: Ignore) -> Engine {
        self.ignore = ignore;
        self
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    pub(crate) fn description(&self, rule_id: &str) -> &str {
        self.config.rule(rule_id).map_or("", |rule| rule.description.as_str())
    }
}

/// Caps and choices shared by every source.
#[derive(Clone, Debug)]
pub struct Options {
    /// Files bigger than this are skipped and said (gitleaks `--max-target-megabytes`).
    pub max_file_bytes: u64,
    /// Archives opened to `archive.max_depth` (0, gitleaks' default, opens none).
    pub archive: ArchiveLimits,
    /// Follow symbolic links to files while walking directories (gitleaks `--follow-symlinks`).
    pub follow_symlinks: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_file_bytes: 100 << 20, archive: ArchiveLimits::default(), follow_symlinks: false }
    }
}

/// What a source gave: findings, the problems met, and how much was read.
#[derive(Debug, Default)]
pub struct Scan {
    pub findings: Vec<Finding>,
    /// Sources that could not be read at all (a path that is not there, an image that cannot
    /// be pulled, a directory that is no repository).
    pub unread: Vec<InputError>,
    /// Parts passed over (a file too big, an unreadable entry, an archive member over a cap):
    /// the rest of the source was scanned.
    pub problems: Vec<InputError>,
    pub stats: Stats,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Files (or archive members, or git changes) scanned as text.
    pub scanned: u64,
    pub bytes: u64,
    pub skipped_binary: u64,
    pub skipped_too_large: u64,
    /// Findings dropped because `.gitleaksignore` lists them.
    pub ignored: u64,
    /// Git: commits walked.
    pub commits: u64,
}

impl Scan {
    pub fn merge(&mut self, other: Scan) {
        self.findings.extend(other.findings);
        self.unread.extend(other.unread);
        self.problems.extend(other.problems);
        let (a, b) = (&mut self.stats, other.stats);
        a.scanned += b.scanned;
        a.bytes += b.bytes;
        a.skipped_binary += b.skipped_binary;
        a.skipped_too_large += b.skipped_too_large;
        a.ignored += b.ignored;
        a.commits += b.commits;
    }
}

/// The object findings of a source are grouped under: `Directory`, `File`, `Repository` or
/// `Image`, named as the user named it.
pub fn source_object(kind: &str, name: &str) -> Arc<ObjectRef> {
    Arc::new(ObjectRef { api_version: String::new(), kind: kind.to_owned(), namespace: None, name: name.to_owned() })
}

fn problem(file: &str, message: String) -> InputError {
    InputError { file: file.into(), line: 0, column: 0, message }
}

/// The `.gitleaksignore` at the root of a scanned directory or repository, if there is one.
pub fn ignore_file_in(root: &Path) -> Option<std::path::PathBuf> {
    let candidate = if root.is_dir() { root.join(".gitleaksignore") } else { return None };
    candidate.is_file().then_some(candidate)
}
