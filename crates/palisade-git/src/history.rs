//! Walking a repository's commits and handing out what each one added, file by file.

use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::object::tree::diff::Change as TreeChange;

use crate::added::{AddedHunk, added_hunks, is_binary};
use crate::commit::CommitInfo;
use crate::error::{Error, Problem};

/// How much of the history to walk, and the caps that bound the work on hostile repositories.
#[derive(Debug, Clone)]
pub struct Options {
    /// Walk from every reference and HEAD (`git log --all`, gitleaks' default); otherwise from HEAD only.
    pub all_refs: bool,
    /// Files whose old or new blob is larger than this are skipped (counted in [`Summary::skipped_too_large`]).
    pub max_blob_bytes: u64,
    /// Stop after this many commits.
    pub max_commits: Option<u64>,
    /// Stop once this many bytes of added text have been handed out.
    pub max_added_bytes: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Options { all_refs: true, max_blob_bytes: 10 * 1024 * 1024, max_commits: None, max_added_bytes: None }
    }
}

/// The text one commit added to one file.
#[derive(Debug)]
pub struct Change<'a> {
    pub commit: &'a CommitInfo,
    /// Path in the commit's tree (`/`-separated; non-UTF-8 bytes replaced).
    pub path: String,
    /// Runs of added lines, in file order; never empty.
    pub hunks: Vec<AddedHunk>,
}

/// Why a walk ended before the history did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    MaxCommits,
    MaxAddedBytes,
}

/// What a walk did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Commits visited (merges included).
    pub commits: u64,
    /// Merge commits, which add nothing (as in `git log -p`).
    pub merges: u64,
    /// [`Change`]s handed out.
    pub changes: u64,
    /// Bytes of added text handed out.
    pub added_bytes: u64,
    /// Files skipped because a side is binary.
    pub skipped_binary: u64,
    /// Files skipped because a side exceeds [`Options::max_blob_bytes`].
    pub skipped_too_large: u64,
    /// Objects that could not be read (the first [`MAX_PROBLEMS_KEPT`]).
    pub problems: Vec<Problem>,
    /// Problems beyond those kept.
    pub problems_dropped: u64,
    /// Set when a cap ended the walk early.
    pub stopped: Option<Stop>,
}

/// How many problems a summary keeps verbatim; a broken repository could have millions.
pub const MAX_PROBLEMS_KEPT: usize = 1000;

impl Summary {
    fn problem(&mut self, commit: Option<&ObjectId>, path: Option<&str>, message: impl Into<String>) {
        if self.problems.len() < MAX_PROBLEMS_KEPT {
            self.problems.push(Problem {
                commit: commit.map(ToString::to_string),
                path: path.map(str::to_owned),
                message: message.into(),
            });
        } else {
            self.problems_dropped += 1;
        }
    }
}

/// An opened repository.
pub struct History {
    repo: gix::Repository,
    path: PathBuf,
}

/// A file a commit touched whose added lines we want: the blob before (none for a new file) and after.
struct FileChange {
    path: String,
    old: Option<ObjectId>,
    new: ObjectId,
}

impl History {
    /// Opens the repository containing `path` (a work tree, a subdirectory of one, or a bare repository).
    pub fn open(path: impl AsRef<Path>) -> Result<History, Error> {
        let path = path.as_ref().to_path_buf();
        let mut repo = gix::discover(&path)
            .map_err(|e| Error::NotARepository { path: path.clone(), message: e.to_string() })?;
        // Tree diffs read the same trees again for every commit; a small object cache avoids re-inflating them.
        repo.object_cache_size_if_unset(16 * 1024 * 1024);
        Ok(History { repo, path })
    }

    /// The commits to start from: HEAD, and with `all_refs` every reference that peels to a commit.
    fn tips(&self, all_refs: bool) -> Result<Vec<ObjectId>, Error> {
        let mut tips = Vec::new();
        // An unborn HEAD (empty repository) has no id.
        if let Ok(head) = self.repo.head_id() {
            tips.push(head.detach());
        }
        if all_refs {
            let refs_error = |e: &dyn std::fmt::Display| Error::References { path: self.path.clone(), message: e.to_string() };
            let platform = self.repo.references().map_err(|e| refs_error(&e))?;
            for reference in platform.all().map_err(|e| refs_error(&e))? {
                let Ok(mut reference) = reference else { continue };
                // Tags are peeled to what they point at; references to trees or blobs are not history.
                let Ok(id) = reference.peel_to_id() else { continue };
                if let Ok(object) = id.object().and_then(|o| o.peel_tags_to_end())
                    && object.kind == gix::object::Kind::Commit
                {
                    tips.push(object.id);
                }
            }
        }
        tips.sort_unstable();
        tips.dedup();
        Ok(tips)
    }

    /// Walks the history newest commit first, calling `on_change` for every file a commit added
    /// lines to. Each commit is visited once however many references reach it; memory stays
    /// bounded by one commit's changes plus the walk's set of seen commit ids.
    pub fn walk(&self, options: &Options, mut on_change: impl FnMut(Change<'_>)) -> Result<Summary, Error> {
        let mut summary = Summary::default();
        let tips = self.tips(options.all_refs)?;
        if tips.is_empty() {
            return Ok(summary);
        }
        let walk_error = |e: &dyn std::fmt::Display| Error::Walk { path: self.path.clone(), message: e.to_string() };
        let walk = self
            .repo
            .rev_walk(tips)
            .sorting(gix::revision::walk::Sorting::ByCommitTime(Default::default()))
            .all()
            .map_err(|e| walk_error(&e))?;
        let mut diff_cache = self.repo.diff_resource_cache_for_tree_diff().map_err(|e| walk_error(&e))?;
        let empty_tree = self.repo.empty_tree();

        for info in walk {
            if options.max_commits.is_some_and(|max| summary.commits >= max) {
                summary.stopped = Some(Stop::MaxCommits);
                break;
            }
            let info = match info {
                Ok(info) => info,
                Err(e) => {
                    summary.problem(None, None, format!("commit walk: {e}"));
                    continue;
                }
            };
            summary.commits += 1;
            if info.parent_ids.len() > 1 {
                summary.merges += 1;
                continue;
            }
            let id = info.id;
            let commit = match info.object() {
                Ok(commit) => commit,
                Err(e) => {
                    summary.problem(Some(&id), None, format!("cannot read commit: {e}"));
                    continue;
                }
            };
            let commit_info = match crate::commit::read(&commit) {
                Ok(commit_info) => commit_info,
                Err(message) => {
                    summary.problem(Some(&id), None, message);
                    continue;
                }
            };
            let parent_tree = match info.parent_ids.first() {
                None => Ok(empty_tree.clone()),
                Some(parent) => self.repo.find_commit(*parent).and_then(|c| c.tree()),
            };
            let trees = parent_tree.and_then(|old| commit.tree().map(|new| (old, new)));
            let (old_tree, new_tree) = match trees {
                Ok(trees) => trees,
                Err(e) => {
                    summary.problem(Some(&id), None, format!("cannot read trees: {e}"));
                    continue;
                }
            };
            let files = match changed_files(&old_tree, &new_tree, &mut diff_cache) {
                Ok(files) => files,
                Err(e) => {
                    summary.problem(Some(&id), None, format!("tree diff: {e}"));
                    continue;
                }
            };
            diff_cache.clear_resource_cache_keep_allocation();
            for file in files {
                let Some(hunks) = self.added_in(&file, options, &id, &mut summary) else { continue };
                summary.changes += 1;
                summary.added_bytes += hunks.iter().map(|h| h.text.len() as u64).sum::<u64>();
                on_change(Change { commit: &commit_info, path: file.path, hunks });
                if options.max_added_bytes.is_some_and(|max| summary.added_bytes >= max) {
                    summary.stopped = Some(Stop::MaxAddedBytes);
                    return Ok(summary);
                }
            }
        }
        Ok(summary)
    }

    /// The added hunks of one file, or `None` when it adds nothing or is skipped (counted in `summary`).
    fn added_in(&self, file: &FileChange, options: &Options, commit: &ObjectId, summary: &mut Summary) -> Option<Vec<AddedHunk>> {
        let mut read = |id: ObjectId| -> Option<Vec<u8>> {
            let size = match self.repo.find_header(id) {
                Ok(header) => header.size(),
                Err(e) => {
                    summary.problem(Some(commit), Some(&file.path), format!("cannot read blob {id}: {e}"));
                    return None;
                }
            };
            if size > options.max_blob_bytes {
                summary.skipped_too_large += 1;
                return None;
            }
            match self.repo.find_blob(id) {
                Ok(mut blob) => Some(blob.take_data()),
                Err(e) => {
                    summary.problem(Some(commit), Some(&file.path), format!("cannot read blob {id}: {e}"));
                    None
                }
            }
        };
        let new = read(file.new)?;
        let old = match file.old {
            Some(old) => read(old)?,
            None => Vec::new(),
        };
        // Git prints "Binary files differ" when either side is binary, so gitleaks sees no lines.
        if is_binary(&new) || is_binary(&old) {
            summary.skipped_binary += 1;
            return None;
        }
        let hunks = added_hunks(&old, &new);
        (!hunks.is_empty()).then_some(hunks)
    }
}

/// Regular file or symbolic link (whose blob is the link target, which `git log -p` shows as text).
#[derive(PartialEq)]
enum FileKind {
    File,
    Link,
}

fn file_kind(mode: gix::object::tree::EntryMode) -> Option<FileKind> {
    if mode.is_link() {
        Some(FileKind::Link)
    } else if mode.is_blob_or_symlink() {
        Some(FileKind::File)
    } else {
        None // trees and submodule commits
    }
}

/// The files `new_tree` added or changed relative to `old_tree`, renames paired up as git does
/// (`diff.renames`, on by default). Like gitleaks' `--diff-filter=tuxdb`, deletions and type
/// changes (file to symbolic link and back) are left out.
fn changed_files(
    old_tree: &gix::Tree<'_>,
    new_tree: &gix::Tree<'_>,
    cache: &mut gix::diff::blob::Platform,
) -> gix::Result<Vec<FileChange>> {
    let mut files = Vec::new();
    old_tree.changes()?.options(|o| {
        o.track_path();
    }).for_each_to_obtain_tree_with_cache(new_tree, cache, |change| {
        let path = |location: &gix::bstr::BStr| location.to_string();
        match change {
            TreeChange::Addition { location, entry_mode, id, .. } if file_kind(entry_mode).is_some() => {
                files.push(FileChange { path: path(location), old: None, new: id.detach() });
            }
            TreeChange::Modification { location, previous_entry_mode, previous_id, entry_mode, id }
                if file_kind(entry_mode).is_some() && file_kind(previous_entry_mode) == file_kind(entry_mode) =>
            {
                files.push(FileChange { path: path(location), old: Some(previous_id.detach()), new: id.detach() });
            }
            TreeChange::Rewrite { source_entry_mode, source_id, location, entry_mode, id, .. }
                if file_kind(entry_mode).is_some() && file_kind(source_entry_mode) == file_kind(entry_mode) =>
            {
                files.push(FileChange { path: path(location), old: Some(source_id.detach()), new: id.detach() });
            }
            _ => {}
        }
        Ok(gix::object::tree::diff::Action::Continue(()))
    })?;
    Ok(files)
}
