//! Dates as the index records them: RFC 3339 in UTC.

use std::time::Duration;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub(crate) fn now() -> String {
    OffsetDateTime::now_utc().replace_nanosecond(0).unwrap_or_else(|_| OffsetDateTime::now_utc()).format(&Rfc3339).unwrap_or_default()
}

/// Time from `date` (RFC 3339) to now; `None` when it does not parse, zero when it is ahead.
pub(crate) fn age(date: &str) -> Option<Duration> {
    let then = OffsetDateTime::parse(date, &Rfc3339).ok()?;
    let elapsed = OffsetDateTime::now_utc() - then;
    Some(elapsed.try_into().unwrap_or(Duration::ZERO))
}

/// Dates in time order: parsed instants first by instant (unparsable ones before them),
/// ties by text. A total order, so sorting by it is sound.
pub(crate) fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |date: &str| OffsetDateTime::parse(date, &Rfc3339).ok();
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}
