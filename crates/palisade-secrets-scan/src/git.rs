//! Git history as gitleaks' `git` command scans it: what every commit of every branch added
//! (`git log -p -U0 --all`), each hunk a fragment with its commit, so a finding names the
//! commit, author and date, and its fingerprint is `commit:file:rule:line`.

use std::path::Path;

use palisade_core::CommitInfo;
use palisade_git::{AddedHunk, History};
use palisade_secrets::detect::Fragment;
use palisade_secrets::finding::Place;
use rayon::prelude::*;

use crate::content::scan_fragment;
use crate::{Engine, Scan, problem, source_object};

/// Which history, and the caps that bound the work on hostile repositories.
#[derive(Clone, Debug)]
pub struct GitOptions {
    /// Every reference, as gitleaks (otherwise HEAD's history only).
    pub all_refs: bool,
    /// Files whose blob is bigger are skipped and counted.
    pub max_blob_bytes: u64,
    pub max_commits: Option<u64>,
}

impl Default for GitOptions {
    fn default() -> Self {
        GitOptions { all_refs: true, max_blob_bytes: palisade_git::Options::default().max_blob_bytes, max_commits: None }
    }
}

/// Added text collected from the walk before it is scanned in parallel: enough to keep both
/// cores busy, little enough to bound memory on huge histories.
const BATCH_BYTES: usize = 16 << 20;

struct Added {
    commit: std::sync::Arc<CommitInfo>,
    path: String,
    hunks: Vec<AddedHunk>,
}

/// Scans the history of the repository at `repository`. `progress` is told each commit walked.
pub fn scan_git(engine: &Engine, repository: &Path, options: &GitOptions, progress: &(dyn Fn(u64) + Sync)) -> Scan {
    let shown = repository.display().to_string();
    let mut scan = Scan::default();
    let history = match History::open(repository) {
        Ok(history) => history,
        Err(error) => {
            scan.unread.push(problem(&shown, error.to_string()));
            return scan;
        }
    };
    let object = source_object("Repository", &shown);
    let walk_options = palisade_git::Options { all_refs: options.all_refs, max_blob_bytes: options.max_blob_bytes, max_commits: options.max_commits, max_added_bytes: None };
    let mut batch: Vec<Added> = Vec::new();
    let mut batch_bytes = 0;
    let mut last_commit: Option<std::sync::Arc<CommitInfo>> = None;
    let scan_batch = |batch: &mut Vec<Added>, scan: &mut Scan| {
        let parts: Vec<Scan> = batch
            .par_iter()
            .map(|added| {
                let mut part = Scan::default();
                let place = Place { object: object.clone(), file: added.path.as_str().into(), pointer: "".into(), commit: Some((*added.commit).clone()), layer: None, hidden_by_later_layer: false };
                for hunk in &added.hunks {
                    let fragment = Fragment { bytes: &hunk.text, path: &added.path, commit: Some(&added.commit.id), start_line: hunk.first_line as usize };
                    scan_fragment(engine, &fragment, &place, &mut part);
                }
                part
            })
            .collect();
        for part in parts {
            scan.merge(part);
        }
        batch.clear();
    };
    let walked = history.walk(&walk_options, |change| {
        let commit = match &last_commit {
            Some(commit) if commit.id == change.commit.id => commit.clone(),
            _ => {
                let commit = std::sync::Arc::new(change.commit.clone());
                last_commit = Some(commit.clone());
                progress(1);
                commit
            }
        };
        batch_bytes += change.hunks.iter().map(|hunk| hunk.text.len()).sum::<usize>();
        batch.push(Added { commit, path: change.path, hunks: change.hunks });
        if batch_bytes >= BATCH_BYTES {
            scan_batch(&mut batch, &mut scan);
            batch_bytes = 0;
        }
    });
    scan_batch(&mut batch, &mut scan);
    match walked {
        Ok(summary) => {
            scan.stats.commits = summary.commits;
            scan.stats.skipped_binary += summary.skipped_binary;
            scan.stats.skipped_too_large += summary.skipped_too_large;
            scan.problems.extend(summary.problems.iter().map(|problem_met| problem(&shown, problem_met.to_string())));
            if summary.problems_dropped > 0 {
                scan.problems.push(problem(&shown, format!("{} more unreadable objects not listed", summary.problems_dropped)));
            }
        }
        Err(error) => scan.unread.push(problem(&shown, error.to_string())),
    }
    scan
}
