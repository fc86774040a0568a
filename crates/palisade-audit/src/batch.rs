//! One POSTed batch of audit events, read for the queue without building the events' trees.
//!
//! The webhook backend posts an `EventList`; single events, JSON arrays and JSON lines are
//! accepted too. Each event is validated as JSON and kept as its own text, so what the queue
//! holds is exactly the bytes it accounts for (a tree of small nodes can take many times the
//! text's size); matching parses one event at a time on each core. Reading stops as soon as the
//! batch cannot fit in the room the queue offers, and errors are counted with only the first
//! few described, so neither the work nor the answer grows with a hostile body.

use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::source::ReadError;

/// Errors described in an answer; the others are only counted.
pub const DESCRIBED_ERRORS: usize = 5;

/// A described error's message is cut here (serde quotes offending values).
const MESSAGE_CHARS: usize = 200;

/// JSON values one event may hold. The matching thread builds the event's tree, which costs
/// about 32 to 56 bytes per value whatever the text's size (`[0,0,...]` is 2 bytes a value):
/// this caps one tree near 56 MB. Real events, pods with their specs included, hold thousands.
pub const MAX_EVENT_VALUES: usize = 1_000_000;

/// What the queue can still take from this client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Room {
    pub events: usize,
    pub bytes: usize,
}

#[derive(Debug, Default)]
pub struct Batch {
    /// Each event's JSON text.
    pub events: Vec<Box<str>>,
    /// Bytes of `events`.
    pub bytes: usize,
    /// Values that were not audit events (not JSON, or not objects).
    pub invalid: usize,
    /// The first [`DESCRIBED_ERRORS`] of them.
    pub errors: Vec<ReadError>,
    /// The batch did not fit in the room: reading stopped and nothing should be queued.
    pub overflow: bool,
}

impl Batch {
    /// `"first; second (and 7 more)"`.
    pub fn error_summary(&self) -> String {
        let described: Vec<String> = self.errors.iter().map(ToString::to_string).collect();
        let more = self.invalid - self.errors.len();
        if more > 0 { format!("{} (and {more} more)", described.join("; ")) } else { described.join("; ") }
    }

    fn error(&mut self, text: &str, at: usize, column: Option<u32>, message: impl FnOnce() -> String) {
        self.invalid += 1;
        if self.errors.len() < DESCRIBED_ERRORS {
            let line = text.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() as u32 + 1;
            let column = column.unwrap_or_else(|| (at - text[..at].rfind('\n').map_or(0, |i| i + 1)) as u32 + 1);
            let mut message = message();
            if let Some((cut, _)) = message.char_indices().nth(MESSAGE_CHARS) {
                message.truncate(cut);
                message.push_str("...");
            }
            self.errors.push(ReadError { line, column, message });
        }
    }

    /// Queues one value if it is an event object and fits; false once the batch overflows.
    fn push(&mut self, text: &str, value: &RawValue, room: Room) -> bool {
        let json = value.get();
        let at = json.as_ptr() as usize - text.as_ptr() as usize;
        if !json.starts_with('{') {
            self.error(text, at, None, || "list item is not an audit event object".into());
            return true;
        }
        if values_at_most(json) > MAX_EVENT_VALUES {
            self.error(text, at, None, || format!("event holds more than {MAX_EVENT_VALUES} JSON values"));
            return true;
        }
        if self.events.len() + 1 > room.events || self.bytes + json.len() > room.bytes {
            self.overflow = true;
            return false;
        }
        self.bytes += json.len();
        self.events.push(json.into());
        true
    }
}

/// An upper bound of the values in valid JSON `text`: one more than its separators and
/// openings outside strings.
fn values_at_most(text: &str) -> usize {
    let (mut count, mut in_string, mut escaped) = (1, false, false);
    for &b in text.as_bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b',' | b'[' | b'{' => count += 1,
                _ => {}
            }
        }
    }
    count
}

/// Reads `text` into a batch that fits `room` (or says it does not).
pub fn read(text: &str, room: Room) -> Batch {
    let mut batch = Batch::default();
    let mut pos = 0;
    while pos < text.len() && !batch.overflow {
        let rest = &text[pos..];
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<&RawValue>();
        let Some(next) = stream.next() else { break };
        match next {
            Ok(value) => {
                pos += stream.byte_offset();
                read_value(text, value, room, &mut batch);
            }
            Err(e) => {
                let at = pos + line_start(rest, e.line());
                batch.error(text, at, Some(e.column() as u32), || format!("invalid JSON: {}", without_position(&e.to_string())));
                // Resume at the line after the error.
                pos = at + rest[at - pos..].find('\n').map_or(rest.len() - (at - pos), |i| i + 1);
            }
        }
    }
    batch
}

/// The byte offset of 1-based `line` in `text`.
fn line_start(text: &str, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    text.match_indices('\n').nth(line - 2).map_or(text.len(), |(i, _)| i + 1)
}

fn without_position(message: &str) -> &str {
    message.rfind(" at line ").map_or(message, |i| &message[..i])
}

/// One top-level value: an event, an `EventList` or an array of events.
fn read_value(text: &str, value: &RawValue, room: Room, batch: &mut Batch) {
    let json = value.get();
    let at = json.as_ptr() as usize - text.as_ptr() as usize;
    if json.starts_with('[') {
        let mut de = serde_json::Deserializer::from_str(json);
        let _ = de.deserialize_seq(Items { text, room, batch: &mut *batch });
        return;
    }
    if !json.starts_with('{') {
        batch.error(text, at, None, || "expected an audit Event or EventList object".into());
        return;
    }
    let probe = match serde_json::from_str::<Probe>(json) {
        Ok(probe) => probe,
        // Valid JSON (the raw reader checked it), so this is an unusable "kind" or "items".
        Err(e) => return batch.error(text, at, None, || without_position(&e.to_string()).to_string()),
    };
    if probe.kind.as_deref() != Some("EventList") {
        batch.push(text, value, room);
        return;
    }
    match probe.items {
        None => {}
        Some(items) if items.get() == "null" => {}
        Some(items) if items.get().starts_with('[') => {
            let mut de = serde_json::Deserializer::from_str(items.get());
            let _ = de.deserialize_seq(Items { text, room, batch: &mut *batch });
        }
        Some(_) => batch.error(text, at, None, || "EventList 'items' is not a list".into()),
    }
}

/// The members of an object that decide how it is read, the last of duplicates winning as in
/// Go's encoding/json.
struct Probe<'a> {
    kind: Option<String>,
    items: Option<&'a RawValue>,
}

impl<'de: 'a, 'a> de::Deserialize<'de> for Probe<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ProbeVisitor;
        impl<'de> Visitor<'de> for ProbeVisitor {
            type Value = Probe<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut probe = Probe { kind: None, items: None };
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match &*key {
                        "kind" => {
                            let kind: &RawValue = map.next_value()?;
                            probe.kind = serde_json::from_str::<String>(kind.get()).ok();
                        }
                        "items" => probe.items = Some(map.next_value()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(probe)
            }
        }
        deserializer.deserialize_map(ProbeVisitor)
    }
}

/// Visits a list's items one at a time, straight into the batch.
struct Items<'t, 'b> {
    text: &'t str,
    room: Room,
    batch: &'b mut Batch,
}

impl<'de, 't: 'de, 'b> Visitor<'de> for Items<'t, 'b> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of audit events")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            if !self.batch.push(self.text, item, self.room) {
                // Stop reading: the batch is refused anyway.
                return Err(de::Error::custom("batch does not fit"));
            }
        }
        Ok(())
    }
}

impl<'de, 't: 'de, 'b> DeserializeSeed<'de> for Items<'t, 'b> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOMY: Room = Room { events: usize::MAX, bytes: usize::MAX };

    fn ids(batch: &Batch) -> Vec<String> {
        batch
            .events
            .iter()
            .map(|e| serde_json::from_str::<serde_json::Value>(e).unwrap()["auditID"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn lists_arrays_single_events_and_lines() {
        let list = r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"auditID":"a"},{"auditID":"b"}]}"#;
        assert_eq!(ids(&read(list, ROOMY)), ["a", "b"]);
        assert_eq!(ids(&read(r#"[{"auditID":"a"}]"#, ROOMY)), ["a"]);
        let lines = "{\"auditID\":\"a\"}\n{\"auditID\":\"b\",\"kind\":\"Event\"}\n";
        let batch = read(lines, ROOMY);
        assert_eq!(ids(&batch), ["a", "b"]);
        assert_eq!(batch.bytes, lines.len() - 2);
        assert!(read("", ROOMY).events.is_empty());
        assert!(read(r#"{"kind":"EventList","items":null}"#, ROOMY).events.is_empty());
    }

    #[test]
    fn invalid_values_are_counted_and_the_valid_ones_kept() {
        let text = "{\"auditID\":\"a\"}\n{\"auditID\": nope}\n{\"auditID\":\"c\"}\n42\n[1, {\"auditID\":\"d\"}]\n";
        let batch = read(text, ROOMY);
        assert_eq!(ids(&batch), ["a", "c", "d"]);
        assert_eq!(batch.invalid, 3);
        assert_eq!(batch.errors[0].line, 2, "{:?}", batch.errors);
        assert!(batch.errors[0].message.starts_with("invalid JSON"), "{:?}", batch.errors);
        assert_eq!((batch.errors[1].line, batch.errors[1].column), (4, 1));
        assert_eq!((batch.errors[2].line, batch.errors[2].column), (5, 2));
        let list = r#"{"kind":"EventList","items":{"auditID":"a"}}"#;
        assert_eq!(read(list, ROOMY).errors[0].message, "EventList 'items' is not a list");
    }

    #[test]
    fn a_flood_of_errors_gives_a_small_answer() {
        let text = "1\n".repeat(1 << 20);
        let batch = read(&text, ROOMY);
        assert_eq!(batch.invalid, 1 << 20);
        assert_eq!(batch.errors.len(), DESCRIBED_ERRORS);
        let summary = batch.error_summary();
        assert!(summary.len() < 1000, "{summary}");
        assert!(summary.ends_with(&format!("(and {} more)", (1 << 20) - DESCRIBED_ERRORS)), "{summary}");
        let long = format!("\"{}\"", "x".repeat(100_000));
        assert!(read(&format!("{{\"kind\":{long},\"items\":[]}}{{\"kind\": 1 2}}"), ROOMY).error_summary().len() < 1000);
    }

    #[test]
    fn an_event_of_too_many_values_is_refused_before_its_tree_is_built() {
        let zeros = vec!["0"; MAX_EVENT_VALUES].join(",");
        let text = format!("{{\"auditID\":\"big\",\"a\":[{zeros}]}}\n{{\"auditID\":\"ok\",\"s\":\"[,,{{\\\"\"}}\n");
        let batch = read(&text, ROOMY);
        assert_eq!(ids(&batch), ["ok"]);
        assert_eq!(batch.errors[0].message, format!("event holds more than {MAX_EVENT_VALUES} JSON values"));
        // Separators and openings inside the string "x,[{\"}" are not counted.
        assert_eq!(values_at_most(r#"{"a":[1,2],"b":"x,[{\"}","c":{}}"#), 7);
    }

    #[test]
    fn reading_stops_once_the_batch_cannot_fit() {
        let items: Vec<String> = (0..1000).map(|i| format!("{{\"auditID\":\"{i}\"}}")).collect();
        let list = format!("{{\"kind\":\"EventList\",\"items\":[{}]}}", items.join(","));
        let batch = read(&list, Room { events: 10, bytes: usize::MAX });
        assert!(batch.overflow);
        assert_eq!(batch.events.len(), 10);
        let batch = read(&list, Room { events: usize::MAX, bytes: 100 });
        assert!(batch.overflow);
        assert!(batch.bytes <= 100);
        assert!(!read(&list, Room { events: 1000, bytes: 1 << 20 }).overflow);
    }

    #[test]
    fn the_last_of_duplicate_keys_decides_like_go() {
        let text = r#"{"kind":"EventList","items":[{"auditID":"a"}],"items":[{"auditID":"b"},{"auditID":"c"}]}"#;
        assert_eq!(ids(&read(text, ROOMY)), ["b", "c"]);
        let not_a_list = r#"{"kind":"EventList","kind":"Event","auditID":"x","items":[]}"#;
        assert_eq!(ids(&read(not_a_list, ROOMY)), ["x"]);
    }
}
