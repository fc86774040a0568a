//! RPM installed-package databases, read from bytes.
//!
//! An image's files live in memory, so every reader here takes the whole database file as a
//! byte slice and never touches the disk. Three storage formats exist in the wild:
//!
//! - SQLite `rpmdb.sqlite` (RHEL 9, Fedora 33 and later, CBL-Mariner 2): read by a small,
//!   bounded reader of one table's B-tree ([`DbFormat::Sqlite`]), no C library;
//! - BerkeleyDB hash `Packages` (RHEL 8 and earlier, CentOS, Amazon Linux 2) ([`DbFormat::BerkeleyDb`]);
//! - NDB `Packages.db` (SUSE 15 and later) ([`DbFormat::Ndb`]).
//!
//! Each stores one RPM header blob per installed package; [`parse_header`] turns a blob into an
//! [`RpmPackage`]. A damaged header or record becomes an entry in [`ReadResult::issues`] and the
//! other packages are still read (a package whose file list alone is damaged is kept, without
//! files, as rpm lists it); only damage that leaves nothing readable (a bad file header,
//! no `Packages` table) is an [`RpmDbError`]. Every offset, count and chain is checked against
//! the input, so hostile bytes give errors, never panics, hangs or unbounded allocation.

mod bdb;
mod bytes;
mod header;
mod ndb;
mod sqlite;

use std::fmt;

pub use header::{HeaderError, ParsedHeader, parse_header};

/// The storage format of an RPM database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DbFormat {
    /// SQLite 3 database `rpmdb.sqlite` with a `Packages` table of header blobs.
    Sqlite,
    /// BerkeleyDB hash database `Packages` keyed by header number.
    BerkeleyDb,
    /// rpm's own "NDB" package file `Packages.db`.
    Ndb,
}

impl fmt::Display for DbFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DbFormat::Sqlite => "SQLite rpmdb",
            DbFormat::BerkeleyDb => "BerkeleyDB rpmdb",
            DbFormat::Ndb => "NDB rpmdb",
        })
    }
}

/// One installed package, as its RPM header describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RpmPackage {
    /// `NAME` tag.
    pub name: String,
    /// `EPOCH` tag; `None` when the package has no epoch (rpm prints `(none)`).
    pub epoch: Option<u32>,
    /// `VERSION` tag.
    pub version: String,
    /// `RELEASE` tag.
    pub release: String,
    /// `ARCH` tag; `None` for headers without one (such as `gpg-pubkey` entries).
    pub arch: Option<String>,
    /// `SOURCERPM` tag, the source package file name (`bash-5.1.8-6.el9.src.rpm`).
    pub source_rpm: Option<String>,
    /// `LICENSE` tag.
    pub license: Option<String>,
    /// `VENDOR` tag.
    pub vendor: Option<String>,
    /// Installed size in bytes: `LONGSIZE` when present, else `SIZE`; 0 when neither is.
    pub size: u64,
    /// Absolute paths of the files the package owns, in header order (`DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]`,
    /// or `OLDFILENAMES` in headers that predate compressed file names).
    pub files: Vec<String>,
    /// `MODULARITYLABEL` tag of packages installed from a module stream (`nodejs:10:8020020200707141642:6a468ee4`).
    pub modularity_label: Option<String>,
}

/// What a database read produced: the packages whose headers parsed and one message for each
/// record, header or file list that did not (naming its page, slot or offset and the problem).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadResult {
    /// Packages in the database's key order (header number).
    pub packages: Vec<RpmPackage>,
    /// Records that could not be read; the packages above were read regardless.
    pub issues: Vec<String>,
}

/// Where in a database file a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// A byte offset from the start of the file.
    Offset(u64),
    /// A database page number (SQLite pages count from 1, BerkeleyDB pages from 0).
    Page(u64),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Offset(offset) => write!(f, "offset {offset}"),
            Position::Page(page) => write!(f, "page {page}"),
        }
    }
}

/// A database that cannot be read at all: its format, where the reader stopped and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{format} {position}: {problem}")]
pub struct RpmDbError {
    /// The format the bytes were read as.
    pub format: DbFormat,
    /// Where the problem is.
    pub position: Position,
    /// What is wrong.
    pub problem: String,
}

impl RpmDbError {
    fn new(format: DbFormat, position: Position, problem: impl Into<String>) -> Self {
        RpmDbError { format, position, problem: problem.into() }
    }
}

/// The file names rpm gives each format's package store.
const SQLITE_FILE_NAME: &str = "rpmdb.sqlite";
const BERKELEY_DB_FILE_NAME: &str = "Packages";
const NDB_FILE_NAME: &str = "Packages.db";

/// Which format `bytes` (the content of the file at `path`) is stored in.
///
/// The file's magic number decides. When the bytes carry no known magic (empty, truncated or
/// damaged files) the file name decides (`rpmdb.sqlite`, `Packages`, `Packages.db`), so that
/// reading such a file reports what is wrong with it instead of it being silently ignored.
/// `None` means neither identifies an RPM database.
pub fn detect(path: &str, bytes: &[u8]) -> Option<DbFormat> {
    if sqlite::has_magic(bytes) {
        return Some(DbFormat::Sqlite);
    }
    if ndb::has_magic(bytes) {
        return Some(DbFormat::Ndb);
    }
    if bdb::has_magic(bytes) {
        return Some(DbFormat::BerkeleyDb);
    }
    match path.rsplit('/').next() {
        Some(SQLITE_FILE_NAME) => Some(DbFormat::Sqlite),
        Some(BERKELEY_DB_FILE_NAME) => Some(DbFormat::BerkeleyDb),
        Some(NDB_FILE_NAME) => Some(DbFormat::Ndb),
        _ => None,
    }
}

/// Reads every installed package of a database stored in `format`.
///
/// Errors when the file's own structure (file header, schema, metadata) is unreadable; damaged
/// individual records and headers are reported in [`ReadResult::issues`] instead.
pub fn read(format: DbFormat, bytes: &[u8]) -> Result<ReadResult, RpmDbError> {
    let records = match format {
        DbFormat::Sqlite => sqlite::header_blobs(bytes)?,
        DbFormat::BerkeleyDb => bdb::header_blobs(bytes)?,
        DbFormat::Ndb => ndb::header_blobs(bytes)?,
    };
    let mut result = ReadResult { packages: Vec::with_capacity(records.blobs.len()), issues: records.issues };
    for blob in records.blobs {
        match parse_header(&blob.bytes) {
            Ok(parsed) => {
                if let Some(error) = parsed.file_list_error {
                    result.issues.push(format!("{format} {}: package {} is listed without files: {error}", blob.location, parsed.package.name));
                }
                result.packages.push(parsed.package);
            }
            Err(error) => result.issues.push(format!("{format} {}: header: {error}", blob.location)),
        }
    }
    Ok(result)
}

/// The header blobs a storage reader found, with the records it could not read.
struct HeaderBlobs<'a> {
    blobs: Vec<HeaderBlob<'a>>,
    issues: Vec<String>,
}

/// One stored header and where it was found (for messages).
struct HeaderBlob<'a> {
    location: String,
    bytes: std::borrow::Cow<'a, [u8]>,
}
