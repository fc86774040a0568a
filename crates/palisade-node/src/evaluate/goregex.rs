//! Go's `regexp` for the patterns kube-bench builds from control files (a flag inserted into
//! `(<flag>)(=|: *)*([^\s]*) *`, `<env>=.*(?:$|\n)`, a `regex` compare value).
//!
//! Go's RE2 syntax and the regex crate's agree on matching (leftmost-first, the same
//! submatches) but not on every piece of syntax, so a Go pattern is translated first: `\d \s \w
//! \b` are ASCII in Go (`\s` is `[\t\n\f\r ]`, without `\v`), `\Q...\E` quotes, `\123` is octal,
//! a `{` that does not start a valid `{n}`, `{n,}` or `{n,m}` is a literal, `[`, `&`, `~` and `-`
//! inside a class are literals, `\<` is a literal `<`; and what Go refuses is refused: stacked
//! repetition operators (`a**`), repeat counts over 1,000, flags other than `imsU`, unknown
//! escapes. `\p{...}` classes (general categories and scripts) are passed on, as both read them
//! alike.

use std::cell::RefCell;
use std::collections::HashMap;

use regex::{Regex, RegexBuilder};

thread_local! {
    /// Control files repeat a few dozen patterns over every check and every snapshot.
    static CACHE: RefCell<HashMap<String, Result<Regex, String>>> = RefCell::default();
}

/// Go's `regexp.Compile(pattern)`, cached per thread. The error is Go's message where the
/// translation finds the problem, the regex crate's otherwise.
pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    CACHE.with(|cache| {
        if let Some(compiled) = cache.borrow().get(pattern) {
            return compiled.clone();
        }
        let compiled = translate(pattern).and_then(|translated| {
            RegexBuilder::new(&translated)
                .nest_limit(1000)
                .build()
                .map_err(|error| {
                    format!(
                        "error parsing regexp: {}",
                        error.to_string().lines().last().unwrap_or_default().trim()
                    )
                })
        });
        cache
            .borrow_mut()
            .insert(pattern.to_owned(), compiled.clone());
        compiled
    })
}

/// Whether `text` holds none of the characters Go's `regexp.QuoteMeta` escapes, so that as a
/// pattern it matches only itself.
pub(crate) fn is_literal(text: &str) -> bool {
    !text.contains([
        '\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$',
    ])
}

const GO_SPACE: &str = r"\t\n\f\r ";
const GO_DIGIT: &str = "0-9";
const GO_WORD: &str = "0-9A-Za-z_";
const POSIX_CLASSES: [&str; 14] = [
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];
const MAX_REPEAT: u32 = 1000;

fn invalid(what: &str, text: &[char]) -> String {
    format!(
        "error parsing regexp: {what}: `{}`",
        text.iter().collect::<String>()
    )
}

/// The members of a Go Perl class (`d`, `s`, `w`), for use inside brackets.
fn perl_class(name: char) -> Option<&'static str> {
    match name.to_ascii_lowercase() {
        'd' => Some(GO_DIGIT),
        's' => Some(GO_SPACE),
        'w' => Some(GO_WORD),
        _ => None,
    }
}

fn push_literal(out: &mut String, c: char) {
    out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
}

/// Translates a Go pattern into the regex crate's syntax.
fn translate(pattern: &str) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut at = 0;
    let mut after_repeat = false;
    while at < chars.len() {
        let c = chars[at];
        let mut repeat = false;
        match c {
            '\\' => at = escape(&chars, at, &mut out)?,
            '[' => at = class(&chars, at, &mut out)?,
            '(' if chars.get(at + 1) == Some(&'?') => at = group(&chars, at, &mut out)?,
            '*' | '+' | '?' => {
                at = repetition(&chars, at, at + 1, after_repeat, &mut out)?;
                repeat = true;
            }
            '{' => match counted(&chars[at..]) {
                Some((length, min, max)) => {
                    if min > MAX_REPEAT || max.is_some_and(|max| max > MAX_REPEAT || max < min) {
                        return Err(invalid("invalid repeat count", &chars[at..at + length]));
                    }
                    at = repetition(&chars, at, at + length, after_repeat, &mut out)?;
                    repeat = true;
                }
                None => {
                    out.push_str(r"\{");
                    at += 1;
                }
            },
            '}' => {
                out.push_str(r"\}");
                at += 1;
            }
            _ => {
                out.push(c);
                at += 1;
            }
        }
        after_repeat = repeat;
    }
    Ok(out)
}

/// Copies the repetition operator `chars[at..end]` and a lazy `?` after it; Go refuses one
/// right after another.
fn repetition(
    chars: &[char],
    at: usize,
    end: usize,
    after_repeat: bool,
    out: &mut String,
) -> Result<usize, String> {
    let end = if chars.get(end) == Some(&'?') {
        end + 1
    } else {
        end
    };
    if after_repeat {
        return Err(invalid(
            "invalid nested repetition operator",
            &chars[at..end],
        ));
    }
    out.extend(&chars[at..end]);
    Ok(end)
}

/// A Go counted repetition at the start of `chars`: its length, minimum and maximum (`None`
/// for `{n,}`). Go reads anything else, `{,n}` and `{01}` included, as a literal `{`.
fn counted(chars: &[char]) -> Option<(usize, u32, Option<u32>)> {
    let number = |from: usize| -> Option<(u32, usize)> {
        let digits = chars[from..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 || (digits > 1 && chars[from] == '0') {
            return None;
        }
        let text: String = chars[from..from + digits].iter().collect();
        Some((text.parse().unwrap_or(u32::MAX), from + digits))
    };
    let (min, at) = number(1)?;
    let (max, at) = match chars.get(at)? {
        ',' if chars.get(at + 1) == Some(&'}') => (None, at + 1),
        ',' => {
            let (max, at) = number(at + 1)?;
            (Some(max), at)
        }
        _ => (Some(min), at),
    };
    (chars.get(at) == Some(&'}')).then_some((at + 1, min, max))
}

/// `(?flags)`, `(?flags:`, `(?P<name>` or `(?<name>`: copied once Go would accept it.
fn group(chars: &[char], at: usize, out: &mut String) -> Result<usize, String> {
    if matches!(chars.get(at + 2), Some('P' | '<')) {
        out.push_str("(?");
        return Ok(at + 2);
    }
    let mut end = at + 2;
    while let Some(&flag) = chars.get(end) {
        match flag {
            ':' | ')' => {
                out.extend(&chars[at..=end]);
                return Ok(end + 1);
            }
            'i' | 'm' | 's' | 'U' | '-' => end += 1,
            _ => break,
        }
    }
    Err(invalid(
        "invalid or unsupported Perl syntax",
        &chars[at..(end + 1).min(chars.len())],
    ))
}

/// An escape outside brackets, at `chars[at] == '\\'`.
fn escape(chars: &[char], at: usize, out: &mut String) -> Result<usize, String> {
    let Some(&kind) = chars.get(at + 1) else {
        return Err(invalid("trailing backslash at end of expression", &[]));
    };
    match kind {
        'd' | 's' | 'w' => out.push_str(&format!("[{}]", perl_class(kind).unwrap_or_default())),
        'D' | 'S' | 'W' => out.push_str(&format!("[^{}]", perl_class(kind).unwrap_or_default())),
        'b' | 'B' => out.push_str(&format!("(?-u:\\{kind})")),
        'A' | 'z' => out.extend(['\\', kind]),
        'p' | 'P' => {
            let end = if chars.get(at + 2) == Some(&'{') {
                chars[at..]
                    .iter()
                    .position(|&c| c == '}')
                    .map_or(chars.len(), |close| at + close + 1)
            } else {
                (at + 3).min(chars.len())
            };
            out.extend(&chars[at..end]);
            return Ok(end);
        }
        'Q' => {
            let quoted = &chars[at + 2..];
            let length = quoted
                .windows(2)
                .position(|pair| pair == ['\\', 'E'])
                .unwrap_or(quoted.len());
            quoted[..length].iter().for_each(|&c| push_literal(out, c));
            return Ok((at + 2 + length + 2).min(chars.len()));
        }
        _ => {
            let (c, end) = escaped_char(chars, at)?;
            push_literal(out, c);
            return Ok(end);
        }
    }
    Ok(at + 2)
}

/// The character an escape stands for (Go's `parseEscape`): octal, `\x`, `\a \f \n \r \t \v`,
/// or escaped punctuation; and where it ends.
fn escaped_char(chars: &[char], at: usize) -> Result<(char, usize), String> {
    let kind = *chars
        .get(at + 1)
        .ok_or_else(|| invalid("trailing backslash at end of expression", &[]))?;
    let bad = || {
        invalid(
            "invalid escape sequence",
            &chars[at..(at + 2).min(chars.len())],
        )
    };
    let octal = |c: Option<&char>| c.is_some_and(|c| ('0'..='7').contains(c));
    match kind {
        '1'..='7' if !octal(chars.get(at + 2)) => Err(bad()),
        '0'..='7' => {
            let digits = 1
                + (at + 2..at + 4)
                    .take_while(|&index| octal(chars.get(index)))
                    .count();
            let value = chars[at + 1..at + 1 + digits]
                .iter()
                .fold(0, |value, c| value * 8 + c.to_digit(8).unwrap_or(0));
            Ok((char::from_u32(value).ok_or_else(bad)?, at + 1 + digits))
        }
        'x' => {
            let (digits, end) = if chars.get(at + 2) == Some(&'{') {
                let close = chars[at..]
                    .iter()
                    .position(|&c| c == '}')
                    .map(|close| at + close)
                    .ok_or_else(bad)?;
                (&chars[at + 3..close], close + 1)
            } else {
                (chars.get(at + 2..at + 4).ok_or_else(bad)?, at + 4)
            };
            let text: String = digits.iter().collect();
            if text.is_empty() || !text.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad());
            }
            let value = u32::from_str_radix(&text, 16).map_err(|_| bad())?;
            Ok((char::from_u32(value).ok_or_else(bad)?, end))
        }
        'a' => Ok(('\u{7}', at + 2)),
        'f' => Ok(('\u{c}', at + 2)),
        'n' => Ok(('\n', at + 2)),
        'r' => Ok(('\r', at + 2)),
        't' => Ok(('\t', at + 2)),
        'v' => Ok(('\u{b}', at + 2)),
        _ if kind.is_ascii_punctuation() => Ok((kind, at + 2)),
        _ => Err(bad()),
    }
}

/// A bracketed class at `chars[at] == '['`.
fn class(chars: &[char], at: usize, out: &mut String) -> Result<usize, String> {
    let missing = || invalid("missing closing ]", &chars[at..]);
    out.push('[');
    let mut index = at + 1;
    if chars.get(index) == Some(&'^') {
        out.push('^');
        index += 1;
    }
    let first = index;
    loop {
        let c = *chars.get(index).ok_or_else(missing)?;
        if c == ']' && index != first {
            out.push(']');
            return Ok(index + 1);
        }
        if c == '[' && chars.get(index + 1) == Some(&':') {
            let close = chars[index + 2..]
                .windows(2)
                .position(|pair| pair == [':', ']']);
            if let Some(close) = close {
                let name: String = chars[index + 2..index + 2 + close].iter().collect();
                if POSIX_CLASSES.contains(&name.trim_start_matches('^')) {
                    out.push_str(&format!("[:{name}:]"));
                    index += close + 4;
                    continue;
                }
                if chars[index + 2..index + 2 + close]
                    .iter()
                    .all(|c| c.is_ascii_alphabetic() || *c == '^')
                {
                    return Err(invalid(
                        "invalid character class range",
                        &chars[index..index + close + 4],
                    ));
                }
            }
        }
        if c == '\\' {
            match chars.get(index + 1) {
                Some(&kind @ ('d' | 's' | 'w')) => {
                    out.push_str(perl_class(kind).unwrap_or_default());
                    index += 2;
                    continue;
                }
                Some(&kind @ ('D' | 'S' | 'W')) => {
                    out.push_str(&format!("[^{}]", perl_class(kind).unwrap_or_default()));
                    index += 2;
                    continue;
                }
                Some('p' | 'P') => {
                    let mut escaped = String::new();
                    index = escape(chars, index, &mut escaped)?;
                    out.push_str(&escaped);
                    continue;
                }
                _ => {}
            }
        }
        let (low, next) = class_char(chars, index).ok_or_else(missing)??;
        push_literal(out, low);
        index = next;
        if chars.get(index) == Some(&'-') && chars.get(index + 1).is_some_and(|&c| c != ']') {
            let (high, next) = class_char(chars, index + 1).ok_or_else(missing)??;
            if high < low {
                return Err(invalid(
                    "invalid character class range",
                    &chars[index - 1..next],
                ));
            }
            out.push('-');
            push_literal(out, high);
            index = next;
        }
    }
}

/// One character of a class (escaped or not) and where it ends; `None` at the pattern's end.
fn class_char(chars: &[char], at: usize) -> Option<Result<(char, usize), String>> {
    match chars.get(at)? {
        '\\' => Some(escaped_char(chars, at)),
        &c => Some(Ok((c, at + 1))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        compile(pattern)
            .unwrap_or_else(|error| panic!("{pattern}: {error}"))
            .is_match(text)
    }

    #[test]
    fn perl_classes_and_boundaries_are_ascii() {
        assert!(matches(r"^\d$", "5"));
        assert!(!matches(r"^\d$", "٣"));
        assert!(matches(r"a\sb", "a\tb"));
        assert!(!matches(r"a\sb", "a\u{b}b"));
        assert!(matches(r"^[^\s]+$", "a\u{b}b"));
        assert!(!matches(r"^\w$", "é"));
        assert!(matches(r"^\W$", "é"));
        assert!(matches(r"x\b", "xé"));
        assert!(matches(r"[\d-z]", "-"));
        assert!(!matches(r"^[\D]$", "1"));
    }

    #[test]
    fn escapes_as_go_reads_them() {
        assert!(matches(r"\Q.*\E", ".*"));
        assert!(!matches(r"\Q.*\E", "ab"));
        assert!(matches(r"\Q(unclosed", "(unclosed"));
        assert!(matches(r"\101", "A"));
        assert!(matches(r"a\x41", "aA"));
        assert!(matches(r"a\x{263a}", "a☺"));
        assert!(matches(r"[\x41-\x43]", "B"));
        assert!(matches(r"\<", "<"));
        assert!(matches(r"\%", "%"));
        assert!(matches(r"\.", "."));
        for refused in [r"\1", r"\8", r"\C", r"\q", r"x\E", r"a\"] {
            assert!(compile(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn braces_repeat_only_in_go_s_forms() {
        assert!(matches(r"a{", "a{"));
        assert!(matches(r"{a}", "{a}"));
        assert!(matches(r"^a{2}$", "aa"));
        assert!(matches(r"^a{2,}$", "aaa"));
        assert!(matches(r"a{,2}", "a{,2}"));
        assert!(matches(r"a{01}", "a{01}"));
        for refused in [r"a{1001}", r"a{2,1}", r"a{2}{3}", r"a{2}*"] {
            assert!(compile(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn stacked_repetitions_and_other_flags_are_refused() {
        assert!(matches(r"^a*?$", "aa"));
        assert!(matches(r"^(a)*$", "aa"));
        for refused in [r"a**", r"a*+", r"a*??", r"(?x)a", r"(?u)a", r"a|*"] {
            assert!(compile(refused).is_err(), "{refused}");
        }
        assert!(matches(r"(?i)A", "a"));
        assert!(matches(r"(?i)k", "\u{212a}"));
        assert!(matches(r"(?s).", "\n"));
        assert!(!matches(r".", "\n"));
        assert!(matches(r"(?P<name>a)", "a"));
    }

    #[test]
    fn classes_keep_go_s_literals() {
        assert!(matches(r"[[a]", "["));
        assert!(matches(r"[a&&b]", "&"));
        assert!(matches(r"[a~~b]", "~"));
        assert!(matches(r"[]a]", "]"));
        assert!(matches(r"[^]a]", "b"));
        assert!(matches(r"[a-]", "-"));
        assert!(matches(r"[[:alpha:]]", "x"));
        assert!(!matches(r"[[:^alpha:]]", "x"));
        for refused in [r"[[:foo:]]", r"[z-a]", r"[a", r"[\b]"] {
            assert!(compile(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn unicode_classes_match_as_in_go() {
        assert!(compile(r"^\pL+$").unwrap().is_match("Kubernetes"));
        assert!(!compile(r"^\pL+$").unwrap().is_match("k8s"));
        assert!(compile(r"[\p{Greek}]").unwrap().is_match("αβ"));
        assert!(compile(r"\p{Nd}").unwrap().is_match("٣"));
    }

    #[test]
    fn literals_are_recognised_as_go_quotes_them() {
        assert!(is_literal("--profiling"));
        assert!(is_literal("root:root"));
        assert!(is_literal("File not found"));
        for pattern in [
            "a.b", "x*", "(x)", "a|b", "[x]", "{x}", "^x", "x$", r"a\b", "x+", "x?",
        ] {
            assert!(!is_literal(pattern), "{pattern}");
        }
    }
}
