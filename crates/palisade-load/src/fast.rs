//! The parser events of the YAML most manifests are written in, read without libyaml.
//!
//! Generated and hand-written manifests are mostly block mappings and sequences of one-line
//! plain or quoted scalars, with one-line flow collections (`labels: {app: web}`). For such a
//! document this reader produces exactly the events libyaml would (same data, same start
//! positions) several times faster. For anything else (an anchor, a tag, a block scalar, a
//! multi-line scalar or flow collection, an escape, a tab, non-ASCII text, an empty value, or
//! anything libyaml would refuse) it returns `None` and the document goes to libyaml, so the
//! grammar, its leniencies and its error messages stay libyaml's. `tests/fast_events.rs`
//! checks the events against libyaml's on every document this reader accepts.

use libyaml_safer::{EventData, MappingStyle, ScalarStyle, SequenceStyle};

/// A position as libyaml reports it: 0-based byte index, line and column (one byte is one
/// character here, since only ASCII documents are read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub index: u64,
    pub line: u64,
    pub column: u64,
}

/// One parser event: its data, where it starts, and the byte index where it ends. The ends of
/// collections carry only approximate positions: the tree builder never reads them.
#[derive(Debug, PartialEq)]
pub struct FastEvent {
    pub data: EventData,
    pub start: Pos,
    pub end: u64,
}

/// The events of one document (a chunk ending in `\n`), ending with `DocumentEnd`, or `None`
/// when the document needs libyaml.
pub fn events(text: &str) -> Option<Vec<FastEvent>> {
    let bytes = text.as_bytes();
    // Outside printable ASCII, spaces and newlines, positions or the grammar need libyaml.
    if bytes.iter().any(|&byte| !(byte == b'\n' || (b' '..0x7f).contains(&byte))) {
        return None;
    }
    let mut lines = Vec::new();
    let mut start = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        if byte == b'\n' {
            lines.push((start, at));
            start = at + 1;
        }
    }
    if start != bytes.len() {
        return None;
    }
    let mut reader = Reader { text: bytes, lines, events: Vec::with_capacity(bytes.len() / 8), depth: 0 };
    let first = reader.next_content(0)?;
    let column = reader.indent(first)?;
    if reader.block_node(first, column)?.is_some() {
        return None;
    }
    let end = reader.pos(reader.lines.len(), 0);
    reader.events.push(FastEvent { data: EventData::DocumentEnd { implicit: true }, start: end, end: end.index });
    Some(reader.events)
}

struct Reader<'t> {
    text: &'t [u8],
    /// Byte ranges of the lines, without their `\n`.
    lines: Vec<(usize, usize)>,
    events: Vec<FastEvent>,
    /// Collections open around the current one: deeper documents go to libyaml, whose reading
    /// does not recurse, and the tree builder's depth limit.
    depth: usize,
}

/// Deepest nesting this reader follows; real manifests stay far below it.
const MAX_DEPTH: usize = 64;

/// Where a reading step stopped: the next line with content, or `None` at the end.
type Next = Option<usize>;

impl Reader<'_> {
    fn pos(&self, line: usize, column: usize) -> Pos {
        let index = self.lines.get(line).map_or(self.text.len(), |(start, _)| start + column);
        Pos { index: index as u64, line: line as u64, column: column as u64 }
    }

    fn byte(&self, line: usize, column: usize) -> Option<u8> {
        let (start, end) = self.lines[line];
        (start + column < end).then(|| self.text[start + column])
    }

    fn line_len(&self, line: usize) -> usize {
        self.lines[line].1 - self.lines[line].0
    }

    /// The first line at or after `from` that holds more than blanks and a comment. Lines
    /// that are directives or document markers are not read here.
    fn next_content(&self, from: usize) -> Option<usize> {
        (from..self.lines.len()).find(|&line| {
            let (start, end) = self.lines[line];
            self.text[start..end].iter().any(|&byte| byte != b' ') && self.first_non_space(line) != Some(b'#')
        })
    }

    fn first_non_space(&self, line: usize) -> Option<u8> {
        let (start, end) = self.lines[line];
        self.text[start..end].iter().copied().find(|&byte| byte != b' ')
    }

    /// The indentation of a content line; `None` for lines only libyaml should read.
    fn indent(&self, line: usize) -> Option<usize> {
        let (start, end) = self.lines[line];
        let text = &self.text[start..end];
        if text.starts_with(b"---") || text.starts_with(b"...") || text.starts_with(b"%") {
            return None;
        }
        text.iter().position(|&byte| byte != b' ')
    }

    fn skip_spaces(&self, line: usize, mut column: usize) -> usize {
        while self.byte(line, column) == Some(b' ') {
            column += 1;
        }
        column
    }

    fn is_entry(&self, line: usize, column: usize) -> bool {
        self.byte(line, column) == Some(b'-') && matches!(self.byte(line, column + 1), None | Some(b' '))
    }

    fn push(&mut self, data: EventData, start: Pos, end: u64) {
        self.events.push(FastEvent { data, start, end });
    }

    /// Enters a collection; `None` when that would nest too deep for this reader.
    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn block_node(&mut self, line: usize, column: usize) -> Option<Next> {
        if self.is_entry(line, column) {
            self.block_sequence(line, column, false)
        } else {
            self.block_mapping(line, column)
        }
    }

    fn block_mapping(&mut self, mut line: usize, column: usize) -> Option<Next> {
        self.enter()?;
        let start = self.pos(line, column);
        self.push(mapping_start(MappingStyle::Block), start, start.index);
        let next = loop {
            let after_colon = self.key(line, column)?;
            match self.value(line, column, after_colon, true)? {
                None => break None,
                Some(next) => {
                    let indent = self.indent(next)?;
                    if indent < column {
                        break Some(next);
                    }
                    if indent > column || self.is_entry(next, column) {
                        return None;
                    }
                    line = next;
                }
            }
        };
        self.push(EventData::MappingEnd, self.pos(line, column), 0);
        self.depth -= 1;
        Some(next)
    }

    fn block_sequence(&mut self, mut line: usize, column: usize, indentless: bool) -> Option<Next> {
        self.enter()?;
        let start = self.pos(line, column);
        self.push(sequence_start(SequenceStyle::Block), start, start.index);
        let next = loop {
            match self.value(line, column, column + 1, false)? {
                None => break None,
                Some(next) => {
                    let indent = self.indent(next)?;
                    if indent == column && self.is_entry(next, column) {
                        line = next;
                    } else if indent < column || (indentless && indent == column) {
                        break Some(next);
                    } else {
                        return None;
                    }
                }
            }
        };
        self.push(EventData::SequenceEnd, self.pos(line, column), 0);
        self.depth -= 1;
        Some(next)
    }

    /// Reads the key at `column` of `line` and returns the column after its `:`.
    fn key(&mut self, line: usize, column: usize) -> Option<usize> {
        let end = match self.byte(line, column)? {
            b'"' | b'\'' => self.quoted(line, column)?,
            _ => {
                let colon = self.plain_key_end(line, column)?;
                self.plain(line, column, colon);
                colon
            }
        };
        (self.byte(line, end) == Some(b':') && matches!(self.byte(line, end + 1), None | Some(b' '))).then_some(end + 1)
    }

    /// Where a plain key starting at `column` ends (at its `:`), if the line holds one.
    fn plain_key_end(&self, line: usize, column: usize) -> Option<usize> {
        if starts_badly(self.byte(line, column)?, self.byte(line, column + 1)) {
            return None;
        }
        let mut at = column;
        loop {
            match self.byte(line, at)? {
                b':' if matches!(self.byte(line, at + 1), None | Some(b' ')) => break,
                b'#' if self.byte(line, at - 1) == Some(b' ') => return None,
                _ => at += 1,
            }
        }
        // `key :` keeps libyaml's trimming to libyaml, and so do keys past its length limit for
        // simple keys.
        (self.byte(line, at - 1) != Some(b' ') && at - column <= MAX_SIMPLE_KEY).then_some(at)
    }

    /// Reads what follows a key's `:` (`in_mapping`) or a sequence entry's `-`, whose column
    /// is `column`, starting at `from` on `line`.
    fn value(&mut self, line: usize, column: usize, from: usize, in_mapping: bool) -> Option<Next> {
        let at = self.skip_spaces(line, from);
        if at == self.line_len(line) || (at > from && self.byte(line, at) == Some(b'#')) {
            // The value is on the lines below; an empty one needs libyaml's positions.
            let next = self.next_content(line + 1)?;
            let indent = self.indent(next)?;
            if indent > column {
                return self.block_node(next, indent);
            }
            if in_mapping && indent == column && self.is_entry(next, column) {
                return self.block_sequence(next, column, true);
            }
            return None;
        }
        if at == from {
            return None;
        }
        if !in_mapping {
            if self.is_entry(line, at) {
                return self.block_sequence(line, at, false);
            }
            if self.starts_key(line, at) {
                return self.block_mapping(line, at);
            }
        }
        let end = match self.byte(line, at)? {
            b'[' | b'{' => self.flow_node(line, at)?,
            b'"' | b'\'' => self.quoted(line, at)?,
            first => {
                if starts_badly(first, self.byte(line, at + 1)) {
                    return None;
                }
                let end = self.plain_value_end(line, at)?;
                self.plain(line, at, end);
                end
            }
        };
        let rest = self.skip_spaces(line, end);
        if rest != self.line_len(line) && !(rest > end && self.byte(line, rest) == Some(b'#')) {
            return None;
        }
        let next = self.next_content(line + 1);
        // A more indented line would continue the scalar (or be an error): libyaml decides.
        match next {
            Some(next) if self.indent(next)? > column => None,
            _ => Some(next),
        }
    }

    /// Whether a key (plain or quoted, then `:` and a space or the line's end) starts at `column`.
    fn starts_key(&self, line: usize, column: usize) -> bool {
        match self.byte(line, column) {
            Some(b'"' | b'\'') => false,
            Some(_) => self.plain_key_end(line, column).is_some(),
            None => false,
        }
    }

    /// Where a one-line plain value starting at `column` ends, before trailing spaces and a
    /// comment; `None` when it holds `: ` or ends in `:` (a key or an error, for libyaml).
    fn plain_value_end(&self, line: usize, column: usize) -> Option<usize> {
        let length = self.line_len(line);
        let mut end = column;
        let mut at = column;
        while at < length {
            match self.byte(line, at)? {
                b'#' if self.byte(line, at - 1) == Some(b' ') => break,
                b':' if matches!(self.byte(line, at + 1), None | Some(b' ')) => return None,
                b' ' => {}
                _ => end = at + 1,
            }
            at += 1;
        }
        Some(end)
    }

    fn plain(&mut self, line: usize, column: usize, end: usize) {
        let start = self.pos(line, column);
        let value = String::from_utf8_lossy(&self.text[start.index as usize..start.index as usize + end - column]).into_owned();
        self.push(scalar(value, ScalarStyle::Plain), start, start.index + (end - column) as u64);
    }

    /// Reads a one-line quoted scalar whose quote is at `column`; returns the column after it.
    fn quoted(&mut self, line: usize, column: usize) -> Option<usize> {
        let quote = self.byte(line, column)?;
        let mut value = Vec::new();
        let mut at = column + 1;
        loop {
            let byte = self.byte(line, at)?;
            match (quote, byte) {
                (b'\'', b'\'') if self.byte(line, at + 1) == Some(b'\'') => {
                    value.push(b'\'');
                    at += 2;
                }
                (b'\'', b'\'') | (b'"', b'"') => break,
                (b'"', b'\\') => return None,
                _ => {
                    value.push(byte);
                    at += 1;
                }
            }
        }
        let style = if quote == b'"' { ScalarStyle::DoubleQuoted } else { ScalarStyle::SingleQuoted };
        let start = self.pos(line, column);
        let value = String::from_utf8(value).ok()?;
        self.push(scalar(value, style), start, start.index + (at + 1 - column) as u64);
        Some(at + 1)
    }

    /// Reads a one-line flow collection whose bracket is at `column`; returns the column after it.
    fn flow_node(&mut self, line: usize, column: usize) -> Option<usize> {
        self.enter()?;
        let open = self.byte(line, column)?;
        let start = self.pos(line, column);
        let close = if open == b'[' { b']' } else { b'}' };
        if open == b'[' {
            self.push(sequence_start(SequenceStyle::Flow), start, start.index);
        } else {
            self.push(mapping_start(MappingStyle::Flow), start, start.index);
        }
        let mut at = self.skip_spaces(line, column + 1);
        if self.byte(line, at)? != close {
            loop {
                if open == b'{' {
                    at = self.flow_scalar(line, at, true)?;
                    if self.byte(line, at)? != b':' || self.byte(line, at + 1)? != b' ' {
                        return None;
                    }
                    at = self.skip_spaces(line, at + 1);
                }
                at = match self.byte(line, at)? {
                    b'[' | b'{' => self.flow_node(line, at)?,
                    _ => self.flow_scalar(line, at, false)?,
                };
                at = self.skip_spaces(line, at);
                match self.byte(line, at)? {
                    b',' => {
                        at = self.skip_spaces(line, at + 1);
                        if matches!(self.byte(line, at)?, b']' | b'}') {
                            return None;
                        }
                    }
                    byte if byte == close => break,
                    _ => return None,
                }
            }
        }
        let end = self.pos(line, at);
        let data = if open == b'[' { EventData::SequenceEnd } else { EventData::MappingEnd };
        self.push(data, end, end.index + 1);
        self.depth -= 1;
        Some(at + 1)
    }

    /// Reads a scalar inside a flow collection; a plain one ends before `,`, a bracket, or
    /// (for a key) its `: `. Returns the column after it.
    fn flow_scalar(&mut self, line: usize, column: usize, key: bool) -> Option<usize> {
        let first = self.byte(line, column)?;
        if matches!(first, b'"' | b'\'') {
            return self.quoted(line, column);
        }
        if starts_badly(first, self.byte(line, column + 1)) {
            return None;
        }
        let mut end = column;
        let mut at = column;
        loop {
            match self.byte(line, at)? {
                b',' | b'[' | b']' | b'{' | b'}' => break,
                b':' if key && self.byte(line, at + 1) == Some(b' ') => break,
                b':' | b'#' => return None,
                b' ' => {}
                _ => end = at + 1,
            }
            at += 1;
        }
        if key && end - column > MAX_SIMPLE_KEY {
            return None;
        }
        self.plain(line, column, end);
        Some(end)
    }
}

/// libyaml refuses a simple key longer than 1024 characters; well below that, keys are ours.
const MAX_SIMPLE_KEY: usize = 1000;

/// Whether a plain scalar cannot start with `first` (followed by `second`) in this reader:
/// YAML's indicators, and the ones libyaml reads as plain only in some contexts.
fn starts_badly(first: u8, second: Option<u8>) -> bool {
    match first {
        b'-' => matches!(second, None | Some(b' ')),
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"'
        | b'%' | b'@' | b'`' | b' ' => true,
        _ => false,
    }
}

fn scalar(value: String, style: ScalarStyle) -> EventData {
    let plain = style == ScalarStyle::Plain;
    EventData::Scalar { anchor: None, tag: None, value, plain_implicit: plain, quoted_implicit: !plain, style }
}

fn mapping_start(style: MappingStyle) -> EventData {
    EventData::MappingStart { anchor: None, tag: None, implicit: true, style }
}

fn sequence_start(style: SequenceStyle) -> EventData {
    EventData::SequenceStart { anchor: None, tag: None, implicit: true, style }
}

#[cfg(test)]
mod tests {
    //! Every document this reader accepts must give libyaml's events exactly: the hard-case
    //! corpus, the examples, thousands of mutations of them, and any files named in
    //! `PALISADE_FAST_EXTRA` (colon-separated files or directories, e.g. real projects'
    //! manifests or the benchmark corpus).

    use std::path::{Path, PathBuf};

    use libyaml_safer::{Event, Parser};

    use super::*;
    use crate::yaml::split_documents;

    fn libyaml_events(text: &str) -> Result<Vec<FastEvent>, String> {
        let mut input = text.as_bytes();
        let mut parser = Parser::new();
        parser.set_input_string(&mut input);
        let mut events = Vec::new();
        loop {
            let Event { data, start_mark, end_mark, .. } = parser.parse().map_err(|error| error.to_string())?;
            let start = Pos { index: start_mark.index, line: start_mark.line, column: start_mark.column };
            let done = matches!(data, EventData::DocumentEnd { .. } | EventData::StreamEnd);
            if !matches!(data, EventData::StreamStart { .. } | EventData::DocumentStart { .. }) {
                events.push(FastEvent { data, start, end: end_mark.index });
            }
            if done {
                return Ok(events);
            }
        }
    }

    /// Compares the two readings of one document; returns whether the fast reader took it.
    fn agrees(text: &str, origin: &str) -> bool {
        let text = if text.ends_with('\n') { text.to_owned() } else { format!("{text}\n") };
        let Some(fast) = events(&text) else { return false };
        let slow = libyaml_events(&text).unwrap_or_else(|error| panic!("{origin}: libyaml refuses what we read: {error}\n{text}"));
        assert_eq!(fast.len(), slow.len(), "{origin}: event counts differ\n{text}\nfast {fast:#?}\nlibyaml {slow:#?}");
        for (ours, theirs) in fast.iter().zip(&slow) {
            assert_eq!(ours.data, theirs.data, "{origin}\n{text}");
            match ours.data {
                // Where a collection or the document ends is not used.
                EventData::SequenceEnd | EventData::MappingEnd | EventData::DocumentEnd { .. } => {}
                EventData::Scalar { .. } => {
                    assert_eq!((ours.start, ours.end), (theirs.start, theirs.end), "{origin}: {:?}\n{text}", ours.data);
                }
                _ => assert_eq!(ours.start, theirs.start, "{origin}: {:?}\n{text}", ours.data),
            }
        }
        true
    }

    fn documents_of(text: &str) -> Vec<String> {
        split_documents(text).into_iter().filter(|chunk| !chunk.bad_separator).map(|chunk| chunk.text.to_owned()).collect()
    }

    fn yaml_files(path: &Path, into: &mut Vec<PathBuf>) {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path).unwrap().map(|entry| entry.unwrap().path()).collect();
            entries.sort();
            for entry in entries {
                yaml_files(&entry, into);
            }
        } else if path.extension().is_some_and(|extension| extension == "yaml" || extension == "yml") {
            into.push(path.to_path_buf());
        }
    }

    fn seeds() -> Vec<(String, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        yaml_files(&root.join("tests/corpus"), &mut files);
        yaml_files(&root.join("../../examples"), &mut files);
        yaml_files(&root.join("../../deploy"), &mut files);
        files
            .iter()
            .filter_map(|file| Some((file.display().to_string(), std::fs::read_to_string(file).ok()?)))
            .collect()
    }

    #[test]
    fn accepted_documents_read_exactly_as_libyaml_reads_them() {
        let mut accepted = 0;
        let mut documents = 0;
        for (origin, text) in seeds() {
            for document in documents_of(&text) {
                documents += 1;
                accepted += usize::from(agrees(&document, &origin));
            }
        }
        // Most real documents must take the fast path, or it is worth nothing.
        assert!(accepted * 2 > documents, "only {accepted} of {documents} documents took the fast path");
    }

    #[test]
    fn deep_nesting_goes_to_libyaml_instead_of_deepening_the_stack() {
        // `levels` nested block mappings, the innermost holding `k: v`.
        let nested = |levels: usize| -> String {
            (0..levels).map(|depth| format!("{}k:{}\n", " ".repeat(depth), if depth + 1 == levels { " v" } else { "" })).collect()
        };
        assert!(agrees(&nested(MAX_DEPTH), "at the limit"));
        assert!(events(&nested(MAX_DEPTH + 1)).is_none());
        assert!(events(&nested(3000)).is_none());
        let flow = |levels: usize| format!("a: {}{}\n", "[".repeat(levels), "]".repeat(levels));
        assert!(agrees(&flow(MAX_DEPTH - 1), "flow at the limit"));
        assert!(events(&flow(MAX_DEPTH)).is_none());
        assert!(events(&flow(100_000)).is_none());
    }

    #[test]
    fn mutated_documents_read_exactly_as_libyaml_reads_them_or_go_to_libyaml() {
        const SPLICES: [&str; 22] = [
            " ", "  ", "\n", "- ", ": ", ":", "#", " #", "[", "]", "{", "}", ",", "'", "\"", "''", "-", "? ", "&a ", "*a",
            "a: b\n", "\n  ",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % below.max(1) as u64) as usize
        };
        let seeds: Vec<(String, String)> =
            seeds().into_iter().flat_map(|(origin, text)| documents_of(&text).into_iter().map(move |d| (origin.clone(), d))).collect();
        let mut accepted = 0;
        for round in 0..20_000 {
            let (origin, seed) = &seeds[round % seeds.len()];
            let mut text = seed.clone();
            for _ in 0..1 + next(2) {
                let boundary = |text: &str, at: usize| (0..=at.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
                let at = boundary(&text, next(text.len() + 1));
                match next(3) {
                    0 => {
                        let end = boundary(&text, at + 1 + next(8));
                        if at < end {
                            text.replace_range(at..end, "");
                        }
                    }
                    _ => text.insert_str(at, SPLICES[next(SPLICES.len())]),
                }
            }
            accepted += usize::from(agrees(&text, &format!("mutant {round} of {origin}")));
        }
        assert!(accepted > 2_000, "only {accepted} mutants took the fast path: the test reaches too little");
    }

    #[test]
    fn extra_files_read_exactly_as_libyaml_reads_them() {
        let Some(extra) = std::env::var_os("PALISADE_FAST_EXTRA") else {
            eprintln!("PALISADE_FAST_EXTRA not set: no extra files compared");
            return;
        };
        let (mut accepted, mut documents) = (0, 0);
        for path in std::env::split_paths(&extra) {
            let mut files = Vec::new();
            yaml_files(&path, &mut files);
            for file in files {
                let Ok(text) = std::fs::read_to_string(&file) else { continue };
                for document in documents_of(&text) {
                    documents += 1;
                    accepted += usize::from(agrees(&document, &file.display().to_string()));
                }
            }
        }
        eprintln!("{accepted} of {documents} documents took the fast path and agree with libyaml");
    }
}
