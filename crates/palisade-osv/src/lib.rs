//! OSV advisories (<https://ossf.github.io/osv-schema/>): the record model, reading records
//! from directories, zips and git checkouts, and the on-disk index a scan opens without
//! parsing every record again.

mod build;
mod clock;
mod database;
mod error;
mod import;
mod index;
mod meta;
mod lock;
pub mod model;
mod name;
mod record;
mod source;
mod update;
mod yaml;

pub use database::{Database, Status};
pub use error::{DbError, RecordError};
pub use import::{import, ImportReport};
pub use index::{DETAILS_BYTES, FORMAT as INDEX_FORMAT};
pub use meta::SourceStatus;
pub use model::{Advisory, Affected, AffectedPackage, Event, Range, RangeKind, Reference, SeverityScore};
pub use name::normalize_name;
pub use source::SourceKind;
pub use update::{update, EcosystemUpdate, UpdateOptions, UpdateOutcome, UpdateReport, DEFAULT_BASE_URL};

/// How far a long operation is, for a progress display.
#[derive(Clone, Copy, Debug)]
pub enum Progress<'a> {
    /// Records of a source read so far.
    Records { source: &'a str, done: usize, total: usize },
    /// Bytes of an ecosystem's export received so far.
    Download { ecosystem: &'a str, received: u64, total: Option<u64> },
}
