//! YAML (and JSON, which YAML includes) into positioned [`Node`] trees, read as kubectl reads
//! them, with hard limits.
//!
//! kubectl cuts a stream into documents with k8s.io/apimachinery's YAMLReader and converts each
//! one to JSON with sigs.k8s.io/yaml over go-yaml v2, a Go port of libyaml with YAML 1.1
//! scalars. Each step is reproduced here: [`split_documents`] is the YAMLReader; the grammar is
//! libyaml's, through libyaml-safer (a safe Rust port of it), so the leniencies go-yaml inherited
//! from libyaml (a quoted scalar or a flow collection continued at its parent's indentation)
//! are accepted; scalar resolution, merge keys, duplicate keys and key conversion follow go-yaml
//! v2 and sigs.k8s.io/yaml. `tests/differential.rs` checks the result against that Go code.
//!
//! The tree is built from parser events rather than by a ready-made loader so that nesting
//! depth, alias expansion and document size are bounded before they cost memory, and so every
//! node and key keeps its position.

use std::collections::HashMap;

use libyaml_safer::{Event, EventData, Parser, ScalarStyle};
use palisade_core::value::Entry;
use palisade_core::{DuplicateKey, Map, Mark, Node, Value, push_pointer_token};

use crate::fast::{self, FastEvent, Pos};

/// Bounds that keep hostile input from exhausting the stack, memory or time.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deepest nesting of sequences and mappings in one document.
    pub max_depth: usize,
    /// Most nodes one document may hold once aliases are expanded (alias bombs).
    pub max_nodes: usize,
    /// Largest document, in bytes of source text.
    pub max_document_bytes: usize,
    /// Largest file or standard input, in bytes.
    pub max_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 200,
            max_nodes: 1_000_000,
            max_document_bytes: 16 << 20,
            max_file_bytes: 512 << 20,
        }
    }
}

/// A problem in one document, with its 1-based position in the whole file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// One document of a stream: its 0-based index and either its tree or why it could not be read.
#[derive(Debug)]
pub struct Document {
    pub index: u32,
    pub result: Result<Node, YamlError>,
    /// Keys written twice in one mapping; `result` holds the last value, as kubectl does.
    pub duplicates: Vec<DuplicateKey>,
}

/// The source text of one document, cut out of a stream at its `---` lines.
#[derive(Clone, Copy, Debug)]
pub struct Chunk<'a> {
    pub index: u32,
    /// Lines before this chunk in the file, added to every position the parser reports.
    pub line_offset: u32,
    pub text: &'a str,
    /// The chunk is a line starting with `---` followed by something other than white space or
    /// a comment (`--- {a: 1}`, `----`), which kubectl refuses as a separator.
    pub bad_separator: bool,
}

/// Cuts a stream into documents as kubectl does (k8s.io/apimachinery's YAMLReader): at every
/// line that starts with `---` followed only by white space or a comment; the separator lines
/// themselves belong to no document. A line starting with `---` and anything else is an error
/// of its own. Chunks of nothing but blank and comment lines (what `helm template` writes for a
/// template that renders nothing) are dropped, as kubectl skips the empty documents they make.
/// Cutting before parsing also lets one broken document be reported while the others are still
/// scanned, and the documents of a large file be parsed in parallel.
pub fn split_documents<'a>(text: &'a str) -> Vec<Chunk<'a>> {
    let mut chunks = Vec::new();
    let push = |chunks: &mut Vec<Chunk<'a>>, from: usize, to: usize, first_line: u32, bad_separator: bool| {
        let index = chunks.len() as u32;
        chunks.push(Chunk { index, line_offset: first_line, text: &text[from..to], bad_separator });
    };
    let (mut start, mut start_line, mut has_content) = (0usize, 0u32, false);
    let (mut offset, mut line) = (0usize, 0u32);
    for raw in text.split_inclusive('\n') {
        match separator(raw) {
            // Like the YAMLReader, a separator that finds no line read since the last cut
            // opens the next document (as its explicit `---` start) instead of ending one.
            Some(true) if start == offset => {}
            Some(accepted) => {
                if has_content {
                    push(&mut chunks, start, offset, start_line, false);
                }
                if !accepted {
                    push(&mut chunks, offset, offset + raw.len(), line, true);
                }
                start = offset + raw.len();
                start_line = line + 1;
                has_content = false;
            }
            None => has_content |= !is_blank_or_comment(raw),
        }
        offset += raw.len();
        line += 1;
    }
    if has_content {
        push(&mut chunks, start, text.len(), start_line, false);
    }
    chunks
}

/// `Some(true)` for a separator line kubectl accepts, `Some(false)` for one it refuses, `None`
/// for any other line.
fn separator(line: &str) -> Option<bool> {
    let rest = line.strip_prefix("---")?.trim();
    Some(rest.is_empty() || rest.starts_with('#'))
}

fn is_blank_or_comment(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed.is_empty() || trimmed.starts_with('#')
}

/// Parses every document of `text` strictly, for Palisade's own configuration files: a
/// duplicate key is an error there, since nobody needs kubectl's reading of it.
pub fn parse_documents(text: &str, limits: &Limits) -> Vec<Document> {
    split_documents(text)
        .into_iter()
        .map(|chunk| {
            let mut document = parse_chunk(chunk, limits);
            if let (Ok(_), Some(duplicate)) = (&document.result, document.duplicates.first()) {
                document.result = Err(YamlError {
                    line: duplicate.second.line,
                    column: duplicate.second.column,
                    message: format!(
                        "duplicate key `{}` (first at line {})",
                        duplicate.pointer.rsplit('/').next().unwrap_or_default(),
                        duplicate.first.line
                    ),
                });
            }
            document
        })
        .filter(|document| !matches!(&document.result, Ok(node) if node.is_null()))
        .collect()
}

/// Parses one chunk (see [`split_documents`]) into its document; a document kubectl reads as
/// `null` (only `~`, or only `...`) comes back as a null node.
pub fn parse_chunk(chunk: Chunk<'_>, limits: &Limits) -> Document {
    let error = |message: String| Document {
        index: chunk.index,
        result: Err(YamlError { line: chunk.line_offset + 1, column: 1, message }),
        duplicates: Vec::new(),
    };
    if chunk.bad_separator {
        return error(format!(
            "`{}` is not a document separator: kubectl accepts only white space or a comment after `---`",
            chunk.text.trim_end()
        ));
    }
    if chunk.text.len() > limits.max_document_bytes {
        return error(format!(
            "document is {} bytes, more than the limit of {} bytes",
            chunk.text.len(),
            limits.max_document_bytes
        ));
    }
    // kubectl's line reader ends every line, the last one too, with `\n`; libyaml-safer also
    // panics on a block scalar that ends the input without one.
    let text: std::borrow::Cow<'_, str> =
        if chunk.text.ends_with('\n') { chunk.text.into() } else { format!("{}\n", chunk.text).into() };
    if let Some(events) = fast::events(&text) {
        let mut builder = Builder::new(chunk.line_offset, limits);
        let result = builder.run_fast(&text, events);
        return Document { index: chunk.index, result, duplicates: builder.duplicates };
    }
    let mut text = text;
    let mut quoted = 0;
    loop {
        let mut builder = Builder::new(chunk.line_offset, limits);
        // A parser bug must cost one document, not the scan: a panic becomes this document's error.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| builder.run(&text))).unwrap_or_else(|_| {
            Err(YamlError {
                line: chunk.line_offset + 1,
                column: 1,
                message: "the YAML parser failed on this document (internal error; please report it)".into(),
            })
        });
        if result.is_err() && quoted < MAX_COLON_SCALARS {
            if let Some(fixed) = builder.colon_scalar.and_then(|scalar| quote_colon_scalar(&text, scalar)) {
                text = fixed.into();
                quoted += 1;
                continue;
            }
        }
        return Document { index: chunk.index, result, duplicates: builder.duplicates };
    }
}

/// How many flow scalars ending in `:` one document may have before its error stands; each
/// costs a parse of the document.
const MAX_COLON_SCALARS: usize = 16;

/// Where libyaml stopped at a plain scalar inside a flow collection whose `:` is followed by a
/// flow indicator (`[1.2.3.4, 2001:db8::]`): 0-based line, and the columns of the scalar's first
/// character and of that `:`.
#[derive(Clone, Copy, Debug)]
struct ColonScalar {
    line: u64,
    start: u64,
    colon: u64,
}

/// go-yaml (and so kubectl) reads `2001:db8::` in `[..., 2001:db8::]` as the plain scalar
/// "2001:db8::", where libyaml refuses it. Such a scalar ends in `:`, so it can be no number,
/// boolean, null or timestamp: the same string written double-quoted reads alike in both, which
/// is what this rewrites. Only one-line scalars are rewritten; columns after it on that line
/// move by two.
fn quote_colon_scalar(text: &str, scalar: ColonScalar) -> Option<String> {
    let line_start = if scalar.line == 0 {
        0
    } else {
        text.match_indices('\n').nth(usize::try_from(scalar.line).ok()? - 1)?.0 + 1
    };
    let line = &text[line_start..];
    let byte_at = |column: u64| line.char_indices().nth(usize::try_from(column).ok()?).map(|(at, _)| line_start + at);
    let (start, colon) = (byte_at(scalar.start)?, byte_at(scalar.colon)?);
    let plain = text.get(start..=colon)?;
    if !plain.ends_with(':') || plain.contains(['\n', '\r']) {
        return None;
    }
    let escaped = plain.replace('\\', "\\\\").replace('"', "\\\"");
    Some(format!("{}\"{escaped}\"{}", &text[..start], &text[colon + 1..]))
}

/// `text` with the flow scalar ending in `:` that `error` (libyaml refusing it) points at
/// double-quoted, as go-yaml reads it; `None` when `error` is another problem.
pub fn quote_refused_colon_scalar(text: &str, error: &libyaml_safer::Error) -> Option<String> {
    colon_scalar(error).and_then(|scalar| quote_colon_scalar(text, scalar))
}

/// The scalar to quote when `error` is libyaml refusing a one-line flow scalar that ends in `:`.
fn colon_scalar(error: &libyaml_safer::Error) -> Option<ColonScalar> {
    if error.problem() != "found unexpected ':'" || error.context() != Some("while scanning a plain scalar") {
        return None;
    }
    let (start, colon) = (error.context_mark()?, error.problem_mark()?);
    (start.line == colon.line).then_some(ColonScalar { line: colon.line, start: start.column, colon: colon.column })
}

enum Frame {
    Seq { items: Vec<Node>, mark: Mark, anchor: Option<String>, nodes: usize },
    Map {
        map: MapBuilder,
        mark: Mark,
        anchor: Option<String>,
        nodes: usize,
        key: Option<Key>,
        /// Once a merge key has filled the map, which keys were written in it (with the line of
        /// their last occurrence), since only those can be duplicates.
        written: Option<HashMap<Box<str>, Mark>>,
    },
}

/// A mapping being read. Kubernetes mappings are small and searched linearly; a hostile one with
/// 500,000 keys gets an index so that reading it stays linear.
#[derive(Default)]
struct MapBuilder {
    entries: Vec<Entry>,
    index: Option<HashMap<Box<str>, usize>>,
}

const LINEAR_KEY_LOOKUP: usize = 16;

impl MapBuilder {
    /// Inserts or replaces `key` (a replaced key keeps its place): the previous key's mark, and
    /// where the entry is.
    fn insert(&mut self, key: Box<str>, key_mark: Mark, value: Node) -> (Option<Mark>, usize) {
        let found = match &self.index {
            Some(index) => index.get(&key).copied(),
            None => self.entries.iter().position(|entry| entry.key == key),
        };
        if let Some(position) = found {
            let entry = &mut self.entries[position];
            entry.value = value;
            return (Some(std::mem::replace(&mut entry.key_mark, key_mark)), position);
        }
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), self.entries.len());
        } else if self.entries.len() == LINEAR_KEY_LOOKUP {
            let mut index: HashMap<Box<str>, usize> =
                self.entries.iter().enumerate().map(|(position, entry)| (entry.key.clone(), position)).collect();
            index.insert(key.clone(), self.entries.len());
            self.index = Some(index);
        }
        self.entries.push(Entry { key, key_mark, value });
        (None, self.entries.len() - 1)
    }

    fn finish(self) -> Map {
        Map::from_unique_entries(self.entries)
    }
}

struct Key {
    text: Box<str>,
    mark: Mark,
    /// A plain `<<` (or `!!merge`): its value is merged into the mapping.
    merge: bool,
}

struct Builder<'l> {
    line_offset: u32,
    limits: &'l Limits,
    stack: Vec<Frame>,
    anchors: HashMap<String, (Node, usize)>,
    nodes: usize,
    root: Option<Node>,
    duplicates: Vec<DuplicateKey>,
    /// Set when the parse stopped at a flow scalar ending in `:` (see [`quote_colon_scalar`]).
    colon_scalar: Option<ColonScalar>,
}

const CORE_TAG: &str = "tag:yaml.org,2002:";

impl<'l> Builder<'l> {
    fn new(line_offset: u32, limits: &'l Limits) -> Self {
        Self {
            line_offset,
            limits,
            stack: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            root: None,
            duplicates: Vec::new(),
            colon_scalar: None,
        }
    }

    fn mark(&self, position: Pos) -> Mark {
        Mark::new(self.line_offset.saturating_add(position.line as u32 + 1), position.column as u32 + 1)
    }

    fn error(&self, mark: Mark, message: impl Into<String>) -> YamlError {
        YamlError { line: mark.line, column: mark.column, message: message.into() }
    }

    fn run(&mut self, text: &str) -> Result<Node, YamlError> {
        let mut input = text.as_bytes();
        let mut parser = Parser::new();
        parser.set_input_string(&mut input);
        loop {
            let Event { data, start_mark, end_mark, .. } = parser.parse().map_err(|error| {
                self.colon_scalar = colon_scalar(&error);
                self.parse_error(&error)
            })?;
            let start = Pos { index: start_mark.index, line: start_mark.line, column: start_mark.column };
            if self.step(text, data, start, end_mark.index)? {
                break;
            }
        }
        Ok(self.root.take().unwrap_or_else(Node::null))
    }

    /// Builds the tree from events [`crate::fast`] read.
    fn run_fast(&mut self, text: &str, events: Vec<FastEvent>) -> Result<Node, YamlError> {
        for FastEvent { data, start, end } in events {
            if self.step(text, data, start, end)? {
                break;
            }
        }
        Ok(self.root.take().unwrap_or_else(Node::null))
    }

    /// Takes one event; `true` at the end of the document.
    fn step(&mut self, text: &str, data: EventData, start: Pos, end_index: u64) -> Result<bool, YamlError> {
        let mark = self.mark(start);
        match data {
            EventData::Scalar { anchor, tag, value, plain_implicit, style, .. } => {
                if style == ScalarStyle::DoubleQuoted
                    && value.contains('/')
                    && has_slash_escape(text.get(start.index as usize..end_index as usize).unwrap_or(""))
                {
                    // libyaml follows YAML 1.2 here; go-yaml v2, and so kubectl, refuses it.
                    return Err(self.error(mark, "found unknown escape character `\\/`"));
                }
                let in_key_position =
                    matches!(self.stack.last(), Some(Frame::Map { key: None, .. }));
                let is_merge_key = value == "<<"
                    && match &tag {
                        None => plain_implicit,
                        Some(tag) => tag.strip_prefix(CORE_TAG) == Some("merge"),
                    };
                let resolved = if tag.is_none() && !plain_implicit {
                    Value::Str(value.into())
                } else {
                    let resolved = resolve(tag.as_deref().unwrap_or(""), &value)
                        .map_err(|message| self.error(mark, message))?;
                    if let Value::Float(number) = resolved
                        && !number.is_finite()
                        && !in_key_position
                    {
                        return Err(self.error(
                            mark,
                            format!("`{value}` is not a number JSON can hold; kubectl refuses the document"),
                        ));
                    }
                    resolved
                };
                self.charge(1, mark)?;
                self.place(Node::new(resolved, mark), anchor, 1, is_merge_key)?;
            }
            EventData::SequenceStart { anchor, .. } => {
                self.open(mark)?;
                self.stack.push(Frame::Seq { items: Vec::new(), mark, anchor, nodes: 1 });
            }
            EventData::MappingStart { anchor, .. } => {
                self.open(mark)?;
                self.stack.push(Frame::Map { map: MapBuilder::default(), mark, anchor, nodes: 1, key: None, written: None });
            }
            EventData::SequenceEnd | EventData::MappingEnd => {
                let (node, anchor, nodes) = match self.stack.pop() {
                    Some(Frame::Seq { items, mark, anchor, nodes }) => {
                        (Node::new(Value::Seq(items), mark), anchor, nodes)
                    }
                    Some(Frame::Map { map, mark, anchor, nodes, .. }) => (Node::new(Value::Map(map.finish()), mark), anchor, nodes),
                    None => return Err(self.error(mark, "unbalanced collection end")),
                };
                self.place(node, anchor, nodes, false)?;
            }
            EventData::Alias { anchor } => {
                let Some((node, nodes)) = self.anchors.get(&anchor).cloned() else {
                    return Err(self.error(mark, format!("unknown anchor `{anchor}` referenced")));
                };
                self.charge(nodes, mark)?;
                let node = Node { mark, ..node };
                self.place(node, None, nodes, false)?;
            }
            // kubectl's decoder reads the first document of what its reader cut and ignores
            // the rest (after a `...` line).
            EventData::DocumentEnd { .. } | EventData::StreamEnd => return Ok(true),
            EventData::StreamStart { .. } | EventData::DocumentStart { .. } => {}
        }
        Ok(false)
    }

    fn parse_error(&self, error: &libyaml_safer::Error) -> YamlError {
        let Some(mark) = error.problem_mark() else {
            // Reader errors (control characters) carry only a byte offset.
            return YamlError { line: self.line_offset + 1, column: 1, message: error.to_string() };
        };
        let message = match error.context() {
            Some(context) if !context.is_empty() => format!("{} ({context})", error.problem()),
            _ => error.problem().to_owned(),
        };
        let position = Pos { index: mark.index, line: mark.line, column: mark.column };
        self.error(self.mark(position), message)
    }

    fn open(&mut self, mark: Mark) -> Result<(), YamlError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(self.error(mark, format!("nesting deeper than {} levels", self.limits.max_depth)));
        }
        self.charge(1, mark)
    }

    fn charge(&mut self, nodes: usize, mark: Mark) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > self.limits.max_nodes {
            return Err(self.error(
                mark,
                format!("document expands to more than {} nodes (alias bomb?)", self.limits.max_nodes),
            ));
        }
        Ok(())
    }

    /// The JSON pointer of the mapping on top of the stack.
    fn pointer_of_top(&self) -> String {
        let mut pointer = String::new();
        for frame in &self.stack[..self.stack.len().saturating_sub(1)] {
            match frame {
                Frame::Seq { items, .. } => push_pointer_token(&mut pointer, &items.len().to_string()),
                Frame::Map { key, .. } => {
                    push_pointer_token(&mut pointer, key.as_ref().map_or("", |key| &key.text));
                }
            }
        }
        pointer
    }

    /// Puts a finished node into its parent (or makes it the root), remembering anchors.
    fn place(&mut self, node: Node, anchor: Option<String>, nodes: usize, is_merge_key: bool) -> Result<(), YamlError> {
        if let Some(anchor) = anchor {
            self.anchors.insert(anchor, (node.clone(), nodes));
        }
        let mut duplicate = None;
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, nodes: total, .. }) => {
                *total += nodes;
                items.push(node);
            }
            Some(Frame::Map { map, key, written, nodes: total, .. }) => {
                *total += nodes;
                match key.take() {
                    None => {
                        let mark = node.mark;
                        let text = key_text(node).map_err(|message| YamlError {
                            line: mark.line,
                            column: mark.column,
                            message,
                        })?;
                        *key = Some(Key { text, mark, merge: is_merge_key });
                    }
                    Some(Key { merge: true, mark, .. }) => {
                        if written.is_none() {
                            *written = Some(map.entries.iter().map(|entry| (entry.key.clone(), entry.key_mark)).collect());
                        }
                        merge_into(map, &node).map_err(|message| YamlError {
                            line: mark.line,
                            column: mark.column,
                            message: message.to_owned(),
                        })?;
                    }
                    Some(Key { text, mark, merge: false }) => {
                        // Once a merge filled the map, only keys written in it count as repeated.
                        let repeated_write = written.as_mut().map(|written| match written.get_mut(&text) {
                            Some(last) => Some(std::mem::replace(last, mark)),
                            None => {
                                written.insert(text.clone(), mark);
                                None
                            }
                        });
                        let (replaced, position) = map.insert(text, mark, node);
                        if let Some(first) = repeated_write.unwrap_or(replaced) {
                            duplicate = Some((map.entries[position].key.clone(), first, mark));
                        }
                    }
                }
            }
        }
        if let Some((key, first, second)) = duplicate {
            let mut pointer = self.pointer_of_top();
            push_pointer_token(&mut pointer, &key);
            self.duplicates.push(DuplicateKey { pointer: pointer.into(), first, second });
        }
        Ok(())
    }
}

/// Whether the source of a double-quoted scalar holds the escape `\/`.
pub fn has_slash_escape(source: &str) -> bool {
    let bytes = source.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'/') {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// go-yaml v2's `<<`: a mapping, or a sequence of mappings of which earlier ones win, sets its
/// keys in the mapping being read, over the keys written before the `<<`.
fn merge_into(map: &mut MapBuilder, source: &Node) -> Result<(), &'static str> {
    const WANT_MAP: &str = "map merge requires map or sequence of maps as the value";
    let mut set = |merged: &Map| {
        for entry in merged.entries() {
            map.insert(entry.key.clone(), entry.key_mark, entry.value.clone());
        }
    };
    match &source.value {
        Value::Map(merged) => set(merged),
        Value::Seq(items) => {
            for item in items.iter().rev() {
                set(item.as_map().ok_or(WANT_MAP)?);
            }
        }
        _ => return Err(WANT_MAP),
    }
    Ok(())
}

/// The JSON key a scalar key becomes in sigs.k8s.io/yaml.
fn key_text(node: Node) -> Result<Box<str>, String> {
    Ok(match node.value {
        Value::Str(text) => text,
        Value::Bool(flag) => flag.to_string().into(),
        Value::Int(number) => number.to_string().into(),
        Value::Float(number) => go_float32_text(number).into(),
        Value::Null => return Err("a null mapping key has no JSON form; kubectl refuses the document".into()),
        Value::Seq(_) | Value::Map(_) => return Err("mapping keys must be scalars".into()),
    })
}

/// Go's `strconv.FormatFloat(x, 'g', -1, 32)`, which sigs.k8s.io/yaml uses for float keys.
fn go_float32_text(number: f64) -> String {
    if number.is_nan() {
        return ".nan".into();
    }
    if number.is_infinite() {
        return if number > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let scientific = format!("{:e}", number as f32);
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut text = String::from(if mantissa.starts_with('-') { "-" } else { "" });
    if !(-4..6).contains(&exponent) {
        text.push_str(&digits[..1]);
        if digits.len() > 1 {
            text.push('.');
            text.push_str(&digits[1..]);
        }
        text.push_str(&format!("e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.abs()));
    } else if exponent < 0 {
        text.push_str("0.");
        text.push_str(&"0".repeat((-exponent - 1) as usize));
        text.push_str(&digits);
    } else {
        let point = exponent as usize + 1;
        if digits.len() <= point {
            text.push_str(&digits);
            text.push_str(&"0".repeat(point - digits.len()));
        } else {
            text.push_str(&digits[..point]);
            text.push('.');
            text.push_str(&digits[point..]);
        }
    }
    text
}

/// go-yaml v2's `resolve`: the value of a plain scalar, or of a scalar with an explicit tag.
/// Unknown tags leave the text as a string; a core tag that does not fit the text is an error.
pub fn resolve(tag: &str, text: &str) -> Result<Value, String> {
    let short = tag.strip_prefix(CORE_TAG);
    match short {
        _ if tag.is_empty() => {}
        Some("binary") => return decode_base64(text).map(Value::Str),
        Some("str" | "bool" | "int" | "float" | "null" | "timestamp") => {}
        _ => return Ok(Value::Str(text.into())),
    }
    let (found, value) = if short == Some("str") { ("str", Value::Str(text.into())) } else { resolve_plain(text, short) };
    match (short, found) {
        (None | Some("str"), _) => Ok(value),
        (Some(wanted), found) if wanted == found => Ok(value),
        (Some("float"), "int") => match value {
            Value::Int(number) => Ok(Value::Float(number as f64)),
            other => Ok(other),
        },
        (Some(wanted), found) => Err(format!("cannot decode !!{found} `{text}` as a !!{wanted}")),
    }
}

/// The tag go-yaml v2 gives an untagged plain scalar, and its value. Timestamps stay strings, as
/// go-yaml keeps them when decoding into an untyped value.
fn resolve_plain(text: &str, tag: Option<&str>) -> (&'static str, Value) {
    let string = || ("str", Value::Str(text.into()));
    let Some(&first) = text.as_bytes().first() else { return ("null", Value::Null) };
    if !matches!(first, b'0'..=b'9' | b'-' | b'+' | b'.' | b'~' | b'n' | b'N' | b'y' | b'Y' | b't' | b'T' | b'f' | b'F' | b'o' | b'O') {
        return string();
    }
    match text {
        "~" | "null" | "Null" | "NULL" => return ("null", Value::Null),
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => return ("bool", Value::Bool(true)),
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return ("bool", Value::Bool(false));
        }
        ".nan" | ".NaN" | ".NAN" => return ("float", Value::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return ("float", Value::Float(f64::INFINITY)),
        "-.inf" | "-.Inf" | "-.INF" => return ("float", Value::Float(f64::NEG_INFINITY)),
        _ => {}
    }
    if first == b'.' {
        return match go_float(text) {
            Some(number) => ("float", Value::Float(number)),
            None => string(),
        };
    }
    if !matches!(first, b'0'..=b'9' | b'-' | b'+') {
        return string();
    }
    if matches!(tag, None | Some("timestamp")) && is_timestamp(text) {
        return ("timestamp", Value::Str(text.into()));
    }
    let plain: std::borrow::Cow<'_, str> = if text.contains('_') { text.replace('_', "").into() } else { text.into() };
    if let Some(number) = parse_go_int(&plain) {
        return ("int", number);
    }
    if is_yaml_float(&plain)
        && let Some(number) = go_float(&plain)
    {
        return ("float", Value::Float(number));
    }
    string()
}

/// Go's `strconv.ParseFloat(s, 64)` on text that has go-yaml's float syntax; out of range is a
/// failure there, so such text stays a string.
fn go_float(text: &str) -> Option<f64> {
    if !is_yaml_float(text) {
        return None;
    }
    text.parse::<f64>().ok().filter(|number| number.is_finite())
}

/// go-yaml v2's timestamp forms (`2001-12-14`, `2001-12-14t21:59:43.10-05:00`,
/// `2001-12-14 21:59:43.10`): a date of 4-digit year, 1-2 digit month and day, then optionally
/// `T`, `t` or a space and a time.
fn is_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |from: usize, min: usize, max: usize| {
        let count = bytes[from.min(bytes.len())..].iter().take(max).take_while(|b| b.is_ascii_digit()).count();
        (count >= min).then_some(from + count)
    };
    let Some(year) = digits(0, 4, 4) else { return false };
    let Some(month) = (bytes.get(year) == Some(&b'-')).then(|| digits(year + 1, 1, 2)).flatten() else { return false };
    let Some(day) = (bytes.get(month) == Some(&b'-')).then(|| digits(month + 1, 1, 2)).flatten() else { return false };
    match bytes.get(day) {
        None => true,
        Some(b'T' | b't' | b' ') => {
            let Some(hour) = digits(day + 1, 1, 2) else { return false };
            bytes.get(hour) == Some(&b':')
        }
        Some(_) => false,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint` for what only fits unsigned (kept as a
/// float here, the nearest this tree holds).
fn parse_go_int(text: &str) -> Option<Value> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let (radix, body) = if let Some(rest) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        (16, rest)
    } else if let Some(rest) = digits.strip_prefix("0o").or_else(|| digits.strip_prefix("0O")) {
        (8, rest)
    } else if let Some(rest) = digits.strip_prefix("0b").or_else(|| digits.strip_prefix("0B")) {
        (2, rest)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()?;
    if negative {
        (magnitude <= i64::MAX as u64 + 1).then(|| Value::Int((magnitude as i64).wrapping_neg()))
    } else if text.starts_with('+') {
        i64::try_from(magnitude).ok().map(Value::Int)
    } else {
        Some(i64::try_from(magnitude).map_or(Value::Float(magnitude as f64), Value::Int))
    }
}

/// go-yaml v2's float syntax: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = usize::from(matches!(bytes.first(), Some(b'-' | b'+')));
    let digits = |i: &mut usize| {
        let start = *i;
        while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == bytes.len()
}

/// Go's `base64.StdEncoding.DecodeString` for `!!binary` (line breaks ignored, padding
/// required); invalid UTF-8 in the result becomes U+FFFD, as Go's JSON encoder writes it.
fn decode_base64(text: &str) -> Result<Box<str>, String> {
    const INVALID: &str = "!!binary value contains invalid base64 data";
    let symbols: Vec<u8> = text.bytes().filter(|b| !matches!(b, b'\r' | b'\n')).collect();
    if symbols.len() % 4 != 0 {
        return Err(INVALID.into());
    }
    let value = |symbol: u8| match symbol {
        b'A'..=b'Z' => Some(symbol - b'A'),
        b'a'..=b'z' => Some(symbol - b'a' + 26),
        b'0'..=b'9' => Some(symbol - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut bytes = Vec::with_capacity(symbols.len() / 4 * 3);
    let quads = symbols.len() / 4;
    for (index, quad) in symbols.chunks(4).enumerate() {
        let padding = quad.iter().rev().take_while(|&&b| b == b'=').count();
        if padding > 2 || (padding > 0 && index + 1 != quads) {
            return Err(INVALID.into());
        }
        let mut word = 0u32;
        for &symbol in &quad[..4 - padding] {
            word = word << 6 | u32::from(value(symbol).ok_or(INVALID)?);
        }
        word <<= 6 * padding as u32;
        bytes.extend_from_slice(&word.to_be_bytes()[1..4 - padding]);
    }
    Ok(String::from_utf8_lossy(&bytes).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Document> {
        split_documents(text).into_iter().map(|chunk| parse_chunk(chunk, &Limits::default())).collect()
    }

    fn one(text: &str) -> Node {
        let mut documents = parse(text);
        assert_eq!(documents.len(), 1, "{documents:?}");
        documents.remove(0).result.unwrap()
    }

    #[test]
    fn scalars_resolve_like_the_api_servers_decoder() {
        let node = one("a: yes\nb: off\nc: 0x1F\nd: 012\ne: 1e3\nf: '1'\ng: ~\nh: 1_000\nj: 1.5.1\nk: y\nl: 9223372036854775808\nm: -9223372036854775808\nday: 2001-12-14\nnine: 08\n");
        let get = |key: &str| node.get(key).unwrap().value.clone();
        assert_eq!(get("a"), Value::Bool(true));
        assert_eq!(get("b"), Value::Bool(false));
        assert_eq!(get("c"), Value::Int(31));
        assert_eq!(get("d"), Value::Int(10));
        assert_eq!(get("e"), Value::Float(1000.0));
        assert_eq!(get("f"), Value::Str("1".into()));
        assert_eq!(get("g"), Value::Null);
        assert_eq!(get("h"), Value::Int(1000));
        assert_eq!(get("j"), Value::Str("1.5.1".into()));
        assert_eq!(get("k"), Value::Bool(true));
        assert_eq!(get("l"), Value::Float(9223372036854775808.0));
        assert_eq!(get("m"), Value::Int(i64::MIN));
        assert_eq!(get("day"), Value::Str("2001-12-14".into()));
        assert_eq!(get("nine"), Value::Float(8.0));
    }

    #[test]
    fn tags_follow_go_yaml() {
        let node = one("a: !!str yes\nb: !!int '7'\nc: !custom 5\nd: !!float 2\ne: !!binary aGVsbG8=\n");
        assert_eq!(node.get("a").unwrap().as_str(), Some("yes"));
        assert_eq!(node.get("b").unwrap().as_i64(), Some(7));
        assert_eq!(node.get("c").unwrap().as_str(), Some("5"));
        assert_eq!(node.get("d").unwrap().value, Value::Float(2.0));
        assert_eq!(node.get("e").unwrap().as_str(), Some("hello"));
        let error = parse("a: !!int nope\n").remove(0).result.unwrap_err();
        assert_eq!(error.message, "cannot decode !!str `nope` as a !!int");
    }

    #[test]
    fn positions_are_one_based_and_absolute_in_the_file() {
        let documents = parse("a: 1\n---\n# note\nkind: Pod\nspec:\n  hostPID: true\n");
        assert_eq!(documents.len(), 2);
        let second = documents[1].result.as_ref().unwrap();
        assert_eq!(second.get("kind").unwrap().mark, Mark::new(4, 7));
        assert_eq!(second.pointer("/spec/hostPID").unwrap().mark, Mark::new(6, 12));
        assert_eq!(second.as_map().unwrap().entry("spec").unwrap().key_mark, Mark::new(5, 1));
    }

    #[test]
    fn documents_split_where_kubectl_splits_them() {
        let text = "a: |\n  ---\n  x\n---\nb: 2\n...\nignored: after the end marker\n--- # c\n# Source: empty.yaml\n---\n\n---\nc: 3\n--- {d: 4}\ne: 5\n";
        let documents = parse(text);
        assert_eq!(documents.len(), 5, "{documents:?}");
        assert_eq!(documents[0].result.as_ref().unwrap().get("a").unwrap().as_str(), Some("---\nx\n"));
        let second = documents[1].result.as_ref().unwrap();
        assert_eq!(second.get("b").unwrap().as_i64(), Some(2));
        assert!(second.get("ignored").is_none());
        assert_eq!(documents[2].result.as_ref().unwrap().get("c").unwrap().as_i64(), Some(3));
        let refused = documents[3].result.as_ref().unwrap_err();
        assert_eq!(refused.line, 14);
        assert!(refused.message.contains("not a document separator"), "{refused:?}");
        assert_eq!(documents[4].result.as_ref().unwrap().get("e").unwrap().as_i64(), Some(5));
    }

    #[test]
    fn a_block_scalar_at_the_very_end_of_the_input_is_read() {
        let node = one("a: |\n  x\n  y");
        assert_eq!(node.get("a").unwrap().as_str(), Some("x\ny\n"));
        assert_eq!(one("a: |-\n  x").get("a").unwrap().as_str(), Some("x"));
    }

    #[test]
    fn helm_style_empty_documents_are_skipped() {
        let documents = parse("---\n# Source: chart/templates/a.yaml\n---\napiVersion: v1\nkind: Pod\n");
        assert_eq!(documents.len(), 1);
        assert_eq!(documents[0].result.as_ref().unwrap().get("kind").unwrap().mark.line, 5);
    }

    #[test]
    fn go_yaml_indentation_leniency_is_accepted() {
        let node = one("spec:\n  containers:\n  - args: [\"\n      cd /src &&\n      go build .\n    \"]\n    name: x\n");
        let args = node.pointer("/spec/containers/0/args/0").unwrap();
        assert_eq!(args.as_str(), Some(" cd /src && go build . "));
        let node = one("a:\n  args: [\n  x, y\n  ]\n  b: 1\n");
        assert_eq!(node.pointer("/a/b").unwrap().as_i64(), Some(1));
    }

    #[test]
    fn a_broken_document_does_not_hide_the_next_one() {
        let documents = parse("a: [1, 2\n---\nb: 2\n");
        let error = documents[0].result.as_ref().unwrap_err();
        assert_eq!(error.line, 2, "{error:?}");
        assert_eq!(documents[1].result.as_ref().unwrap().get("b").unwrap().as_i64(), Some(2));
    }

    #[test]
    fn merge_keys_apply_in_place_as_in_go_yaml() {
        let node = one("base: &b {a: 1, b: 2}\nthing:\n  <<: *b\n  b: 3\nbefore:\n  a: 0\n  <<: [*b, {a: 9, c: 4}]\n");
        let thing = node.get("thing").unwrap();
        assert_eq!(thing.get("a").unwrap().as_i64(), Some(1));
        assert_eq!(thing.get("b").unwrap().as_i64(), Some(3));
        assert!(thing.get("<<").is_none());
        // A merge overrides keys written before it; earlier sources of a list win.
        let before = node.get("before").unwrap();
        assert_eq!(before.get("a").unwrap().as_i64(), Some(1));
        assert_eq!(before.get("c").unwrap().as_i64(), Some(4));
        assert!(parse("a:\n  <<: 3\n").remove(0).result.unwrap_err().message.contains("map merge requires"));
        // YAML 1.1 keys: `y` and `on` are booleans to the API server's decoder.
        let keys = one("y: 1\noff: 2\n1.5: 3\n1e6: 4\n");
        assert_eq!(keys.as_map().unwrap().iter().map(|(k, _)| k).collect::<Vec<_>>(), ["true", "false", "1.5", "1e+06"]);
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_and_are_recorded() {
        let mut documents = parse("a: 1\nspec:\n  list:\n  - x: 1\n    x: 2\nb: 2\na: 3\n");
        let document = documents.remove(0);
        let node = document.result.unwrap();
        assert_eq!(node.get("a").unwrap().as_i64(), Some(3));
        assert_eq!(node.pointer("/spec/list/0/x").unwrap().as_i64(), Some(2));
        let found: Vec<_> = document.duplicates.iter().map(|d| (&*d.pointer, d.first.line, d.second.line)).collect();
        assert_eq!(found, [("/spec/list/0/x", 4, 5), ("/a", 1, 7)]);
        // Keys a merge filled in are not duplicates; keys written twice around a merge are.
        let document = parse("m: &m {a: 1}\nwritten:\n  a: 0\n  <<: *m\n  a: 2\nmerged:\n  <<: *m\n  a: 5\n").remove(0);
        let found: Vec<_> = document.duplicates.iter().map(|d| (&*d.pointer, d.first.line, d.second.line)).collect();
        assert_eq!(found, [("/written/a", 3, 5)]);
        // Palisade's own configuration files stay strict.
        let error = parse_documents("a: 1\na: 2\n", &Limits::default()).remove(0).result.unwrap_err();
        assert_eq!((error.line, error.message.as_str()), (2, "duplicate key `a` (first at line 1)"));
    }

    #[test]
    fn values_without_a_json_form_are_refused() {
        assert!(parse("a: .inf\n").remove(0).result.unwrap_err().message.contains("not a number JSON can hold"));
        assert!(parse("~: 1\n").remove(0).result.unwrap_err().message.contains("null mapping key"));
        assert_eq!(one(".inf: 1\n").as_map().unwrap().iter().next().unwrap().0, ".inf");
    }

    #[test]
    fn huge_mappings_are_read_in_linear_time() {
        // Quadratic key handling would take minutes here.
        let mut text: String = (0..100_000).map(|i| format!("k{i}: {i}\n")).collect();
        text.push_str("k7: last\n");
        let document = parse(&text).remove(0);
        let node = document.result.unwrap();
        assert_eq!(node.as_map().unwrap().len(), 100_000);
        assert_eq!(node.get("k7").unwrap().as_str(), Some("last"));
        assert_eq!(document.duplicates.len(), 1);
        let merged = format!("<<: {{a: 1}}\n{text}");
        assert_eq!(parse(&merged).remove(0).duplicates.len(), 1);
    }

    #[test]
    fn alias_bombs_stop_at_the_node_budget() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..12 {
            let previous = format!("*a{}", level - 1);
            let items = [previous.as_str(); 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
        }
        let error = parse(&text).remove(0).result.unwrap_err();
        assert!(error.message.contains("alias bomb"), "{error:?}");
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        for text in ["[".repeat(200_000), "{a: ".repeat(100_000), (0..300).map(|i| format!("{}k:\n", " ".repeat(i))).collect()] {
            let error = parse(&text).remove(0).result.unwrap_err();
            assert!(error.message.contains("nesting deeper than 200"), "{error:?}");
        }
    }

    #[test]
    fn json_parses_with_positions() {
        let node = one("{\n  \"kind\": \"Pod\",\n\t\"spec\": {\"hostPID\": true, \"n\": 1.5}\n}\n");
        assert_eq!(node.pointer("/spec/hostPID").unwrap().as_bool(), Some(true));
        assert_eq!(node.pointer("/spec/hostPID").unwrap().mark.line, 3);
        assert_eq!(node.pointer("/spec/n").unwrap().value, Value::Float(1.5));
    }

    #[test]
    fn oversized_documents_are_refused_before_parsing() {
        let limits = Limits { max_document_bytes: 10, ..Limits::default() };
        let documents: Vec<_> = split_documents("a: 1\n---\nb: 0123456789\n").into_iter().map(|c| parse_chunk(c, &limits)).collect();
        assert!(documents[0].result.is_ok());
        let error = documents[1].result.as_ref().unwrap_err();
        assert_eq!(error.line, 3);
        assert!(error.message.contains("limit of 10 bytes"));
    }

    #[test]
    fn go_float_keys_format_like_go() {
        for (number, text) in [(1.5, "1.5"), (1e6, "1e+06"), (100000.0, "100000"), (0.0001, "0.0001"), (0.00001, "1e-05"), (-2.0, "-2"), (0.1, "0.1")] {
            assert_eq!(go_float32_text(number), text);
        }
    }

    #[test]
    fn base64_follows_go() {
        assert_eq!(&*decode_base64("aGVsbG8=").unwrap(), "hello");
        assert_eq!(&*decode_base64("aGVs\nbG8h").unwrap(), "hello!");
        assert!(decode_base64("aGVsbG8").is_err());
        assert!(decode_base64("a=bc").is_err());
    }
}
