//! A rule's regex searched only near its keywords, with the matches a whole-text search finds.
//!
//! A rule qualifies when every match of its pattern (the translated pattern, parsed with the
//! syntax options [`crate::pattern::Pattern::compile`] uses) contains one of the rule's keywords (ASCII
//! case-insensitively, as the keyword automaton finds them), in one of two shapes:
//!
//! - **Bounded**: its matches are at most `L` bytes long. Every match lies inside
//!   `[keyword start - L, keyword end + L]` of a keyword occurrence it contains, so inside one
//!   of those windows merged where they overlap.
//! - **Keyword first**: the pattern is `S`, or a lazy prefix `[C]{0,n}?` then `S`, where every
//!   match of `S` starts with a keyword (`generic-api-key` has this shape; its match has no
//!   length bound). `S` is searched anchored at each keyword occurrence.
//!
//! Why the matches are exactly a whole-text `find_iter`'s (leftmost-first, non-overlapping, in
//! order):
//!
//! - a whole-text search resumed at `p` reports the match with the least start `>= p` (and,
//!   among those, the leftmost-first end);
//! - bounded: that match lies in one merged window, and merged windows are disjoint, so
//!   searching the windows in order (from `p` within the window of the previous match) reaches
//!   the same start first; bounding a search at the window's end removes no match that starts
//!   inside it (each lies inside the window), so the leftmost-first choice among them is
//!   unchanged;
//! - keyword first: a match of the pattern is a prefix match then an `S` match at some `k`,
//!   and `k` is a keyword occurrence. For an `S` match at `k` the least start is
//!   `s(k) = max(p, k - n, start of the run of C bytes ending at k)`, which never decreases as
//!   `k` grows; so the least start belongs to the first occurrence `k >= p` where `S` matches,
//!   and the lazy prefix, preferring the fewest bytes, takes that same `k` from `s(k)`; the end
//!   is `S`'s own leftmost-first end at `k`;
//! - every search's `Input` spans the whole text, so `^`, `$` and `\b` see the bytes around it,
//!   as in the whole-text search;
//! - no match is empty (each holds a keyword), so no empty-match stepping differs.
//!
//! When the analysis cannot show one of these shapes the rule keeps the whole-text search.

use std::ops::Range;
use std::sync::OnceLock;

use regex_automata::meta;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input};
use regex_syntax::hir::{Class, Hir, HirKind};

use crate::pattern::DFA_CACHE_BYTES;

/// Most strings a sub-pattern's finite language is expanded to before the analysis gives up.
const MAX_STRINGS: usize = 256;
/// Longest string of such a language kept (longer ones are never needed to find a keyword).
const MAX_STRING_LEN: usize = 64;

/// A qualifying rule's pattern, its longest match, and its regex for ranged searches, built on
/// first use (most rules' keywords are absent from most trees, and building every rule's second
/// regex up front was most of the detector's start-up).
pub(crate) struct WindowedRegex {
    /// What is searched: the whole pattern, or for a keyword-first one, the part after its
    /// lazy prefix.
    pattern: String,
    shape: Shape,
    regex: OnceLock<Option<meta::Regex>>,
}

enum Shape {
    /// Every match is at most this long.
    Bounded(usize),
    /// Every match of `pattern` starts with a keyword; the rule's pattern puts up to `max`
    /// bytes of `class` before it, as few as possible (`max` 0: no prefix).
    KeywordFirst { class: Box<[bool; 256]>, max: usize },
}

impl WindowedRegex {
    /// `pattern` as translated (a compiled rule regex's `as_str()`); `None` when the rule does not
    /// qualify.
    pub(crate) fn new(pattern: &str, keywords: &[String]) -> Option<WindowedRegex> {
        if keywords.is_empty() || keywords.iter().any(String::is_empty) {
            return None;
        }
        let hir = regex_syntax::ParserBuilder::new().unicode(false).utf8(false).octal(true).build().parse(pattern).ok()?;
        let properties = hir.properties();
        if properties.minimum_len()? == 0 {
            return None;
        }
        let keywords: Vec<Vec<u8>> = keywords.iter().map(|k| k.as_bytes().to_ascii_lowercase()).collect();
        let (pattern, shape) = match properties.maximum_len() {
            Some(max_len) => {
                // Every match holds a keyword (where it starts does not matter here).
                keyword_start_bound(&hir, &keywords)?;
                (pattern.to_owned(), Shape::Bounded(max_len))
            }
            None => {
                let (prefix, rest) = match lazy_class_prefix(&hir) {
                    Some((class, max, rest)) => (Some((class, max)), rest),
                    None => (None, hir.clone()),
                };
                if rest.properties().minimum_len()? == 0 || keyword_start_bound(&rest, &keywords) != Some(0) {
                    return None;
                }
                match prefix {
                    Some((class, max)) => (rest.to_string(), Shape::KeywordFirst { class, max }),
                    None => (pattern.to_owned(), Shape::KeywordFirst { class: Box::new([false; 256]), max: 0 }),
                }
            }
        };
        Some(WindowedRegex { pattern, shape, regex: OnceLock::new() })
    }

    /// The matches in `text` of a whole-text search, given every occurrence (sorted or not) of
    /// the rule's keywords; `None` if the regex could not be built (then search the whole text).
    pub(crate) fn find_iter(&self, text: &[u8], keyword_hits: impl Iterator<Item = Range<usize>>) -> Option<Vec<Range<usize>>> {
        // The options `regex::bytes::RegexBuilder` gives the rule regex (see `pattern::Pattern::compile`).
        let regex = self
            .regex
            .get_or_init(|| {
                meta::Builder::new()
                    .configure(meta::Config::new().nfa_size_limit(Some(10 << 20)).hybrid_cache_capacity(DFA_CACHE_BYTES).utf8_empty(false))
                    .syntax(syntax::Config::new().unicode(false).utf8(false).octal(true))
                    .build(&self.pattern)
                    .ok()
            })
            .as_ref()?;
        match &self.shape {
            Shape::Bounded(max_len) => Some(search_windows(regex, text, keyword_hits, *max_len)),
            Shape::KeywordFirst { class, max } => Some(search_from_keywords(regex, text, keyword_hits, class, *max)),
        }
    }
}

fn search_windows(regex: &meta::Regex, text: &[u8], keyword_hits: impl Iterator<Item = Range<usize>>, max_len: usize) -> Vec<Range<usize>> {
    let mut windows: Vec<Range<usize>> = keyword_hits.map(|hit| hit.start.saturating_sub(max_len)..hit.end.saturating_add(max_len).min(text.len())).collect();
    windows.sort_unstable_by_key(|w| w.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(windows.len());
    for window in windows {
        match merged.last_mut() {
            Some(last) if window.start <= last.end => last.end = last.end.max(window.end),
            _ => merged.push(window),
        }
    }
    // A match ends inside its window, so the next window's search starts at its own start.
    let mut matches = Vec::new();
    for window in merged {
        let mut at = window.start;
        while at < window.end {
            let Some(found) = regex.find(Input::new(text).range(at..window.end)) else { break };
            matches.push(found.range());
            at = found.end();
        }
    }
    matches
}

/// `regex` (the part after the prefix) anchored at each keyword occurrence in order; each match
/// widened back over the prefix (see the module notes).
fn search_from_keywords(regex: &meta::Regex, text: &[u8], keyword_hits: impl Iterator<Item = Range<usize>>, class: &[bool; 256], max: usize) -> Vec<Range<usize>> {
    let mut starts: Vec<usize> = keyword_hits.map(|hit| hit.start).collect();
    starts.sort_unstable();
    starts.dedup();
    let mut matches: Vec<Range<usize>> = Vec::new();
    let mut resume = 0;
    for at in starts {
        if at < resume {
            continue;
        }
        let Some(found) = regex.find(Input::new(text).range(at..).anchored(Anchored::Yes)) else { continue };
        let prefix = text[..at].iter().rev().take(max).take_while(|&&b| class[usize::from(b)]).count();
        matches.push((at - prefix).max(resume)..found.end());
        resume = found.end();
    }
    matches
}

/// A pattern `[C]{0,n}?` followed by more: the class as a byte table, `n`, and the rest.
fn lazy_class_prefix(hir: &Hir) -> Option<(Box<[bool; 256]>, usize, Hir)> {
    let HirKind::Concat(parts) = hir.kind() else { return None };
    let (first, rest) = parts.split_first()?;
    let HirKind::Repetition(repetition) = first.kind() else { return None };
    let HirKind::Class(class) = repetition.sub.kind() else { return None };
    if repetition.min != 0 || repetition.greedy || rest.is_empty() {
        return None;
    }
    let mut table = Box::new([false; 256]);
    class_bytes(class)?.into_iter().for_each(|b| table[usize::from(b)] = true);
    Some((table, usize::try_from(repetition.max?).ok()?, Hir::concat(rest.to_vec())))
}

/// The bytes a class matches; `None` for a Unicode class reaching past ASCII (it matches
/// multi-byte sequences, not single bytes).
fn class_bytes(class: &Class) -> Option<Vec<u8>> {
    match class {
        Class::Bytes(class) => Some(class.iter().flat_map(|range| range.start()..=range.end()).collect()),
        Class::Unicode(class) => {
            let mut bytes = Vec::new();
            for range in class.iter() {
                let (start, end) = (u8::try_from(u32::from(range.start())).ok()?, u8::try_from(u32::from(range.end())).ok()?);
                if !end.is_ascii() {
                    return None;
                }
                bytes.extend(start..=end);
            }
            Some(bytes)
        }
    }
}

/// A bound `P` such that every string `hir` matches holds one of `keywords` (lowercase, ASCII
/// case-insensitively) starting at most `P` bytes after its start. Sound, not complete.
fn keyword_start_bound(hir: &Hir, keywords: &[Vec<u8>]) -> Option<usize> {
    let first_keyword = |string: &Vec<u8>| keywords.iter().filter_map(|k| string.windows(k.len()).position(|w| w == k.as_slice())).min();
    let bound_of = |strings: &[Vec<u8>]| strings.iter().map(first_keyword).try_fold(0, |bound, at| Some(bound.max(at?)));
    if let Some(bound) = finite(hir).as_deref().and_then(bound_of) {
        return Some(bound);
    }
    match hir.kind() {
        HirKind::Capture(capture) => keyword_start_bound(&capture.sub, keywords),
        HirKind::Repetition(repetition) if repetition.min >= 1 => keyword_start_bound(&repetition.sub, keywords),
        HirKind::Alternation(alternatives) => alternatives.iter().try_fold(0, |bound, alternative| Some(bound.max(keyword_start_bound(alternative, keywords)?))),
        HirKind::Concat(parts) => {
            // Parts before the first that holds a keyword must be bounded; a keyword may also
            // be spread over a run of consecutive finite parts (`(?i)api[_-]?key`), each run
            // taken as one language, grown part by part.
            let mut before = 0usize;
            let mut run: Option<(usize, Vec<Vec<u8>>)> = None;
            for part in parts {
                if let Some(bound) = keyword_start_bound(part, keywords) {
                    return Some(before + bound);
                }
                run = match (run, finite(part)) {
                    (_, None) => None,
                    (None, Some(strings)) => Some((before, strings)),
                    (Some((start, earlier)), Some(strings)) => product(&earlier, &strings).map(|strings| (start, strings)),
                };
                if let Some(bound) = run.as_ref().and_then(|(start, strings)| Some(start + bound_of(strings)?)) {
                    return Some(bound);
                }
                before = before.checked_add(part.properties().maximum_len()?)?;
            }
            None
        }
        _ => None,
    }
}

/// Every string `hir` matches, lowercased, when there are few and they are short.
fn finite(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(vec![Vec::new()]),
        HirKind::Literal(literal) => Some(vec![literal.0.to_ascii_lowercase()]),
        HirKind::Class(class) => {
            let mut lowered: Vec<u8> = class_bytes(class)?.iter().map(u8::to_ascii_lowercase).collect();
            lowered.sort_unstable();
            lowered.dedup();
            (lowered.len() <= 4).then(|| lowered.into_iter().map(|b| vec![b]).collect())
        }
        HirKind::Capture(capture) => finite(&capture.sub),
        HirKind::Concat(parts) => parts.iter().try_fold(vec![Vec::new()], |before, part| product(&before, &finite(part)?)),
        HirKind::Alternation(alternatives) => {
            let mut strings = Vec::new();
            for alternative in alternatives {
                strings.extend(finite(alternative)?);
                if strings.len() > MAX_STRINGS {
                    return None;
                }
            }
            Some(strings)
        }
        HirKind::Repetition(repetition) => {
            let max = repetition.max?;
            let sub = finite(&repetition.sub)?;
            let mut strings = Vec::new();
            let mut power = vec![Vec::new()];
            for count in 0..=max {
                if count >= repetition.min {
                    strings.extend(power.iter().cloned());
                }
                if count < max {
                    power = product(&power, &sub)?;
                }
                if strings.len() > MAX_STRINGS {
                    return None;
                }
            }
            Some(strings)
        }
    }
}

fn product(before: &[Vec<u8>], after: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if before.len().saturating_mul(after.len()) > MAX_STRINGS {
        return None;
    }
    let strings: Vec<Vec<u8>> = before.iter().flat_map(|b| after.iter().map(move |a| [b.as_slice(), a.as_slice()].concat())).collect();
    strings.iter().all(|s| s.len() <= MAX_STRING_LEN).then_some(strings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qualifies(pattern: &str, keywords: &[&str]) -> bool {
        let keywords: Vec<String> = keywords.iter().map(|k| (*k).to_owned()).collect();
        WindowedRegex::new(pattern, &keywords).is_some()
    }

    #[test]
    fn bounded_patterns_holding_a_keyword_qualify() {
        assert!(qualifies(r"(?i)\b(?:api[_-]?key)\s{0,3}=\s{0,3}[a-z0-9]{10,40}\b", &["apikey", "api_key", "api-key"]));
        assert!(qualifies(r"(?i)passw(?:or)?d[:=][a-z]{8}", &["passwd", "password"]));
        assert!(qualifies(r"\b(ghp_[A-Za-z0-9]{36})\b", &["ghp_"]));
    }

    #[test]
    fn unbounded_or_keyword_free_patterns_do_not() {
        // Unbounded, with what precedes the keyword unbounded too.
        assert!(!qualifies(r"[A-Za-z0-9]+ghp_[A-Za-z0-9]+", &["ghp_"]));
        // Unbounded, with a greedy prefix (the lazy one's least start would not hold).
        assert!(!qualifies(r"[a-z]{0,8}key=[0-9]+", &["key"]));
        // One alternative holds no keyword.
        assert!(!qualifies(r"(?:ghp_|gho_)[A-Za-z0-9]{36}", &["ghp_"]));
        // An optional keyword is not in every match.
        assert!(!qualifies(r"(?:key)?[a-z]{8}", &["key"]));
        // A class of many bytes is not expanded, so `[a-z]ey` is not known to hold `key`.
        assert!(!qualifies(r"[a-z]ey[0-9]{4}", &["key"]));
    }

    #[test]
    fn unbounded_patterns_that_start_at_a_keyword_qualify() {
        assert!(qualifies(r"ghp_[A-Za-z0-9]+", &["ghp_"]));
        assert!(qualifies(r"(?i)[\w.-]{0,50}?(?:key|token)[ =]{1,3}([a-z0-9]{10,}|[a-z]+)(?:;|$)", &["key", "token"]));
        assert!(qualifies(r"(?:ab|abc)d+", &["ab"]));
    }

    #[test]
    fn keyword_start_bounds() {
        let bound = |pattern: &str, keywords: &[&str]| {
            let hir = regex_syntax::ParserBuilder::new().unicode(false).utf8(false).build().parse(pattern).unwrap();
            let keywords: Vec<Vec<u8>> = keywords.iter().map(|k| k.as_bytes().to_vec()).collect();
            keyword_start_bound(&hir, &keywords)
        };
        assert_eq!(bound(r"(?i)[\w.-]{0,50}?(?:access|key)=.+", &["access", "key"]), Some(50));
        assert_eq!(bound(r"x{0,4}(?:ab)(?:c)[0-9]+", &["abc"]), Some(4));
        assert_eq!(bound(r"[ab]{2}(?:zkey|key)\d+", &["key"]), Some(3));
        assert_eq!(bound(r"(?i)(?:access|key)=.+", &["access", "key"]), Some(0));
        assert_eq!(bound(r"a+key", &["key"]), None);
    }

    #[test]
    fn keyword_first_searches_find_the_whole_text_matches() {
        let keywords = ["key".to_owned(), "tok".to_owned()];
        for pattern in [
            r"(?i)[a-z_]{0,6}?(?:key|tok)[ =]{1,3}([a-z0-9]{4,}|x+)(?:;|$)",
            r"(?i)(?:key|tok)[ =]{1,3}([a-z0-9]{4,}|x+)(?:;|$)",
            r"[a-z_]{0,3}?\b(?:key|tok)\b=?[a-z]*",
        ] {
            let windowed = WindowedRegex::new(pattern, &keywords).unwrap();
            assert!(matches!(windowed.shape, Shape::KeywordFirst { .. }), "{pattern}");
            let whole = regex::bytes::RegexBuilder::new(pattern).unicode(false).build().unwrap();
            for text in [
                "my_key = abcdefgh; your_tok=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx;",
                "aaaaaaaaaaaaakey = 12345;keykeykey = zzzz",
                "key key123 keyed KEY==xxxx_key=abc xkey= key=",
                "the long value token = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "tok =abcd tok= abc; tok = abcd; a_b_tok=qqqq;",
                "",
                "ke y",
            ] {
                let lower = text.to_ascii_lowercase();
                let hits: Vec<Range<usize>> = ["key", "tok"].iter().flat_map(|k| lower.match_indices(k).map(|(i, k)| i..i + k.len()).collect::<Vec<_>>()).collect();
                let expected: Vec<Range<usize>> = whole.find_iter(text.as_bytes()).map(|m| m.range()).collect();
                assert_eq!(windowed.find_iter(text.as_bytes(), hits.into_iter()), Some(expected), "{pattern} on {text:?}");
            }
        }
    }

    #[test]
    fn default_rules_shaped_like_keyword_assignments_qualify() {
        let config = crate::config::Config::default_rules();
        let windowed: Vec<&str> = config
            .rules
            .iter()
            .filter(|rule| rule.regex.as_ref().is_some_and(|regex| WindowedRegex::new(regex.as_str(), &rule.keywords).is_some()))
            .map(|rule| rule.id.as_str())
            .collect();
        eprintln!("{} of {} rules windowed: {windowed:?}", windowed.len(), config.rules.len());
        for id in ["cohere-api-token", "etsy-access-token", "linear-client-secret", "generic-api-key"] {
            assert!(windowed.contains(&id), "{id}");
        }
    }

    #[test]
    fn windows_find_the_whole_text_matches() {
        let keywords = ["key".to_owned()];
        let windowed = WindowedRegex::new(r"(?i)\bkey[a-z]{0,6}|[a-z]key", &keywords).unwrap();
        let whole = regex::bytes::RegexBuilder::new(r"(?i)\bkey[a-z]{0,6}|[a-z]key").unicode(false).build().unwrap();
        for text in ["key keyKEYkey xkeykey", "akey", "keykeykeykey ... key", "", "ke y", "xxxxxxxxxxxxxxxxxxxxkey"] {
            let hits: Vec<Range<usize>> = text.to_ascii_lowercase().match_indices("key").map(|(i, k)| i..i + k.len()).collect();
            let expected: Vec<Range<usize>> = whole.find_iter(text.as_bytes()).map(|m| m.range()).collect();
            assert_eq!(windowed.find_iter(text.as_bytes(), hits.into_iter()), Some(expected), "{text:?}");
        }
    }
}
