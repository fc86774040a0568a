//! Structured logging: one JSON object per line, with an RFC 3339 UTC timestamp, so log
//! collectors parse server events without a format of their own.

use std::io::Write;
use std::time::SystemTime;

use serde_json::{Map, Value};

/// Writes `{"ts", "level", "msg", ...fields}` as one line on standard error. `fields` should be
/// a JSON object; anything else is recorded under `"fields"`.
pub fn event(level: &str, message: &str, fields: Value) {
    let line = line(level, message, fields);
    // A closed stderr must not take the server down; the event is lost, nothing else.
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// The JSON line for an event (what [`event`] writes), for sinks other than standard error.
pub fn line(level: &str, message: &str, fields: Value) -> String {
    let mut object = Map::new();
    object.insert("ts".into(), Value::String(timestamp(SystemTime::now())));
    object.insert("level".into(), Value::String(level.into()));
    object.insert("msg".into(), Value::String(message.into()));
    match fields {
        Value::Object(fields) => object.extend(fields),
        Value::Null => {}
        other => {
            object.insert("fields".into(), other);
        }
    }
    Value::Object(object).to_string()
}

/// `time` as RFC 3339 UTC with milliseconds (`2024-05-01T12:00:00.123Z`).
pub fn timestamp(time: SystemTime) -> String {
    let utc = time::OffsetDateTime::from(time);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
        utc.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2024-02-29 (a leap day) 13:14:15.678 UTC.
        let leap = UNIX_EPOCH + Duration::from_millis(1_709_212_455_678);
        assert_eq!(timestamp(leap), "2024-02-29T13:14:15.678Z");
    }

    #[test]
    fn lines_are_one_json_object_with_the_fields_inlined() {
        let text = line("info", "hello", serde_json::json!({"a": 1}));
        assert!(!text.contains('\n'));
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["level"], "info");
        assert_eq!(parsed["msg"], "hello");
        assert_eq!(parsed["a"], 1);
        assert!(parsed["ts"].as_str().unwrap().ends_with('Z'));
    }
}
