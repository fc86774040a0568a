//! Alpine, Wolfi and Chainguard version ordering, as apk-tools 3.x orders it.
//!
//! Follows `src/version.c` of <https://gitlab.alpinelinux.org/alpine/apk-tools> (GitHub mirror
//! alpinelinux/apk-tools, master): a version is
//! `digit{.digit}...{letter}{_suffix{number}}...{~hash}{-r#}`, read as a sequence of tokens
//! compared pairwise while both sides have the same kind of token. Digits compare numerically,
//! except that a dotted component with a leading zero on either side compares as a string
//! (`8.2.0015` < `8.2.002`, Gentoo's rule); suffixes order
//! `_alpha` < `_beta` < `_pre` < `_rc` < (none) < `_cvs` < `_svn` < `_git` < `_hg` < `_p`; when one
//! side runs out of tokens of the shared kind, a pre-release suffix makes it older and otherwise
//! the side with more to say is newer. Strings apk calls invalid are still ordered, token by
//! token up to the first invalid one, exactly as apk-tools orders them.
//!
//! Strings apk-tools 3.x rejects it orders only up to the first bad token and calls the rest
//! equal (`6.6.2p1-r0` = `6.6.2p1-r1`, since a digit may not follow a letter in 3.x). Such
//! strings occur in old Alpine data and OSV records, and apk-tools 2.x (branch 2.14-stable,
//! same file) orders them further; so when either side is invalid for 3.x, the order is 2.x's,
//! as `apk version -t` of 2.x gives it and as osv-scanner's reference data recorded it. For
//! versions 3.x accepts, 2.x and 3.x differ only on leading zeros and `~hash`, and 3.x is
//! followed. Compare allocates nothing and works on bytes.

use std::cmp::Ordering;

/// How `a` orders against `b` as apk-tools orders Alpine versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    compare_either(a, b, false)
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
/// matches as a prefix, so `3.6.9` is fuzzy-equal to `3.6` (apk's `~` operator).
pub fn compare_fuzzy(version: &str, pattern: &str) -> Ordering {
    compare_either(version, pattern, true)
}

/// apk-tools 3.x's order when it accepts both strings, else 2.x's (see the module comment).
fn compare_either(a: &str, b: &str, fuzzy: bool) -> Ordering {
    if is_valid(a) && is_valid(b) {
        compare_tokens(a.as_bytes(), b.as_bytes(), fuzzy)
    } else {
        legacy::compare(a.as_bytes(), b.as_bytes(), fuzzy)
    }
}

/// Whether `version op pattern` holds for an apk dependency operator (`<`, `<=`, `=`, `>=`,
/// `>`, `~`, `<~`, `>~`, each optionally preceded by `!` to negate it, as `apk version -t`
/// and the dependency syntax read them); `None` for anything else.
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
    let holds = match compare_either(version, pattern, fuzzy) {
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

/// apk-tools 2.x's ordering (`src/version.c` on branch 2.14-stable: `get_token`,
/// `next_token`, `apk_version_compare_blob_fuzzy`), used for strings 3.x rejects.
mod legacy {
    use std::cmp::Ordering;

    /// Token kinds in 2.x's order (`TOKEN_INVALID` is -1 there, below all others).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
    enum Kind {
        Invalid,
        DigitOrZero,
        Digit,
        Letter,
        Suffix,
        SuffixNumber,
        RevisionNumber,
        End,
    }

    const PRE_RELEASE_SUFFIXES: [&[u8]; 4] = [b"alpha", b"beta", b"pre", b"rc"];
    const POST_RELEASE_SUFFIXES: [&[u8]; 5] = [b"cvs", b"svn", b"git", b"hg", b"p"];

    /// `next_token`: what kind of token starts `rest`, given the kind of the one before;
    /// consumes the separator that announces it.
    fn next_kind(previous: Kind, rest: &mut &[u8]) -> Kind {
        let Some(&first) = rest.first().filter(|&&b| b != 0) else { return Kind::End };
        let next = if matches!(previous, Kind::Digit | Kind::DigitOrZero) && first.is_ascii_lowercase() {
            Kind::Letter
        } else if previous == Kind::Letter && first.is_ascii_digit() {
            Kind::Digit
        } else if previous == Kind::Suffix && first.is_ascii_digit() {
            Kind::SuffixNumber
        } else {
            let next = match first {
                b'.' => Kind::DigitOrZero,
                b'_' => Kind::Suffix,
                b'-' if rest.get(1) == Some(&b'r') => {
                    *rest = &rest[1..];
                    Kind::RevisionNumber
                }
                _ => Kind::Invalid,
            };
            *rest = &rest[1..];
            next
        };
        let allowed_step_back = matches!((next, previous), (Kind::DigitOrZero, Kind::Digit) | (Kind::Suffix, Kind::SuffixNumber) | (Kind::Digit, Kind::Letter));
        if next < previous && !allowed_step_back {
            Kind::Invalid
        } else {
            next
        }
    }

    /// `get_token`: the value of the token of kind `*kind` at the start of `rest`; leaves
    /// `*kind` at the kind of the token after it.
    fn take(kind: &mut Kind, rest: &mut &[u8]) -> i64 {
        if rest.is_empty() {
            *kind = Kind::End;
            return 0;
        }
        let mut next_is_digit = false;
        let (value, len) = match *kind {
            // Leading zeros weigh as a negative value, the digits after them come next.
            Kind::DigitOrZero if rest[0] == b'0' => {
                let zeros = rest.iter().skip(1).take_while(|&&b| b == b'0').count();
                next_is_digit = true;
                (-(zeros as i64), zeros)
            }
            Kind::DigitOrZero | Kind::Digit | Kind::SuffixNumber | Kind::RevisionNumber => {
                let len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
                if len >= 18 {
                    *kind = Kind::Invalid;
                    return -1;
                }
                (rest[..len].iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')), len)
            }
            Kind::Letter => (i64::from(rest[0]), 1),
            Kind::Suffix => {
                let pre = PRE_RELEASE_SUFFIXES.iter().position(|s| rest.starts_with(s));
                let post = || POST_RELEASE_SUFFIXES.iter().position(|s| rest.starts_with(s));
                match (pre, pre.is_none().then(post).flatten()) {
                    (Some(i), _) => (i as i64 - PRE_RELEASE_SUFFIXES.len() as i64, PRE_RELEASE_SUFFIXES[i].len()),
                    (None, Some(i)) => (i as i64, POST_RELEASE_SUFFIXES[i].len()),
                    (None, None) => {
                        *kind = Kind::Invalid;
                        return -1;
                    }
                }
            }
            Kind::Invalid | Kind::End => {
                *kind = Kind::Invalid;
                return -1;
            }
        };
        *rest = &rest[len..];
        *kind = if rest.is_empty() {
            Kind::End
        } else if next_is_digit {
            Kind::Digit
        } else {
            next_kind(*kind, rest)
        };
        value
    }

    /// `apk_version_compare_blob_fuzzy`.
    pub(super) fn compare(mut a: &[u8], mut b: &[u8], fuzzy: bool) -> Ordering {
        let (mut kind_a, mut kind_b) = (Kind::Digit, Kind::Digit);
        let (mut value_a, mut value_b) = (0, 0);
        while kind_a == kind_b && !matches!(kind_a, Kind::End | Kind::Invalid) && value_a == value_b {
            value_a = take(&mut kind_a, &mut a);
            value_b = take(&mut kind_b, &mut b);
        }
        let order = value_a.cmp(&value_b);
        if order != Ordering::Equal || kind_a == kind_b || fuzzy {
            return order;
        }
        // The leading tokens are equal: the side that goes on is newer, unless it goes on with
        // a pre-release suffix.
        if kind_a == Kind::Suffix && take(&mut kind_a.clone(), &mut a) < 0 {
            return Ordering::Less;
        }
        if kind_b == Kind::Suffix && take(&mut kind_b.clone(), &mut b) < 0 {
            return Ordering::Greater;
        }
        kind_b.cmp(&kind_a)
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
    fn strings_apk_3_rejects_are_ordered_as_apk_2_orders_them() {
        // A digit after a letter is invalid in 3.x, which would call these equal.
        assert_eq!(compare("6.6.2p1-r0", "6.6.2p1-r1"), Less);
        assert_eq!(compare("6.6.2p1", "6.6.2p2"), Less);
        assert_eq!(compare("1-r", "1-r0"), Equal);
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
