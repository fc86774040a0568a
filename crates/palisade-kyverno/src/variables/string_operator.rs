//! The operator in front of a pattern string (pkg/engine/operator): `>=`, `<=`, `>`, `<`, `!`,
//! and the ranges `1-10` and `1!-10`. Pattern values compare with it, references keep it, and
//! conditions compare with ranges.

use std::sync::LazyLock;

use regex::Regex;

static IN_RANGE: LazyLock<Regex> = LazyLock::new(|| range_regex(IN_RANGE_OPERATOR));
static NOT_IN_RANGE: LazyLock<Regex> = LazyLock::new(|| range_regex(NOT_IN_RANGE_OPERATOR));

/// Kyverno's range operands: a signed decimal with an optional unit, `-10`, `+1.5`, `128Mi`.
/// Digits are ASCII only, as Go's `\d` is.
fn range_regex(separator: &str) -> Regex {
    let operand = r"([-|+]?[0-9]+(?:\.[0-9]+)?[A-Za-z]*)";
    Regex::new(&format!("^{operand}{}{operand}$", regex::escape(separator))).expect("constant regex")
}

pub(crate) const IN_RANGE_OPERATOR: &str = "-";
pub(crate) const NOT_IN_RANGE_OPERATOR: &str = "!-";

/// Kyverno's `GetOperatorFromStringPattern`; `""` is equality.
pub(crate) fn operator_of(pattern: &str) -> &'static str {
    if pattern.len() < 2 {
        return "";
    }
    for operator in [">=", "<=", ">", "<", "!"] {
        if pattern.starts_with(operator) {
            return operator;
        }
    }
    if NOT_IN_RANGE.is_match(pattern) {
        NOT_IN_RANGE_OPERATOR
    } else if IN_RANGE.is_match(pattern) {
        IN_RANGE_OPERATOR
    } else {
        ""
    }
}

/// The bounds of `low-high` (or `low!-high` when `negated`).
pub(crate) fn range_bounds(pattern: &str, negated: bool) -> Option<(&str, &str)> {
    let captures = if negated { NOT_IN_RANGE.captures(pattern) } else { IN_RANGE.captures(pattern) }?;
    Some((captures.get(1)?.as_str(), captures.get(2)?.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_patterns_are_not_ranges() {
        assert_eq!(range_bounds("", false), None);
        assert_eq!(range_bounds("", true), None);
        assert_eq!(range_bounds("-10--8", false), Some(("-10", "-8")));
        assert_eq!(range_bounds("+0Mi!-+1024Mi", true), Some(("+0Mi", "+1024Mi")));
    }
}
