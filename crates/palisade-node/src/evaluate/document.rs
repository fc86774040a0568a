//! The `audit_config` output as kube-bench decodes it for a `path` item: `encoding/json` into an
//! `interface{}`, and when that fails, yaml.v2 into the same `interface{}`.
//!
//! JSON: RFC 8259 strictly, every number a float64 (out of range is an error), duplicate keys
//! keep the last value, lone surrogate escapes become U+FFFD.
//!
//! YAML: the first document only, read with libyaml's grammar (libyaml-safer; yaml.v2 is a Go
//! port of libyaml) and yaml.v2's rules on top: YAML 1.1 scalar resolution (`yes`/`on` are
//! booleans, `010` is 8, `1e3` a float, `2001-01-01` stays a string), explicit tags, anchors and
//! aliases (an alias inside its own anchor is an error), `<<` merge keys (each merged key
//! overwriting, later merges first), keys of any scalar type, mappings or sequences as keys
//! refused, the `\/` escape refused, and yaml.v2's bound on alias expansion.
//!
//! Nesting deeper than [`MAX_DEPTH`] is an error in both, where Go goes on (10,000 levels for
//! JSON, none for YAML): a config file is never that deep, and values that deep would overflow
//! the stack when dropped.

use std::collections::HashMap;

use libyaml_safer::{Event, EventData, Parser, ScalarStyle};

use crate::jsonpath::{Value, parse_go_float};

const MAX_DEPTH: usize = 1000;

/// Decodes `text` as kube-bench's `unmarshal` does.
pub(super) fn decode(text: &str) -> Result<Value, String> {
    decode_json(text).or_else(|_| decode_yaml(text))
}

fn decode_json(text: &str) -> Result<Value, String> {
    let mut reader = Json {
        bytes: text.as_bytes(),
        pos: 0,
    };
    let value = reader.value(0)?;
    reader.skip_space();
    if reader.pos != reader.bytes.len() {
        return Err("invalid character after top-level value".into());
    }
    Ok(value)
}

struct Json<'t> {
    bytes: &'t [u8],
    pos: usize,
}

impl Json<'_> {
    fn skip_space(&mut self) {
        while matches!(self.bytes.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, literal: &str) -> bool {
        let found = self.bytes[self.pos..].starts_with(literal.as_bytes());
        if found {
            self.pos += literal.len();
        }
        found
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth >= MAX_DEPTH {
            return Err("exceeded max depth".into());
        }
        self.skip_space();
        match self.bytes.get(self.pos) {
            Some(b'{') => {
                self.pos += 1;
                let mut entries: Vec<(String, Value)> = Vec::new();
                self.skip_space();
                if self.eat("}") {
                    return Ok(Value::Object(entries));
                }
                loop {
                    self.skip_space();
                    let key = self.string()?;
                    self.skip_space();
                    if !self.eat(":") {
                        return Err("expected ':' after object key".into());
                    }
                    let value = self.value(depth + 1)?;
                    match entries.iter_mut().find(|(existing, _)| *existing == key) {
                        Some(entry) => entry.1 = value,
                        None => entries.push((key, value)),
                    }
                    self.skip_space();
                    if self.eat("}") {
                        return Ok(Value::Object(entries));
                    }
                    if !self.eat(",") {
                        return Err("expected ',' or '}' in object".into());
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_space();
                if self.eat("]") {
                    return Ok(Value::List(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.skip_space();
                    if self.eat("]") {
                        return Ok(Value::List(items));
                    }
                    if !self.eat(",") {
                        return Err("expected ',' or ']' in array".into());
                    }
                }
            }
            Some(b'"') => self.string().map(Value::Str),
            Some(b't') if self.eat("true") => Ok(Value::Bool(true)),
            Some(b'f') if self.eat("false") => Ok(Value::Bool(false)),
            Some(b'n') if self.eat("null") => Ok(Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err("invalid character looking for beginning of value".into()),
        }
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.pos;
        let digits = |reader: &mut Self| {
            let from = reader.pos;
            while reader.bytes.get(reader.pos).is_some_and(u8::is_ascii_digit) {
                reader.pos += 1;
            }
            reader.pos > from
        };
        self.eat("-");
        if !self.eat("0") && !digits(self) {
            return Err("invalid number".into());
        }
        if self.eat(".") && !digits(self) {
            return Err("invalid number".into());
        }
        if matches!(self.bytes.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.bytes.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err("invalid number".into());
            }
        }
        let text = std::str::from_utf8(&self.bytes[start..self.pos]).unwrap_or_default();
        parse_go_float(text)
            .map(Value::Float)
            .ok_or_else(|| format!("cannot unmarshal number {text} into a float64"))
    }

    fn string(&mut self) -> Result<String, String> {
        if !self.eat("\"") {
            return Err("expected string".into());
        }
        let mut out = String::new();
        loop {
            let start = self.pos;
            while self
                .bytes
                .get(self.pos)
                .is_some_and(|&byte| byte != b'"' && byte != b'\\' && byte >= 0x20)
            {
                self.pos += 1;
            }
            out.push_str(
                std::str::from_utf8(&self.bytes[start..self.pos])
                    .map_err(|error| error.to_string())?,
            );
            match self.bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                _ => return Err("invalid character in string literal".into()),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), String> {
        let kind = *self
            .bytes
            .get(self.pos)
            .ok_or("unexpected end of JSON input")?;
        self.pos += 1;
        out.push(match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                if (0xd800..0xdc00).contains(&first) && self.bytes[self.pos..].starts_with(b"\\u") {
                    let saved = self.pos;
                    self.pos += 2;
                    let second = self.hex4()?;
                    if (0xdc00..0xe000).contains(&second) {
                        let code = 0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00);
                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        return Ok(());
                    }
                    self.pos = saved;
                }
                char::from_u32(first).unwrap_or('\u{fffd}')
            }
            _ => return Err("invalid escape in string literal".into()),
        });
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .ok_or("unexpected end of JSON input")?;
        let text = std::str::from_utf8(digits).map_err(|error| error.to_string())?;
        if !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err("invalid \\u escape".into());
        }
        self.pos += 4;
        u32::from_str_radix(text, 16).map_err(|error| error.to_string())
    }
}

const CORE_TAG: &str = "tag:yaml.org,2002:";

fn decode_yaml(text: &str) -> Result<Value, String> {
    // libyaml-safer panics on a block scalar that ends the input without a line break; yaml.v2
    // reads one there without a trailing newline, which `Builder::scalar` takes off again.
    let added_break = !text.ends_with('\n');
    let mut input = if added_break {
        format!("{text}\n")
    } else {
        text.to_owned()
    };
    for _ in 0..=MAX_COLON_SCALARS {
        let mut builder = Builder {
            source: &input,
            added_break,
            ..Builder::default()
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| builder.run()))
            .unwrap_or_else(|_| Err("the YAML parser failed on this input".into()));
        match (result, builder.colon_scalar) {
            (Err(_), Some(scalar)) => input = quote_colon_scalar(&input, scalar),
            (result, _) => return result,
        }
    }
    Err("too many flow scalars ending in ':'".into())
}

/// How many flow scalars ending in `:` one document may have quoted for it.
const MAX_COLON_SCALARS: usize = 16;

/// yaml.v2 reads `2001:db8::` in `[2001:db8::]` as a plain scalar where libyaml stops at the
/// last `:`. Such a scalar can only be a string, which double quotes keep; `scalar` is the byte
/// range of its text.
fn quote_colon_scalar(input: &str, scalar: (usize, usize)) -> String {
    let text = &input[scalar.0..scalar.1];
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    format!("{}\"{escaped}\"{}", &input[..scalar.0], &input[scalar.1..])
}

/// The scalar to quote when `error` is libyaml refusing a one-line flow scalar that ends in `:`.
fn colon_scalar(input: &str, error: &libyaml_safer::Error) -> Option<(usize, usize)> {
    if error.problem() != "found unexpected ':'"
        || error.context() != Some("while scanning a plain scalar")
    {
        return None;
    }
    let (start, colon) = (
        error.context_mark()?.index as usize,
        error.problem_mark()?.index as usize,
    );
    let text = input.get(start..=colon)?;
    (text.ends_with(':') && !text.contains(['\n', '\r'])).then_some((start, colon + 1))
}

/// A value with what building it cost: its node count (for yaml.v2's alias bound) and depth.
#[derive(Clone)]
struct Built {
    value: Value,
    nodes: usize,
    depth: usize,
}

enum Frame {
    List {
        items: Vec<Value>,
        anchor: Option<String>,
        nodes: usize,
        depth: usize,
    },
    Map {
        entries: Vec<(Value, Value)>,
        anchor: Option<String>,
        nodes: usize,
        depth: usize,
        key: Option<Key>,
    },
}

enum Key {
    Value(Value),
    /// A plain `<<`: its value is merged into the mapping.
    Merge,
}

#[derive(Default)]
struct Builder<'t> {
    source: &'t str,
    added_break: bool,
    /// Set when libyaml stopped at a flow scalar ending in `:` (see [`quote_colon_scalar`]).
    colon_scalar: Option<(usize, usize)>,
    stack: Vec<Frame>,
    /// Anchors by name; `None` while the anchored collection is still open.
    anchors: HashMap<String, Option<Built>>,
    root: Option<Value>,
    decoded: usize,
    aliased: usize,
}

impl Builder<'_> {
    fn run(&mut self) -> Result<Value, String> {
        let mut bytes = self.source.as_bytes();
        let mut parser = Parser::new();
        parser.set_input_string(&mut bytes);
        loop {
            let event = parser.parse().map_err(|error| {
                self.colon_scalar = colon_scalar(self.source, &error);
                error.to_string()
            })?;
            match event.data {
                EventData::StreamEnd | EventData::DocumentEnd { .. } => {
                    return Ok(self.root.take().unwrap_or(Value::Null));
                }
                EventData::StreamStart { .. } | EventData::DocumentStart { .. } => {}
                EventData::Alias { anchor } => {
                    let Some(target) = self.anchors.get(&anchor) else {
                        return Err(format!("unknown anchor '{anchor}' referenced"));
                    };
                    let Some(built) = target.clone() else {
                        return Err(format!("anchor '{anchor}' value contains itself"));
                    };
                    self.count(1, 0)?;
                    self.count(built.nodes, built.nodes)?;
                    self.place(built, None, true)?;
                }
                EventData::Scalar { .. } => {
                    self.count(1, 0)?;
                    let (value, anchor, merge) = self.scalar(&event)?;
                    if merge {
                        if let Some(Frame::Map {
                            key: key @ None, ..
                        }) = self.stack.last_mut()
                        {
                            *key = Some(Key::Merge);
                            continue;
                        }
                    }
                    self.place(
                        Built {
                            value,
                            nodes: 1,
                            depth: 1,
                        },
                        anchor,
                        false,
                    )?;
                }
                EventData::SequenceStart { anchor, .. } => {
                    self.open(anchor.as_ref())?;
                    self.stack.push(Frame::List {
                        items: Vec::new(),
                        anchor,
                        nodes: 1,
                        depth: 1,
                    });
                }
                EventData::MappingStart { anchor, .. } => {
                    self.open(anchor.as_ref())?;
                    self.stack.push(Frame::Map {
                        entries: Vec::new(),
                        anchor,
                        nodes: 1,
                        depth: 1,
                        key: None,
                    });
                }
                EventData::SequenceEnd | EventData::MappingEnd => {
                    let (built, anchor) = match self.stack.pop() {
                        Some(Frame::List {
                            items,
                            anchor,
                            nodes,
                            depth,
                        }) => (
                            Built {
                                value: Value::List(items),
                                nodes,
                                depth,
                            },
                            anchor,
                        ),
                        Some(Frame::Map {
                            entries,
                            anchor,
                            nodes,
                            depth,
                            ..
                        }) => (
                            Built {
                                value: Value::YamlMap(entries),
                                nodes,
                                depth,
                            },
                            anchor,
                        ),
                        None => return Err("unbalanced collection end".into()),
                    };
                    self.place(built, anchor, false)?;
                }
            }
        }
    }

    /// One more open collection, counted as a decoded node.
    fn open(&mut self, anchor: Option<&String>) -> Result<(), String> {
        self.count(1, 0)?;
        if self.stack.len() >= MAX_DEPTH {
            return Err("document nested too deeply".into());
        }
        if let Some(name) = anchor {
            self.anchors.insert(name.clone(), None);
        }
        Ok(())
    }

    /// yaml.v2 stops a document whose alias expansion dominates it: more than 100 aliased of
    /// more than 1,000 decoded nodes, at a ratio from 99% (small documents) down to 10%.
    fn count(&mut self, decoded: usize, aliased: usize) -> Result<(), String> {
        self.decoded += decoded;
        self.aliased += aliased;
        let allowed = match self.decoded {
            0..=400_000 => 0.99,
            4_000_000.. => 0.10,
            count => 0.99 - 0.89 * ((count - 400_000) as f64 / 3_600_000.0),
        };
        if self.aliased > 100
            && self.decoded > 1000
            && self.aliased as f64 / self.decoded as f64 > allowed
        {
            return Err("document contains excessive aliasing".into());
        }
        Ok(())
    }

    /// A scalar's value and anchor, and whether it is a merge key.
    fn scalar(&self, event: &Event) -> Result<(Value, Option<String>, bool), String> {
        let EventData::Scalar {
            anchor,
            tag,
            value,
            plain_implicit,
            style,
            ..
        } = &event.data
        else {
            unreachable!("called for scalar events only")
        };
        if *style == ScalarStyle::DoubleQuoted {
            let source = self
                .source
                .get(event.start_mark.index as usize..event.end_mark.index as usize)
                .unwrap_or("");
            if has_slash_escape(source) {
                return Err("found unknown escape character while parsing a quoted scalar".into());
            }
        }
        let mut value = value.clone();
        if self.added_break
            && matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
            && event.end_mark.index as usize >= self.source.len()
            && value.ends_with('\n')
        {
            value.pop();
        }
        let tag = tag.as_deref().unwrap_or("");
        let merge = value == "<<"
            && if tag.is_empty() {
                *plain_implicit
            } else {
                tag == "tag:yaml.org,2002:merge"
            };
        let resolved = if tag.is_empty() && !*plain_implicit {
            Value::Str(value)
        } else {
            resolve(tag, value)?
        };
        Ok((resolved, anchor.clone(), merge))
    }

    /// Adds a finished node (`aliased`: an alias's copy) to its parent, or makes it the
    /// document, and registers its anchor.
    fn place(&mut self, built: Built, anchor: Option<String>, aliased: bool) -> Result<(), String> {
        if self.stack.len() + built.depth > MAX_DEPTH {
            return Err("document nested too deeply".into());
        }
        if let Some(name) = anchor {
            self.anchors.insert(name, Some(built.clone()));
        }
        match self.stack.last_mut() {
            None => self.root = Some(built.value),
            Some(Frame::List {
                items,
                nodes,
                depth,
                ..
            }) => {
                items.push(built.value);
                *nodes += built.nodes;
                *depth = (*depth).max(built.depth + 1);
            }
            Some(Frame::Map {
                entries,
                nodes,
                depth,
                key,
                ..
            }) => {
                *nodes += built.nodes;
                *depth = (*depth).max(built.depth + 1);
                match key.take() {
                    None => {
                        if matches!(built.value, Value::List(_) | Value::YamlMap(_)) {
                            return Err("invalid map key: a mapping or sequence".into());
                        }
                        *key = Some(Key::Value(built.value));
                    }
                    Some(Key::Value(key)) => insert(entries, key, built.value),
                    Some(Key::Merge) => merge(entries, built.value, aliased)?,
                }
            }
        }
        Ok(())
    }
}

/// Sets `key` as a Go map assignment does: keys equal by type and value are replaced.
fn insert(entries: &mut Vec<(Value, Value)>, key: Value, value: Value) {
    match entries.iter_mut().find(|(existing, _)| *existing == key) {
        Some(entry) => entry.1 = value,
        None => entries.push((key, value)),
    }
}

/// yaml.v2's merge: a mapping's entries, or each mapping of a sequence written in place (the
/// last first, so the first wins), written into the mapping over what it holds.
fn merge(entries: &mut Vec<(Value, Value)>, value: Value, aliased: bool) -> Result<(), String> {
    match value {
        Value::YamlMap(merged) => merged
            .into_iter()
            .for_each(|(key, value)| insert(entries, key, value)),
        Value::List(maps)
            if !aliased && maps.iter().all(|map| matches!(map, Value::YamlMap(_))) =>
        {
            for map in maps.into_iter().rev() {
                merge(entries, map, false)?;
            }
        }
        _ => return Err("map merge requires map or sequence of maps as the value".into()),
    }
    Ok(())
}

/// A `\/` escape in a double-quoted scalar's source, which yaml.v2 refuses (libyaml accepts it).
fn has_slash_escape(source: &str) -> bool {
    let mut backslashes = 0;
    for c in source.chars() {
        if c == '/' && backslashes % 2 == 1 {
            return true;
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
    }
    false
}

/// yaml.v2's `resolve`: the value of a plain or tagged scalar.
fn resolve(tag: &str, text: String) -> Result<Value, String> {
    let core = tag.strip_prefix(CORE_TAG);
    if !tag.is_empty()
        && !matches!(
            core,
            Some("str" | "bool" | "int" | "float" | "null" | "timestamp")
        )
    {
        // Tags yaml.v2 does not resolve keep the text; `!!binary` is decoded.
        return match core {
            Some("binary") => decode_base64(&text)
                .map(Value::Str)
                .ok_or_else(|| "!!binary value contains invalid base64 data".into()),
            _ => Ok(Value::Str(text)),
        };
    }
    let (found, value) = implicit(core, &text);
    match (core, found, value) {
        (None | Some("str"), _, value) => Ok(value),
        (Some(wanted), found, value) if wanted == found => Ok(value),
        (Some("float"), _, Value::Int(number)) => Ok(Value::Float(number as f64)),
        (Some(wanted), found, _) => {
            Err(format!("cannot decode !!{found} `{text}` as a !!{wanted}"))
        }
    }
}

/// What a scalar resolves to under `tag` (a core tag's short name, `None` for a plain scalar),
/// before yaml.v2 checks it against the tag, with the name of the type found.
fn implicit(tag: Option<&str>, text: &str) -> (&'static str, Value) {
    let string = || ("str", Value::Str(text.to_owned()));
    let hint = text.bytes().next().map_or(Some(b'N'), |first| match first {
        b'+' | b'-' | b'0'..=b'9' => Some(b'D'),
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => Some(b'M'),
        b'.' => Some(b'.'),
        _ => None,
    });
    let Some(hint) = hint.filter(|_| tag != Some("str")) else {
        return string();
    };
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return ("bool", Value::Bool(true));
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return ("bool", Value::Bool(false));
        }
        "" | "~" | "null" | "Null" | "NULL" => return ("null", Value::Null),
        ".nan" | ".NaN" | ".NAN" => return ("float", Value::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return ("float", Value::Float(f64::INFINITY));
        }
        "-.inf" | "-.Inf" | "-.INF" => return ("float", Value::Float(f64::NEG_INFINITY)),
        _ => {}
    }
    match hint {
        b'.' => parse_go_float(text).map_or_else(string, |number| ("float", Value::Float(number))),
        b'D' if tag == Some("timestamp") && looks_like_timestamp(text) => {
            ("timestamp", Value::Str(text.to_owned()))
        }
        b'D' => {
            let plain = text.replace('_', "");
            if let Some(number) = parse_go_int(&plain) {
                return ("int", number);
            }
            match parse_go_float(&plain).filter(|_| is_yaml_float(&plain)) {
                Some(number) => ("float", Value::Float(number)),
                None => string(),
            }
        }
        _ => string(),
    }
}

/// Go's `strconv.ParseInt(text, 0, 64)`, then `ParseUint`: sign, `0x`/`0o`/`0b` or a leading `0`
/// for octal.
fn parse_go_int(text: &str) -> Option<Value> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = unsigned.to_ascii_lowercase();
    let (radix, digits) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        return (magnitude <= 1 << 63).then(|| Value::Int((magnitude as i64).wrapping_neg()));
    }
    if text.starts_with('+') && magnitude > i64::MAX as u64 {
        // ParseUint takes no sign.
        return None;
    }
    Some(i64::try_from(magnitude).map_or(Value::Uint(magnitude), Value::Int))
}

/// yaml.v2's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(text: &str) -> bool {
    let text = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", fraction)) => digits(fraction),
        Some((whole, fraction)) => digits(whole) && (fraction.is_empty() || digits(fraction)),
        None => digits(mantissa),
    };
    mantissa_ok
        && exponent
            .is_none_or(|exponent| digits(exponent.strip_prefix(['-', '+']).unwrap_or(exponent)))
}

/// The start of the timestamp forms yaml.v2 accepts (`2006-1-2` and longer); only an explicit
/// `!!timestamp` tag asks, and the value stays a string either way.
fn looks_like_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() > 5 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-'
}

/// Go's `base64.StdEncoding.DecodeString` (padded, no line breaks); bytes that are not UTF-8
/// become U+FFFD.
fn decode_base64(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    if bytes.len() % 4 != 0 {
        return None;
    }
    let sextet = |byte: u8| match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let quads = bytes.len() / 4;
    for (index, quad) in bytes.chunks(4).enumerate() {
        let padding = quad.iter().rev().take_while(|&&byte| byte == b'=').count();
        if padding > 2 || (padding > 0 && index + 1 != quads) {
            return None;
        }
        let mut bits = 0u32;
        for &byte in &quad[..4 - padding] {
            bits = bits << 6 | u32::from(sextet(byte)?);
        }
        bits <<= 6 * padding as u32;
        let decoded = [(bits >> 16) as u8, (bits >> 8) as u8, bits as u8];
        out.extend_from_slice(&decoded[..3 - padding]);
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonpath;

    /// `path` over `text` decoded, as a path item sees it; `None` where kube-bench's item fails.
    fn render(text: &str, path: &str) -> Option<String> {
        let document = decode(text).ok()?;
        jsonpath::parse(path).ok()?.execute(&document).ok()
    }

    fn read(text: &str, path: &str) -> String {
        render(text, path).unwrap_or_else(|| panic!("{text:?} {path:?} does not decode"))
    }

    #[test]
    fn json_numbers_are_floats_and_the_last_duplicate_wins() {
        assert_eq!(
            read(
                r#"{"a": 1000000, "b": 10, "c": 1.0, "d": 0.000001}"#,
                "{.a} {.b} {.c} {.d}"
            ),
            "1e+06 10 1 1e-06"
        );
        assert_eq!(read(r#"{"a": 1, "a": 2}"#, "{.a}"), "2");
        assert_eq!(
            read(r#"{"a": "\ud83d\ude00\ud800x\udc00"}"#, "{.a}"),
            "😀\u{fffd}x\u{fffd}"
        );
        assert_eq!(read("  {\"a\": \"b\"}  \n", "{.a}"), "b");
    }

    #[test]
    fn what_json_refuses_is_read_as_yaml() {
        // Out of range for a float64: YAML then reads the number as a string.
        assert_eq!(read(r#"{"a": 1e400}"#, "{.a}"), "1e400");
        assert_eq!(read(r#"{"a": [1,]}"#, "{.a}"), "[1]");
        assert_eq!(read(r#"{"a": 01}"#, "{.a}"), "1");
        assert_eq!(read(r#"{"a": "b"} x"#, "{.a}"), "b");
        // A plain YAML string.
        assert_eq!(
            read("this is not valid json {} at all", "{@}"),
            "this is not valid json {} at all"
        );
    }

    #[test]
    fn yaml_scalars_resolve_as_yaml_1_1_in_yaml_v2() {
        assert_eq!(
            read(
                "a: yes\nb: No\nc: on\nd: OFF\ne: y\nf: true\ng: False",
                "{.a} {.b} {.c} {.d} {.e} {.f} {.g}"
            ),
            "true false true false true true false"
        );
        assert_eq!(
            read(
                "a: 010\nb: 0o10\nc: 0x1F\nd: 0b11\ne: 1_000\nf: 09\ng: +12\nh: -0x10\ni: 0\nj: 9223372036854775808\nk: -9223372036854775809",
                "{.a} {.b} {.c} {.d} {.e} {.f} {.g} {.h} {.i} {.j} {.k}"
            ),
            "8 8 31 3 1000 9 12 -16 0 9223372036854775808 -9.223372036854776e+18"
        );
        assert_eq!(
            read(
                "a: 1e3\nb: .5\nc: 1.\nd: -.inf\ne: .NaN\nf: 1e400\ng: 6.02e23\nh: 1.5e-7",
                "{.a} {.b} {.c} {.d} {.e} {.f} {.g} {.h}"
            ),
            "1000 0.5 1 -Inf NaN 1e400 6.02e+23 1.5e-07"
        );
        assert_eq!(
            read(
                "a: ~\nb: null\nc:\nd: \"\"\ne: NULL",
                "{.a}|{.b}|{.c}|{.d}|{.e}"
            ),
            "null|null|null||null"
        );
        assert_eq!(
            read("a: 2001-12-14\nb: 12:30:00\nc: 0s", "{.a} {.b} {.c}"),
            "2001-12-14 12:30:00 0s"
        );
    }

    #[test]
    fn keys_keep_their_types() {
        // `n` and `y` are booleans, so `.n` finds nothing; `"1"` is the only string key below.
        assert_eq!(read("n: a\ny: b\nname: c", "{.n}|{.y}|{.name}"), "||c");
        assert_eq!(read("1: a\ntrue: b\nnull: c\n\"1\": d", "{.1}"), "d");
        assert_eq!(render("? [1]\n: x", "{@}"), None);
        assert_eq!(render("? {a: 1}\n: x", "{@}"), None);
    }

    #[test]
    fn explicit_tags_are_checked_against_the_value() {
        assert_eq!(
            read(
                "a: !!str 123\nb: !!int \"45\"\nc: !!float 3\nd: !!binary aGVsbG8=\ne: !custom 7\nf: !!bool \"yes\"\ng: !!null \"\"",
                "{.a} {.b} {.c} {.d} {.e} {.f} {.g}"
            ),
            "123 45 3 hello 7 true null"
        );
        for refused in [
            "a: !!int abc",
            "a: !!bool 1",
            "a: !!binary \"not base64!\"",
            "a: !!float 18446744073709551615",
        ] {
            assert_eq!(render(refused, "{.a}"), None, "{refused}");
        }
    }

    #[test]
    fn merge_keys_overwrite_and_the_first_mapping_of_a_list_wins() {
        assert_eq!(
            read(
                "base: &b {x: 1, z: 2}\nd:\n  <<: *b\n  z: 3",
                "{.d.x} {.d.z}"
            ),
            "1 3"
        );
        // yaml.v2 writes a merge over keys set before it.
        assert_eq!(
            read("d:\n  z: 3\n  <<: {x: 1, z: 2}", "{.d.x} {.d.z}"),
            "1 2"
        );
        assert_eq!(
            read("d:\n  <<: [{x: 1}, {x: 2, z: 3}]", "{.d.x} {.d.z}"),
            "1 3"
        );
        assert_eq!(read("d:\n  \"<<\": {x: 1}", "{.d.x}"), "");
        assert_eq!(render("l: &l [{x: 1}]\nd:\n  <<: *l", "{.d.x}"), None);
        assert_eq!(render("d:\n  <<: 5", "{.d}"), None);
    }

    #[test]
    fn aliases_copy_their_anchor_as_defined_at_that_point() {
        assert_eq!(read("a: &x 1\nb: *x\nc: &x 2\nd: *x", "{.b} {.d}"), "1 2");
        assert_eq!(render("a: &a [*a]", "{.a}"), None);
        assert_eq!(render("a: *nope", "{.a}"), None);
    }

    #[test]
    fn an_alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..8 {
            let previous = format!("*a{}", level - 1);
            text.push_str(&format!(
                "a{level}: &a{level} [{}]\n",
                [previous.as_str(); 10].join(", ")
            ));
        }
        assert!(decode(&text).is_err());
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(decode(&deep).is_err());
        let fine = format!("{}{}", "[".repeat(50), "]".repeat(50));
        assert!(decode(&fine).is_ok());
    }

    #[test]
    fn only_the_first_document_is_read() {
        assert_eq!(read("a: 1\n---\nb: 2", "{.a}{.b}"), "1");
        assert_eq!(read("a: 1\n--- [\n", "{.a}"), "1");
        assert_eq!(
            read(
                "[Unit]\nDescription=kubelet: The Kubernetes Node Agent",
                "{@}"
            ),
            "[Unit]"
        );
        for empty in ["", "---\n", "# only a comment"] {
            assert_eq!(read(empty, "{@}"), "null", "{empty:?}");
        }
    }

    #[test]
    fn block_scalars_at_the_end_have_no_line_break_to_keep() {
        assert_eq!(read("a: |\n  x", "{.a}"), "x");
        assert_eq!(read("a: |\n  x\n  y", "{.a}"), "x\ny");
        assert_eq!(read("a: >\n  x\n  y", "{.a}"), "x y");
        assert_eq!(read("a: |+\n  x", "{.a}"), "x");
        assert_eq!(read("a: |\n  x\nb: 1", "{.a}"), "x\n");
    }

    #[test]
    fn quoting_as_yaml_v2_reads_it() {
        assert_eq!(render(r#"a: "x\/y""#, "{.a}"), None);
        assert_eq!(read(r#"a: "x\\/y""#, "{.a}"), r"x\/y");
        assert_eq!(read(r"a: 'x\/y'", "{.a}"), r"x\/y");
        assert_eq!(read("a: [2001:db8::, b]", "{.a}"), r#"["2001:db8::","b"]"#);
        assert_eq!(read("a: {b: 2001:db8::}", "{.a.b}"), "2001:db8::");
        assert_eq!(render("a: b: c", "{.a}"), None);
    }
}
