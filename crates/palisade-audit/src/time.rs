//! RFC 3339 timestamps to and from nanoseconds since the Unix epoch, in UTC: audit events carry
//! `stageTimestamp` in this one format, and alerts print Falco's two shapes
//! (`HH:MM:SS.nnnnnnnnn` and ISO 8601 with nanoseconds).

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let parsed = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(parsed.unix_timestamp_nanos()).ok()
}

/// `2024-05-01T12:34:56.123456789Z`
pub fn format_iso8601(ns: i64) -> String {
    let utc = utc(ns);
    format!("{}T{}Z", utc.date(), format_clock(utc))
}

/// `12:34:56.123456789`, Falco's `%evt.time`.
pub fn format_time(ns: i64) -> String {
    format_clock(utc(ns))
}

fn utc(ns: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns)).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn format_clock(utc: OffsetDateTime) -> String {
    format!("{:02}:{:02}:{:02}.{:09}", utc.hour(), utc.minute(), utc.second(), utc.nanosecond())
}

/// Now, in nanoseconds since the epoch.
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let ns = parse_rfc3339("2024-02-29T23:59:58.123456Z").unwrap();
        assert_eq!(format_iso8601(ns), "2024-02-29T23:59:58.123456000Z");
        assert_eq!(format_time(ns), "23:59:58.123456000");
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00-00:30"), Some(1_800_000_000_000));
        assert_eq!(parse_rfc3339("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("garbage"), None);
        assert_eq!(parse_rfc3339("2024-01-01T00:00:00.Z"), None);
        assert_eq!(parse_rfc3339("2024-01-01T00:00:00+1:00"), None);
    }
}
