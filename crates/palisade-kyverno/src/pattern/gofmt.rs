//! Go's text forms of JSON values as Kubernetes decodes them (integral numbers are `int64`),
//! where Kyverno's results depend on them: the `%v` and `%T` in its error messages, which it
//! later searches for anchor error texts.

use serde_json::Value;

use crate::go;

/// How Kubernetes' JSON decoding types a number: integral literals that fit are `int64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum GoNumber {
    Int(i64),
    Float(f64),
}

impl GoNumber {
    pub fn of(number: &serde_json::Number) -> GoNumber {
        match number.as_i64() {
            Some(int) => GoNumber::Int(int),
            // Without serde_json's arbitrary precision every number has an f64 value.
            None => GoNumber::Float(number.as_f64().unwrap_or(f64::NAN)),
        }
    }
}

/// `%T` of a decoded JSON value.
pub(super) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(number) => match GoNumber::of(number) {
            GoNumber::Int(_) => "int64",
            GoNumber::Float(_) => "float64",
        },
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// `%v` of a decoded JSON value: `map[a:1 b:[x <nil>]]`, keys sorted.
pub(super) fn display(value: &Value) -> String {
    go::sprint_with(value, &|number| match GoNumber::of(number) {
        GoNumber::Int(int) => int.to_string(),
        GoNumber::Float(float) => go::sprint_float(float),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_print_like_go() {
        let value = json!({"b": [1.5, "x", null, true], "a": {"z": 3}});
        assert_eq!(display(&value), "map[a:map[z:3] b:[1.5 x <nil> true]]");
        assert_eq!(display(&json!([])), "[]");
        assert_eq!(display(&Value::Null), "<nil>");
        let types: Vec<&str> = [json!({}), json!([]), json!("s"), json!(1.5), json!(1), json!(true), Value::Null].iter().map(type_name).collect();
        assert_eq!(types, ["map[string]interface {}", "[]interface {}", "string", "float64", "int64", "bool", "<nil>"]);
    }
}
