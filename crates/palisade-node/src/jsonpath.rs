//! client-go's `util/jsonpath` templates, as kube-bench evaluates a test item's `path` over the
//! decoded `audit_config` output: `{.authentication.anonymous.enabled}`,
//! `{range .tlsCipherSuites[:]}{}{','}{end}`, and whatever else a user control file writes.
//!
//! Parsing and evaluation follow client-go v0.35 (the version kube-bench pins) step by step:
//! actions in braces, text outside them; fields (escapes with `\`), `['quoted']` keys, `[n]`,
//! `[start:end:step]`, `[*]`, unions `[a,b]`, `..`, `*`, filters `[?(@.x == 'y')]`, string, number
//! and boolean literals, `@`/`$`, and `range`/`end` with client-go's own bookkeeping (an `end`
//! without `range` is an error, a `range` without `end` runs to the template's end). Missing keys
//! yield nothing (kube-bench sets `AllowMissingKeys`). Values print as client-go prints them:
//! strings raw, numbers and booleans as Go's `fmt` does, maps and lists as Go's `encoding/json`
//! (which refuses yaml.v2's `map[interface{}]interface{}`), null as `null`, several results of one
//! action joined by a space. Error texts are client-go's in spirit only: kube-bench never shows
//! them, a failed path just fails its test item.

use std::sync::LazyLock;

use regex::Regex;

use crate::goquote::push_json_string;

/// A decoded document as Go holds it in an `interface{}`: what `encoding/json` or yaml.v2
/// produce.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    /// yaml.v2's `int`.
    Int(i64),
    /// yaml.v2's `uint64`, for integers above `i64::MAX`.
    Uint(u64),
    /// `encoding/json` numbers and yaml.v2 floats.
    Float(f64),
    Str(String),
    List(Vec<Value>),
    /// `encoding/json`'s `map[string]interface{}`, keys unique, in document order.
    Object(Vec<(String, Value)>),
    /// yaml.v2's `map[interface{}]interface{}`, keys unique, in document order.
    YamlMap(Vec<(Value, Value)>),
}

/// A parsed template.
#[derive(Clone, Debug)]
pub(crate) struct Template {
    nodes: Vec<Node>,
}

#[derive(Clone, Debug)]
enum Node {
    List(Vec<Node>),
    Text(String),
    Field(String),
    Identifier(String),
    Array([Param; 3]),
    Filter {
        left: Vec<Node>,
        right: Vec<Node>,
        operator: String,
    },
    Int(i64),
    Float(f64),
    Bool(bool),
    Wildcard,
    Recursive,
    Union(Vec<Vec<Node>>),
}

#[derive(Clone, Copy, Debug, Default)]
struct Param {
    value: i64,
    known: bool,
    /// `[n]` is read as `[n:n+1]`; such an end wraps around with a negative `n`.
    derived: bool,
}

/// Parses `text` as client-go's `jsonpath.Parse` does.
pub(crate) fn parse(text: &str) -> Result<Template, String> {
    let mut parser = Parser {
        input: text,
        pos: 0,
        start: 0,
        width: 0,
    };
    let mut nodes = Vec::new();
    parser.parse_text(&mut nodes)?;
    Ok(Template { nodes })
}

impl Template {
    /// Executes the template on `data` (passed, as kube-bench does, behind a pointer) and
    /// renders the results.
    pub(crate) fn execute(&self, data: &Value) -> Result<String, String> {
        let mut run = Run {
            nodes: &self.nodes,
            begin_range: 0,
            in_range: 0,
            end_range: 0,
            last_end: None,
        };
        let results = run.find_results(0, Item::Root(data))?;
        let mut out = String::new();
        for list in &results {
            for (index, item) in list.iter().enumerate() {
                render(&mut out, item)?;
                if index + 1 < list.len() {
                    out.push(' ');
                }
            }
        }
        Ok(out)
    }
}

struct Parser<'t> {
    input: &'t str,
    pos: usize,
    start: usize,
    width: usize,
}

static SLICE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(-?[0-9]*)(:-?[0-9]*)?(:-?[0-9]*)?$").unwrap());
static COMPARISON: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([^!<>=]+)([!<>=]+)(.+?)$").unwrap());

impl<'t> Parser<'t> {
    fn rest(&self) -> &'t str {
        &self.input[self.pos..]
    }

    fn next(&mut self) -> Option<char> {
        let c = self.rest().chars().next();
        self.width = c.map_or(0, char::len_utf8);
        self.pos += self.width;
        c
    }

    fn backup(&mut self) {
        self.pos -= self.width;
    }

    fn peek(&mut self) -> Option<char> {
        self.rest().chars().next()
    }

    fn consume(&mut self) -> &'t str {
        let text = &self.input[self.start..self.pos];
        self.start = self.pos;
        text
    }

    /// The byte two before the current position: the one before a just-read quote.
    fn escaped(&self) -> bool {
        self.pos >= 2 && self.input.as_bytes()[self.pos - 2] == b'\\'
    }

    fn parse_text(&mut self, root: &mut Vec<Node>) -> Result<(), String> {
        loop {
            if self.rest().starts_with('{') {
                if self.pos > self.start {
                    root.push(Node::Text(self.consume().to_owned()));
                }
                self.pos += 1;
                self.consume();
                let mut action = Vec::new();
                self.parse_inside_action(&mut action)?;
                root.push(Node::List(action));
                continue;
            }
            if self.next().is_none() {
                break;
            }
        }
        if self.pos > self.start {
            root.push(Node::Text(self.consume().to_owned()));
        }
        Ok(())
    }

    /// Reads an action up to and including its `}`.
    fn parse_inside_action(&mut self, cur: &mut Vec<Node>) -> Result<(), String> {
        loop {
            let rest = self.rest();
            if rest.starts_with('}') {
                self.pos += 1;
                self.consume();
                return Ok(());
            }
            if rest.starts_with("[?(") {
                self.parse_filter(cur)?;
                continue;
            }
            if rest.starts_with("..") {
                self.parse_recursive(cur)?;
                continue;
            }
            match self.next() {
                None | Some('\r' | '\n') => return Err("unclosed action".into()),
                Some(' ' | '@' | '$') => {
                    self.consume();
                }
                Some('[') => self.parse_array(cur)?,
                Some(quote @ ('"' | '\'')) => self.parse_quote(cur, quote)?,
                Some('.') => self.parse_field(cur),
                Some(c) if c == '+' || c == '-' || is_digit(c) => {
                    self.backup();
                    self.parse_number(cur)?;
                }
                Some(c) if is_alphanumeric(c) => {
                    self.backup();
                    self.parse_identifier(cur);
                }
                Some(c) => return Err(format!("unrecognized character in action: {c:?}")),
            }
        }
    }

    fn parse_identifier(&mut self, cur: &mut Vec<Node>) {
        while !is_terminator(self.next()) {}
        self.backup();
        let value = self.consume();
        cur.push(match value {
            "true" => Node::Bool(true),
            "false" => Node::Bool(false),
            _ => Node::Identifier(value.to_owned()),
        });
    }

    fn parse_recursive(&mut self, cur: &mut Vec<Node>) -> Result<(), String> {
        if matches!(cur.last(), Some(Node::Recursive)) {
            return Err("invalid multiple recursive descent".into());
        }
        self.pos += 2;
        self.consume();
        cur.push(Node::Recursive);
        if self.peek().is_some_and(is_alphanumeric) {
            self.parse_field(cur);
        }
        Ok(())
    }

    fn parse_number(&mut self, cur: &mut Vec<Node>) -> Result<(), String> {
        if matches!(self.peek(), Some('+' | '-')) {
            self.next();
        }
        loop {
            match self.next() {
                Some(c) if c == '.' || is_digit(c) => {}
                _ => {
                    self.backup();
                    break;
                }
            }
        }
        let value = self.consume();
        if let Ok(number) = value.parse::<i64>() {
            cur.push(Node::Int(number));
        } else if let Some(number) = parse_go_float(value) {
            cur.push(Node::Float(number));
        } else {
            return Err(format!("cannot parse number {value}"));
        }
        Ok(())
    }

    fn parse_array(&mut self, cur: &mut Vec<Node>) -> Result<(), String> {
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated array".into()),
                Some(']') => break,
                Some(_) => {}
            }
        }
        let text = self.consume();
        let mut text = &text[1..text.len() - 1];
        if text == "*" {
            text = ":";
        }
        if text.contains(',') {
            let union = text
                .split(',')
                .map(|part| parse_action(&format!("[{}]", part.trim_matches(' '))))
                .collect::<Result<_, _>>()?;
            cur.push(Node::Union(union));
            return Ok(());
        }
        if let Some(key) = text
            .strip_prefix('\'')
            .and_then(|key| key.strip_suffix('\''))
            .filter(|key| !key.contains('\''))
        {
            cur.extend(parse_action(&format!(".{key}"))?);
            return Ok(());
        }
        let captures = SLICE
            .captures(text)
            .ok_or_else(|| format!("invalid array index {text}"))?;
        let mut params = [Param::default(); 3];
        for index in 0..3 {
            let part = captures.get(index + 1).map_or("", |found| found.as_str());
            if part.is_empty() {
                if index == 1 {
                    params[1] = Param {
                        value: params[0].value + 1,
                        known: true,
                        derived: true,
                    };
                }
                continue;
            }
            let number = if index > 0 { &part[1..] } else { part };
            if number.is_empty() {
                continue;
            }
            let value = number
                .parse()
                .map_err(|_| format!("array index {number} is not a number"))?;
            params[index] = Param {
                value,
                known: true,
                derived: false,
            };
        }
        cur.push(Node::Array(params));
        Ok(())
    }

    fn parse_filter(&mut self, cur: &mut Vec<Node>) -> Result<(), String> {
        self.pos += 3;
        self.consume();
        let (mut begin, mut end, mut pair) = (false, false, '"');
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated filter".into()),
                Some(quote @ ('"' | '\'')) => {
                    if !begin {
                        begin = true;
                        pair = quote;
                    } else if !self.escaped() && quote == pair {
                        end = true;
                    }
                }
                Some(')') if begin == end => break,
                Some(_) => {}
            }
        }
        if self.next() != Some(']') {
            return Err("unclosed array expect ]".into());
        }
        let text = self.consume();
        let text = &text[..text.len() - 2];
        cur.push(match COMPARISON.captures(text) {
            None => Node::Filter {
                left: parse_action(text)?,
                right: Vec::new(),
                operator: "exists".into(),
            },
            Some(parts) => Node::Filter {
                left: parse_action(&parts[1])?,
                right: parse_action(&parts[3])?,
                operator: parts[2].to_owned(),
            },
        });
        Ok(())
    }

    fn parse_quote(&mut self, cur: &mut Vec<Node>, quote: char) -> Result<(), String> {
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated quoted string".into()),
                Some(c) if c == quote && !self.escaped() => break,
                Some(_) => {}
            }
        }
        let value = self.consume();
        let text = unquote(&value[1..value.len() - 1], quote as u8)
            .ok_or_else(|| format!("unquote string {value} error invalid syntax"))?;
        cur.push(Node::Text(text));
        Ok(())
    }

    fn parse_field(&mut self, cur: &mut Vec<Node>) {
        self.consume();
        loop {
            match self.next() {
                Some('\\') => {
                    self.next();
                }
                c if is_terminator(c) => {
                    self.backup();
                    break;
                }
                _ => {}
            }
        }
        let value = self.consume();
        cur.push(if value == "*" {
            Node::Wildcard
        } else {
            Node::Field(value.replace('\\', ""))
        });
    }
}

/// client-go's `parseAction`: `text` parsed as the inside of one action.
fn parse_action(text: &str) -> Result<Vec<Node>, String> {
    let template = parse(&format!("{{{text}}}"))?;
    match template.nodes.into_iter().next() {
        Some(Node::List(nodes)) => Ok(nodes),
        _ => Err(format!("invalid action {text}")),
    }
}

fn is_terminator(c: Option<char>) -> bool {
    matches!(
        c,
        None | Some(' ' | '\t' | '\r' | '\n' | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}')
    )
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric())
}

fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphabetic() || is_digit(c)
}

/// Go's `strconv.ParseFloat(text, 64)` for the decimal forms a template or YAML can hold:
/// `None` where Go returns an error, out-of-range values included.
pub(crate) fn parse_go_float(text: &str) -> Option<f64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty()
        || !digits
            .bytes()
            .all(|byte| byte.is_ascii_digit() || matches!(byte, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    text.parse::<f64>().ok().filter(|number| number.is_finite())
}

/// Go's `strconv.UnquoteChar` applied to the inside of a quoted literal (client-go's
/// `UnquoteExtend`); bytes that are not UTF-8 (from `\x` escapes) become U+FFFD.
fn unquote(inner: &str, quote: u8) -> Option<String> {
    let mut bytes = Vec::with_capacity(inner.len());
    let mut rest = inner.as_bytes();
    while let Some(&first) = rest.first() {
        if first == quote {
            return None;
        }
        if first != b'\\' {
            bytes.push(first);
            rest = &rest[1..];
            continue;
        }
        let (&kind, tail) = rest.get(1..)?.split_first()?;
        rest = tail;
        let simple = match kind {
            b'a' => Some(7),
            b'b' => Some(8),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(11),
            b'\\' => Some(b'\\'),
            b'\'' | b'"' if kind == quote => Some(kind),
            _ => None,
        };
        if let Some(byte) = simple {
            bytes.push(byte);
            continue;
        }
        match kind {
            b'x' | b'u' | b'U' => {
                let length = match kind {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let hex = std::str::from_utf8(rest.get(..length)?).ok()?;
                if !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                    return None;
                }
                let value = u32::from_str_radix(hex, 16).ok()?;
                rest = &rest[length..];
                if kind == b'x' {
                    bytes.push(value as u8);
                } else {
                    let mut buffer = [0; 4];
                    bytes.extend_from_slice(
                        char::from_u32(value)?.encode_utf8(&mut buffer).as_bytes(),
                    );
                }
            }
            b'0'..=b'7' => {
                let digits = [kind, *rest.first()?, *rest.get(1)?];
                if !digits.iter().all(|digit| (b'0'..=b'7').contains(digit)) {
                    return None;
                }
                let value = digits
                    .iter()
                    .fold(0u32, |value, digit| value * 8 + u32::from(digit - b'0'));
                bytes.push(u8::try_from(value).ok()?);
                rest = &rest[2..];
            }
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// One value during evaluation, as client-go holds it in a `reflect.Value`.
#[derive(Clone, Copy, Debug)]
enum Item<'a> {
    /// The document, behind the pointer kube-bench passes.
    Root(&'a Value),
    /// A value taken out of a map or list.
    Elem(&'a Value),
    Text(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A byte of a string, which `*` and `..` enumerate.
    Byte(u8),
    /// An invalid `reflect.Value`: a null entered by `range`.
    Nil,
}

impl<'a> Item<'a> {
    /// `template.Indirect`: the value itself, `None` for a nil pointer or interface.
    fn indirect(self) -> Option<Item<'a>> {
        match self {
            Item::Root(Value::Null) | Item::Elem(Value::Null) => None,
            Item::Root(value) => Some(Item::Elem(value)),
            other => Some(other),
        }
    }

    /// What `range` passes on: `reflect.ValueOf(value.Interface())`.
    fn interface(self) -> Item<'a> {
        match self {
            Item::Elem(Value::Null) => Item::Nil,
            other => other,
        }
    }

    /// The entries `*` and `..` enumerate, for values that have any.
    fn children(self) -> Vec<Item<'a>> {
        match self {
            Item::Elem(Value::List(items)) => items.iter().map(Item::Elem).collect(),
            Item::Elem(Value::Object(entries)) => {
                entries.iter().map(|(_, value)| Item::Elem(value)).collect()
            }
            Item::Elem(Value::YamlMap(entries)) => {
                entries.iter().map(|(_, value)| Item::Elem(value)).collect()
            }
            Item::Elem(Value::Str(text)) => text.bytes().map(Item::Byte).collect(),
            Item::Text(text) => text.bytes().map(Item::Byte).collect(),
            _ => Vec::new(),
        }
    }
}

/// A failed walk: the error and what the step returned with it (a filter testing for existence
/// looks at the latter).
struct Failure<'a> {
    partial: Vec<Item<'a>>,
    message: String,
}

type Walked<'a> = Result<Vec<Item<'a>>, Failure<'a>>;

fn fail<'a>(partial: Vec<Item<'a>>, message: impl Into<String>) -> Walked<'a> {
    Err(Failure {
        partial,
        message: message.into(),
    })
}

/// client-go's `JSONPath` state while executing: `range` and `end` move these counters, and the
/// loop in [`Run::find_results`] reacts to them.
struct Run<'a> {
    nodes: &'a [Node],
    begin_range: usize,
    in_range: usize,
    end_range: usize,
    /// The index in `nodes` of the last `end` met.
    last_end: Option<usize>,
}

impl<'a> Run<'a> {
    fn find_results(&mut self, start: usize, data: Item<'a>) -> Result<Vec<Vec<Item<'a>>>, String> {
        let mut full = Vec::new();
        let mut index = start;
        while index < self.nodes.len() {
            let results = self
                .walk(vec![data], &self.nodes[index])
                .map_err(|failure| failure.message)?;
            if self.end_range > 0 && self.end_range <= self.in_range {
                self.end_range -= 1;
                self.last_end = Some(index);
                break;
            }
            if self.begin_range > 0 {
                self.begin_range -= 1;
                self.in_range += 1;
                if results.is_empty() {
                    // Still walks the body, so that its `end` is found.
                    self.find_results(index + 1, Item::Nil)?;
                } else {
                    for value in results {
                        full.extend(self.find_results(index + 1, value.interface())?);
                    }
                }
                self.in_range -= 1;
                if let Some(end) = self.last_end.filter(|&end| end > index) {
                    index = end;
                }
                index += 1;
                continue;
            }
            full.push(results);
            index += 1;
        }
        Ok(full)
    }

    fn walk(&mut self, input: Vec<Item<'a>>, node: &'a Node) -> Walked<'a> {
        match node {
            Node::List(nodes) => self.walk_list(input, nodes),
            Node::Text(text) => Ok(vec![Item::Text(text)]),
            Node::Field(name) => Ok(field(&input, name)),
            Node::Array(params) => array(input, params),
            Node::Filter {
                left,
                right,
                operator,
            } => self.filter(input, left, right, operator),
            Node::Int(number) => Ok(vec![Item::Int(*number); input.len()]),
            Node::Float(number) => Ok(vec![Item::Float(*number); input.len()]),
            Node::Bool(value) => Ok(vec![Item::Bool(*value); input.len()]),
            Node::Wildcard => Ok(input
                .into_iter()
                .filter_map(Item::indirect)
                .flat_map(Item::children)
                .collect()),
            Node::Recursive => Ok(recursive(input)),
            Node::Union(lists) => {
                let mut results = Vec::new();
                for list in lists {
                    match self.walk_list(input.clone(), list) {
                        Ok(found) => results.extend(found),
                        Err(failure) => return fail(input, failure.message),
                    }
                }
                Ok(results)
            }
            Node::Identifier(name) => match name.as_str() {
                "range" => {
                    self.begin_range += 1;
                    Ok(input)
                }
                "end" if self.in_range > 0 => {
                    self.end_range += 1;
                    Ok(Vec::new())
                }
                "end" => fail(Vec::new(), "not in range, nothing to end"),
                _ => fail(input, format!("unrecognized identifier {name}")),
            },
        }
    }

    fn walk_list(&mut self, input: Vec<Item<'a>>, nodes: &'a [Node]) -> Walked<'a> {
        nodes
            .iter()
            .try_fold(input, |current, node| self.walk(current, node))
    }

    fn filter(
        &mut self,
        input: Vec<Item<'a>>,
        left: &'a [Node],
        right: &'a [Node],
        operator: &str,
    ) -> Walked<'a> {
        let mut results = Vec::new();
        for value in &input {
            let Some(Item::Elem(Value::List(items))) = value.indirect() else {
                return fail(input, "value is not array or slice and cannot be filtered");
            };
            for item in items {
                let element = vec![Item::Elem(item)];
                let lefts = self.walk_list(element.clone(), left);
                if operator == "exists" {
                    if !lefts.unwrap_or_else(|failure| failure.partial).is_empty() {
                        results.push(Item::Elem(item));
                    }
                    continue;
                }
                let Some(left) = single(lefts, &input)? else {
                    continue;
                };
                let Some(right) = single(self.walk_list(element, right), &input)? else {
                    continue;
                };
                let pass = match operator {
                    "<" => less(left, right),
                    ">" => less_equal(left, right).map(|result| !result),
                    "==" => equal(left, right),
                    "!=" => equal(left, right).map(|result| !result),
                    "<=" => less_equal(left, right),
                    ">=" => less(left, right).map(|result| !result),
                    _ => Err(format!("unrecognized filter operator {operator}")),
                };
                match pass {
                    Ok(true) => results.push(Item::Elem(item)),
                    Ok(false) => {}
                    Err(message) => return fail(results, message),
                }
            }
        }
        Ok(results)
    }
}

/// The one value a filter side must yield: `None` for none, an error for several.
fn single<'a>(
    walked: Walked<'a>,
    input: &[Item<'a>],
) -> Result<Option<Comparable<'a>>, Failure<'a>> {
    let values = walked.map_err(|failure| Failure {
        partial: input.to_vec(),
        message: failure.message,
    })?;
    match values.as_slice() {
        [] => Ok(None),
        [value] => Ok(Some(comparable(*value))),
        _ => Err(Failure {
            partial: input.to_vec(),
            message: "can only compare one element at a time".into(),
        }),
    }
}

fn field<'a>(input: &[Item<'a>], name: &str) -> Vec<Item<'a>> {
    input
        .iter()
        .filter_map(|value| match value.indirect()? {
            Item::Elem(Value::Object(entries)) => entries
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, found)| Item::Elem(found)),
            Item::Elem(Value::YamlMap(entries)) => entries
                .iter()
                .find(|(key, _)| matches!(key, Value::Str(key) if key == name))
                .map(|(_, found)| Item::Elem(found)),
            _ => None,
        })
        .collect()
}

fn array<'a>(input: Vec<Item<'a>>, params: &[Param; 3]) -> Walked<'a> {
    let mut results = Vec::new();
    for value in &input {
        let items = match value.indirect() {
            None => continue,
            Some(Item::Elem(Value::List(items))) => items,
            Some(_) => return fail(input, "value is not array or slice"),
        };
        let length = items.len() as i64;
        let [mut first, mut last, step] = *params;
        if !first.known {
            first.value = 0;
        }
        if first.value < 0 {
            first.value += length;
        }
        if !last.known {
            last.value = length;
        }
        if last.value < 0 || (last.value == 0 && last.derived) {
            last.value += length;
        }
        if last.value == first.value {
            // client-go returns here, leaving any further input unvisited.
            return Ok(results);
        }
        if first.value >= length || first.value < 0 || last.value > length || last.value < 0 {
            return fail(input, "array index out of bounds");
        }
        if first.value > last.value {
            return fail(input, "starting index is greater than ending index");
        }
        let step = if step.known { step.value } else { 1 };
        if step <= 0 {
            return fail(input, "step must be > 0");
        }
        results.extend(
            items[first.value as usize..last.value as usize]
                .iter()
                .step_by(step as usize)
                .map(Item::Elem),
        );
    }
    Ok(results)
}

fn recursive(input: Vec<Item<'_>>) -> Vec<Item<'_>> {
    let mut results = Vec::new();
    for value in input.into_iter().filter_map(Item::indirect) {
        let children = value.children();
        if !children.is_empty() {
            results.push(value);
            results.extend(recursive(children));
        }
    }
    results
}

/// A filter operand as Go's `text/template` comparison functions classify it.
#[derive(Clone, Copy)]
enum Comparable<'a> {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(&'a str),
    Other,
}

fn comparable(item: Item<'_>) -> Comparable<'_> {
    match item {
        Item::Elem(Value::Bool(value)) => Comparable::Bool(*value),
        Item::Bool(value) => Comparable::Bool(value),
        Item::Elem(Value::Int(number)) => Comparable::Int(*number),
        Item::Int(number) => Comparable::Int(number),
        Item::Elem(Value::Uint(number)) => Comparable::Uint(*number),
        Item::Byte(byte) => Comparable::Uint(u64::from(byte)),
        Item::Elem(Value::Float(number)) => Comparable::Float(*number),
        Item::Float(number) => Comparable::Float(number),
        Item::Elem(Value::Str(text)) => Comparable::Str(text),
        Item::Text(text) => Comparable::Str(text),
        _ => Comparable::Other,
    }
}

fn equal(left: Comparable<'_>, right: Comparable<'_>) -> Result<bool, String> {
    use Comparable::*;
    match (left, right) {
        (Other, _) | (_, Other) => Err("invalid type for comparison".into()),
        (Bool(a), Bool(b)) => Ok(a == b),
        (Int(a), Int(b)) => Ok(a == b),
        (Uint(a), Uint(b)) => Ok(a == b),
        (Int(a), Uint(b)) | (Uint(b), Int(a)) => Ok(a >= 0 && a as u64 == b),
        (Float(a), Float(b)) => Ok(a == b),
        (Str(a), Str(b)) => Ok(a == b),
        _ => Err("incompatible types for comparison".into()),
    }
}

fn less(left: Comparable<'_>, right: Comparable<'_>) -> Result<bool, String> {
    use Comparable::*;
    match (left, right) {
        (Other, _) | (_, Other) | (Bool(_), Bool(_)) => Err("invalid type for comparison".into()),
        (Int(a), Int(b)) => Ok(a < b),
        (Uint(a), Uint(b)) => Ok(a < b),
        (Int(a), Uint(b)) => Ok(a < 0 || (a as u64) < b),
        (Uint(a), Int(b)) => Ok(b >= 0 && a < b as u64),
        (Float(a), Float(b)) => Ok(a < b),
        (Str(a), Str(b)) => Ok(a < b),
        _ => Err("incompatible types for comparison".into()),
    }
}

fn less_equal(left: Comparable<'_>, right: Comparable<'_>) -> Result<bool, String> {
    Ok(less(left, right)? || equal(left, right)?)
}

/// Appends one result as client-go's `PrintResults` renders it.
fn render(out: &mut String, item: &Item<'_>) -> Result<(), String> {
    match *item {
        // Printed through the pointer with Go's `fmt`, not as JSON.
        Item::Root(Value::Null) | Item::Elem(Value::Null) => out.push_str("null"),
        Item::Root(value) => push_go_value(out, value),
        Item::Elem(value @ (Value::List(_) | Value::Object(_) | Value::YamlMap(_))) => {
            push_json(out, value)?
        }
        Item::Elem(value) => push_go_value(out, value),
        Item::Text(text) => out.push_str(text),
        Item::Int(number) => out.push_str(&number.to_string()),
        Item::Float(number) => out.push_str(&format_float(number)),
        Item::Bool(value) => out.push_str(if value { "true" } else { "false" }),
        Item::Byte(byte) => out.push_str(&byte.to_string()),
        Item::Nil => out.push_str("<no value>"),
    }
    Ok(())
}

/// `fmt.Fprint(value)`: maps as `map[k:v ...]` with sorted keys, lists as `[a b]`, nil as
/// `<nil>`.
fn push_go_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
        Value::Int(number) => out.push_str(&number.to_string()),
        Value::Uint(number) => out.push_str(&number.to_string()),
        Value::Float(number) => out.push_str(&format_float(*number)),
        Value::Str(text) => out.push_str(text),
        Value::List(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(' ');
                }
                push_go_value(out, item);
            }
            out.push(']');
        }
        Value::Object(entries) => {
            let mut sorted: Vec<_> = entries.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            push_go_map(
                out,
                sorted.into_iter().map(|(key, value)| (key.clone(), value)),
            );
        }
        Value::YamlMap(entries) => {
            let mut keyed: Vec<_> = entries.iter().collect();
            keyed.sort_by(|a, b| fmt_order(&a.0, &b.0));
            push_go_map(
                out,
                keyed.into_iter().map(|(key, value)| {
                    let mut text = String::new();
                    push_go_value(&mut text, key);
                    (text, value)
                }),
            );
        }
    }
}

fn push_go_map<'v>(out: &mut String, entries: impl Iterator<Item = (String, &'v Value)>) {
    out.push_str("map[");
    for (index, (key, value)) in entries.enumerate() {
        if index > 0 {
            out.push(' ');
        }
        out.push_str(&key);
        out.push(':');
        push_go_value(out, value);
    }
    out.push(']');
}

/// The order Go's `fmt` prints interface-typed map keys in: grouped by type, then by value.
/// (Go orders the types by their runtime descriptors; any fixed order is as faithful.)
fn fmt_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    let rank = |value: &Value| match value {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Int(_) => 2,
        Value::Uint(_) => 3,
        Value::Float(_) => 4,
        Value::Str(_) => 5,
        _ => 6,
    };
    match (a, b) {
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (Value::Int(a), Value::Int(b)) => a.cmp(b),
        (Value::Uint(a), Value::Uint(b)) => a.cmp(b),
        (Value::Float(a), Value::Float(b)) => a.total_cmp(b),
        (Value::Str(a), Value::Str(b)) => a.cmp(b),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// `json.Marshal(value)`: object keys sorted, strings HTML-escaped; yaml.v2 maps and
/// non-finite numbers are errors, as in Go.
fn push_json(out: &mut String, value: &Value) -> Result<(), String> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
        Value::Int(number) => out.push_str(&number.to_string()),
        Value::Uint(number) => out.push_str(&number.to_string()),
        Value::Float(number) if number.is_finite() => out.push_str(&format_json_float(*number)),
        Value::Float(number) => {
            return Err(format!(
                "json: unsupported value: {}",
                format_float(*number)
            ));
        }
        Value::Str(text) => push_json_string(out, text),
        Value::List(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                push_json(out, item)?;
            }
            out.push(']');
        }
        Value::Object(entries) => {
            let mut sorted: Vec<_> = entries.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (index, (key, value)) in sorted.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                push_json_string(out, key);
                out.push(':');
                push_json(out, value)?;
            }
            out.push('}');
        }
        Value::YamlMap(_) => {
            return Err("json: unsupported type: map[interface {}]interface {}".into());
        }
    }
    Ok(())
}

/// The shortest decimal digits of a finite, non-zero `number` and the position of its decimal
/// point: `0.0123` is `("123", -1)`, `1500` is `("15", 4)`.
fn shortest_digits(number: f64) -> (String, i32) {
    let scientific = format!("{:e}", number.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    (mantissa.replace('.', ""), exponent + 1)
}

/// `digits` with the decimal point `point` places from its start, without exponent.
fn plain_decimal(digits: &str, point: i32) -> String {
    if point <= 0 {
        return format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize));
    }
    let point = point as usize;
    if point >= digits.len() {
        return format!("{digits}{}", "0".repeat(point - digits.len()));
    }
    format!("{}.{}", &digits[..point], &digits[point..])
}

/// `digits` as `d.ddde±XX`.
fn exponent_decimal(digits: &str, point: i32) -> String {
    let exponent = point - 1;
    let sign = if exponent < 0 { '-' } else { '+' };
    let fraction = if digits.len() > 1 {
        format!(".{}", &digits[1..])
    } else {
        String::new()
    };
    format!(
        "{}{fraction}e{sign}{:02}",
        &digits[..1],
        exponent.unsigned_abs()
    )
}

/// A float as Go's `fmt` prints it with `%v`: the shortest digits that read back the same, with
/// an exponent (`1e-05`, `1e+06`) when it is below -4 or 6 and more.
pub(crate) fn format_float(number: f64) -> String {
    if number.is_nan() {
        return "NaN".into();
    }
    if number.is_infinite() {
        return if number > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let sign = if number.is_sign_negative() { "-" } else { "" };
    if number == 0.0 {
        return format!("{sign}0");
    }
    let (digits, point) = shortest_digits(number);
    let exponent = point - 1;
    if !(-4..6).contains(&exponent) {
        format!("{sign}{}", exponent_decimal(&digits, point))
    } else {
        format!("{sign}{}", plain_decimal(&digits, point))
    }
}

/// A finite float as Go's `encoding/json` writes it: plain decimal, with an exponent (`1e-7`,
/// `1e+21`) below 1e-6 and from 1e21 on.
fn format_json_float(number: f64) -> String {
    let sign = if number.is_sign_negative() { "-" } else { "" };
    if number == 0.0 {
        return format!("{sign}0");
    }
    let (digits, point) = shortest_digits(number);
    let magnitude = number.abs();
    if !(1e-6..1e21).contains(&magnitude) {
        let written = exponent_decimal(&digits, point);
        let cleaned = match written.split_once("e-0") {
            Some((mantissa, exponent)) => format!("{mantissa}e-{exponent}"),
            None => written,
        };
        format!("{sign}{cleaned}")
    } else {
        format!("{sign}{}", plain_decimal(&digits, point))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JSON text as Go's `encoding/json` decodes it into an `interface{}`.
    fn json(text: &str) -> Value {
        fn convert(value: serde_json::Value) -> Value {
            match value {
                serde_json::Value::Null => Value::Null,
                serde_json::Value::Bool(value) => Value::Bool(value),
                serde_json::Value::Number(number) => Value::Float(number.as_f64().unwrap()),
                serde_json::Value::String(text) => Value::Str(text),
                serde_json::Value::Array(items) => {
                    Value::List(items.into_iter().map(convert).collect())
                }
                serde_json::Value::Object(entries) => Value::Object(
                    entries
                        .into_iter()
                        .map(|(key, value)| (key, convert(value)))
                        .collect(),
                ),
            }
        }
        convert(serde_json::from_str(text).unwrap())
    }

    fn text(value: &str) -> Value {
        Value::Str(value.into())
    }

    fn run(path: &str, data: &Value) -> Result<String, String> {
        parse(path)?.execute(data)
    }

    fn kubelet() -> Value {
        json(
            r#"{"authentication": {"anonymous": {"enabled": false}}, "tlsCipherSuites": ["A", "B"],
                "featureGates": {"RotateKubeletServerCertificate": true}, "readOnlyPort": 0,
                "items": [{"name": "a", "v": 1}, {"name": "b", "v": 2}, {"name": "c"}],
                "html": "<a&b>", "empty": [], "none": null}"#,
        )
    }

    #[test]
    fn the_paths_of_the_bundled_control_files() {
        let data = kubelet();
        assert_eq!(
            run("{.authentication.anonymous.enabled}", &data).unwrap(),
            "false"
        );
        assert_eq!(
            run("{range .tlsCipherSuites[:]}{}{','}{end}", &data).unwrap(),
            "A,B,"
        );
        assert_eq!(
            run("{.featureGates.RotateKubeletServerCertificate}", &data).unwrap(),
            "true"
        );
        assert_eq!(run("{.readOnlyPort}", &data).unwrap(), "0");
        assert_eq!(run("{.missing}", &data).unwrap(), "");
        assert_eq!(run("{.authentication.missing.deeper}", &data).unwrap(), "");
    }

    #[test]
    fn selections() {
        let data = kubelet();
        assert_eq!(run("{.items[*].name}", &data).unwrap(), "a b c");
        assert_eq!(run("{.items[0].name}", &data).unwrap(), "a");
        assert_eq!(run("{.items[-1].name}", &data).unwrap(), "c");
        assert_eq!(run("{.items[1:].name}", &data).unwrap(), "b c");
        assert_eq!(run("{.items[::2].name}", &data).unwrap(), "a c");
        assert_eq!(run("{.items[0,2].name}", &data).unwrap(), "a c");
        assert_eq!(run("{.items[?(@.v > 1.5)].name}", &data).unwrap(), "b");
        assert_eq!(run("{.items[?(@.name == 'b')].v}", &data).unwrap(), "2");
        assert_eq!(run("{.items[?(@.v)].name}", &data).unwrap(), "a b");
        assert_eq!(run("{['readOnlyPort']}", &data).unwrap(), "0");
        assert_eq!(run("{..name}", &data).unwrap(), "a b c");
        assert_eq!(
            run("{@.readOnlyPort} {$.readOnlyPort}", &data).unwrap(),
            "0 0"
        );
        assert_eq!(run("{.empty[*]}", &data).unwrap(), "");
        // JSON numbers are floats, the literal 1 an int: Go refuses to compare them.
        assert!(run("{.items[?(@.v == 1)].name}", &data).is_err());
        assert!(run("{.items[?(@.v > 1)].name}", &data).is_err());
    }

    #[test]
    fn errors() {
        let data = kubelet();
        assert!(parse("{.missingClosingBrace").is_err());
        assert!(parse("{.a[x]}").is_err());
        assert!(parse("{.a[?(@.b)}").is_err());
        assert!(parse("{\"unterminated}").is_err());
        assert!(parse("{\"\\q\"}").is_err());
        assert!(parse("{..}{.a.....b}").is_err());
        assert!(run("{end}", &data).is_err());
        assert!(run("{nothing}", &data).is_err());
        assert!(run("{.items[3]}", &data).is_err());
        assert!(run("{.items[2:1]}", &data).is_err());
        assert!(run("{.items[::0]}", &data).is_err());
        assert!(run("{.html[0]}", &data).is_err());
        // Field lookups on what is not a map find nothing instead.
        assert_eq!(run("{.html.x}", &data).unwrap(), "");
    }

    #[test]
    fn rendering_follows_go() {
        let data = kubelet();
        assert_eq!(run("{.tlsCipherSuites}", &data).unwrap(), r#"["A","B"]"#);
        assert_eq!(run("{.items[0]}", &data).unwrap(), r#"{"name":"a","v":1}"#);
        assert_eq!(run("{.html}", &data).unwrap(), "<a&b>");
        assert_eq!(run("{.none}", &data).unwrap(), "null");
        assert_eq!(
            run(
                "{.featureGates}",
                &json(r#"{"featureGates": {"B": "<", "A": 1e21}}"#)
            )
            .unwrap(),
            r#"{"A":1e+21,"B":"\u003c"}"#
        );
        assert_eq!(
            run("{range .a[*]}[{@}]{end}", &json(r#"{"a": [null, 1]}"#)).unwrap(),
            "[<no value>][1]"
        );
        assert_eq!(
            run("{\"text\"} {'it\\'s'} {1}{2.5}{true}", &data).unwrap(),
            "text it's 12.5true"
        );
        // `*` enumerates a string's bytes; `[*]` is a slice, which a string is not.
        assert_eq!(
            run("{.html.*}", &json(r#"{"html": "ab"}"#)).unwrap(),
            "97 98"
        );
        assert!(run("{.html[*]}", &json(r#"{"html": "ab"}"#)).is_err());
        // The document itself is printed by Go's fmt, not as JSON.
        assert_eq!(
            run("{@}", &json(r#"{"b": [1, "x", null], "a": {"c": true}}"#)).unwrap(),
            "map[a:map[c:true] b:[1 x <nil>]]"
        );
        assert_eq!(run("{}", &text("plain")).unwrap(), "plain");
        assert_eq!(run("{@}", &Value::Null).unwrap(), "null");
    }

    #[test]
    fn yaml_maps_do_not_marshal_to_json() {
        let data = Value::YamlMap(vec![
            (text("a"), Value::YamlMap(vec![(text("b"), Value::Int(1))])),
            (
                text("l"),
                Value::List(vec![Value::Int(1), Value::Uint(u64::MAX), text("x")]),
            ),
            (Value::Bool(true), text("boolean key")),
        ]);
        assert_eq!(run("{.a.b}", &data).unwrap(), "1");
        assert_eq!(
            run("{.l}", &data).unwrap(),
            r#"[1,18446744073709551615,"x"]"#
        );
        assert!(run("{.a}", &data).is_err());
        assert_eq!(run("{.true}", &data).unwrap(), "");
        assert_eq!(
            run("{@}", &data).unwrap(),
            "map[true:boolean key a:map[b:1] l:[1 18446744073709551615 x]]"
        );
    }

    #[test]
    fn ranges_nest_and_run_to_the_end_without_end() {
        let data = json(r#"{"a": [{"b": [1, 2]}, {"b": [3]}], "c": "x"}"#);
        assert_eq!(
            run("{range .a[*]}{range .b[*]}{@};{end}|{end}", &data).unwrap(),
            "1;2;|3;|"
        );
        assert_eq!(run("{range .a[*]}{.b[0]}{end}{.c}", &data).unwrap(), "13x");
        assert_eq!(
            run("{range .missing[*]}{.q}{end}after", &data).unwrap(),
            "after"
        );
        // client-go walks what follows an unended range again on the document.
        assert_eq!(run("{range .a[*]}{.c}", &data).unwrap(), "x");
    }

    #[test]
    fn floats_print_as_go_fmt_prints_them() {
        let cases = [
            (1e6, "1e+06"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (1e20, "1e+20"),
            (1e21, "1e+21"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5, "1.5"),
            (-0.0, "-0"),
            (100.0, "100"),
            (1e-7, "1e-07"),
            (123456789.125, "1.23456789125e+08"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (-2.5e-300, "-2.5e-300"),
        ];
        for (number, printed) in cases {
            assert_eq!(format_float(number), printed, "{number}");
        }
    }

    #[test]
    fn floats_marshal_as_go_encoding_json_writes_them() {
        let cases = [
            (1e6, "1000000"),
            (1234567.0, "1234567"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (0.00001, "0.00001"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-10, "1.5e-10"),
            (123456789.125, "123456789.125"),
            (-0.0, "-0"),
        ];
        for (number, written) in cases {
            assert_eq!(format_json_float(number), written, "{number}");
        }
    }

    #[test]
    fn quoted_literals_unquote_as_go_does() {
        assert_eq!(
            unquote(r"a\x41\u00e9\101\t", b'"').as_deref(),
            Some("aAéA\t")
        );
        assert_eq!(unquote(r"it\'s", b'\'').as_deref(), Some("it's"));
        assert_eq!(unquote(r"it\'s", b'"'), None);
        assert_eq!(unquote(r"\400", b'"'), None);
        assert_eq!(unquote(r"\ud800", b'"'), None);
        assert_eq!(unquote(r"\xff", b'"').as_deref(), Some("\u{fffd}"));
    }
}
