//! RPM version ordering (Red Hat, AlmaLinux, Rocky, SUSE, openSUSE, Mageia, openEuler, ...).
//!
//! Follows rpm's own code in <https://github.com/rpm-software-management/rpm>:
//! `rpmio/rpmvercmp.cc` (`rpmvercmp`: alphanumeric segments, `~` sorting before everything,
//! `^` after the base version but before any further segment) and `rpmio/rpmver.cc`
//! (`parseEVR`, `rpmverCmp`): a version is `[epoch:]version[-release]`, the epoch being the
//! leading digits when a `:` follows them (a missing or empty epoch is `0`), the release what
//! follows the last `-`. A version without a release sorts before the same version with one,
//! as `rpmverCmp` does (`1.0` < `1.0-1`). Plain rpmvercmp strings (no `:`/`-`) compare exactly
//! as `rpmvercmp` compares them, so the same function serves both.
//!
//! Compare allocates nothing and works on bytes.

use std::cmp::Ordering;

/// How `a` orders against `b` as rpm orders `[epoch:]version[-release]` strings.
pub fn compare(a: &str, b: &str) -> Ordering {
    let a = Evr::parse(a);
    let b = Evr::parse(b);
    vercmp(a.epoch, b.epoch).then_with(|| vercmp(a.version, b.version)).then_with(|| match (a.release, b.release) {
        (Some(a), Some(b)) => vercmp(a, b),
        (a, b) => a.is_some().cmp(&b.is_some()),
    })
}

/// Whether `version` is a well-formed EVR: a numeric epoch if any, a non-empty version, a
/// non-empty release if a `-` is present, and only the characters rpm allows in a version
/// (`[A-Za-z0-9._+~^]`; `-` only as the release separator, `:` only after the epoch).
pub fn is_valid(version: &str) -> bool {
    let evr = Evr::parse(version);
    let allowed = |part: &[u8]| !part.is_empty() && part.iter().all(|&b| b.is_ascii_alphanumeric() || b"._+~^".contains(&b));
    evr.epoch.iter().all(u8::is_ascii_digit) && allowed(evr.version) && evr.release.is_none_or(allowed)
}

/// The three parts of an EVR as `parseEVR` splits them.
struct Evr<'a> {
    /// Digits, `0` when absent or empty.
    epoch: &'a [u8],
    version: &'a [u8],
    release: Option<&'a [u8]>,
}

impl<'a> Evr<'a> {
    fn parse(evr: &'a str) -> Self {
        let evr = evr.as_bytes();
        let digits = evr.iter().position(|b| !b.is_ascii_digit()).unwrap_or(evr.len());
        let (epoch, version_start) = match evr.get(digits) {
            Some(b':') if digits > 0 => (&evr[..digits], digits + 1),
            _ => (&b"0"[..], if evr.get(digits) == Some(&b':') { digits + 1 } else { 0 }),
        };
        let rest = &evr[version_start..];
        // parseEVR looks for the last `-` after the epoch's digits; a `-` inside the epoch's
        // digits cannot occur, so searching what follows the epoch is the same.
        match rest.iter().rposition(|&b| b == b'-') {
            Some(hyphen) => Evr { epoch, version: &rest[..hyphen], release: Some(&rest[hyphen + 1..]) },
            None => Evr { epoch, version: rest, release: None },
        }
    }
}

/// rpm's `rpmvercmp`.
fn vercmp(a: &[u8], b: &[u8]) -> Ordering {
    // C strings end at the first NUL byte.
    let a = a.split(|&b| b == 0).next().unwrap_or_default();
    let b = b.split(|&b| b == 0).next().unwrap_or_default();
    if a == b {
        return Ordering::Equal;
    }
    let is_separator = |c: &u8| !c.is_ascii_alphanumeric() && *c != b'~' && *c != b'^';
    let (mut one, mut two) = (a, b);
    while !one.is_empty() || !two.is_empty() {
        one = trim_start(one, is_separator);
        two = trim_start(two, is_separator);

        // `~` sorts before everything, the end of the string included.
        match (one.first(), two.first()) {
            (Some(b'~'), Some(b'~')) => {
                (one, two) = (&one[1..], &two[1..]);
                continue;
            }
            (Some(b'~'), _) => return Ordering::Less,
            (_, Some(b'~')) => return Ordering::Greater,
            _ => {}
        }
        // `^` sorts after the end of the string but before anything else.
        match (one.first(), two.first()) {
            (Some(b'^'), Some(b'^')) => {
                (one, two) = (&one[1..], &two[1..]);
                continue;
            }
            (Some(b'^'), None) => return Ordering::Greater,
            (None, Some(b'^')) => return Ordering::Less,
            (Some(b'^'), _) => return Ordering::Less,
            (_, Some(b'^')) => return Ordering::Greater,
            _ => {}
        }
        let (Some(first), Some(_)) = (one.first(), two.first()) else { break };

        let numeric = first.is_ascii_digit();
        let in_segment = |c: &u8| if numeric { c.is_ascii_digit() } else { c.is_ascii_alphabetic() };
        let len_one = one.iter().position(|c| !in_segment(c)).unwrap_or(one.len());
        let len_two = two.iter().position(|c| !in_segment(c)).unwrap_or(two.len());
        let (segment_one, segment_two) = (&one[..len_one], &two[..len_two]);
        (one, two) = (&one[len_one..], &two[len_two..]);

        // Segments of different kinds: the numeric one is newer.
        if segment_two.is_empty() {
            return if numeric { Ordering::Greater } else { Ordering::Less };
        }
        let order = if numeric {
            let segment_one = trim_start(segment_one, |&c| c == b'0');
            let segment_two = trim_start(segment_two, |&c| c == b'0');
            segment_one.len().cmp(&segment_two.len()).then_with(|| segment_one.cmp(segment_two))
        } else {
            segment_one.cmp(segment_two)
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    // Whichever still has characters left wins (only separators may differ otherwise).
    one.is_empty().cmp(&two.is_empty()).reverse()
}

fn trim_start(s: &[u8], strip: impl Fn(&u8) -> bool) -> &[u8] {
    &s[s.iter().position(|c| !strip(c)).unwrap_or(s.len())..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn missing_epoch_is_zero_and_epoch_outweighs_version() {
        assert_eq!(compare("0:1.0-1", "1.0-1"), Equal);
        assert_eq!(compare(":1.0-1", "1.0-1"), Equal);
        assert_eq!(compare("1:1.0-1", "2.0-1"), Greater);
        assert_eq!(compare("1:1.0-1.el9", "1:1.0-1.el9"), Equal);
        assert_eq!(compare("2:8.2.2637-20.el9_1", "2:8.2.2637-21.el9"), Less);
    }

    #[test]
    fn release_decides_after_version_and_missing_release_sorts_first() {
        assert_eq!(compare("1.0-2", "1.0-10"), Less);
        assert_eq!(compare("1.0", "1.0-1"), Less);
        assert_eq!(compare("1.0-1-2", "1.0-1-1"), Greater, "release is after the last hyphen");
        assert_eq!(compare("3.0.7-16.el9_2", "3.0.7-16.el9"), Greater);
    }

    #[test]
    fn tilde_sorts_before_and_caret_after_the_base_version() {
        assert_eq!(compare("1.0~rc1-1", "1.0-1"), Less);
        assert_eq!(compare("1.0^git1-1", "1.0-1"), Greater);
        assert_eq!(compare("1.0^git1-1", "1.0.1-1"), Less);
        assert_eq!(compare("1.0~rc1^git1", "1.0~rc1"), Greater);
    }

    #[test]
    fn separators_do_not_count_and_letters_sort_before_digits() {
        assert_eq!(compare("1.0", "1_0"), Equal);
        assert_eq!(compare("1.a", "1.1"), Less);
        assert_eq!(compare("1.0a", "1.0"), Greater);
    }

    #[test]
    fn hostile_input_is_ordered_without_panicking() {
        for s in ["", ":", "-", "1:", ":-", "a\0b", "\u{e9}", "~^", "1:2:3-4-5"] {
            assert_eq!(compare(s, s), Equal, "{s:?}");
            let _ = (compare(s, "1.0-1"), compare("1.0-1", s), is_valid(s));
        }
    }

    #[test]
    fn validity() {
        for valid in ["1.0", "1:1.0-1.el9", "1.0~rc1^git2-3", "0.1_2+3"] {
            assert!(is_valid(valid), "{valid}");
        }
        for invalid in ["", "1.0-", "a:1.0", "1:", "1.0 1", "1.0-1/2"] {
            assert!(!is_valid(invalid), "{invalid}");
        }
    }
}
