//! Kyverno's own tests of value patterns, ported: the values, patterns and expected results of
//! kyverno/kyverno commit 111e07bbecc66abfde36ab99969af22d7a961003,
//! `pkg/engine/pattern/pattern_test.go` (Apache-2.0, the Kyverno authors).
//!
//! The Go tests call the per-type helpers (`validateFloatPattern`, `validateStringPattern`,
//! `validateNilPattern`, ...); `value_matches` reaches each through the pattern's JSON type, so a
//! Go `float64` pattern is written as a JSON number with a fraction (`7.0`) and a Go `int` as an
//! integral one. The tables of internal functions (`compareString`, `convertNumberToString`,
//! `split`, `GetOperatorFromStringPattern`, `validateString` with an explicit operator) are ported
//! as unit tests next to the code.

use palisade_kyverno::pattern::value_matches;
use serde_json::{json, Value};

fn check_all(cases: &[(Value, Value, bool)]) {
    let disagreements: Vec<String> = cases
        .iter()
        .filter(|(value, pattern, expected)| value_matches(value, pattern) != *expected)
        .map(|(value, pattern, expected)| format!("{value} against {pattern}: expected {expected}"))
        .collect();
    assert!(disagreements.is_empty(), "{} of {} cases disagree:\n{}", disagreements.len(), cases.len(), disagreements.join("\n"));
}

/// `TestValidateValueWithFloatPattern_*` and `TestValidateValueWithIntPattern_*`.
#[test]
fn float_patterns() {
    check_all(&[
        (json!(7.9914), json!(7.9914), true),
        (json!(7.9914), json!(7.99141), false),
        (json!(7), json!(7.000000), true),
        (json!(7.000000), json!(7.000000), true),
        (json!(7.000000), json!(7.0), true),
        (json!(7.000001), json!(7.0), false),
        (json!(8), json!(7.0), false),
    ]);
}

/// `TestValidateValueWithStringPattern_WithSpace` and `TestValidateValueWithStringPattern_Ranges`.
#[test]
fn operators_and_ranges() {
    check_all(&[
        (json!(4), json!(">= 3"), true),
        (json!(0), json!("0-2"), true),
        (json!(1), json!("0-2"), true),
        (json!(2), json!("0-2"), true),
        (json!(3), json!("0-2"), false),
        (json!(0), json!("10!-20"), true),
        (json!(15), json!("10!-20"), false),
        (json!(25), json!("10!-20"), true),
        (json!(0), json!("0.00001-2.00001"), false),
        (json!(1), json!("0.00001-2.00001"), true),
        (json!(2), json!("0.00001-2.00001"), true),
        (json!(2.0001), json!("0.00001-2.00001"), false),
        (json!(0), json!("0.00001!-2.00001"), true),
        (json!(1), json!("0.00001!-2.00001"), false),
        (json!(2), json!("0.00001!-2.00001"), false),
        (json!(2.0001), json!("0.00001!-2.00001"), true),
        (json!(2), json!("2-2"), true),
        (json!(2), json!("2!-2"), false),
        (json!(2.99999), json!("2.99998-3"), true),
        (json!(2.99997), json!("2.99998!-3"), true),
        (json!(3.00001), json!("2.99998!-3"), true),
        (json!("256Mi"), json!("128Mi-512Mi"), true),
        (json!("1024Mi"), json!("128Mi-512Mi"), false),
        (json!("64Mi"), json!("128Mi-512Mi"), false),
        (json!("256Mi"), json!("128Mi!-512Mi"), false),
        (json!("1024Mi"), json!("128Mi!-512Mi"), true),
        (json!("64Mi"), json!("128Mi!-512Mi"), true),
        (json!(-9), json!("-10-8"), true),
        (json!(9), json!("-10--8"), false),
        (json!(9), json!("-10!--8"), true),
        (json!("9Mi"), json!("-10Mi!--8Mi"), true),
        (json!(-9), json!("-10!--8"), false),
        (json!("-9Mi"), json!("-10Mi-8Mi"), true),
        (json!("9Mi"), json!("-10Mi!-8Mi"), true),
        (json!(0), json!("-10-+8"), true),
        (json!("7Mi"), json!("-10Mi-+8Mi"), true),
        (json!(10), json!("-10!-+8"), true),
        (json!("10Mi"), json!("-10Mi!-+8Mi"), true),
        (json!(0), json!("+0-+1"), true),
        (json!("10Mi"), json!("+0Mi-+1024Mi"), true),
        (json!(10), json!("+0!-+1"), true),
        (json!("1025Mi"), json!("+0Mi!-+1024Mi"), true),
    ]);
}

/// `TestValidate`. Its `[]string{}` pattern case has no JSON form and is left out.
#[test]
fn validate_table() {
    check_all(&[
        (json!(true), json!(true), true),
        (json!(true), json!(false), false),
        (json!(false), json!(true), false),
        (json!(false), json!(false), true),
        (json!("value"), Value::Null, false),
        (json!(""), Value::Null, true),
        (json!(0.0), Value::Null, true),
        (json!(0), Value::Null, true),
        (json!(false), Value::Null, true),
        (json!("10.100.11.54"), json!("192.168.88.1 | 10.100.11.*"), true),
        (json!("10"), json!(">1 & <20"), true),
        (json!("10"), json!(">1 & <20 | >31 & <33"), true),
        (json!("32"), json!(">1 & <20 | >31 & <33"), true),
        (json!("21"), json!(">1 & <20 | >31 & <33"), false),
        (json!(7.0), json!(7.000), true),
        (json!(10), json!(10), true),
        (json!(8), json!(10), false),
        (json!(10), json!(10), true),
        (json!(8), json!(10), false),
        (Value::Null, json!([]), false),
        (json!({"a": true}), json!({"a": true}), true),
        (json!({"a": true}), json!({"b": false}), true),
        (Value::Null, json!(false), false),
        (json!(8.0), json!(8), true),
        (json!(8.1), json!(8), false),
        (json!("8"), json!(8), true),
        (json!("8.1"), json!(8), false),
        (json!(false), json!(8), false),
        (json!(8), json!(8.0), true),
        (json!(8), json!(8.1), false),
        (json!(8), json!(8.0), true),
        (json!(8), json!(8.1), false),
        (json!("8"), json!(8.0), true),
        (json!("8.1"), json!(8.1), true),
        (json!("abc"), json!(8.1), false),
        (json!(false), json!(8.0), false),
    ]);
}

/// `Test_validateMapPattern`: a map pattern given as a value only asks for a map.
#[test]
fn map_pattern_table() {
    let pattern = json!({});
    check_all(&[
        (Value::Null, pattern.clone(), false),
        (json!(true), pattern.clone(), false),
        (json!(8), pattern.clone(), false),
        (json!(""), pattern.clone(), false),
        (json!("abc"), pattern.clone(), false),
        (json!({}), pattern.clone(), true),
        (json!({"a": true}), pattern, true),
    ]);
}

/// `Test_validateNilPattern`: null accepts Go's zero values.
#[test]
fn null_pattern_table() {
    check_all(&[
        (Value::Null, Value::Null, true),
        (json!(0.0), Value::Null, true),
        (json!(0), Value::Null, true),
        (json!(""), Value::Null, true),
        (json!(false), Value::Null, true),
        (json!({}), Value::Null, false),
        (json!([]), Value::Null, false),
        (json!(1.0), Value::Null, false),
        (json!(1), Value::Null, false),
        (json!("abc"), Value::Null, false),
        (json!(true), Value::Null, false),
    ]);
}

/// `Test_validateStringPatterns`: `!` negates a literal, `&` joins negations.
#[test]
fn string_patterns_table() {
    check_all(&[
        (json!("5.16.5-arch1-1"), json!("!5.10.84-1"), true),
        (json!("5.10.84-1"), json!("5.10.84-1"), true),
        (json!("!5.10.84-1"), json!("!5.10.84-1"), true),
        (json!("5.10.84-1"), json!("!5.10.84-1"), false),
        (json!("5.16.5-arch1-1"), json!("!5.10.84-1 & !5.15.2-1"), true),
        (json!("5.10.84-1"), json!("!5.10.84-1 & !5.15.2-1"), false),
        (json!("5.15.2-1"), json!("!5.10.84-1 & !5.15.2-1"), false),
    ]);
}
