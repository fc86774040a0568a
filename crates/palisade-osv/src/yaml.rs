//! YAML records (PyPA's advisory-database writes OSV as YAML) turned into the JSON value the
//! record model reads, with libyaml-safer (the workspace's YAML parser). Only the first
//! document is read; nesting is limited before anything deeper is built; aliases are not
//! expanded (OSV records have none), so an alias bomb costs nothing.

use libyaml_safer::{EventData, Parser, ScalarStyle};
use serde_json::{Map, Value};

/// Deeper than any OSV record (`affected[].ranges[].events[]` is 6 levels; `database_specific`
/// adds a few).
const MAX_DEPTH: usize = 64;

/// A YAML problem and the 1-based line it is on.
#[derive(Debug)]
pub(crate) struct YamlError {
    pub line: Option<u32>,
    pub message: String,
}

/// The first document of `text`. Plain scalars stay text except `null`/`~`/empty and
/// `true`/`false`: versions such as `1.10` must keep their spelling, never become numbers.
pub(crate) fn to_json(text: &str) -> Result<Value, YamlError> {
    // libyaml-safer panics on a block scalar that ends the input without a line break: give it one.
    let padded: std::borrow::Cow<'_, str> = if text.ends_with('\n') { text.into() } else { format!("{text}\n").into() };
    std::panic::catch_unwind(|| build(&padded)).unwrap_or_else(|_| Err(YamlError { line: None, message: "the YAML parser failed on this file".to_owned() }))
}

enum Open {
    Sequence(Vec<Value>),
    Mapping(Map<String, Value>, Option<String>),
}

fn build(text: &str) -> Result<Value, YamlError> {
    let mut input = text.as_bytes();
    let mut parser = Parser::new();
    parser.set_input_string(&mut input);
    let mut open: Vec<Open> = Vec::new();
    loop {
        let event = parser.parse().map_err(|error| YamlError { line: error.problem_mark().map(|mark| line_of(mark.line)), message: error.problem().to_owned() })?;
        let line = line_of(event.start_mark.line);
        let value = match event.data {
            EventData::SequenceStart { .. } | EventData::MappingStart { .. } => {
                if open.len() >= MAX_DEPTH {
                    return Err(YamlError { line: Some(line), message: format!("nested deeper than {MAX_DEPTH} levels") });
                }
                open.push(match event.data {
                    EventData::SequenceStart { .. } => Open::Sequence(Vec::new()),
                    _ => Open::Mapping(Map::new(), None),
                });
                continue;
            }
            EventData::SequenceEnd | EventData::MappingEnd => match open.pop() {
                Some(Open::Sequence(items)) => Value::Array(items),
                Some(Open::Mapping(entries, _)) => Value::Object(entries),
                None => return Err(YamlError { line: Some(line), message: "unbalanced YAML events".to_owned() }),
            },
            EventData::Scalar { value, style, .. } => scalar(value, style),
            EventData::Alias { .. } => Value::Null,
            EventData::DocumentEnd { .. } | EventData::StreamEnd => return Ok(Value::Null),
            EventData::StreamStart { .. } | EventData::DocumentStart { .. } => continue,
        };
        match open.last_mut() {
            None => return Ok(value),
            Some(Open::Sequence(items)) => items.push(value),
            Some(Open::Mapping(entries, key)) => match key.take() {
                Some(key) => {
                    entries.insert(key, value);
                }
                None => match value {
                    Value::String(text) => *key = Some(text),
                    Value::Null => *key = Some(String::new()),
                    Value::Bool(flag) => *key = Some(flag.to_string()),
                    _ => return Err(YamlError { line: Some(line), message: "a mapping key is not a scalar".to_owned() }),
                },
            },
        }
    }
}

fn scalar(text: String, style: ScalarStyle) -> Value {
    if style != ScalarStyle::Plain {
        return Value::String(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ => Value::String(text),
    }
}

fn line_of(zero_based: u64) -> u32 {
    u32::try_from(zero_based.saturating_add(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::to_json;
    use serde_json::json;

    #[test]
    fn versions_keep_their_spelling_and_quoted_text_stays_text() {
        let value = to_json("id: X-1\nversions:\n- 1.10\n- \"2.0\"\nwithdrawn: null\nflag: true\nquoted: 'true'\n").unwrap();
        assert_eq!(value, json!({"id": "X-1", "versions": ["1.10", "2.0"], "withdrawn": null, "flag": true, "quoted": "true"}));
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let error = to_json("id: X-1\naffected:\n  - package: [\n").unwrap_err();
        assert_eq!(error.line, Some(4), "{}", error.message);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let error = to_json(&"[".repeat(10_000)).unwrap_err();
        assert!(error.message.contains("nested deeper than 64"), "{}", error.message);
    }
}
