//! Go RE2 patterns (gitleaks' `regex`, `path`, allowlist `regexes`/`paths`) compiled with the
//! same meaning by Rust's `regex`.
//!
//! Both engines are linear-time and share most syntax; [`translate`] rewrites the places where
//! they read the same text differently, and [`Pattern::compile`] builds a `bytes::Regex` with Unicode
//! off, so `\w`, `\d` and `\b` are ASCII as in Go and content is matched as bytes, as gitleaks
//! scans it. What is rewritten:
//!
//! - A `{` that does not open a counted repetition (`{n}`, `{n,}`, `{n,m}`) is a literal in Go
//!   (`\${VAR}`, `{{ … }}`), an error in Rust: escaped, as is every `}` outside one.
//! - Inside brackets Go reads `[` (unless it opens `[:alpha:]`), `&&`, `~~` and `--` literally;
//!   Rust reads them as nested classes and set operations: escaped.
//! - Go's `\s` is `[\t\n\f\r ]`; Rust's ASCII `\s` also holds `\v`: spelled out.
//! - `\Q…\E` quotes a literal in Go and is unknown to Rust: replaced by the escaped text.
//! - `\pL`, `\p{Greek}` are Unicode classes in Go: wrapped in `(?u:…)` outside brackets.
//!
//! Differences left (documented, not rewritten): `(?i)` folds ASCII only (Go also folds the
//! Kelvin sign `K` with `k` and `ſ` with `s`); `.` and negated classes match one byte, where Go
//! matches one UTF-8 character, so counted repetitions over non-ASCII text count bytes.
//! `\xHH` above 0x7F is a code point in Go (matched as UTF-8): wrapped in `(?u:…)` outside
//! brackets. Syntax Go has and this translation does not carry over (`\C`; Unicode classes,
//! non-ASCII characters and escapes inside brackets) is refused with [`PatternError::Unsupported`].

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use regex::bytes::{Regex, RegexBuilder};

/// Go's whitespace class `\s`, without the vertical tab Rust's ASCII `\s` adds.
const GO_SPACE: &str = r"\t\n\f\r ";

/// Why a pattern cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// RE2 syntax with no Rust equivalent (`\C`, Unicode classes inside brackets).
    Unsupported(String),
    /// Not a valid pattern (Rust's parser message).
    Syntax(String),
    /// The compiled automaton would exceed the size limit (bytes), e.g. a huge counted repetition.
    TooLarge(usize),
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::Unsupported(what) => write!(f, "unsupported RE2 syntax: {what}"),
            PatternError::Syntax(message) => write!(f, "invalid pattern: {message}"),
            PatternError::TooLarge(limit) => {
                write!(f, "pattern compiles to more than the {limit}-byte size limit (reduce counted repetitions)")
            }
        }
    }
}

impl std::error::Error for PatternError {}

/// The lazy DFA's cache for each compiled regex, per thread. With `regex`'s default (2 MiB) the
/// cache of a large pattern like `generic-api-key` (which runs on nearly every file: its
/// keywords are common words) fills and is cleared over and over, and rebuilding states costs
/// more than the search; a cache this size is filled once. Small patterns never grow theirs.
pub(crate) const DFA_CACHE_BYTES: usize = 32 << 20;

fn build(translated: &str) -> Result<Regex, PatternError> {
    RegexBuilder::new(translated)
        .unicode(false)
        // Go reads `\0`, `\012`, `\123` as octal escapes.
        .octal(true)
        .dfa_size_limit(DFA_CACHE_BYTES)
        .build()
        .map_err(|error| match error {
            regex::Error::CompiledTooBig(limit) => PatternError::TooLarge(limit),
            regex::Error::Syntax(message) => PatternError::Syntax(message),
            other => PatternError::Syntax(other.to_string()),
        })
}

/// A configured pattern: a [`Regex`] (it derefs to one) with Go's meaning. A user's pattern is
/// compiled when it is loaded, so every error is reported there; the built-in rules' patterns
/// (all compiled by this crate's tests) are compiled on first use, since a scan runs few of
/// them and compiling all is most of the start-up. Clones share the compiled regex.
#[derive(Clone)]
pub struct Pattern {
    translated: Arc<str>,
    regex: Arc<OnceLock<Regex>>,
}

impl Pattern {
    /// Translated and compiled now.
    pub fn compile(pattern: &str) -> Result<Pattern, PatternError> {
        let translated = translate(pattern)?;
        let regex = build(&translated)?;
        Ok(Pattern { translated: translated.into(), regex: Arc::new(OnceLock::from(regex)) })
    }

    /// Translated now, compiled on first use: only for patterns known to compile.
    pub(crate) fn compile_on_use(pattern: &str) -> Result<Pattern, PatternError> {
        Ok(Pattern { translated: translate(pattern)?.into(), regex: Arc::new(OnceLock::new()) })
    }

    /// The translated pattern (Rust syntax), without compiling it.
    pub fn as_str(&self) -> &str {
        &self.translated
    }

    /// The number of capture groups, the whole match included, without compiling the pattern.
    pub fn captures_len(&self) -> usize {
        match self.regex.get() {
            Some(regex) => regex.captures_len(),
            None => regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .octal(true)
                .build()
                .parse(&self.translated)
                .map_or(1, |hir| hir.properties().explicit_captures_len() + 1),
        }
    }
}

impl Deref for Pattern {
    type Target = Regex;

    fn deref(&self) -> &Regex {
        self.regex.get_or_init(|| build(&self.translated).unwrap_or_else(|error| panic!("built-in pattern `{}`: {error}", self.translated)))
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.translated).finish()
    }
}

/// Rewrites a Go RE2 pattern into Rust `regex` syntax with the same meaning under `unicode(false)`.
pub fn translate(pattern: &str) -> Result<String, PatternError> {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut rest = pattern;
    let mut in_class = false;
    // Inside brackets: whether the previous item was an unescaped `-` (a second one would make
    // Rust's `--` difference operator).
    let mut after_dash = false;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        if c == '\\' {
            let Some(escaped) = rest.chars().next() else {
                return Err(PatternError::Syntax("trailing backslash at the end of the pattern".into()));
            };
            rest = &rest[escaped.len_utf8()..];
            after_dash = false;
            match (escaped, in_class) {
                ('C', _) => return Err(PatternError::Unsupported(r"\C (any byte)".into())),
                ('Q', false) => {
                    // Go: the literal runs to `\E` or to the end of the pattern.
                    let (literal, after) = match rest.find(r"\E") {
                        Some(end) => (&rest[..end], &rest[end + 2..]),
                        None => (rest, ""),
                    };
                    out.push_str(&regex::escape(literal));
                    rest = after;
                }
                ('s', false) => out.push_str(&format!("[{GO_SPACE}]")),
                ('s', true) => out.push_str(GO_SPACE),
                ('S', _) => out.push_str(&format!("[^{GO_SPACE}]")),
                ('x', _) => {
                    // `\xHH` or `\x{H…}`: a code point in Go, matched as its UTF-8 bytes.
                    let digits_len = if rest.starts_with('{') { rest.find('}').map_or(rest.len(), |end| end + 1) } else { rest.len().min(2) };
                    let digits = rest.get(..digits_len).ok_or_else(|| PatternError::Syntax(r"invalid \x escape".into()))?;
                    rest = &rest[digits_len..];
                    let value = u32::from_str_radix(digits.trim_start_matches('{').trim_end_matches('}'), 16);
                    match (value, in_class) {
                        (Ok(value), true) if value > 0x7f => {
                            return Err(PatternError::Unsupported(format!(r"non-ASCII \x{digits} inside brackets")));
                        }
                        (Ok(value), false) if value > 0x7f => out.push_str(&format!(r"(?u:\x{{{value:x}}})")),
                        _ => out.push_str(&format!(r"\x{digits}")),
                    }
                }
                ('p' | 'P', true) => {
                    return Err(PatternError::Unsupported(format!(r"\{escaped} Unicode class inside brackets")));
                }
                ('p' | 'P', false) => {
                    let name_len = if rest.starts_with('{') {
                        rest.find('}').map(|end| end + 1).ok_or_else(|| PatternError::Syntax(format!(r"unclosed \{escaped}{{")))?
                    } else {
                        rest.chars().next().map_or(0, char::len_utf8)
                    };
                    out.push_str(&format!(r"(?u:\{escaped}{})", &rest[..name_len]));
                    rest = &rest[name_len..];
                }
                _ => {
                    out.push('\\');
                    out.push(escaped);
                }
            }
            continue;
        }
        if in_class {
            match c {
                ']' => {
                    in_class = false;
                    out.push(']');
                }
                '[' => match posix_class_len(rest) {
                    Some(len) => {
                        out.push('[');
                        out.push_str(&rest[..len]);
                        rest = &rest[len..];
                    }
                    None => out.push_str(r"\["),
                },
                '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                '-' if after_dash => out.push_str(r"\-"),
                _ if !c.is_ascii() => {
                    return Err(PatternError::Unsupported(format!("non-ASCII character `{c}` inside brackets")));
                }
                _ => out.push(c),
            }
            after_dash = c == '-' && !after_dash;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                after_dash = false;
                out.push('[');
                if let Some(after) = rest.strip_prefix('^') {
                    out.push('^');
                    rest = after;
                }
                // A `]` right after the opening bracket is a literal in both engines; escaping it
                // keeps that obvious.
                if let Some(after) = rest.strip_prefix(']') {
                    out.push_str(r"\]");
                    rest = after;
                }
            }
            '{' => match repetition_len(rest) {
                Some(len) => {
                    out.push('{');
                    out.push_str(&rest[..len]);
                    rest = &rest[len..];
                }
                None => out.push_str(r"\{"),
            },
            '}' => out.push_str(r"\}"),
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// After a `{`: the length of `n}`, `n,}` or `n,m}` when that is what follows (Go's counted
/// repetition), else `None` and the brace is a literal.
fn repetition_len(rest: &str) -> Option<usize> {
    let bytes = rest.as_bytes();
    let digits = |from: usize| bytes[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let min = digits(0);
    if min == 0 {
        return None;
    }
    let mut at = min;
    if bytes.get(at) == Some(&b',') {
        at += 1;
        at += digits(at);
    }
    (bytes.get(at) == Some(&b'}')).then_some(at + 1)
}

/// After a `[` inside brackets: the length of `:name:]` or `:^name:]` (a POSIX class), else `None`.
fn posix_class_len(rest: &str) -> Option<usize> {
    let body = rest.strip_prefix(':')?;
    let end = body.find(":]")?;
    let name = body[..end].strip_prefix('^').unwrap_or(&body[..end]);
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase())).then_some(1 + end + 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(pattern: &str) -> Result<Pattern, PatternError> {
        Pattern::compile(pattern)
    }

    fn matches(pattern: &str, text: &str) -> bool {
        compile(pattern).unwrap().is_match(text.as_bytes())
    }

    #[test]
    fn literal_braces_are_escaped_and_repetitions_kept() {
        assert_eq!(translate(r"^\${(?:[A-Z_]+|[a-z_]+)}$").unwrap(), r"^\$\{(?:[A-Z_]+|[a-z_]+)\}$");
        assert_eq!(translate(r"a{2}b{3,}c{4,5}").unwrap(), r"a{2}b{3,}c{4,5}");
        assert_eq!(translate(r"x{,5}").unwrap(), r"x\{,5\}");
        assert!(matches(r"\$?{{[^}]+}}", "{{ .Values.password }}"));
        assert!(matches(r"import[ \t]+{[ \t\w,]+}", "import { a, b }"));
        assert!(matches(r"^\$(?:\d+|{\d+})$", "${12}"));
        // Braces inside brackets are literals in both engines and left alone.
        assert_eq!(translate(r"[{}]").unwrap(), r"[{}]");
    }

    #[test]
    fn perl_classes_are_ascii_as_in_go() {
        assert!(!matches(r"^\w+$", "é"));
        assert!(matches(r"^\w+$", "a_9"));
        assert!(!matches(r"^\d$", "٣"));
        assert!(matches(r"\bkey\b", "a key."));
        // Go's \s has no vertical tab.
        assert!(!matches(r"a\sb", "a\u{b}b"));
        assert!(matches(r"a\sb", "a\tb"));
        assert!(!matches(r"a[\s]b", "a\u{b}b"));
        assert!(matches(r"a\Sb", "a\u{b}b"));
        assert!(matches(r"a[x\S]b", "a\u{b}b"));
    }

    #[test]
    fn case_folding_and_posix_classes() {
        assert!(matches(r"(?i)secret", "SeCrEt"));
        assert!(matches(r"(?i:api)_KEY", "ApI_KEY"));
        assert!(!matches(r"(?i:api)_KEY", "api_key"));
        assert!(matches(r"^[[:alnum:]]+$", "abc123"));
        assert!(!matches(r"^[[:alnum:]]+$", "abc-123"));
        assert!(matches(r"^[[:^digit:]]+$", "abc"));
    }

    #[test]
    fn brackets_read_as_go_reads_them() {
        assert!(matches(r"^[[]$", "["));
        assert!(matches(r"^[a&&b]+$", "&ab"));
        assert!(matches(r"^[~~]$", "~"));
        assert!(matches(r"^[+--]+$", "+,-"));
        assert!(matches(r"^[]a]+$", "]a"));
        assert!(matches(r"^[^]a]$", "b"));
    }

    #[test]
    fn quoted_literals_and_unicode_classes() {
        assert!(matches(r"\Qa.b*\E+", "a.b*a.b*"));
        assert!(!matches(r"^\Qa.b\E$", "axb"));
        assert!(matches(r"^\Q{x}", "{x}"));
        assert!(matches(r"^\pL+$", "été"));
        assert!(matches(r"^\p{Greek}$", "λ"));
        assert!(!matches(r"^\PL$", "é"));
    }

    #[test]
    fn hex_escapes_are_code_points_as_in_go() {
        assert!(matches(r"^\x60\x{41}$", "`A"));
        assert!(matches(r"^\x{e9}$", "é"));
        assert!(matches(r"^\xe9$", "é"));
        assert!(!matches(r"^\xe9$", "\u{e9}\u{e9}"));
        assert!(matches(r"^[\x41-\x{5a}]+$", "AZ"));
        assert!(matches(r"^é+$", "éé"));
    }

    #[test]
    fn unsupported_syntax_is_named() {
        assert!(matches!(compile(r"[é]").unwrap_err(), PatternError::Unsupported(_)));
        assert!(matches!(compile(r"[\xe9]").unwrap_err(), PatternError::Unsupported(_)));
        assert_eq!(compile(r"a\Cb").unwrap_err(), PatternError::Unsupported(r"\C (any byte)".into()));
        assert!(matches!(compile(r"[\pL]").unwrap_err(), PatternError::Unsupported(_)));
        assert!(matches!(compile(r"(?<=a)b").unwrap_err(), PatternError::Syntax(_)));
        assert!(matches!(compile(r"a\").unwrap_err(), PatternError::Syntax(_)));
        assert!(matches!(compile(r"(a").unwrap_err(), PatternError::Syntax(_)));
    }

    #[test]
    fn size_limits_are_reported_and_large_ascii_repetitions_fit() {
        assert!(matches!(compile(r"(?:\w{1000}){1000}").unwrap_err(), PatternError::TooLarge(_)));
        // The three default patterns that overflow Rust's limit with Unicode classes.
        compile(r#"(?i)[\w.-]{0,50}?(?:access|auth|(?-i:[Aa]pi|API)|credential|creds|key|passw(?:or)?d|secret|token)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([\w.=-]{10,150}|[a-z0-9][a-z0-9+/]{11,}={0,3})(?:[\x60'"\s;]|\\[nr]|$)"#).unwrap();
        compile(r"pypi-AgEIcHlwaS5vcmc[\w-]{50,1000}").unwrap();
        compile(r"\b(hvb\.[\w-]{138,300})(?:[\x60'\x22\s;]|\\[nr]|$)").unwrap();
    }
}
