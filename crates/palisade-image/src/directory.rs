//! A directory read as one layer: walked without following symlinks, only regular files opened,
//! wanted files read (capped) and analysed in parallel.

use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::squash::SymlinkTable;
use crate::{AnalysisIssue, FileAnalyzer, FileMeta, FinalFile, ImageError, Limits, Want};

/// A directory's wanted files, its symlinks and the problems met.
#[derive(Clone, Debug)]
pub struct AnalyzedDirectory<F> {
    pub root: PathBuf,
    /// Sorted by path; paths are absolute from the directory (`/etc/os-release`).
    pub files: Vec<FinalFile<F>>,
    pub symlinks: SymlinkTable,
    pub issues: Vec<AnalysisIssue>,
}

/// Kernel filesystems of a live root: their files are not files (`/proc/kcore` claims to be as
/// big as the address space; reading `/sys` files can have effects).
const RUNTIME_DIRECTORIES: [&str; 3] = ["/proc", "/sys", "/dev"];

struct Wanted {
    path: String,
    location: PathBuf,
    meta: FileMeta,
    want: Want,
}

/// Analyses the files under `root` with the default [`Limits`].
pub fn analyze_directory<A: FileAnalyzer>(root: &Path, analyzer: &A) -> Result<AnalyzedDirectory<A::Facts>, ImageError> {
    analyze_directory_with_limits(root, analyzer, &Limits::default())
}

/// Analyses the files under `root`: symlinks are recorded, never followed; FIFOs, sockets and
/// devices are never opened; when `root` is the live `/`, `/proc`, `/sys` and `/dev` are left
/// out.
pub fn analyze_directory_with_limits<A: FileAnalyzer>(root: &Path, analyzer: &A, limits: &Limits) -> Result<AnalyzedDirectory<A::Facts>, ImageError> {
    let io_error = |path: &Path, source| ImageError::Io { path: path.to_owned(), source };
    let metadata = std::fs::metadata(root).map_err(|error| io_error(root, error))?;
    if !metadata.is_dir() {
        return Err(ImageError::Invalid { file: root.display().to_string(), problem: "not a directory".to_owned() });
    }
    let live_root = std::fs::canonicalize(root).is_ok_and(|path| path == Path::new("/"));
    let mut issues = Vec::new();
    let issue = |path: &str, message: String| AnalysisIssue { layer: None, path: Some(path.to_owned()), message };
    let mut symlinks = SymlinkTable::default();
    let mut wanted = Vec::new();
    let mut seen: u64 = 0;
    let mut stack: Vec<(PathBuf, String, usize)> = vec![(root.to_owned(), String::new(), 0)];
    'walk: while let Some((directory, relative, depth)) = stack.pop() {
        let entries = match std::fs::read_dir(&directory) {
            Ok(entries) => entries,
            Err(error) => {
                issues.push(issue(if relative.is_empty() { "/" } else { &relative }, format!("cannot list: {error}")));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    issues.push(issue(if relative.is_empty() { "/" } else { &relative }, format!("cannot list: {error}")));
                    continue;
                }
            };
            seen += 1;
            if seen > limits.max_entries_per_layer {
                issues.push(issue("/", format!("more than {} entries (limit): the rest is not read", limits.max_entries_per_layer)));
                break 'walk;
            }
            let path = format!("{relative}/{}", entry.file_name().to_string_lossy());
            if path.len() > limits.max_path_bytes {
                issues.push(issue(&path[..floor_char_boundary(&path, limits.max_path_bytes)], format!("path of {} bytes (limit {}): passed over", path.len(), limits.max_path_bytes)));
                continue;
            }
            let location = entry.path();
            let file_type = match entry.file_type() {
                Ok(file_type) => file_type,
                Err(error) => {
                    issues.push(issue(&path, format!("cannot stat: {error}")));
                    continue;
                }
            };
            if file_type.is_dir() {
                if live_root && RUNTIME_DIRECTORIES.contains(&path.as_str()) {
                    continue;
                }
                if depth + 1 > limits.max_directory_depth {
                    issues.push(issue(&path, format!("deeper than {} directories (limit): not read", limits.max_directory_depth)));
                    continue;
                }
                stack.push((location, path, depth + 1));
            } else if file_type.is_symlink() {
                match std::fs::read_link(&location) {
                    Ok(target) => symlinks.insert(path, target.to_string_lossy().into_owned()),
                    Err(error) => issues.push(issue(&path, format!("cannot read symlink: {error}"))),
                }
            } else if file_type.is_file() {
                let metadata = match entry.metadata() {
                    Ok(metadata) => metadata,
                    Err(error) => {
                        issues.push(issue(&path, format!("cannot stat: {error}")));
                        continue;
                    }
                };
                let meta = FileMeta { size: metadata.len(), mode: permission_bits(&metadata) };
                if let Some(want) = analyzer.wants(&path, &meta) {
                    wanted.push(Wanted { path, location, meta, want });
                }
            }
        }
    }

    let results: Vec<Result<FinalFile<A::Facts>, AnalysisIssue>> = wanted.into_par_iter().map(|file| read_and_analyze(file, analyzer)).collect();
    let mut files = Vec::new();
    for result in results {
        match result {
            Ok(file) => files.push(file),
            Err(problem) => issues.push(problem),
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    issues.sort();
    Ok(AnalyzedDirectory { root: root.to_owned(), files, symlinks, issues })
}

fn read_and_analyze<A: FileAnalyzer>(file: Wanted, analyzer: &A) -> Result<FinalFile<A::Facts>, AnalysisIssue> {
    let problem = |message: String| AnalysisIssue { layer: None, path: Some(file.path.clone()), message };
    let facts = match file.want {
        Want::Presence => analyzer.analyze(&file.path, &file.meta, &[]),
        Want::Content { limit } => {
            if file.meta.size > limit {
                return Err(problem(format!("{} bytes, more than the {limit} the analyser reads: not analysed", file.meta.size)));
            }
            let opened = std::fs::File::open(&file.location).map_err(|error| problem(format!("cannot open: {error}")))?;
            // The file was regular when listed; something else (a FIFO put in its place) is
            // not read.
            let is_file = opened.metadata().map_err(|error| problem(format!("cannot stat: {error}")))?.is_file();
            if !is_file {
                return Err(problem("no longer a regular file: not read".to_owned()));
            }
            let mut content = Vec::with_capacity(usize::try_from(file.meta.size).unwrap_or(0));
            opened.take(limit.saturating_add(1)).read_to_end(&mut content).map_err(|error| problem(format!("cannot read: {error}")))?;
            if content.len() as u64 > limit {
                return Err(problem(format!("grew past the {limit} bytes the analyser reads while being read: not analysed")));
            }
            analyzer.analyze(&file.path, &FileMeta { size: content.len() as u64, mode: file.meta.mode }, &content)
        }
    };
    Ok(FinalFile { path: file.path, layer_index: 0, layer_digest: None, meta: file.meta, facts })
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(unix)]
fn permission_bits(metadata: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn permission_bits(metadata: &std::fs::Metadata) -> u32 {
    if metadata.permissions().readonly() { 0o444 } else { 0o644 }
}
