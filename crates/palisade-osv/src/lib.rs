//! OSV advisories (<https://ossf.github.io/osv-schema/>): the record model, reading records
//! from directories, zips and git checkouts, and the on-disk index a scan opens without
//! parsing every record again.

pub mod model;

pub use model::{Advisory, Affected, AffectedPackage, Event, Range, RangeKind, Reference, SeverityScore};
