//! Debian and Ubuntu version ordering, as `dpkg --compare-versions` orders it.
//!
//! Follows dpkg's C implementation: `lib/dpkg/version.c` (`dpkg_version_compare`, `verrevcmp`)
//! and `lib/dpkg/parsehelp.c` (`parseversion`) in <https://git.dpkg.org/git/dpkg/dpkg.git>
//! (GitHub mirror guillemj/dpkg). A version is `[epoch:]upstream[-revision]`: the epoch is the
//! digits before the first `:`, the revision follows the last `-`. Within upstream and revision,
//! non-digit runs compare character by character with letters before other characters, `~`
//! before everything (even the end of the string), then digit runs compare numerically.
//!
//! Strings dpkg only warns about (`a`, `0foo`, `1.0_1`) are ordered the same way, since
//! `dpkg --compare-versions` orders them too. Strings dpkg rejects outright (bad epoch, empty
//! revision) are ordered by the same rules after a lenient split — the one Perl's
//! `Dpkg::Version` makes: an epoch only when digits precede the first `:` and something
//! follows it. Compare allocates nothing and works on bytes.
//!
//! The `debversion` crate was not used: it parses with a regular expression into owned
//! strings for every comparison and rejects the strings dpkg merely warns about.

use std::cmp::Ordering;

/// How `a` orders against `b` as dpkg orders Debian versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let a = Parts::split(a);
    let b = Parts::split(b);
    compare_numbers(a.epoch, b.epoch)
        .then_with(|| compare_fragment(a.upstream, b.upstream))
        .then_with(|| compare_fragment(a.revision, b.revision))
}

/// Whether dpkg's `parseversion` accepts `version` without an error or a warning.
pub fn is_valid(version: &str) -> bool {
    let version = version.trim_matches(is_space);
    if version.bytes().any(|b| is_space(b as char)) {
        return false;
    }
    let rest = match version.split_once(':') {
        Some((epoch, rest)) => {
            let epoch_fits = !epoch.is_empty() && epoch.bytes().all(|b| b.is_ascii_digit()) && epoch.parse::<i32>().is_ok();
            if !epoch_fits || rest.is_empty() {
                return false;
            }
            rest
        }
        None => version,
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((_, "")) => return false,
        Some((upstream, revision)) => (upstream, revision),
        None => (rest, ""),
    };
    upstream.as_bytes().first().is_some_and(u8::is_ascii_digit)
        && upstream.bytes().all(|b| b.is_ascii_alphanumeric() || b".-+~:".contains(&b))
        && revision.bytes().all(|b| b.is_ascii_alphanumeric() || b".+~".contains(&b))
}

/// dpkg trims what C's `isspace` calls space.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

struct Parts<'a> {
    /// Digits only (possibly empty, meaning 0).
    epoch: &'a [u8],
    upstream: &'a [u8],
    revision: &'a [u8],
}

impl<'a> Parts<'a> {
    fn split(version: &'a str) -> Self {
        let version = version.trim_matches(is_space).as_bytes();
        let (epoch, rest) = match version.iter().position(|&b| b == b':') {
            Some(colon) if colon > 0 && colon + 1 < version.len() && version[..colon].iter().all(u8::is_ascii_digit) => (&version[..colon], &version[colon + 1..]),
            _ => (&version[..0], version),
        };
        let (upstream, revision) = match rest.iter().rposition(|&b| b == b'-') {
            Some(hyphen) => (&rest[..hyphen], &rest[hyphen + 1..]),
            None => (rest, &rest[..0]),
        };
        Parts { epoch, upstream, revision }
    }
}

/// Two digit strings compared as unbounded numbers (dpkg rejects epochs past `INT_MAX`; here
/// they still order by value rather than overflow).
fn compare_numbers(a: &[u8], b: &[u8]) -> Ordering {
    let a = strip_zeros(a);
    let b = strip_zeros(b);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn strip_zeros(digits: &[u8]) -> &[u8] {
    let start = digits.iter().position(|&b| b != b'0').unwrap_or(digits.len());
    &digits[start..]
}

/// The weight of a byte in a non-digit run (dpkg's `order`): the end of the string and digits
/// weigh 0, `~` sorts before them, letters after, and everything else after letters.
fn weight(byte: Option<u8>) -> i32 {
    match byte {
        None => 0,
        Some(b) if b.is_ascii_digit() => 0,
        Some(b) if b.is_ascii_alphabetic() => i32::from(b),
        Some(b'~') => -1,
        // dpkg reads bytes as C `char`, signed on the platforms Debian builds for most: bytes
        // past 0x7f weigh 128..255, between letters and ASCII punctuation.
        Some(b) if b >= 0x80 => i32::from(b as i8) + 256,
        Some(b) => i32::from(b) + 256,
    }
}

/// dpkg's `verrevcmp` over one part (upstream or revision).
fn compare_fragment(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while a.get(i).is_some_and(|c| !c.is_ascii_digit()) || b.get(j).is_some_and(|c| !c.is_ascii_digit()) {
            let order = weight(a.get(i).copied()).cmp(&weight(b.get(j).copied()));
            if order != Ordering::Equal {
                return order;
            }
            i += 1;
            j += 1;
        }
        let digits_a = run_of_digits(a, i);
        let digits_b = run_of_digits(b, j);
        i += digits_a.len();
        j += digits_b.len();
        let order = compare_numbers(digits_a, digits_b);
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

fn run_of_digits(s: &[u8], start: usize) -> &[u8] {
    let s = s.get(start..).unwrap_or_default();
    let len = s.iter().position(|b| !b.is_ascii_digit()).unwrap_or(s.len());
    &s[..len]
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn epoch_outweighs_everything_and_defaults_to_zero() {
        assert_eq!(compare("1:1.0", "9.9"), Greater);
        assert_eq!(compare("0:1.0", "1.0"), Equal);
        assert_eq!(compare("00:1.0", "1.0"), Equal);
        assert_eq!(compare("2:0.1", "10:0.1"), Less);
        // An epoch far past INT_MAX still orders by value, without overflow.
        assert_eq!(compare("99999999999999999999:1", "99999999999999999998:2"), Greater);
    }

    #[test]
    fn tilde_sorts_before_the_end_and_plus_after() {
        assert_eq!(compare("1.0~rc1", "1.0"), Less);
        assert_eq!(compare("1.0~~", "1.0~"), Less);
        assert_eq!(compare("1.0~rc1-1", "1.0-1"), Less);
        assert_eq!(compare("1.0+dfsg-1", "1.0-1"), Greater);
        assert_eq!(compare("2.30-1+deb12u1", "2.30-1"), Greater);
        assert_eq!(compare("2.30-1+deb12u1", "2.30-2"), Less);
        assert_eq!(compare("1.0a", "1.0+"), Less);
    }

    #[test]
    fn revision_is_after_the_last_hyphen_and_missing_is_empty() {
        assert_eq!(compare("1.0-2-1", "1.0-1-2"), Greater);
        assert_eq!(compare("1.0", "1.0-0"), Equal);
        assert_eq!(compare("1.0-1", "1.0"), Greater);
    }

    #[test]
    fn hostile_input_is_ordered_without_panicking() {
        for s in ["", ":", "-", "1:", ":1", "a:b-c", "\u{e9}", "1.0-\u{ff}", "~-~", "1:2:3"] {
            assert_eq!(compare(s, s), Equal, "{s:?}");
            let _ = (compare(s, "1.0"), is_valid(s));
        }
        assert_eq!(compare(" 1.0 ", "1.0"), Equal);
    }

    #[test]
    fn validity_matches_parseversion() {
        for valid in ["1.0", "1:2.30-1+deb12u1", "0.1~rc1", "1:1.2:3-4", "7"] {
            assert!(is_valid(valid), "{valid}");
        }
        for invalid in ["", "a", "0foo_bar", "1:", "x:1.0", "1.0-", "1 0", "1.0-a_b", "2147483648:1", "1.2:3-4"] {
            assert!(!is_valid(invalid), "{invalid}");
        }
    }
}
