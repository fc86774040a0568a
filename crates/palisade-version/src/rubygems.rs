//! RubyGems versions, ordered as `Gem::Version#<=>` orders them: `-` reads as `.pre.`, the
//! version splits into runs of digits and runs of letters, trailing zeros are dropped from the
//! numeric head and from the rest, and a letter segment sorts below any number (so
//! `1.0.a < 1.0`).

use std::cmp::Ordering;

use crate::semver::compare_decimal;

/// How `a` orders against `b`; any string is ordered.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (canonical_segments(a), canonical_segments(b));
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i).copied().unwrap_or(Segment::Number("0")), b.get(i).copied().unwrap_or(Segment::Number("0")));
        let order = match (x, y) {
            (Segment::Number(x), Segment::Number(y)) => compare_decimal(x, y),
            (Segment::Text(x), Segment::Text(y)) => x.cmp(y),
            (Segment::Text(_), Segment::Number(_)) => Ordering::Less,
            (Segment::Number(_), Segment::Text(_)) => Ordering::Greater,
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

/// Whether `Gem::Version.correct?` accepts `version` (`ANCHORED_VERSION_PATTERN`; blank reads as `0`).
pub fn is_valid(version: &str) -> bool {
    let version = version.trim();
    if version.is_empty() {
        return true;
    }
    let (release, prerelease) = match version.split_once('-') {
        Some((release, prerelease)) => (release, Some(prerelease)),
        None => (version, None),
    };
    let mut parts = release.split('.');
    let first_ok = parts.next().is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    first_ok
        && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        && prerelease.is_none_or(|pre| pre.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Segment<'a> {
    Number(&'a str),
    Text(&'a str),
}

impl Segment<'_> {
    fn is_zero(&self) -> bool {
        matches!(self, Segment::Number(n) if n.bytes().all(|b| b == b'0'))
    }
}

/// `Gem::Version#canonical_segments`.
fn canonical_segments(version: &str) -> Vec<Segment<'_>> {
    let bytes = version.trim().as_bytes();
    let text = version.trim();
    let mut segments = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'-' {
            segments.push(Segment::Text("pre"));
            i += 1;
        } else if b.is_ascii_digit() {
            let len = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            segments.push(Segment::Number(&text[i..i + len]));
            i += len;
        } else if b.is_ascii_alphabetic() {
            let len = bytes[i..].iter().take_while(|b| b.is_ascii_alphabetic()).count();
            segments.push(Segment::Text(&text[i..i + len]));
            i += len;
        } else {
            i += 1;
        }
    }
    // Trailing zeros go from the numeric head and from the rest, separately.
    let head = segments.iter().position(|s| matches!(s, Segment::Text(_))).unwrap_or(segments.len());
    let mut tail = segments.split_off(head);
    while tail.last().is_some_and(Segment::is_zero) {
        tail.pop();
    }
    while segments.last().is_some_and(Segment::is_zero) {
        segments.pop();
    }
    segments.extend(tail);
    segments
}
