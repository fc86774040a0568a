//! One record file (JSON or YAML) read into an [`Advisory`], or the reason it cannot be.

use serde::Deserialize;

use crate::error::RecordError;
use crate::model::Advisory;
use crate::yaml;

/// The record formats, told by the file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Yaml,
}

impl Format {
    /// `*.json`, `*.yaml`, `*.yml` (any case); other files are not records.
    pub(crate) fn of(name: &str) -> Option<Format> {
        let extension = name.rsplit_once('.')?.1;
        if extension.eq_ignore_ascii_case("json") {
            Some(Format::Json)
        } else if extension.eq_ignore_ascii_case("yaml") || extension.eq_ignore_ascii_case("yml") {
            Some(Format::Yaml)
        } else {
            None
        }
    }
}

/// The advisory in `bytes`; `file` names it in errors.
pub(crate) fn parse(file: &str, format: Format, bytes: &[u8]) -> Result<Advisory, RecordError> {
    let error = |line: Option<u32>, message: String| RecordError { file: file.to_owned(), line, message };
    let advisory = match format {
        Format::Json => {
            let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace() && **byte != 0xEF && **byte != 0xBB && **byte != 0xBF);
            if first != Some(&b'{') {
                return Err(error(Some(1), "not an OSV record: the file is not a JSON object".to_owned()));
            }
            serde_json::from_slice::<Advisory>(bytes).map_err(|problem| {
                let text = problem.to_string();
                // serde_json appends " at line L column C": the line goes in its own field.
                let message = text.rsplit_once(" at line ").map_or(text.as_str(), |(message, _)| message).to_owned();
                error(u32::try_from(problem.line()).ok().filter(|line| *line > 0), message)
            })?
        }
        Format::Yaml => {
            let text = std::str::from_utf8(bytes).map_err(|problem| error(None, format!("not UTF-8: {problem}")))?;
            let value = yaml::to_json(text).map_err(|problem| error(problem.line, problem.message))?;
            if !value.is_object() {
                return Err(error(Some(1), "not an OSV record: the document is not a mapping".to_owned()));
            }
            Advisory::deserialize(value).map_err(|problem| error(None, problem.to_string()))?
        }
    };
    if advisory.id.trim().is_empty() {
        return Err(error(None, "not an OSV record: the `id` is empty".to_owned()));
    }
    Ok(advisory)
}

#[cfg(test)]
mod tests {
    use super::{parse, Format};
    use crate::model::{Event, RangeKind};

    #[test]
    fn unknown_event_keys_range_types_and_fields_do_not_fail_a_record() {
        let text = br#"{"id": "X-1", "new_field": {"a": 1}, "aliases": null,
            "affected": [{"package": {"ecosystem": "Future:1", "name": "p"},
              "ranges": [{"type": "WEIRD", "events": [{"introduced": "0"}, {"speculative": "1"}, {"fixed": "2", "note": "x"}]}]}]}"#;
        let advisory = parse("x.json", Format::Json, text).unwrap();
        let range = &advisory.affected[0].ranges[0];
        assert_eq!(range.kind, RangeKind::Other("WEIRD".to_owned()));
        assert_eq!(range.events, vec![Event::Introduced("0".to_owned()), Event::Fixed("2".to_owned())]);
    }

    #[test]
    fn a_record_without_id_or_not_an_object_is_malformed_with_its_line() {
        let missing = parse("m.json", Format::Json, b"{\n  \"summary\": \"s\"\n}\n").unwrap_err();
        assert_eq!((missing.line, missing.message.as_str()), (Some(3), "missing field `id`"));
        let array = parse("a.json", Format::Json, b"[1, 2]").unwrap_err();
        assert!(array.message.contains("not a JSON object"), "{}", array.message);
        let broken = parse("b.json", Format::Json, b"{\n\"id\": \"X\",\n\"affected\": [\n").unwrap_err();
        assert_eq!(broken.line, Some(4), "{}", broken.message);
        let yaml = parse("y.yaml", Format::Yaml, b"- just\n- a list\n").unwrap_err();
        assert!(yaml.message.contains("not a mapping"), "{}", yaml.message);
    }
}
