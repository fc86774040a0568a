//! Kyverno's `pattern.Validate`: one resource value against one pattern value, with the string
//! operators `|` (any), `&` (all), `!`, `>`, `<`, `>=`, `<=`, ranges `a-b` and `a!-b`, and
//! wildcards; strings are compared as durations, then as quantities, then as text.

use super::gofmt::GoNumber;
use crate::duration;
use crate::go;
use crate::quantity;
use crate::variables::string_operator::{self, IN_RANGE_OPERATOR, NOT_IN_RANGE_OPERATOR};
use crate::wildcard;
use serde_json::Value;
use std::cmp::Ordering;

pub(super) fn matches(value: &Value, pattern: &Value) -> bool {
    match pattern {
        Value::Bool(expected) => value.as_bool() == Some(*expected),
        Value::Number(number) => match GoNumber::of(number) {
            GoNumber::Int(expected) => matches_int(value, expected),
            GoNumber::Float(expected) => matches_float(value, expected),
        },
        Value::Null => is_go_zero_value(value),
        // A map pattern given as a value only asks for a map.
        Value::Object(_) => value.is_object(),
        Value::String(pattern) => matches_string_pattern(value, pattern),
        Value::Array(_) => false,
    }
}

fn matches_int(value: &Value, expected: i64) -> bool {
    match value {
        Value::Number(number) => match GoNumber::of(number) {
            GoNumber::Int(int) => int == expected,
            GoNumber::Float(float) => float.trunc() == float && go_float_to_int(float) == expected,
        },
        // Rust's i64 parser accepts exactly what Go's strconv.ParseInt(s, 10, 64) does.
        Value::String(text) => text.parse::<i64>().is_ok_and(|int| int == expected),
        _ => false,
    }
}

fn matches_float(value: &Value, expected: f64) -> bool {
    match value {
        Value::Number(number) => match GoNumber::of(number) {
            GoNumber::Int(int) => expected.trunc() == expected && go_float_to_int(expected) == int,
            GoNumber::Float(float) => float == expected,
        },
        Value::String(text) => go_parse_float(text).is_some_and(|float| float == expected),
        _ => false,
    }
}

/// Go's `int64(f)` for a whole float: exact in range; out of range amd64 yields i64::MIN.
fn go_float_to_int(float: f64) -> i64 {
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if (-TWO_POW_63..TWO_POW_63).contains(&float) { float as i64 } else { i64::MIN }
}

/// Go's `strconv.ParseFloat(s, 64)` as far as it can equal a JSON number: digit-separating
/// underscores are allowed. Hexadecimal mantissas (`0x1p4`), which Go also accepts, are not.
fn go_parse_float(text: &str) -> Option<f64> {
    if !text.contains('_') {
        return text.parse().ok();
    }
    if !go_underscores_ok(text) {
        return None;
    }
    text.replace('_', "").parse().ok()
}

/// Go's `underscoreOK` for a decimal number: every `_` sits between two digits.
fn go_underscores_ok(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text).as_bytes();
    digits.iter().enumerate().all(|(i, &c)| {
        c != b'_' || (i > 0 && digits[i - 1].is_ascii_digit() && digits.get(i + 1).is_some_and(u8::is_ascii_digit))
    })
}

/// What a `null` pattern accepts: Go's zero values.
fn is_go_zero_value(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(number) => match GoNumber::of(number) {
            GoNumber::Int(int) => int == 0,
            GoNumber::Float(float) => float == 0.0,
        },
        Value::String(text) => text.is_empty(),
        Value::Array(_) | Value::Object(_) => false,
    }
}

/// `a | b & c`: alternatives of conjunctions, each part trimmed of spaces.
fn matches_string_pattern(value: &Value, pattern: &str) -> bool {
    if value.as_str() == Some(pattern) {
        return true;
    }
    pattern.split('|').any(|alternative| {
        alternative.trim_matches(' ').split('&').all(|condition| matches_condition(value, condition.trim_matches(' ')))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Equal,
    MoreEqual,
    LessEqual,
    NotEqual,
    More,
    Less,
    InRange,
    NotInRange,
}

impl Operator {
    /// Kyverno's `GetOperatorFromStringPattern`, and the operator's length in the pattern.
    fn of(pattern: &str) -> (Operator, usize) {
        let operator = string_operator::operator_of(pattern);
        let kind = match operator {
            ">=" => Operator::MoreEqual,
            "<=" => Operator::LessEqual,
            ">" => Operator::More,
            "<" => Operator::Less,
            "!" => Operator::NotEqual,
            NOT_IN_RANGE_OPERATOR => return (Operator::NotInRange, 0),
            IN_RANGE_OPERATOR => return (Operator::InRange, 0),
            _ => Operator::Equal,
        };
        (kind, operator.len())
    }

    /// Whether `value` compared with the pattern's operand as `ordering` satisfies the operator.
    fn holds(self, ordering: Ordering) -> Option<bool> {
        Some(match self {
            Operator::Equal => ordering == Ordering::Equal,
            Operator::NotEqual => ordering != Ordering::Equal,
            Operator::More => ordering == Ordering::Greater,
            Operator::Less => ordering == Ordering::Less,
            Operator::MoreEqual => ordering != Ordering::Less,
            Operator::LessEqual => ordering != Ordering::Greater,
            Operator::InRange | Operator::NotInRange => return None,
        })
    }
}

/// One condition: ranges expand to two comparisons, everything else compares one operand.
fn matches_condition(value: &Value, condition: &str) -> bool {
    match Operator::of(condition) {
        (Operator::InRange, _) => string_operator::range_bounds(condition, false).is_some_and(|(low, high)| {
            matches_condition(value, &format!(">= {low}")) && matches_condition(value, &format!("<= {high}"))
        }),
        (Operator::NotInRange, _) => string_operator::range_bounds(condition, true).is_some_and(|(low, high)| {
            matches_condition(value, &format!("< {low}")) || matches_condition(value, &format!("> {high}"))
        }),
        (operator, length) => compare(value, condition[length..].trim(), operator),
    }
}

/// Kyverno's `validateString`: the first reading of the operand that applies decides.
fn compare(value: &Value, operand: &str, operator: Operator) -> bool {
    compare_durations(value, operand, operator)
        .or_else(|| compare_quantities(value, operand, operator))
        .unwrap_or_else(|| compare_text(value, operand, operator))
}

fn compare_durations(value: &Value, operand: &str, operator: Operator) -> Option<bool> {
    let expected = duration::parse(operand).ok()?;
    let actual = duration::parse(&number_as_text(value)?).ok()?;
    operator.holds(actual.cmp(&expected))
}

fn compare_quantities(value: &Value, operand: &str, operator: Operator) -> Option<bool> {
    let expected = quantity::parse_exact(operand)?;
    let actual = quantity::parse_exact(&number_as_text(value)?)?;
    operator.holds(actual.cmp(&expected))
}

/// Kyverno's `convertNumberToString`: how a value is read as a duration or quantity.
fn number_as_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some("0".to_string()),
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(match GoNumber::of(number) {
            GoNumber::Int(int) => int.to_string(),
            GoNumber::Float(float) => go::fixed6(float),
        }),
        Value::Bool(_) | Value::Array(_) | Value::Object(_) => None,
    }
}

/// Kyverno's `compareString`: wildcard equality on the value's text; order operators never hold.
fn compare_text(value: &Value, operand: &str, operator: Operator) -> bool {
    if !matches!(operator, Operator::Equal | Operator::NotEqual) {
        return false;
    }
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(number) => match GoNumber::of(number) {
            GoNumber::Int(int) => int.to_string(),
            GoNumber::Float(float) => go::exponent_form(float),
        },
        Value::Null | Value::Array(_) | Value::Object(_) => return false,
    };
    wildcard::matches(operand, &text) == (operator == Operator::Equal)
}

#[cfg(test)]
mod tests {
    //! The internal-function tables of kyverno/kyverno 111e07bbecc66abfde36ab99969af22d7a961003
    //! pkg/engine/pattern/pattern_test.go and pkg/engine/operator/operator_test.go
    //! (Apache-2.0), ported to the functions here.
    use super::*;
    use serde_json::json;

    #[test]
    fn operator_of_kyverno_table() {
        use Operator::*;
        let cases = [
            ("f", Equal),
            ("", Equal),
            (">=", MoreEqual),
            ("0-1", InRange),
            ("0Mi-1024Mi", InRange),
            ("0!-1", NotInRange),
            ("0Mi!-1024Mi", NotInRange),
            ("text1024Mi-2048Mi", Equal),
            ("test-value", Equal),
            ("value-*", Equal),
            ("text1024Mi!-2048Mi", Equal),
            ("test!-value", Equal),
            ("value!-*", Equal),
            ("-10--8", InRange),
            ("-10Mi--8Mi", InRange),
            ("-10!--8", NotInRange),
            ("-10Mi!--8Mi", NotInRange),
            ("-10-+8", InRange),
            ("-10Mi-+8Mi", InRange),
            ("-10!-+8", NotInRange),
            ("-10Mi!-+8Mi", NotInRange),
            ("+0-+1", InRange),
            ("+0Mi-+1024Mi", InRange),
            ("+0!-+1", NotInRange),
            ("+0Mi!-+1024Mi", NotInRange),
        ];
        for (pattern, expected) in cases {
            assert_eq!(Operator::of(pattern).0, expected, "{pattern:?}");
        }
    }

    #[test]
    fn operator_lengths_and_unicode_digits() {
        assert_eq!(Operator::of(">= 3"), (Operator::MoreEqual, 2));
        assert_eq!(Operator::of("!x"), (Operator::NotEqual, 1));
        // Go's \d is ASCII only.
        assert_eq!(Operator::of("\u{663}-\u{664}").0, Operator::Equal);
    }

    #[test]
    fn number_as_text_kyverno_table() {
        let cases = [
            (json!(null), Some("0")),
            (json!("123"), Some("123")),
            (json!(""), Some("")),
            (json!("abc"), Some("abc")),
            (json!(0.0), Some("0.000000")),
            (json!(3.10), Some("3.100000")),
            (json!(-3.10), Some("-3.100000")),
            (json!(-3), Some("-3")),
            (json!(3), Some("3")),
            (json!(0), Some("0")),
            (json!(false), None),
        ];
        for (value, expected) in cases {
            assert_eq!(number_as_text(&value).as_deref(), expected, "{value}");
        }
    }

    #[test]
    fn compare_text_kyverno_table() {
        let cases = [
            (json!("anything"), "*", true),
            (json!(""), "*", true),
            (json!("leftright"), "*right", true),
            (json!("right"), "*right", true),
            (json!("leftmiddle"), "*right", false),
            (json!("middle"), "*right", false),
            (json!("abbeba"), "ab*ba", true),
            (json!("abbca"), "ab*ba", false),
            (json!("abbba"), "ab?ba", true),
            (json!("abbbba"), "ab?ba", false),
            (json!(null), "ab?ba", false),
            (json!(""), "ab?ba", false),
            (json!(""), "", true),
            (json!(1), "1", true),
            (json!(1.0), "1E+*", true),
            (json!(true), "true", true),
        ];
        for (value, operand, expected) in cases {
            assert_eq!(compare_text(&value, operand, Operator::Equal), expected, "{value} {operand:?}");
        }
        assert!(!compare_text(&json!("b"), "a", Operator::More));
        assert!(compare_text(&json!("b"), "a", Operator::NotEqual));
        assert!(!compare_text(&json!(null), "a", Operator::NotEqual));
    }

    #[test]
    fn compare_with_explicit_operators_kyverno_tables() {
        use Operator::*;
        let cases = [
            // TestValidateNumberWithStr_LessFloatAndInt
            (json!(7.00001), "7.000001", More, true),
            (json!(7.00001), "7", NotEqual, true),
            (json!(7.0000), "7", Equal, true),
            (json!(6.000000001), "6", Less, false),
            // TestValidateQuantity_InvalidQuantity
            (json!("1024Gi"), "", Equal, false),
            (json!("gii"), "1024Gi", Equal, false),
            // TestValidateDuration
            (json!("12s"), "12s", Equal, true),
            (json!("12s"), "15s", NotEqual, true),
            (json!("12s"), "15s", Less, true),
            (json!("12s"), "15s", LessEqual, true),
            (json!("12s"), "12s", LessEqual, true),
            (json!("15s"), "12s", Less, false),
            (json!("15s"), "12s", LessEqual, false),
            (json!("15s"), "12s", More, true),
            (json!("15s"), "12s", MoreEqual, true),
            (json!("12s"), "12s", MoreEqual, true),
            (json!("12s"), "15s", More, false),
            (json!("12s"), "15s", MoreEqual, false),
            // TestValidateQuantity_Equal
            (json!("1024Gi"), "1024Gi", Equal, true),
            (json!("1024Mi"), "1Gi", Equal, true),
            (json!("0.2"), "200m", Equal, true),
            (json!("500"), "500", Equal, true),
            (json!("2048"), "1024", Equal, false),
            (json!(1024), "1024", Equal, true),
            // TestValidateQuantity_Operation
            (json!("1Gi"), "1000Mi", More, true),
            (json!("1G"), "1Gi", Less, true),
            (json!("500m"), "0.5", MoreEqual, true),
            (json!("1"), "500m", MoreEqual, true),
            (json!("0.5"), ".5", LessEqual, true),
            (json!("0.2"), ".5", LessEqual, true),
            (json!("0.2"), ".5", NotEqual, true),
            // TestValidateQuantity_Operation_No_String_Check (its log assertion has no counterpart)
            (json!("500m"), "0.6", MoreEqual, false),
        ];
        for (value, operand, operator, expected) in cases {
            assert_eq!(compare(&value, operand, operator), expected, "{value} {operator:?} {operand:?}");
        }
    }

    #[test]
    fn quantities_are_compared_before_text_so_order_operators_work() {
        assert_eq!(compare_quantities(&json!("500m"), "0.6", Operator::MoreEqual), Some(false));
        assert_eq!(compare_quantities(&json!("abc"), "0.6", Operator::MoreEqual), None);
    }

    #[test]
    fn go_float_parsing_and_conversion() {
        assert_eq!(go_parse_float("1_000"), Some(1000.0));
        assert_eq!(go_parse_float("1_0.5"), Some(10.5));
        assert_eq!(go_parse_float("_1"), None);
        assert_eq!(go_parse_float("1__0"), None);
        assert_eq!(go_parse_float("1_"), None);
        assert_eq!(go_parse_float("+.5"), Some(0.5));
        assert_eq!(go_parse_float(" 1"), None);
        assert_eq!(go_float_to_int(8.0), 8);
        assert_eq!(go_float_to_int(1e19), i64::MIN);
        assert_eq!(go_float_to_int(-9_223_372_036_854_775_808.0), i64::MIN);
    }
}
