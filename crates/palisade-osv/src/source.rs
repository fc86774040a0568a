//! Where records come from: a directory tree (a git checkout is one: its working tree is
//! read), or a zip such as OSV's per-ecosystem `all.zip`. Records are read and parsed in
//! parallel, a batch at a time, so memory stays bounded however large the source; zip entries
//! are read as streams, never unpacked to disk.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use zip::ZipArchive;

use crate::error::{DbError, RecordError};
use crate::model::Advisory;
use crate::record::{self, Format};

/// Larger than any real record (the largest OSV records, Debian's and Ubuntu's with hundreds
/// of packages, are a few MB).
pub(crate) const MAX_RECORD_BYTES: u64 = 16 << 20;
/// More than all of OSV (~600 000 records) in one source.
pub(crate) const MAX_ENTRIES: usize = 5_000_000;
/// Records parsed per parallel batch: enough to keep every core busy, little enough to bound memory.
const BATCH: usize = 2048;

/// What a source is, as `status` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    Directory,
    GitCheckout,
    Zip,
    /// An `all.zip` downloaded by `update`.
    Download,
}

/// An opened source and the record files in it.
pub(crate) struct Source {
    pub path: PathBuf,
    pub kind: SourceKind,
    /// For a git checkout: the commit of `HEAD` (and its branch) when it can be read.
    pub revision: Option<String>,
    entries: Entries,
}

enum Entries {
    Files(Vec<(PathBuf, Format)>),
    Zip { archive: ZipArchive<SharedFile>, records: Vec<(usize, String)> },
}

impl Source {
    pub(crate) fn open(path: &Path) -> Result<Source, DbError> {
        let metadata = std::fs::metadata(path).map_err(|error| DbError::io(path, error))?;
        if metadata.is_dir() {
            let git = path.join(".git").exists();
            let mut files = Vec::new();
            walk(path, &mut files)?;
            files.sort_by(|a, b| a.0.cmp(&b.0));
            if files.len() > MAX_ENTRIES {
                return Err(DbError::io(path, format!("more than {MAX_ENTRIES} record files")));
            }
            let kind = if git { SourceKind::GitCheckout } else { SourceKind::Directory };
            let revision = if git { git_revision(&path.join(".git")) } else { None };
            return Ok(Source { path: path.to_owned(), kind, revision, entries: Entries::Files(files) });
        }
        let archive_error = |message: String| DbError::Archive { path: path.to_owned(), message };
        let file = File::open(path).map_err(|error| DbError::io(path, error))?;
        let archive = ZipArchive::new(SharedFile { file: Arc::new(file), position: 0 }).map_err(|error| archive_error(format!("not a readable zip: {error}")))?;
        if archive.len() > MAX_ENTRIES {
            return Err(archive_error(format!("{} entries, more than the {MAX_ENTRIES} allowed", archive.len())));
        }
        let records = (0..archive.len())
            .filter_map(|index| {
                let name = archive.name_for_index(index)?;
                let file_name = name.rsplit('/').next().unwrap_or(name);
                (Format::of(file_name).is_some() && !name.split('/').any(|part| part.starts_with('.'))).then(|| (index, name.to_owned()))
            })
            .collect();
        Ok(Source { path: path.to_owned(), kind: SourceKind::Zip, revision: None, entries: Entries::Zip { archive, records } })
    }

    /// Number of record files.
    pub(crate) fn len(&self) -> usize {
        match &self.entries {
            Entries::Files(files) => files.len(),
            Entries::Zip { records, .. } => records.len(),
        }
    }

    /// Reads every record, applies `map` to each in parallel, and hands the results to `sink`
    /// a batch at a time, in file order.
    pub(crate) fn read<T: Send>(&self, map: impl Fn(Result<Advisory, RecordError>) -> T + Sync, mut sink: impl FnMut(Vec<T>)) {
        match &self.entries {
            Entries::Files(files) => {
                for batch in files.chunks(BATCH) {
                    sink(batch.par_iter().map(|(file, format)| map(self.read_file(file, *format))).collect());
                }
            }
            Entries::Zip { archive, records } => {
                for batch in records.chunks(BATCH) {
                    let results = batch.par_iter().map_init(|| archive.clone(), |archive, (index, name)| map(self.read_entry(archive, *index, name))).collect();
                    sink(results);
                }
            }
        }
    }

    fn read_file(&self, file: &Path, format: Format) -> Result<Advisory, RecordError> {
        let shown = file.display().to_string();
        let error = |message: String| RecordError { file: shown.clone(), line: None, message };
        let opened = File::open(file).map_err(|problem| error(problem.to_string()))?;
        let bytes = read_capped(opened).map_err(error)?;
        record::parse(&shown, format, &bytes)
    }

    fn read_entry(&self, archive: &mut ZipArchive<SharedFile>, index: usize, name: &str) -> Result<Advisory, RecordError> {
        let shown = format!("{}!{name}", self.path.display());
        let error = |message: String| RecordError { file: shown.clone(), line: None, message };
        let entry = archive.by_index(index).map_err(|problem| error(problem.to_string()))?;
        if entry.size() > MAX_RECORD_BYTES {
            return Err(error(format!("{} bytes uncompressed, more than the {MAX_RECORD_BYTES} a record may have", entry.size())));
        }
        let bytes = read_capped(entry).map_err(error)?;
        record::parse(&shown, Format::of(name).unwrap_or(Format::Json), &bytes)
    }
}

/// The whole of `reader`, refused beyond [`MAX_RECORD_BYTES`] whatever its header claimed.
fn read_capped(reader: impl Read) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    reader.take(MAX_RECORD_BYTES + 1).read_to_end(&mut bytes).map_err(|error| error.to_string())?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(format!("more than the {MAX_RECORD_BYTES} bytes a record may have"));
    }
    Ok(bytes)
}

/// Record files under `directory`. Hidden directories are skipped (`.git`, and `.github` whose
/// workflow YAML is no advisory), symbolic links are not followed (no loops, nothing outside).
fn walk(directory: &Path, files: &mut Vec<(PathBuf, Format)>) -> Result<(), DbError> {
    let entries = std::fs::read_dir(directory).map_err(|error| DbError::io(directory, error))?;
    for entry in entries {
        let entry = entry.map_err(|error| DbError::io(directory, error))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let file_type = entry.file_type().map_err(|error| DbError::io(entry.path(), error))?;
        if file_type.is_dir() {
            if !name.starts_with('.') {
                walk(&entry.path(), files)?;
            }
        } else if file_type.is_file() {
            if let Some(format) = Format::of(&name) {
                files.push((entry.path(), format));
            }
        }
    }
    Ok(())
}

/// `<commit> (<branch>)` of a checkout's `HEAD`, from the loose ref or `packed-refs`.
fn git_revision(git_dir: &Path) -> Option<String> {
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(reference) = head.strip_prefix("ref: ") else {
        return Some(head.to_owned());
    };
    let branch = reference.strip_prefix("refs/heads/").unwrap_or(reference);
    let commit = std::fs::read_to_string(git_dir.join(reference)).ok().map(|text| text.trim().to_owned()).or_else(|| {
        let packed = std::fs::read_to_string(git_dir.join("packed-refs")).ok()?;
        packed.lines().find_map(|line| line.strip_suffix(reference).map(|commit| commit.trim().to_owned()))
    })?;
    Some(format!("{commit} ({branch})"))
}

/// A file read at positions of its own, so every thread reads the zip through its own clone
/// of the archive without sharing a cursor.
#[derive(Clone)]
struct SharedFile {
    file: Arc<File>,
    position: u64,
}

impl Read for SharedFile {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = read_at(&self.file, buffer, self.position)?;
        self.position += read as u64;
        Ok(read)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::End(delta) => self.file.metadata()?.len().checked_add_signed(delta),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
        };
        self.position = target.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start of the file"))?;
        Ok(self.position)
    }
}

#[cfg(unix)]
pub(crate) fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buffer, offset)
}

#[cfg(windows)]
pub(crate) fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buffer, offset)
}
