//! Audit events from text: a single `Event`, an `EventList` (what the webhook backend posts),
//! a JSON array, or JSON lines (what the log backend writes), in any mix.
//!
//! Values are read one after another with serde_json's streaming reader; a malformed line is
//! reported with its position and reading resumes at the next line, so one bad line in a log
//! never hides the events after it.

use std::borrow::Cow;

use crate::json::Json;

/// A value that could not be read as an audit event, with its 1-based position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

/// Iterates over the events in `text`.
pub struct EventReader<'a> {
    text: &'a str,
    pos: usize,
    /// Lines before `counted`: line numbers are only needed for errors, so newlines are counted
    /// lazily, from the last count onwards, instead of rescanning every event.
    counted: usize,
    line: u32,
    pending: std::vec::IntoIter<Json<'a>>,
    /// Whether more text follows `text`: a value that ends unfinished is then left for the
    /// next read instead of reported.
    partial: bool,
    /// Where the unfinished value starts, once reading stopped at it.
    unfinished: Option<usize>,
}

impl<'a> EventReader<'a> {
    pub fn new(text: &'a str) -> Self {
        Self { text, pos: 0, counted: 0, line: 0, pending: Vec::new().into_iter(), partial: false, unfinished: None }
    }

    /// A reader of text that more text will follow (a block of a stream): it stops before a
    /// value the text ends in the middle of (see [`EventReader::read_up_to`]).
    pub fn partial(text: &'a str) -> Self {
        Self { partial: true, ..Self::new(text) }
    }

    /// The bytes of `text` read once iteration is over: all of it, or up to the value it ends in
    /// the middle of (partial readers only).
    pub fn read_up_to(&self) -> usize {
        self.unfinished.unwrap_or(self.text.len())
    }

    /// Lines before byte `at` (at or after the last count).
    fn lines_before(&mut self, at: usize) -> u32 {
        self.line += self.text.as_bytes()[self.counted..at].iter().filter(|&&b| b == b'\n').count() as u32;
        self.counted = at;
        self.line
    }
}

impl<'a> Iterator for EventReader<'a> {
    type Item = Result<Json<'a>, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.pending.next() {
                return Some(match item {
                    Json::Object(_) => Ok(item),
                    _ => Err(ReadError {
                        line: self.lines_before(self.pos) + 1,
                        column: 1,
                        message: "list item is not an audit event object".into(),
                    }),
                });
            }
            let rest = &self.text[self.pos..];
            let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Json<'a>>();
            let start = self.pos;
            match stream.next()? {
                Ok(value) => {
                    self.pos += stream.byte_offset();
                    match value {
                        // The last of duplicate keys decides, as in Go's encoding/json.
                        Json::Object(_) if value.get("kind").and_then(Json::as_str) != Some("EventList") => {
                            return Some(Ok(value));
                        }
                        Json::Object(members) => {
                            let items = members.into_iter().rev().find(|(k, _)| k == "items").map(|(_, v)| v);
                            match items {
                                Some(Json::Array(items)) => self.pending = items.into_iter(),
                                Some(Json::Null) | None => {}
                                Some(_) => {
                                    return Some(Err(ReadError {
                                        line: self.lines_before(start) + 1,
                                        column: 1,
                                        message: "EventList 'items' is not a list".into(),
                                    }));
                                }
                            }
                        }
                        Json::Array(items) => self.pending = items.into_iter(),
                        _ => {
                            return Some(Err(ReadError {
                                line: self.lines_before(self.pos) + 1,
                                column: 1,
                                message: "expected an audit Event or EventList object".into(),
                            }));
                        }
                    }
                }
                Err(e) if self.partial && e.is_eof() => {
                    self.unfinished = Some(start);
                    self.pos = self.text.len();
                    return None;
                }
                Err(e) => {
                    let error = ReadError {
                        line: self.lines_before(start) + e.line() as u32,
                        column: e.column() as u32,
                        message: format!("invalid JSON: {}", without_position(&e.to_string())),
                    };
                    // Resume after the line where the error was found.
                    let lines_in = e.line().saturating_sub(1);
                    let mut skip = 0;
                    for (i, line) in rest.split_inclusive('\n').enumerate() {
                        skip += line.len();
                        if i >= lines_in {
                            break;
                        }
                    }
                    if skip == 0 {
                        skip = rest.len();
                    }
                    self.pos += skip;
                    return Some(Err(error));
                }
            }
        }
    }
}

/// serde_json's message without its trailing (relative) position; ours is absolute.
fn without_position(message: &str) -> &str {
    message.rfind(" at line ").map_or(message, |i| &message[..i])
}

/// Makes a borrowed tree independent of its input (for events queued past their buffer).
pub fn into_owned(value: Json<'_>) -> Json<'static> {
    let own = |s: Cow<'_, str>| Cow::Owned(s.into_owned());
    match value {
        Json::Null => Json::Null,
        Json::Bool(b) => Json::Bool(b),
        Json::Int(n) => Json::Int(n),
        Json::UInt(n) => Json::UInt(n),
        Json::Float(x) => Json::Float(x),
        Json::Str(s) => Json::Str(own(s)),
        Json::Array(items) => Json::Array(items.into_iter().map(into_owned).collect()),
        Json::Object(members) => Json::Object(members.into_iter().map(|(k, v)| (own(k), into_owned(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Result<String, ReadError>> {
        EventReader::new(text).map(|r| r.map(|j| j.get("auditID").unwrap().to_string())).collect()
    }

    #[test]
    fn single_list_array_and_lines() {
        assert_eq!(read(r#"{"auditID":"a"}"#), [Ok("\"a\"".to_string())]);
        let list = r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"auditID":"a"},{"auditID":"b"}]}"#;
        assert_eq!(read(list).len(), 2);
        assert_eq!(read(r#"[{"auditID":"a"}]"#).len(), 1);
        assert_eq!(read("{\"auditID\":\"a\"}\n{\"auditID\":\"b\"}\n").len(), 2);
        assert!(read("").is_empty());
    }

    #[test]
    fn a_bad_line_is_reported_and_reading_goes_on() {
        let text = "{\"auditID\":\"a\"}\n{\"auditID\": nope}\n{\"auditID\":\"c\"}\n42\n";
        let results = read(text);
        assert_eq!(results.len(), 4);
        assert!(results[0].is_ok());
        let err = results[1].as_ref().unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        assert_eq!(results[2].as_ref().unwrap(), "\"c\"");
        assert_eq!(results[3].as_ref().unwrap_err().line, 4);
    }

    #[test]
    fn the_last_of_duplicate_keys_decides_like_go() {
        let list = r#"{"kind":"Event","kind":"EventList","items":[{"auditID":"a"}],"items":[{"auditID":"b"}]}"#;
        assert_eq!(read(list), [Ok("\"b\"".to_string())]);
    }

    #[test]
    fn a_partial_reader_stops_before_the_value_its_text_ends_in() {
        let text = "{\"auditID\":\"a\"}\n{\n  \"auditID\": \"b\"\n}\n{\"auditID\":\"c\", \"verb\":";
        let mut reader = EventReader::partial(text);
        assert_eq!(reader.by_ref().count(), 2);
        assert_eq!(text[reader.read_up_to()..].trim_start(), "{\"auditID\":\"c\", \"verb\":");
        let mut whole = EventReader::new(text);
        assert_eq!(whole.by_ref().filter(Result::is_err).count(), 1, "without more text, the unfinished value is an error");
        assert_eq!(whole.read_up_to(), text.len());
    }

    #[test]
    fn hostile_nesting_is_an_error() {
        let deep = "[".repeat(100_000);
        let results = read(&deep);
        assert_eq!(results.len(), 1);
        assert!(results[0].as_ref().unwrap_err().message.contains("recursion limit"), "{:?}", results[0]);
        let truncated = "{\"auditID\":\"a\"";
        assert!(read(truncated)[0].is_err());
    }
}
