//! Software bills of materials from an inventory: CycloneDX 1.6 JSON, SPDX 2.3 JSON, a table
//! for people, and Palisade's own JSON (see `docs/formats/sbom.md`); and back: [`read`] turns
//! CycloneDX and SPDX documents into inventories.
//!
//! Output is byte-stable: the same inventory, options and timestamp always give the same
//! bytes. Only the timestamp changes from run to run (the CLI takes it from
//! `SOURCE_DATE_EPOCH` when set, see [`timestamp_from_source_date_epoch`]), and with it the
//! identifiers derived from it: CycloneDX's `serialNumber` and SPDX's `documentNamespace`.

mod cyclonedx;
mod identity;
mod license;
mod native;
pub mod read;
mod source;
mod spdx_json;
mod table;

use std::io;

pub use cyclonedx::package_bom_refs;
use palisade_pkg::Inventory;
use time::{OffsetDateTime, UtcOffset};

/// An output format of `palisade sbom`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// CycloneDX 1.6, JSON encoding.
    CycloneDxJson,
    /// SPDX 2.3, JSON encoding.
    SpdxJson,
    /// One line per package: name, version, type.
    Table,
    /// Palisade's inventory as JSON (`schemaVersion` 1).
    Json,
}

impl Format {
    /// Every format, in the order help texts list them.
    pub const ALL: [Format; 4] = [Self::CycloneDxJson, Self::SpdxJson, Self::Table, Self::Json];

    /// The name on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CycloneDxJson => "cyclonedx-json",
            Self::SpdxJson => "spdx-json",
            Self::Table => "table",
            Self::Json => "json",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|format| format.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| format!("unknown SBOM format `{text}` (expected cyclonedx-json, spdx-json, table or json)"))
    }
}

/// What the documents say about their making, and how the table looks.
#[derive(Clone, Debug)]
pub struct SbomOptions {
    /// When the document was made; written in UTC to the second.
    pub timestamp: OffsetDateTime,
    /// The tool named as the document's author: `palisade`.
    pub tool_name: String,
    /// Its version: `0.1.0`.
    pub tool_version: String,
    /// ANSI styling in the table; the CLI sets it from `IsTerminal` and `NO_COLOR`.
    pub color: bool,
}

impl SbomOptions {
    /// Options naming `tool_name` `tool_version` as the author, without colour.
    pub fn new(
        tool_name: impl Into<String>,
        tool_version: impl Into<String>,
        timestamp: OffsetDateTime,
    ) -> Self {
        Self {
            timestamp,
            tool_name: tool_name.into(),
            tool_version: tool_version.into(),
            color: false,
        }
    }
}

/// The documents' timestamp: `SOURCE_DATE_EPOCH`'s value (seconds since 1970, as
/// reproducible-builds.org defines it) when the caller passes one, else now. A malformed value
/// is an error, as the specification asks, rather than silently the current time.
pub fn timestamp_from_source_date_epoch(
    source_date_epoch: Option<&str>,
) -> Result<OffsetDateTime, String> {
    let Some(value) = source_date_epoch else {
        return Ok(OffsetDateTime::now_utc());
    };
    let seconds: u64 = value.trim().parse().map_err(|_| {
        format!("SOURCE_DATE_EPOCH=`{value}` is not a whole number of seconds since 1970-01-01")
    })?;
    // Years past 9999 have no RFC 3339 form.
    i64::try_from(seconds)
        .ok()
        .and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok())
        .ok_or_else(|| format!("SOURCE_DATE_EPOCH=`{value}` is out of range"))
}

/// Writes `inventory` as `format`.
pub fn write(
    inventory: &Inventory,
    format: Format,
    options: &SbomOptions,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    match format {
        Format::CycloneDxJson => cyclonedx::write(inventory, options, out),
        Format::SpdxJson => spdx_json::write(inventory, options, out),
        Format::Table => table::write(inventory, options, out),
        Format::Json => native::write(inventory, out),
    }
}

/// `2026-12-04T03:53:20Z`: RFC 3339 in UTC, whole seconds (both formats' date-time fields).
fn rfc3339(timestamp: OffsetDateTime) -> String {
    let utc = timestamp.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    )
}

/// Pretty JSON with a final newline, as every JSON format here is written.
fn write_json(value: &impl serde::Serialize, out: &mut dyn io::Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_case_insensitively_and_round_trip() {
        for format in Format::ALL {
            assert_eq!(
                format.to_string().to_uppercase().parse::<Format>(),
                Ok(format)
            );
        }
        assert!(
            "cyclonedx"
                .parse::<Format>()
                .unwrap_err()
                .contains("cyclonedx-json, spdx-json, table or json")
        );
    }

    #[test]
    fn source_date_epoch_sets_the_timestamp() {
        let timestamp = timestamp_from_source_date_epoch(Some("1700000000")).unwrap();
        assert_eq!(rfc3339(timestamp), "2023-11-14T22:13:20Z");
        assert_eq!(
            rfc3339(timestamp_from_source_date_epoch(Some("0")).unwrap()),
            "1970-01-01T00:00:00Z"
        );
        assert!(
            timestamp_from_source_date_epoch(Some("yesterday"))
                .unwrap_err()
                .contains("`yesterday`")
        );
        assert!(timestamp_from_source_date_epoch(Some("-1")).is_err());
        assert!(
            timestamp_from_source_date_epoch(Some("99999999999999999"))
                .unwrap_err()
                .contains("out of range")
        );
        let now = timestamp_from_source_date_epoch(None).unwrap();
        assert!((OffsetDateTime::now_utc() - now).whole_seconds().abs() < 60);
    }

    #[test]
    fn timestamps_are_utc_whole_seconds() {
        let offset = UtcOffset::from_hms(2, 0, 0).unwrap();
        let local = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789)
            .unwrap()
            .to_offset(offset);
        assert_eq!(rfc3339(local), "2023-11-14T22:13:20Z");
    }
}
