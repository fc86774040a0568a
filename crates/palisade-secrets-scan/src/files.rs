//! Files and directories, as gitleaks' `dir` command reads them: every regular file under a
//! directory (`.git` directories are git's business, and symbolic links are not followed
//! unless asked), each scanned on its own, in parallel.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use palisade_core::ObjectRef;
use palisade_secrets::finding::Place;
use rayon::prelude::*;

use crate::content::scan_file;
use crate::{Engine, Options, Scan, problem, source_object};

struct Target {
    object: Arc<ObjectRef>,
    path: PathBuf,
    /// The name reports give it: the path as the user wrote it, joined with the walk's.
    name: String,
    size: u64,
}

/// How far a scan of files is: the bytes it will read, once, then the bytes of each file done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    Total(u64),
    Done(u64),
}

/// Scans the files and directories `paths`.
pub fn scan_paths(engine: &Engine, paths: &[PathBuf], options: &Options, progress: &(dyn Fn(Progress) + Sync)) -> Scan {
    let mut scan = Scan::default();
    let targets = targets(paths, options, &mut scan);
    progress(Progress::Total(targets.iter().map(|target| target.size.min(options.max_file_bytes)).sum()));
    let scans: Vec<Scan> = targets
        .par_iter()
        .map(|target| {
            let mut scan = Scan::default();
            if target.size > options.max_file_bytes {
                scan.stats.skipped_too_large += 1;
                scan.problems.push(problem(&target.name, format!("skipped: {} bytes, over the {}-byte cap (--max-target-megabytes)", target.size, options.max_file_bytes)));
            } else {
                match std::fs::read(&target.path) {
                    Ok(bytes) => {
                        let place = Place { object: target.object.clone(), file: target.name.as_str().into(), pointer: "".into(), commit: None, layer: None, hidden_by_later_layer: false };
                        scan_file(engine, options, &bytes, &place, true, &mut scan);
                    }
                    Err(error) => scan.problems.push(problem(&target.name, format!("cannot read: {error}"))),
                }
            }
            progress(Progress::Done(target.size.min(options.max_file_bytes)));
            scan
        })
        .collect();
    for part in scans {
        scan.merge(part);
    }
    scan
}

fn targets(paths: &[PathBuf], options: &Options, scan: &mut Scan) -> Vec<Target> {
    let mut targets = Vec::new();
    for root in paths {
        let shown = root.display().to_string();
        let metadata = match std::fs::metadata(root) {
            Ok(metadata) => metadata,
            Err(error) => {
                scan.unread.push(problem(&shown, format!("cannot read: {error}")));
                continue;
            }
        };
        if metadata.is_file() {
            targets.push(Target { object: source_object("File", &shown), path: root.clone(), name: shown, size: metadata.len() });
            continue;
        }
        let object = source_object("Directory", &shown);
        let walk = walkdir::WalkDir::new(root).follow_links(options.follow_symlinks).sort_by_file_name().into_iter();
        for entry in walk.filter_entry(|entry| !(entry.file_type().is_dir() && entry.file_name() == ".git" && entry.depth() > 0)) {
            match entry {
                Ok(entry) if entry.file_type().is_file() => {
                    let size = entry.metadata().map_or(0, |metadata| metadata.len());
                    targets.push(Target { object: object.clone(), name: display_name(entry.path()), path: entry.into_path(), size });
                }
                Ok(_) => {}
                Err(error) => {
                    let at = error.path().map_or_else(|| shown.clone(), |path| path.display().to_string());
                    scan.problems.push(problem(&at, format!("cannot walk: {error}")));
                }
            }
        }
    }
    targets
}

/// `./config/app.env` is reported as `config/app.env`, as gitleaks cleans its paths.
fn display_name(path: &Path) -> String {
    let text = path.display().to_string();
    match text.strip_prefix("./") {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => text,
    }
}
