//! Alpine, Wolfi and Chainguard version ordering for OSV matching: apk-tools 3.x's order for
//! the versions apk-tools accepts, OSV's own reference comparator for the strings it rejects.
//!
//! Versions apk-tools 3.x accepts follow `src/version.c` of
//! <https://gitlab.alpinelinux.org/alpine/apk-tools> (GitHub mirror alpinelinux/apk-tools,
//! master): a version is `digit{.digit}...{letter}{_suffix{number}}...{~hash}{-r#}`, read as a
//! sequence of tokens compared pairwise while both sides have the same kind of token. Digits
//! compare numerically, except that a dotted component with a leading zero on either side
//! compares as a string (`8.2.0015` < `8.2.002`, Gentoo's rule); suffixes order
//! `_alpha` < `_beta` < `_pre` < `_rc` < (none) < `_cvs` < `_svn` < `_git` < `_hg` < `_p`; when one
//! side runs out of tokens of the shared kind, a pre-release suffix makes it older and otherwise
//! the side with more to say is newer; `~hash` compares as text.
//!
//! When apk-tools 3.x rejects either string (`6.6.2p1-r0`: a digit may not follow a letter in
//! 3.x; `1.0_foo`; `1-ruff`), apk-tools itself gives no useful order (3.x stops at the first bad
//! token and calls the rest equal, 2.x orders on by different rules), and such strings do occur
//! in old Alpine data and OSV records. There the order is OSV's: google/osv-scalibr
//! `semantic/version-alpine.go`, the comparator osv-scanner decides "affected" with and from
//! which the osv-scalibr rows of the vectors come. Two strings it calls invalid (leftover text
//! that is not `-r#`) compare as plain byte strings (`6.6.2p1-r0` < `6.6.2p1-r1`); otherwise
//! numbers, letter, suffixes and `-r` are compared in turn and leftover text makes a version
//! older (`1-ruff` < `1`).
//!
//! apk's own dependency operators (`compare_fuzzy`, the fuzzy operators of `matches`) follow
//! apk-tools 3.x for every string, as apk evaluates them. Compare allocates nothing and works
//! on bytes.

use std::cmp::Ordering;

/// How `a` orders against `b`: apk-tools 3.x's order when it accepts both, else OSV's (see the
/// module comment).
pub fn compare(a: &str, b: &str) -> Ordering {
    if is_valid(a) && is_valid(b) {
        compare_tokens(a.as_bytes(), b.as_bytes(), false)
    } else {
        osv::compare(a.as_bytes(), b.as_bytes())
    }
}

/// Whether apk-tools accepts `version` (`apk_version_validate`).
pub fn is_valid(version: &str) -> bool {
    let mut tokens = Tokens::new(version.as_bytes());
    while tokens.current.kind < Kind::End {
        tokens.advance();
    }
    tokens.current.kind == Kind::End
}

/// apk's fuzzy comparison: `version` against `pattern` where a `pattern` that runs out first
/// matches as a prefix, so `3.6.9` is fuzzy-equal to `3.6` (apk's `~` operator), as apk-tools
/// 3.x evaluates it for any string (up to the first token it rejects).
pub fn compare_fuzzy(version: &str, pattern: &str) -> Ordering {
    compare_tokens(version.as_bytes(), pattern.as_bytes(), true)
}

/// Whether `version op pattern` holds for an apk dependency operator (`<`, `<=`, `=`, `>=`,
/// `>`, `~`, `<~`, `>~`, each optionally preceded by `!` to negate it, as `apk version -t`
/// and the dependency syntax read them); `None` for anything else. The fuzzy operators use
/// `compare_fuzzy`, the others `compare`.
pub fn matches(version: &str, op: &str, pattern: &str) -> Option<bool> {
    let (negated, op) = match op.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, op),
    };
    let (mut less, mut equal, mut greater, mut fuzzy) = (false, false, false, false);
    for c in op.bytes() {
        match c {
            b'<' => less = true,
            b'>' => greater = true,
            b'=' => equal = true,
            b'~' => (fuzzy, equal) = (true, true),
            _ => return None,
        }
    }
    if !(less || equal || greater) {
        return None;
    }
    let order = if fuzzy { compare_fuzzy(version, pattern) } else { compare(version, pattern) };
    let holds = match order {
        Ordering::Less => less,
        Ordering::Equal => equal,
        Ordering::Greater => greater,
    };
    Some(holds != negated)
}

/// Token kinds in the order apk allows them to follow each other; the order also decides
/// comparisons between different kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNumber,
    CommitHash,
    RevisionNumber,
    End,
    Invalid,
}

/// Suffix ranks; those below `NO_SUFFIX` are pre-releases.
const SUFFIXES: [&[u8]; 10] = [b"alpha", b"beta", b"pre", b"rc", b"", b"cvs", b"svn", b"git", b"hg", b"p"];
const NO_SUFFIX: u8 = 4;

#[derive(Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    /// The rank in `SUFFIXES` for a suffix.
    suffix: u8,
    /// The value of a digit run, wrapping past `u64` as apk's `apk_blob_pull_uint` does.
    number: u64,
    text: &'a [u8],
}

struct Tokens<'a> {
    current: Token<'a>,
    rest: &'a [u8],
}

impl<'a> Tokens<'a> {
    fn new(version: &'a [u8]) -> Self {
        let mut tokens = Tokens { current: Token { kind: Kind::InitialDigit, suffix: 0, number: 0, text: &[] }, rest: version };
        tokens.take_digits();
        tokens
    }

    fn take_digits(&mut self) {
        let len = self.rest.iter().position(|b| !b.is_ascii_digit()).unwrap_or(self.rest.len());
        let (digits, rest) = self.rest.split_at(len);
        self.current.text = digits;
        self.current.number = digits.iter().fold(0u64, |n, d| n.wrapping_mul(10).wrapping_add(u64::from(d - b'0')));
        self.rest = rest;
        if digits.is_empty() {
            self.current.kind = Kind::Invalid;
        }
    }

    /// apk's `token_next`: reads the next token, or marks the version invalid when the next
    /// token may not follow the current one.
    fn advance(&mut self) {
        let previous = self.current.kind;
        let Some(&first) = self.rest.first() else {
            self.current.kind = Kind::End;
            return;
        };
        let valid = match first {
            b'a'..=b'z' if previous <= Kind::Digit => {
                self.current = Token { kind: Kind::Letter, text: &self.rest[..1], ..self.current };
                self.rest = &self.rest[1..];
                true
            }
            b'.' | b'0'..=b'9' if first != b'.' || previous <= Kind::Digit => {
                if first == b'.' {
                    self.rest = &self.rest[1..];
                }
                match previous {
                    Kind::InitialDigit | Kind::Digit => self.current.kind = Kind::Digit,
                    Kind::Suffix => self.current.kind = Kind::SuffixNumber,
                    _ => {
                        self.current.kind = Kind::Invalid;
                        return;
                    }
                }
                self.take_digits();
                true
            }
            b'_' if previous <= Kind::SuffixNumber => {
                let name = &self.rest[1..];
                let len = name.iter().position(|b| !b.is_ascii_lowercase()).unwrap_or(name.len());
                self.rest = &name[len..];
                match suffix_rank(&name[..len]) {
                    Some(rank) => {
                        self.current = Token { kind: Kind::Suffix, suffix: rank, text: &name[..len], ..self.current };
                        true
                    }
                    None => false,
                }
            }
            b'~' if previous < Kind::CommitHash => {
                let hash = &self.rest[1..];
                let len = hash.iter().position(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f')).unwrap_or(hash.len());
                self.rest = &hash[len..];
                self.current = Token { kind: Kind::CommitHash, text: &hash[..len], ..self.current };
                len > 0
            }
            b'-' if previous < Kind::RevisionNumber && self.rest.starts_with(b"-r") => {
                self.rest = &self.rest[2..];
                self.current.kind = Kind::RevisionNumber;
                self.take_digits();
                true
            }
            _ => false,
        };
        if !valid {
            self.current.kind = Kind::Invalid;
        }
    }
}

/// apk's `suffix_value`: the first letter picks the candidate, which must then match exactly.
fn suffix_rank(name: &[u8]) -> Option<u8> {
    let rank = match name.first()? {
        b'a' => 0,
        b'b' => 1,
        b'p' if name.len() > 1 => 2,
        b'r' => 3,
        b'c' => 5,
        b's' => 6,
        b'g' => 7,
        b'h' => 8,
        b'p' => 9,
        _ => return None,
    };
    (SUFFIXES[rank as usize] == name).then_some(rank)
}

/// apk's `token_cmp` for two tokens of the same kind.
fn compare_token(a: &Token, b: &Token) -> Ordering {
    match a.kind {
        Kind::Digit if a.text.first() == Some(&b'0') || b.text.first() == Some(&b'0') => a.text.cmp(b.text),
        Kind::InitialDigit | Kind::Digit | Kind::SuffixNumber | Kind::RevisionNumber => a.number.cmp(&b.number),
        Kind::Letter => a.text.first().cmp(&b.text.first()),
        Kind::Suffix => a.suffix.cmp(&b.suffix),
        _ => a.text.cmp(b.text),
    }
}

/// apk's `apk_version_compare_fuzzy`.
fn compare_tokens(a: &[u8], b: &[u8], fuzzy: bool) -> Ordering {
    let mut ta = Tokens::new(a);
    let mut tb = Tokens::new(b);
    while ta.current.kind == tb.current.kind && ta.current.kind < Kind::End {
        let order = compare_token(&ta.current, &tb.current);
        if order != Ordering::Equal {
            return order;
        }
        ta.advance();
        tb.advance();
    }
    let (a, b) = (ta.current, tb.current);
    if a.kind == b.kind || (fuzzy && b.kind == Kind::End) {
        return Ordering::Equal;
    }
    // The leading tokens are equal: the side that goes on is newer, unless it goes on with a
    // pre-release suffix.
    if a.kind == Kind::Suffix && a.suffix < NO_SUFFIX {
        return Ordering::Less;
    }
    if b.kind == Kind::Suffix && b.suffix < NO_SUFFIX {
        return Ordering::Greater;
    }
    b.kind.cmp(&a.kind)
}

/// OSV's reference Alpine comparator (google/osv-scalibr `semantic/version-alpine.go`, the
/// comparator osv-scanner matches with), used when apk-tools 3.x rejects either string. It
/// reads `numbers{.numbers}`, an optional letter, every `_suffix{number}`, an optional
/// `~hash` (ignored) and an optional `-r{number}`; whatever is left is the remainder, and a
/// string is invalid when its leftover does not start with `-r`.
mod osv {
    use std::cmp::Ordering;

    /// Suffix weights (`weightAlpineSuffixString`): pre-releases below the empty suffix at 4.
    const SUFFIXES: [&[u8]; 10] = [b"alpha", b"beta", b"pre", b"rc", b"", b"cvs", b"svn", b"git", b"hg", b"p"];
    /// The suffix a side without one more is compared as (`fetchSuffix`): weight 5 (`cvs`),
    /// not the empty suffix's 4, so `1_rc` < `1` = `1_cvs` < `1_p`.
    const MISSING_SUFFIX: (usize, &[u8]) = (5, b"0");

    struct Parsed<'a> {
        original: &'a [u8],
        /// The leading `digits{.digits}` run (`^((\d+)\.?)*`), trailing dot included.
        numbers: &'a [u8],
        letter: Option<u8>,
        /// The text searched for suffixes: everything after the letter (osv-scalibr takes every
        /// suffix match in it, even past text that is no suffix).
        after_letter: &'a [u8],
        build: &'a [u8],
        remainder: &'a [u8],
        invalid: bool,
    }

    fn parse(version: &[u8]) -> Parsed<'_> {
        let mut numbers_len = 0;
        while version.get(numbers_len).is_some_and(u8::is_ascii_digit) {
            numbers_len += version[numbers_len..].iter().take_while(|b| b.is_ascii_digit()).count();
            if version.get(numbers_len) == Some(&b'.') {
                numbers_len += 1;
            }
        }
        let (numbers, mut rest) = version.split_at(numbers_len);
        let letter = rest.first().copied().filter(u8::is_ascii_lowercase);
        if letter.is_some() {
            rest = &rest[1..];
        }
        let after_letter = rest;
        for (start, end, _, _) in suffixes(after_letter) {
            // Each match is trimmed only where it starts the leftover (`strings.TrimPrefix`).
            if start == after_letter.len() - rest.len() {
                rest = &after_letter[end..];
            }
        }
        if rest.first() == Some(&b'~') {
            let len = rest[1..].iter().take_while(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')).count();
            if len > 0 {
                rest = &rest[1 + len..];
            }
        }
        let (mut build, mut invalid): (&[u8], bool) = (b"0", false);
        if let Some(after) = rest.strip_prefix(b"-r") {
            let len = after.iter().take_while(|b| b.is_ascii_digit()).count();
            build = &after[..len];
            rest = &after[len..];
        } else if !rest.is_empty() {
            invalid = true;
        }
        Parsed { original: version, numbers, letter, after_letter, build, remainder: rest, invalid }
    }

    /// Every match of `_(alpha|beta|pre|rc|cvs|svn|git|hg|p)(\d*)` in `text`, left to right
    /// and without overlap, the first listed name winning (Go's leftmost-first regexp), as
    /// `(start, end, weight, digits)`.
    fn suffixes(text: &[u8]) -> impl Iterator<Item = (usize, usize, usize, &[u8])> {
        let mut at = 0;
        std::iter::from_fn(move || {
            while at < text.len() {
                let start = at;
                at += 1;
                if text[start] != b'_' {
                    continue;
                }
                let rest = &text[at..];
                let Some(weight) = SUFFIXES.iter().position(|name| !name.is_empty() && rest.starts_with(name)) else { continue };
                let digits_start = at + SUFFIXES[weight].len();
                let digits = text[digits_start..].iter().take_while(|b| b.is_ascii_digit()).count();
                at = digits_start + digits;
                return Some((start, at, weight, &text[digits_start..at]));
            }
            None
        })
    }

    /// Big-integer order of two digit strings (empty reads as 0).
    fn compare_numbers(a: &[u8], b: &[u8]) -> Ordering {
        let trim = |n: &[u8]| -> usize { n.iter().take_while(|&&d| d == b'0').count() };
        let (a, b) = (&a[trim(a)..], &b[trim(b)..]);
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    }

    /// `compareComponents`: past the first component, a component with a leading zero on
    /// either side compares as a string; a missing component is a `0` compared as a number.
    fn compare_components(a: &[u8], b: &[u8]) -> Ordering {
        fn components(numbers: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
            numbers.split(|&c| c == b'.').take_while(|part| !part.is_empty()).enumerate()
        }
        let (mut a, mut b) = (components(a), components(b));
        loop {
            let order = match (a.next(), b.next()) {
                (None, None) => return Ordering::Equal,
                (Some((i, x)), Some((_, y))) if i > 0 && (x[0] == b'0' || y[0] == b'0') => x.cmp(y),
                (x, y) => compare_numbers(x.map_or(b"0", |(_, x)| x), y.map_or(b"0", |(_, y)| y)),
            };
            if order != Ordering::Equal {
                return order;
            }
        }
    }

    fn compare_suffixes(a: &[u8], b: &[u8]) -> Ordering {
        fn weighted(text: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
            suffixes(text).map(|(_, _, weight, digits)| (weight, digits))
        }
        let (mut a, mut b) = (weighted(a), weighted(b));
        loop {
            let (x, y) = match (a.next(), b.next()) {
                (None, None) => return Ordering::Equal,
                (x, y) => (x.unwrap_or(MISSING_SUFFIX), y.unwrap_or(MISSING_SUFFIX)),
            };
            let order = x.0.cmp(&y.0).then_with(|| compare_numbers(x.1, y.1));
            if order != Ordering::Equal {
                return order;
            }
        }
    }

    /// osv-scalibr's `AlpineVersion.compare`.
    pub(super) fn compare(a: &[u8], b: &[u8]) -> Ordering {
        let (a, b) = (parse(a), parse(b));
        if a.invalid && b.invalid {
            return a.original.cmp(b.original);
        }
        compare_components(a.numbers, b.numbers)
            // No letter sorts first.
            .then_with(|| a.letter.cmp(&b.letter))
            .then_with(|| compare_suffixes(a.after_letter, b.after_letter))
            .then_with(|| compare_numbers(a.build, b.build))
            // A remainder makes a version older.
            .then_with(|| a.remainder.is_empty().cmp(&b.remainder.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn release_number_decides_last() {
        assert_eq!(compare("1.2.3-r0", "1.2.3-r1"), Less);
        assert_eq!(compare("1.2.3-r10", "1.2.4-r0"), Less);
        assert_eq!(compare("1.2.3", "1.2.3-r0"), Less);
        assert_eq!(compare("3.0.8-r0", "3.0.10-r0"), Less);
    }

    #[test]
    fn pre_release_suffixes_sort_before_the_release_and_others_after() {
        assert_eq!(compare("1.0_alpha1", "1.0_beta"), Less);
        assert_eq!(compare("1.0_rc2", "1.0"), Less);
        assert_eq!(compare("1.0_rc2-r5", "1.0-r0"), Less);
        assert_eq!(compare("1.0_p1", "1.0"), Greater);
        assert_eq!(compare("1.0_git20240101", "1.0_p1"), Less);
        assert_eq!(compare("1.0a", "1.0"), Greater);
        assert_eq!(compare("1.0a", "1.0.1"), Less);
    }

    #[test]
    fn leading_zero_components_compare_as_strings() {
        assert_eq!(compare("1.01", "1.1"), Less);
        assert_eq!(compare("1.010", "1.02"), Less);
        assert_eq!(compare("01.0", "1.0"), Equal, "the first component is always numeric");
    }

    #[test]
    fn commit_hash_orders_by_its_text() {
        assert_eq!(compare("1.0~abc", "1.0~abd"), Less);
        assert_eq!(compare("1.0~abc-r1", "1.0~abc-r0"), Greater);
    }

    #[test]
    fn fuzzy_matching_is_a_prefix_match() {
        assert_eq!(matches("3.6.9", "~", "3.6"), Some(true));
        assert_eq!(matches("3.7", "~", "3.6"), Some(false));
        assert_eq!(matches("3.7", "!~", "3.6"), Some(true));
        assert_eq!(matches("3.5", "<~", "3.6"), Some(true));
        assert_eq!(matches("3.6.1", ">=", "3.6"), Some(true));
        assert_eq!(matches("3.6", "<>", "3.6"), Some(false));
        assert_eq!(matches("3.6", "?", "3.6"), None);
        assert_eq!(matches("3.6", "!", "3.6"), None);
    }

    #[test]
    fn strings_apk_3_rejects_are_ordered_as_osv_orders_them() {
        // A digit after a letter is invalid in 3.x, which would call these equal; OSV calls both
        // invalid and compares them as strings.
        assert_eq!(compare("6.6.2p1-r0", "6.6.2p1-r1"), Less);
        assert_eq!(compare("6.6.2p1", "6.6.2p2"), Less);
        assert_eq!(compare("6.6.2p10", "6.6.2p9"), Less);
        // `-r` without a number is invalid in 3.x; OSV reads it as `-r0`.
        assert_eq!(compare("1-r", "1-r0"), Equal);
        // One side invalid: OSV's parse, leftover text making a version older.
        assert_eq!(compare("1-ruff", "1"), Less);
        assert_eq!(compare("1.0_foo", "1.0_alpha"), Greater);
        // apk's fuzzy operator still follows apk-tools 3.x.
        assert_eq!(compare_fuzzy("6.6.2p1-r0", "6.6.2p1-r1"), Equal);
    }

    #[test]
    fn hostile_input_is_ordered_without_panicking() {
        for s in ["", ".", "_", "~", "-", "-r", "1.", "1_", "1~", "1-r", "\u{e9}", "1.2.3-r1-r2", "99999999999999999999999"] {
            assert_eq!(compare(s, s), Equal, "{s:?}");
            let _ = (compare(s, "1.0-r0"), compare("1.0-r0", s), is_valid(s), compare_fuzzy(s, "1"));
        }
        assert_eq!(compare("", "1"), Less);
    }
}
