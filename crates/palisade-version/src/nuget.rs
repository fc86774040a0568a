//! NuGet versions: SemVer 2.0 with a fourth numeric part (`1.0.0.1`) and pre-release labels
//! compared without regard to case, ordered as OSV orders NuGet (osv-scalibr
//! `semantic/version-nuget.go`); build metadata is ignored.

use std::cmp::Ordering;

use crate::semver::compare_semver_like;

/// How `a` orders against `b`; any string is ordered.
pub fn compare(a: &str, b: &str) -> Ordering {
    compare_semver_like(a, b, 4, true)
}

/// Whether `NuGetVersion.TryParse` accepts `version`: one to four numeric parts (each within
/// a 32-bit signed integer), then optional `-` pre-release labels and `+` metadata, each a
/// non-empty run of ASCII letters, digits and hyphens.
pub fn is_valid(version: &str) -> bool {
    let (rest, metadata) = match version.split_once('+') {
        Some((rest, metadata)) => (rest, Some(metadata)),
        None => (version, None),
    };
    let (numbers, prerelease) = match rest.split_once('-') {
        Some((numbers, prerelease)) => (numbers, Some(prerelease)),
        None => (rest, None),
    };
    let labels_ok = |labels: Option<&str>| labels.is_none_or(|l| l.split('.').all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')));
    let parts: Vec<&str> = numbers.split('.').collect();
    (1..=4).contains(&parts.len())
        && parts.iter().all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) && part.parse::<i32>().is_ok())
        && labels_ok(prerelease)
        && labels_ok(metadata)
}
