//! Anchored pattern keys: `(key)`, `<(key)`, `X(key)`, `+(key)`, `=(key)`, `^(key)`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AnchorKind {
    /// `(key)`: the rest of the map is checked only if this matches.
    Condition,
    /// `<(key)`: the whole rule is checked only if this matches.
    Global,
    /// `X(key)`: the key must be absent.
    Negation,
    /// `+(key)`: a mutation anchor; validation has no handler for it.
    AddIfNotPresent,
    /// `=(key)`: checked only if the key is present.
    Equality,
    /// `^(key)`: some element of the list must match.
    Existence,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Anchor<'a> {
    pub kind: AnchorKind,
    pub key: &'a str,
}

impl AnchorKind {
    fn modifier(self) -> &'static str {
        match self {
            AnchorKind::Condition => "",
            AnchorKind::Global => "<",
            AnchorKind::Negation => "X",
            AnchorKind::AddIfNotPresent => "+",
            AnchorKind::Equality => "=",
            AnchorKind::Existence => "^",
        }
    }

    fn of_modifier(modifier: char) -> Option<AnchorKind> {
        Some(match modifier {
            '<' => AnchorKind::Global,
            'X' => AnchorKind::Negation,
            '+' => AnchorKind::AddIfNotPresent,
            '=' => AnchorKind::Equality,
            '^' => AnchorKind::Existence,
            _ => return None,
        })
    }

    /// The anchors Kyverno's validation evaluates before the plain keys of a map.
    pub fn is_evaluated_first(self) -> bool {
        matches!(self, AnchorKind::Condition | AnchorKind::Existence | AnchorKind::Equality | AnchorKind::Negation)
    }
}

/// Kyverno's `anchor.Parse`: `^([+<=X^])?\((.+)\)$` on the key with surrounding white space
/// trimmed. The key may contain parentheses; Go's `.` does not match a newline.
pub(super) fn parse(text: &str) -> Option<Anchor<'_>> {
    let text = text.trim();
    let mut chars = text.chars();
    let first = chars.next()?;
    let (kind, rest) = match AnchorKind::of_modifier(first) {
        Some(kind) => (kind, chars.as_str()),
        None => (AnchorKind::Condition, text),
    };
    let key = rest.strip_prefix('(')?.strip_suffix(')')?;
    if key.is_empty() || key.contains('\n') {
        return None;
    }
    Some(Anchor { kind, key })
}

/// Kyverno's `anchor.String`: the key written back with its modifier.
pub(super) fn render(kind: AnchorKind, key: &str) -> String {
    format!("{}({key})", kind.modifier())
}

#[cfg(test)]
mod tests {
    //! Ported from kyverno/kyverno 111e07bbecc66abfde36ab99969af22d7a961003,
    //! pkg/engine/anchor/anchor_test.go (TestParse, TestString), Apache-2.0.
    use super::*;
    use AnchorKind::*;

    #[test]
    fn parses_kyverno_anchor_table() {
        let cases: &[(&str, Option<(AnchorKind, &str)>)] = &[
            ("(something)", Some((Condition, "something"))),
            ("()", None),
            ("something", None),
            ("(something", None),
            ("something)", None),
            ("so)m(et(hin)g", None),
            ("", None),
            ("^(abc)", Some((Existence, "abc"))),
            ("^(abc", None),
            ("^abc", None),
            ("^()", None),
            ("(abc)", Some((Condition, "abc"))),
            ("=(abc)", Some((Equality, "abc"))),
            ("=(abc", None),
            ("=abc", None),
            ("+(abc)", Some((AddIfNotPresent, "abc"))),
            ("+(abc", None),
            ("+abc", None),
            ("X(abc)", Some((Negation, "abc"))),
            ("X(abc", None),
            ("Xabc", None),
            ("<(abc)", Some((Global, "abc"))),
            ("<(abc", None),
            ("<abc", None),
            ("(abc)", Some((Condition, "abc"))),
            ("(abc", None),
            ("abc", None),
        ];
        for (text, expected) in cases {
            let parsed = parse(text).map(|anchor| (anchor.kind, anchor.key));
            assert_eq!(parsed, *expected, "{text:?}");
        }
    }

    #[test]
    fn renders_kyverno_anchor_strings() {
        let cases = [
            (Condition, "(test)"),
            (Global, "<(test)"),
            (Negation, "X(test)"),
            (AddIfNotPresent, "+(test)"),
            (Equality, "=(test)"),
            (Existence, "^(test)"),
        ];
        for (kind, expected) in cases {
            assert_eq!(render(kind, "test"), expected);
            assert_eq!(parse(expected), Some(Anchor { kind, key: "test" }));
        }
    }

    #[test]
    fn keeps_nested_parentheses_and_trims_white_space() {
        assert_eq!(parse(" ((a)) "), Some(Anchor { kind: Condition, key: "(a)" }));
        assert_eq!(parse("X((a)"), Some(Anchor { kind: Negation, key: "(a" }));
        assert_eq!(parse("(a\nb)"), None);
        assert_eq!(parse("Y(abc)"), None);
    }
}
