//! YAML (and JSON, which YAML includes) into positioned [`Node`] trees, with hard limits.
//!
//! Built on saphyr-parser's event stream rather than a ready-made loader so that nesting depth,
//! alias expansion and document size are bounded before they cost memory, and so every node and
//! key keeps its position. Plain scalars are resolved as Kubernetes' own decoder
//! (sigs.k8s.io/yaml over go-yaml v2, YAML 1.1 rules) resolves them: `yes`, `on` and `y` are
//! booleans there, and a scanner that read them as strings would disagree with the API server.

use std::collections::HashMap;

use palisade_core::{Map, Mark, Node, Value};
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

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
}

/// The source text of one document, cut out of a stream at its `---` / `...` markers.
#[derive(Clone, Copy, Debug)]
pub struct Chunk<'a> {
    pub index: u32,
    /// Lines before this chunk in the file, added to every position the parser reports.
    pub line_offset: u32,
    pub text: &'a str,
}

/// Cuts a stream into documents at lines that start with a `---` or `...` marker. YAML forbids
/// those markers inside any scalar at the start of a line, so the cut is exact; it lets one
/// broken document be reported while the others are still scanned, and lets the documents of a
/// large file be parsed in parallel. Chunks without content (comments, blank lines) are dropped.
pub fn split_documents(text: &str) -> Vec<Chunk<'_>> {
    let mut chunks = Vec::new();
    let mut start = 0usize;
    let mut start_line = 0u32;
    let mut has_content = false;
    let mut offset = 0usize;
    let mut line = 0u32;
    let mut push = |from: usize, to: usize, first_line: u32, has_content: bool| {
        if has_content {
            let index = chunks.len() as u32;
            chunks.push(Chunk { index, line_offset: first_line, text: &text[from..to] });
        }
    };
    for raw in text.split_inclusive('\n') {
        let bytes = raw.as_bytes();
        if is_marker(bytes, b"---") && has_content {
            push(start, offset, start_line, has_content);
            start = offset;
            start_line = line;
            has_content = false;
        }
        let end_marker = is_marker(bytes, b"...");
        if !end_marker && !is_blank_or_comment(bytes) && bytes[0] != b'%' && !is_marker(bytes, b"---") {
            has_content = true;
        } else if is_marker(bytes, b"---") && has_document_on_marker_line(bytes) {
            has_content = true;
        }
        offset += raw.len();
        line += 1;
        if end_marker {
            push(start, offset, start_line, has_content);
            start = offset;
            start_line = line;
            has_content = false;
        }
    }
    push(start, text.len(), start_line, has_content);
    chunks
}

fn is_marker(line: &[u8], marker: &[u8]) -> bool {
    line.starts_with(marker) && line.get(3).is_none_or(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
}

/// `--- {a: 1}` or `--- !tag` holds (or starts) a document on the marker line itself.
fn has_document_on_marker_line(line: &[u8]) -> bool {
    let rest = line[3..].trim_ascii();
    !rest.is_empty() && rest[0] != b'#'
}

fn is_blank_or_comment(line: &[u8]) -> bool {
    let trimmed = line.trim_ascii_start();
    trimmed.is_empty() || trimmed[0] == b'#'
}

/// Parses every document of `text`, one result per document that has content.
pub fn parse_documents(text: &str, limits: &Limits) -> Vec<Document> {
    split_documents(text).into_iter().map(|chunk| parse_chunk(chunk, limits)).collect()
}

/// Parses one chunk (see [`split_documents`]) into its document.
pub fn parse_chunk(chunk: Chunk<'_>, limits: &Limits) -> Document {
    let result = if chunk.text.len() > limits.max_document_bytes {
        Err(YamlError {
            line: chunk.line_offset + 1,
            column: 1,
            message: format!(
                "document is {} bytes, more than the limit of {} bytes",
                chunk.text.len(),
                limits.max_document_bytes
            ),
        })
    } else {
        Builder::new(chunk.line_offset, limits).run(chunk.text)
    };
    Document { index: chunk.index, result }
}

enum Frame {
    Seq { items: Vec<Node>, mark: Mark, anchor: usize, nodes: usize },
    Map {
        map: Map,
        mark: Mark,
        anchor: usize,
        nodes: usize,
        key: Option<(Box<str>, Mark)>,
        merges: Vec<Node>,
    },
}

struct Builder<'l> {
    line_offset: u32,
    limits: &'l Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    nodes: usize,
    root: Option<Node>,
}

impl<'l> Builder<'l> {
    fn new(line_offset: u32, limits: &'l Limits) -> Self {
        Self { line_offset, limits, stack: Vec::new(), anchors: HashMap::new(), nodes: 0, root: None }
    }

    fn mark(&self, span: &Span) -> Mark {
        Mark::new(
            self.line_offset.saturating_add(span.start.line() as u32),
            span.start.col() as u32 + 1,
        )
    }

    fn error(&self, span: &Span, message: impl Into<String>) -> YamlError {
        let mark = self.mark(span);
        YamlError { line: mark.line, column: mark.column, message: message.into() }
    }

    fn run(mut self, text: &str) -> Result<Node, YamlError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut parser = Parser::new_from_str(text);
        let mut documents = 0;
        while let Some(event) = parser.next_event() {
            let (event, span) = event.map_err(|error| {
                let marker = error.marker();
                YamlError {
                    line: self.line_offset.saturating_add(marker.line() as u32),
                    column: marker.col() as u32 + 1,
                    message: error.info().to_owned(),
                }
            })?;
            match event {
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        return Err(self.error(&span, "a second document without a `---` line"));
                    }
                }
                Event::Scalar(text, style, anchor, tag) => {
                    let mark = self.mark(&span);
                    let value = resolve_scalar(&text, style, tag.as_deref());
                    let is_merge_key = style == ScalarStyle::Plain && text == "<<";
                    self.push_node(Node::new(value, mark), anchor, 1, is_merge_key, &span)?;
                }
                Event::SequenceStart(anchor, _) => {
                    self.open(&span)?;
                    let mark = self.mark(&span);
                    self.stack.push(Frame::Seq { items: Vec::new(), mark, anchor, nodes: 1 });
                }
                Event::MappingStart(anchor, _) => {
                    self.open(&span)?;
                    let mark = self.mark(&span);
                    self.stack.push(Frame::Map {
                        map: Map::new(),
                        mark,
                        anchor,
                        nodes: 1,
                        key: None,
                        merges: Vec::new(),
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let (node, anchor, nodes) = match self.stack.pop() {
                        Some(Frame::Seq { items, mark, anchor, nodes }) => {
                            (Node::new(Value::Seq(items), mark), anchor, nodes)
                        }
                        Some(Frame::Map { mut map, mark, anchor, nodes, merges, .. }) => {
                            apply_merges(&mut map, merges);
                            (Node::new(Value::Map(map), mark), anchor, nodes)
                        }
                        None => return Err(self.error(&span, "unbalanced collection end")),
                    };
                    self.place(node, anchor, nodes, false)?;
                }
                Event::Alias(id) => {
                    let Some((node, nodes)) = self.anchors.get(&id).cloned() else {
                        return Err(self.error(&span, "alias to an unknown anchor"));
                    };
                    self.charge(nodes, &span)?;
                    self.place(node, 0, nodes, false)?;
                }
                Event::StreamEnd => break,
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            }
        }
        Ok(self.root.unwrap_or_else(Node::null))
    }

    fn open(&mut self, span: &Span) -> Result<(), YamlError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(self.error(
                span,
                format!("nesting deeper than {} levels", self.limits.max_depth),
            ));
        }
        self.charge(1, span)
    }

    fn charge(&mut self, nodes: usize, span: &Span) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > self.limits.max_nodes {
            return Err(self.error(
                span,
                format!(
                    "document expands to more than {} nodes (alias bomb?)",
                    self.limits.max_nodes
                ),
            ));
        }
        Ok(())
    }

    fn push_node(
        &mut self,
        node: Node,
        anchor: usize,
        nodes: usize,
        is_merge_key: bool,
        span: &Span,
    ) -> Result<(), YamlError> {
        self.charge(nodes, span)?;
        self.place(node, anchor, nodes, is_merge_key)
    }

    /// Puts a finished node into its parent (or makes it the root), remembering anchors.
    fn place(
        &mut self,
        node: Node,
        anchor: usize,
        nodes: usize,
        is_merge_key: bool,
    ) -> Result<(), YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), nodes));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, nodes: total, .. }) => {
                *total += nodes;
                items.push(node);
            }
            Some(Frame::Map { map, key, merges, nodes: total, .. }) => {
                *total += nodes;
                match key.take() {
                    None if is_merge_key => *key = Some(("<<".into(), node.mark)),
                    None => *key = Some((key_text(&node).ok_or_else(|| {
                        YamlError {
                            line: node.mark.line,
                            column: node.mark.column,
                            message: "mapping keys must be scalars".to_owned(),
                        }
                    })?, node.mark)),
                    Some((name, key_mark)) => {
                        if &*name == "<<" && is_merge_source(&node) {
                            merges.push(node);
                        } else if map.insert(name.clone(), key_mark, node).is_some() {
                            return Err(YamlError {
                                line: key_mark.line,
                                column: key_mark.column,
                                message: format!(
                                    "duplicate key `{name}` (the API server rejects or silently \
                                     drops one of them)"
                                ),
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn is_merge_source(node: &Node) -> bool {
    match &node.value {
        Value::Map(_) => true,
        Value::Seq(items) => items.iter().all(|item| item.as_map().is_some()),
        _ => false,
    }
}

/// Applies `<<` merge keys: keys written in the mapping win, then earlier merge sources.
fn apply_merges(map: &mut Map, merges: Vec<Node>) {
    for source in merges {
        let sources = match source.value {
            Value::Map(merged) => vec![merged],
            Value::Seq(items) => items
                .into_iter()
                .filter_map(|item| match item.value {
                    Value::Map(merged) => Some(merged),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for merged in sources {
            for entry in merged.entries() {
                if map.get(&entry.key).is_none() {
                    map.insert(entry.key.clone(), entry.key_mark, entry.value.clone());
                }
            }
        }
    }
}

/// The JSON key a scalar key becomes: sigs.k8s.io/yaml formats non-string keys as text.
fn key_text(node: &Node) -> Option<Box<str>> {
    Some(match &node.value {
        Value::Str(text) => text.clone(),
        Value::Bool(flag) => flag.to_string().into(),
        Value::Int(number) => number.to_string().into(),
        Value::Float(number) => number.to_string().into(),
        Value::Null => "null".into(),
        Value::Seq(_) | Value::Map(_) => return None,
    })
}

fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(tag) = tag.filter(|tag| tag.is_yaml_core_schema()) {
        return match tag.suffix.as_str() {
            "str" | "binary" | "timestamp" => Value::Str(text.into()),
            "null" => Value::Null,
            "bool" => resolve_plain(text).filter(|v| matches!(v, Value::Bool(_))).unwrap_or_else(|| Value::Str(text.into())),
            "int" | "float" => resolve_plain(text)
                .filter(|v| matches!(v, Value::Int(_) | Value::Float(_)))
                .unwrap_or_else(|| Value::Str(text.into())),
            _ => resolve_plain(text).unwrap_or_else(|| Value::Str(text.into())),
        };
    }
    if style != ScalarStyle::Plain {
        return Value::Str(text.into());
    }
    resolve_plain(text).unwrap_or_else(|| Value::Str(text.into()))
}

/// YAML 1.1 resolution of a plain scalar as go-yaml v2 does it; `None` means "a string".
fn resolve_plain(text: &str) -> Option<Value> {
    let first = *text.as_bytes().first().unwrap_or(&b'~');
    if !matches!(first, b'0'..=b'9' | b'-' | b'+' | b'.' | b'~' | b'n' | b'N' | b'y' | b'Y' | b't' | b'T' | b'f' | b'F' | b'o' | b'O') {
        return None;
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Some(Value::Bool(true));
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Some(Value::Bool(false));
        }
        ".nan" | ".NaN" | ".NAN" => return Some(Value::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Some(Value::Float(f64::INFINITY));
        }
        "-.inf" | "-.Inf" | "-.INF" => return Some(Value::Float(f64::NEG_INFINITY)),
        _ => {}
    }
    if !matches!(first, b'0'..=b'9' | b'-' | b'+' | b'.') {
        return None;
    }
    let plain: std::borrow::Cow<'_, str> =
        if text.contains('_') { text.replace('_', "").into() } else { text.into() };
    if let Some(number) = parse_go_int(&plain) {
        return Some(Value::Int(number));
    }
    if is_yaml_float(&plain) {
        return plain.parse::<f64>().ok().map(Value::Float);
    }
    None
}

/// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, then `0x`, `0o`, `0b`, a leading `0` for
/// octal, or decimal.
fn parse_go_int(text: &str) -> Option<i64> {
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
        (magnitude <= i64::MAX as u64 + 1).then(|| (magnitude as i64).wrapping_neg())
    } else {
        i64::try_from(magnitude).ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Result<Node, YamlError>> {
        parse_documents(text, &Limits::default()).into_iter().map(|d| d.result).collect()
    }

    fn one(text: &str) -> Node {
        let mut documents = parse(text);
        assert_eq!(documents.len(), 1, "{documents:?}");
        documents.remove(0).unwrap()
    }

    #[test]
    fn scalars_resolve_like_the_api_servers_decoder() {
        let node = one("a: yes\nb: off\nc: 0x1F\nd: 012\ne: 1e3\nf: '1'\ng: ~\nh: 1_000\ni: -.inf\nj: 1.5.1\nk: y\nl: 9223372036854775808\nm: -9223372036854775808\n");
        let get = |key: &str| node.get(key).unwrap().value.clone();
        assert_eq!(get("a"), Value::Bool(true));
        assert_eq!(get("b"), Value::Bool(false));
        assert_eq!(get("c"), Value::Int(31));
        assert_eq!(get("d"), Value::Int(10));
        assert_eq!(get("e"), Value::Float(1000.0));
        assert_eq!(get("f"), Value::Str("1".into()));
        assert_eq!(get("g"), Value::Null);
        assert_eq!(get("h"), Value::Int(1000));
        assert_eq!(get("i"), Value::Float(f64::NEG_INFINITY));
        assert_eq!(get("j"), Value::Str("1.5.1".into()));
        assert_eq!(get("k"), Value::Bool(true));
        assert_eq!(get("l"), Value::Float(9223372036854775808.0));
        assert_eq!(get("m"), Value::Int(i64::MIN));
    }

    #[test]
    fn tags_override_resolution() {
        let node = one("a: !!str yes\nb: !!int '7'\nc: !custom 5\n");
        assert_eq!(node.get("a").unwrap().as_str(), Some("yes"));
        assert_eq!(node.get("b").unwrap().as_i64(), Some(7));
        assert_eq!(node.get("c").unwrap().as_i64(), Some(5));
    }

    #[test]
    fn positions_are_one_based_and_absolute_in_the_file() {
        let documents = parse("a: 1\n---\n# note\nkind: Pod\nspec:\n  hostPID: true\n");
        assert_eq!(documents.len(), 2);
        let second = documents[1].as_ref().unwrap();
        assert_eq!(second.get("kind").unwrap().mark, Mark::new(4, 7));
        assert_eq!(second.pointer("/spec/hostPID").unwrap().mark, Mark::new(6, 12));
        assert_eq!(second.as_map().unwrap().entry("spec").unwrap().key_mark, Mark::new(5, 1));
    }

    #[test]
    fn documents_split_at_markers_only_at_line_start() {
        let text = "a: |\n  ---\n  x\n---\nb: 2\n...\n%YAML 1.2\n---\nc: 3\n--- {d: 4}\n---\n# only a comment\n";
        let chunks = split_documents(text);
        assert_eq!(chunks.len(), 4, "{chunks:?}");
        let documents = parse(text);
        assert_eq!(documents[0].as_ref().unwrap().get("a").unwrap().as_str(), Some("---\nx\n"));
        assert_eq!(documents[2].as_ref().unwrap().get("c").unwrap().as_i64(), Some(3));
        assert_eq!(documents[3].as_ref().unwrap().get("d").unwrap().as_i64(), Some(4));
    }

    #[test]
    fn a_broken_document_does_not_hide_the_next_one() {
        let documents = parse("a: [1, 2\n---\nb: 2\n");
        let error = documents[0].as_ref().unwrap_err();
        assert_eq!(error.line, 2, "{error:?}");
        assert_eq!(documents[1].as_ref().unwrap().get("b").unwrap().as_i64(), Some(2));
    }

    #[test]
    fn merge_keys_fill_missing_keys_only() {
        let node = one("base: &b {a: 1, b: 2}\nthing:\n  <<: *b\n  b: 3\n");
        let thing = node.get("thing").unwrap();
        assert_eq!(thing.get("a").unwrap().as_i64(), Some(1));
        assert_eq!(thing.get("b").unwrap().as_i64(), Some(3));
        assert!(thing.get("<<").is_none());
        // YAML 1.1 keys: `y` and `on` are booleans to the API server's decoder.
        let keys = one("y: 1\noff: 2\n");
        assert_eq!(keys.as_map().unwrap().iter().map(|(k, _)| k).collect::<Vec<_>>(), ["true", "false"]);
    }

    #[test]
    fn duplicate_keys_are_errors_with_the_second_key_position() {
        let error = parse("a: 1\nb: 2\na: 3\n").remove(0).unwrap_err();
        assert_eq!((error.line, error.column), (3, 1));
        assert!(error.message.contains("duplicate key `a`"));
    }

    #[test]
    fn alias_bombs_stop_at_the_node_budget() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..12 {
            let previous = format!("*a{}", level - 1);
            let items = vec![previous.as_str(); 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
        }
        let error = parse(&text).remove(0).unwrap_err();
        assert!(error.message.contains("alias bomb"), "{error:?}");
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let depth = 200_000;
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        // Flow nesting trips the scanner's own bound (it reads ahead); block nesting ours.
        let error = parse(&text).remove(0).unwrap_err();
        assert!(error.message.contains("recursion limit exceeded"), "{error:?}");
        let block: String = (0..300).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert!(parse(&block).remove(0).unwrap_err().message.contains("nesting"));
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
        let documents = parse_documents("a: 1\n---\nb: 0123456789\n", &limits);
        assert!(documents[0].result.is_ok());
        let error = documents[1].result.as_ref().unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.message.contains("limit of 10 bytes"));
    }
}
