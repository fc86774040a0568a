//! Fields of the JSON objects package files are made of, looked up as Syft (Go's `encoding/json`)
//! looks them up: keys match regardless of case and the last matching key wins.
//!
//! A value of an unexpected type reads as absent. Syft decodes into typed structs, so one odd
//! field (an `author` that is a number or a list, an old package's `dependencies` list, a
//! `license` string where Composer writes a list) fails the whole file and hides every package in
//! it; here only the name and version make a package, as npm, Composer and dotnet read them.

use serde_json::{Map, Value};

/// The value of a field: the last key that matches the name regardless of case.
pub(super) fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.iter().filter(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value).next_back()
}

/// A string field; empty when absent or not a string.
pub(super) fn text<'a>(object: &'a Map<String, Value>, name: &str) -> &'a str {
    field(object, name).and_then(Value::as_str).unwrap_or_default()
}

/// An object field.
pub(super) fn object<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Map<String, Value>> {
    field(object, name).and_then(Value::as_object)
}

/// A list-of-strings field, its other elements left out; a single string is a list of one.
pub(super) fn texts(object: &Map<String, Value>, name: &str) -> Vec<String> {
    match field(object, name) {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Some(Value::String(text)) => vec![text.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fields_match_regardless_of_case_and_the_last_key_wins() {
        let document = json!({"name": "first", "Name": "second", "license": ["MIT", 5, "ISC"], "single": "BSD", "version": 3, "dist": {"type": "zip"}});
        let Value::Object(document) = document else { panic!("an object") };
        assert_eq!(text(&document, "name"), "second");
        assert_eq!(text(&document, "version"), "");
        assert_eq!(text(&document, "missing"), "");
        assert_eq!(texts(&document, "license"), ["MIT", "ISC"]);
        assert_eq!(texts(&document, "single"), ["BSD"]);
        assert_eq!(object(&document, "dist").map(|dist| text(dist, "type")), Some("zip"));
        assert_eq!(object(&document, "name"), None);
    }
}
