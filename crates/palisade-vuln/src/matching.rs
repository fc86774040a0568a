//! Whether an OSV advisory affects one installed version, exactly as the OSV schema's
//! evaluation (<https://ossf.github.io/osv-schema/#evaluation>) says:
//!
//! - an `affected` entry applies when its package has the query's exact ecosystem string and
//!   its name (PyPI names compared PEP 503-normalised);
//! - the version is affected when it equals one of the entry's `versions` (equality in the
//!   ecosystem's ordering: `1.0` and `1.0.0` are one PyPI version) or lies in one of its
//!   ranges; entries and ranges are OR'ed;
//! - `ECOSYSTEM` ranges compare in the ecosystem's ordering, `SEMVER` ranges in SemVer's
//!   (Go's, which accepts the `v`-less form OSV writes, for the `Go` ecosystem); `GIT` ranges
//!   name commits, which an installed package does not have, so only the entry's `versions`
//!   list counts for them (as osv-scanner);
//! - events are sorted in that ordering (`introduced: 0` first; events at equal versions keep
//!   the advisory's order), then walked: `introduced` ≤ v makes it affected, `fixed` ≤ v and
//!   `last_affected` < v make it unaffected; with `limit` events, v must be below one of them
//!   (`*` is infinity);
//! - withdrawn advisories affect nothing.
//!
//! The versions to move to are the `fixed` events above the installed version in the ranges
//! that matched, lowest first.

use std::cmp::Ordering;

use palisade_osv::{Advisory, Affected, Event, Range, RangeKind};
use palisade_version::Scheme;

use crate::ecosystem::Query;

/// How an advisory affects a query's version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Affects {
    /// Versions that fix it, lowest first, deduplicated; empty when no fix is published.
    pub fixed: Vec<String>,
}

/// `Some` when `advisory` affects `query`'s package at its version.
pub fn affects(advisory: &Advisory, query: &Query) -> Option<Affects> {
    if advisory.withdrawn.is_some() {
        return None;
    }
    let wanted = palisade_osv::normalize_name(&query.ecosystem, &query.name);
    let mut affected = false;
    let mut fixed: Vec<&str> = Vec::new();
    for entry in &advisory.affected {
        let Some(package) = &entry.package else { continue };
        if package.ecosystem != query.ecosystem || palisade_osv::normalize_name(&package.ecosystem, &package.name) != wanted {
            continue;
        }
        if entry_affects(entry, query, &mut fixed) {
            affected = true;
        }
    }
    if !affected {
        return None;
    }
    fixed.sort_by(|a, b| query.scheme.compare(a, b));
    fixed.dedup_by(|a, b| query.scheme.compare(a, b) == Ordering::Equal);
    Some(Affects { fixed: fixed.into_iter().map(str::to_owned).collect() })
}

/// Whether one `affected` entry covers the version; the `fixed` events above it of the ranges
/// that cover it are added to `fixed`.
fn entry_affects<'a>(entry: &'a Affected, query: &Query, fixed: &mut Vec<&'a str>) -> bool {
    let mut affected = entry.versions.iter().any(|listed| query.scheme.compare(&query.version, listed) == Ordering::Equal);
    for range in &entry.ranges {
        let Some(scheme) = range_scheme(range, query) else { continue };
        let version = match range.kind {
            RangeKind::Semver => query.version.strip_prefix('v').unwrap_or(&query.version),
            _ => &query.version,
        };
        if range_contains(range, version, scheme) {
            affected = true;
            fixed.extend(range.events.iter().filter_map(|event| match event {
                Event::Fixed(at) if scheme.compare(at, version) == Ordering::Greater => Some(at.as_str()),
                _ => None,
            }));
        }
    }
    affected
}

/// The ordering a range's events are written in; `None` for ranges that cannot place an
/// installed version (`GIT`, unknown types).
fn range_scheme(range: &Range, query: &Query) -> Option<Scheme> {
    match &range.kind {
        RangeKind::Ecosystem => Some(query.scheme),
        RangeKind::Semver if query.scheme == Scheme::Go => Some(Scheme::Go),
        RangeKind::Semver => Some(Scheme::Semver),
        RangeKind::Git | RangeKind::Other(_) => None,
    }
}

/// The schema's `IncludedInRanges` for one range.
pub fn range_contains(range: &Range, version: &str, scheme: Scheme) -> bool {
    if !before_limits(range, version, scheme) {
        return false;
    }
    let mut events: Vec<&Event> = range.events.iter().filter(|event| !matches!(event, Event::Limit(_))).collect();
    // Stable: events at equal versions keep the advisory's order.
    events.sort_by(|a, b| order_events(a, b, scheme));
    let mut vulnerable = false;
    for event in events {
        match event {
            Event::Introduced(at) if at == "0" || scheme.compare(version, at) != Ordering::Less => vulnerable = true,
            Event::Fixed(at) if scheme.compare(version, at) != Ordering::Less => vulnerable = false,
            Event::LastAffected(at) if scheme.compare(version, at) == Ordering::Greater => vulnerable = false,
            _ => {}
        }
    }
    vulnerable
}

fn before_limits(range: &Range, version: &str, scheme: Scheme) -> bool {
    let mut limits = range.events.iter().filter_map(|event| match event {
        Event::Limit(at) => Some(at.as_str()),
        _ => None,
    });
    let Some(first) = limits.next() else { return true };
    std::iter::once(first).chain(limits).any(|limit| limit == "*" || scheme.compare(version, limit) == Ordering::Less)
}

fn order_events(a: &Event, b: &Event, scheme: Scheme) -> Ordering {
    let (a, b) = (event_version(a), event_version(b));
    match (a == "0", b == "0") {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => scheme.compare(a, b),
    }
}

fn event_version(event: &Event) -> &str {
    match event {
        Event::Introduced(at) | Event::Fixed(at) | Event::LastAffected(at) | Event::Limit(at) => at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A range as the schema's examples write them.
    fn range(kind: &str, events: serde_json::Value) -> Range {
        serde_json::from_value(serde_json::json!({"type": kind, "events": events})).unwrap()
    }

    #[test]
    fn last_affected_is_inclusive_and_fixed_exclusive() {
        // The schema's `last_affected` example: 2.1.214 is the last affected version.
        let last = range("SEMVER", serde_json::json!([{"introduced": "0"}, {"last_affected": "2.1.214"}]));
        assert!(range_contains(&last, "2.1.214", Scheme::Semver));
        assert!(!range_contains(&last, "2.1.215", Scheme::Semver));
        let fixed = range("SEMVER", serde_json::json!([{"introduced": "1.0.0"}, {"fixed": "1.2.0"}]));
        assert!(range_contains(&fixed, "1.0.0", Scheme::Semver) && range_contains(&fixed, "1.1.9", Scheme::Semver));
        assert!(!range_contains(&fixed, "1.2.0", Scheme::Semver) && !range_contains(&fixed, "0.9.0", Scheme::Semver));
    }

    #[test]
    fn limits_bound_the_range_and_events_are_sorted_first() {
        // Events out of order: sorting puts `introduced: 0` first and orders the rest.
        let unsorted = range("ECOSYSTEM", serde_json::json!([{"fixed": "2.0.0"}, {"introduced": "1.5.0"}, {"fixed": "1.0.0"}, {"introduced": "0"}]));
        assert!(range_contains(&unsorted, "0.5.0", Scheme::Semver));
        assert!(!range_contains(&unsorted, "1.2.0", Scheme::Semver));
        assert!(range_contains(&unsorted, "1.9.0", Scheme::Semver));
        assert!(!range_contains(&unsorted, "2.0.0", Scheme::Semver));
        let limited = range("ECOSYSTEM", serde_json::json!([{"introduced": "1.0.0"}, {"limit": "1.5.0"}]));
        assert!(range_contains(&limited, "1.4.0", Scheme::Semver));
        assert!(!range_contains(&limited, "1.5.0", Scheme::Semver));
        let unlimited = range("ECOSYSTEM", serde_json::json!([{"introduced": "1.0.0"}, {"limit": "*"}]));
        assert!(range_contains(&unlimited, "99.0.0", Scheme::Semver));
    }

    #[test]
    fn git_ranges_leave_only_the_versions_list() {
        let advisory: Advisory = serde_json::from_value(serde_json::json!({
            "id": "OSV-TEST",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "ranges": [{"type": "GIT", "repo": "https://example.com/x", "events": [{"introduced": "0"}]}], "versions": ["1.0"]}]
        }))
        .unwrap();
        let query = |version: &str| Query { ecosystem: "PyPI".into(), name: "x".into(), version: version.into(), scheme: Scheme::Pep440 };
        // `1.0.0` is `1.0` in PEP 440.
        assert!(affects(&advisory, &query("1.0.0")).is_some());
        assert!(affects(&advisory, &query("1.1")).is_none());
    }
}
