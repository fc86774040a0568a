//! Go's `regexp` (RE2) syntax on the `regex` crate. The grammars agree except that Go's Perl
//! classes are ASCII-only (`\d` is `[0-9]`), where the `regex` crate's are Unicode; this rewrites
//! them to their ASCII meaning before compiling.

use regex::Regex;

/// Compiles `pattern` with Go's meaning of `\d`, `\w`, `\s`, `\b` and their negations.
pub(crate) fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&ascii_perl_classes(pattern))
}

fn ascii_perl_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut characters = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = characters.next() {
        match c {
            '\\' => {
                let Some(next) = characters.next() else {
                    out.push(c);
                    break;
                };
                out.push_str(&match (in_class, next) {
                    (false, 'd') => "[0-9]".to_owned(),
                    (false, 'D') => "[^0-9]".to_owned(),
                    (false, 'w') => "[0-9A-Za-z_]".to_owned(),
                    (false, 'W') => "[^0-9A-Za-z_]".to_owned(),
                    (false, 'b' | 'B') => format!("(?-u:\\{next})"),
                    (false, 's') => r"[\t\n\x0C\r ]".to_owned(),
                    (false, 'S') => r"[^\t\n\x0C\r ]".to_owned(),
                    (true, 'd') => "0-9".to_owned(),
                    (true, 'w') => "0-9A-Za-z_".to_owned(),
                    (true, 's') => r"\t\n\x0C\r ".to_owned(),
                    _ => format!("\\{next}"),
                });
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` (after an optional `^`) first in a class is a literal.
                if characters.peek() == Some(&'^') {
                    out.push('^');
                    characters.next();
                }
                if characters.peek() == Some(&']') {
                    out.push(']');
                    characters.next();
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::compile;

    #[test]
    fn perl_classes_are_ascii_as_in_go() {
        assert!(compile(r"^\d+$").unwrap().is_match("123"));
        assert!(!compile(r"^\d+$").unwrap().is_match("\u{661}\u{662}"));
        assert!(!compile(r"^\w+$").unwrap().is_match("caf\u{e9}"));
        assert!(compile(r"^[\w.-]+$").unwrap().is_match("a_b.c-d"));
        assert!(!compile(r"^[\w]+$").unwrap().is_match("\u{e9}"));
        assert!(compile(r"^\S+\s\S+$").unwrap().is_match("a b"));
        assert!(compile(r"[]a]").unwrap().is_match("]"));
        assert!(compile(r"\\d").unwrap().is_match("\\d"));
        assert!(compile(r"\bfoo\b").unwrap().is_match("a foo b"));
        assert!(compile(r"^\D\W$").unwrap().is_match("\u{e9}\u{e9}"));
        assert!(compile(r"a\Bb").unwrap().is_match("ab"));
    }
}
