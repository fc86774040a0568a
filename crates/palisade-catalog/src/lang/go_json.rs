//! JSON read with the rules of Go's `encoding/json`, which Syft decodes package files with: keys
//! match field names regardless of case (the last matching key wins), `null` leaves a field empty,
//! unknown keys are ignored, and one value of the wrong type fails the whole document. Syft drops
//! every package of a file that fails, so the shapes it declares are checked here before anything
//! is read.

use serde_json::{Map, Value};

/// The Go type a field is decoded into.
pub(super) enum Shape {
    /// `string`
    Text,
    /// `bool`
    Flag,
    /// `uint`
    Unsigned,
    /// `json.RawMessage` or `interface{}`: anything.
    Anything,
    /// A slice of the shape.
    List(&'static Shape),
    /// A map from strings to the shape.
    Map(&'static Shape),
    /// A struct with these (lower-case) field names.
    Struct(&'static [(&'static str, Shape)]),
}

/// Checks a decoded document against the shape Syft decodes it into; the error names the path of
/// the first value of the wrong type (`packages[2].license`).
pub(super) fn check(value: &Value, shape: &Shape) -> Result<(), String> {
    check_at(value, shape, &mut String::new())
}

fn check_at(value: &Value, shape: &Shape, path: &mut String) -> Result<(), String> {
    let fits = match (shape, value) {
        (_, Value::Null) | (Shape::Anything, _) | (Shape::Text, Value::String(_)) | (Shape::Flag, Value::Bool(_)) => true,
        (Shape::Unsigned, Value::Number(number)) => number.is_u64(),
        (Shape::List(element), Value::Array(items)) => {
            for (index, item) in items.iter().enumerate() {
                let length = path.len();
                path.push_str(&format!("[{index}]"));
                check_at(item, element, path)?;
                path.truncate(length);
            }
            true
        }
        (Shape::Map(element), Value::Object(entries)) => {
            for (key, item) in entries {
                let length = path.len();
                path.push_str(&format!("[{key:?}]"));
                check_at(item, element, path)?;
                path.truncate(length);
            }
            true
        }
        (Shape::Struct(fields), Value::Object(entries)) => {
            for (key, item) in entries {
                let Some((_, field_shape)) = fields.iter().find(|(field, _)| key.eq_ignore_ascii_case(field)) else {
                    continue;
                };
                let length = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                check_at(item, field_shape, path)?;
                path.truncate(length);
            }
            true
        }
        _ => false,
    };
    if fits {
        return Ok(());
    }
    let place = if path.is_empty() { "the document" } else { path.as_str() };
    Err(format!("{place} is {} where {} belongs", describe(value), expected(shape)))
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn expected(shape: &Shape) -> &'static str {
    match shape {
        Shape::Text => "a string",
        Shape::Flag => "a boolean",
        Shape::Unsigned => "a non-negative whole number",
        Shape::Anything => "anything",
        Shape::List(_) => "a list",
        Shape::Map(_) | Shape::Struct(_) => "an object",
    }
}

/// The value of a struct field: the last key that matches the name regardless of case.
pub(super) fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.iter().filter(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value).next_back()
}

/// A string field as Go decodes it: empty when absent, `null` or (in an unchecked document) of
/// another type.
pub(super) fn text<'a>(object: &'a Map<String, Value>, name: &str) -> &'a str {
    field(object, name).and_then(Value::as_str).unwrap_or_default()
}

/// A `[]string` field: the strings, `null` elements as empty strings.
pub(super) fn texts(object: &Map<String, Value>, name: &str) -> Vec<String> {
    match field(object, name) {
        Some(Value::Array(items)) => items.iter().map(|item| item.as_str().unwrap_or_default().to_owned()).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const AUTHOR: Shape = Shape::Struct(&[("name", Shape::Text), ("email", Shape::Text)]);
    const PACKAGE: Shape = Shape::Struct(&[
        ("name", Shape::Text),
        ("private", Shape::Flag),
        ("authors", Shape::List(&AUTHOR)),
        ("require", Shape::Map(&Shape::Text)),
        ("dependencies", Shape::List(&Shape::Unsigned)),
        ("extra", Shape::Anything),
    ]);

    #[test]
    fn documents_of_the_declared_shape_pass_with_nulls_and_unknown_keys() {
        let document = json!({"NAME": "x", "private": null, "authors": [{"name": "a", "other": 5}, null], "require": {"php": ">=8"}, "dependencies": [0, 3], "extra": [1, {"a": 2}], "unknown": 7});
        assert_eq!(check(&document, &PACKAGE), Ok(()));
    }

    #[test]
    fn a_value_of_the_wrong_type_is_named_by_its_path() {
        let cases = [
            (json!({"name": 5}), "name is a number where a string belongs"),
            (json!({"authors": [{"name": "a"}, {"Email": ["x"]}]}), "authors[1].Email is a list where a string belongs"),
            (json!({"require": {"php": 8}}), "require[\"php\"] is a number where a string belongs"),
            (json!({"dependencies": [1, -1]}), "dependencies[1] is a number where a non-negative whole number belongs"),
            (json!([1]), "the document is a list where an object belongs"),
        ];
        for (document, message) in cases {
            assert_eq!(check(&document, &PACKAGE), Err(message.to_owned()));
        }
    }

    #[test]
    fn fields_match_regardless_of_case_and_the_last_key_wins() {
        let document = json!({"name": "first", "Name": "second", "versions": ["1", null]});
        let Value::Object(object) = document else { panic!("an object") };
        assert_eq!(text(&object, "name"), "second");
        assert_eq!(text(&object, "missing"), "");
        assert_eq!(texts(&object, "versions"), ["1", ""]);
    }
}
