//! A JSON-shaped value tree in which every node remembers where it came from.
//!
//! Kubernetes objects are JSON values, whatever syntax they were written in. Findings must point
//! at the offending field, so every node and every mapping key keeps its source position; a field
//! is addressed with a JSON pointer (RFC 6901), the same path that appears in reports.

/// A position in a source file, both numbers 1-based. `Mark::default()` (0:0) means "unknown",
/// as for values that did not come from a file (an AdmissionReview body, a live cluster).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Mark {
    pub line: u32,
    pub column: u32,
}

impl Mark {
    pub const fn new(line: u32, column: u32) -> Self {
        Self { line, column }
    }

    pub const fn is_known(self) -> bool {
        self.line != 0
    }
}

/// One value with its position.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub mark: Mark,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Box<str>),
    Seq(Vec<Node>),
    Map(Map),
}

/// A mapping whose keys keep their order and positions. Kubernetes maps are small, so a vector
/// with linear lookup beats hashing both in speed and memory.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map {
    entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: Box<str>,
    pub key_mark: Mark,
    pub value: Node,
}

impl Map {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(capacity: usize) -> Self {
        Self { entries: Vec::with_capacity(capacity) }
    }

    /// A mapping of `entries` whose keys the caller already made unique (the YAML loader
    /// indexes large mappings itself), without the search per key `insert` makes.
    pub fn from_unique_entries(entries: Vec<Entry>) -> Self {
        Self { entries }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|entry| &entry.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|entry| &*entry.key == key)
    }

    /// Inserts or replaces `key`; a replaced key keeps its place, as JSON decoders do.
    /// Returns the mark of the previous key when there was one.
    pub fn insert(&mut self, key: Box<str>, key_mark: Mark, value: Node) -> Option<Mark> {
        if let Some(existing) = self.entries.iter_mut().find(|entry| entry.key == key) {
            let previous = existing.key_mark;
            existing.key_mark = key_mark;
            existing.value = value;
            return Some(previous);
        }
        self.entries.push(Entry { key, key_mark, value });
        None
    }

    /// Removes `key` and returns its value.
    pub fn take(&mut self, key: &str) -> Option<Node> {
        let index = self.entries.iter().position(|entry| &*entry.key == key)?;
        Some(self.entries.remove(index).value)
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Node)> {
        self.entries.iter().map(|entry| (&*entry.key, &entry.value))
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Node {
    pub const fn new(value: Value, mark: Mark) -> Self {
        Self { value, mark }
    }

    pub const fn null() -> Self {
        Self { value: Value::Null, mark: Mark::new(0, 0) }
    }

    /// The value of `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.get(key)
    }

    /// Follows a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    pub fn as_map(&self) -> Option<&Map> {
        match &self.value {
            Value::Map(map) => Some(map),
            _ => None,
        }
    }

    /// The items of a sequence; empty for anything else (a missing list and an empty one mean
    /// the same to the API server).
    pub fn as_seq(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(flag) => Some(flag),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Int(number) => Some(number),
            Value::Float(number) if number.fract() == 0.0 && number.abs() < 9.0e15 => {
                Some(number as i64)
            }
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The node a JSON pointer (`/spec/containers/0/image`) names, if it exists.
    pub fn pointer(&self, pointer: &str) -> Option<&Node> {
        pointer_tokens(pointer).try_fold(self, |node, token| node.child(&token))
    }

    /// The position that best represents `pointer`: the node itself when it exists, else the
    /// key or node of its deepest existing ancestor (a missing `runAsNonRoot` is reported at
    /// the `securityContext`, or the container, that should have held it).
    pub fn locate(&self, pointer: &str) -> Mark {
        // A tree read from JSON has no positions at all: nothing to walk, and walking would
        // cost a key search per finding in mappings that can hold thousands of keys.
        if !self.mark.is_known() {
            return self.mark;
        }
        let mut node = self;
        let mut mark = self.mark;
        for token in pointer_tokens(pointer) {
            match &node.value {
                Value::Map(map) => match map.entry(&token) {
                    Some(entry) => {
                        mark = if entry.value.mark.is_known() && !is_container(&entry.value) {
                            entry.value.mark
                        } else {
                            entry.key_mark
                        };
                        node = &entry.value;
                    }
                    None => break,
                },
                Value::Seq(items) => match token.parse::<usize>().ok().and_then(|i| items.get(i)) {
                    Some(item) => {
                        mark = item.mark;
                        node = item;
                    }
                    None => break,
                },
                _ => break,
            }
        }
        mark
    }

    fn child(&self, token: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(map) => map.get(token),
            Value::Seq(items) => token.parse::<usize>().ok().and_then(|index| items.get(index)),
            _ => None,
        }
    }

    /// Converts to `serde_json::Value`; non-finite floats become null as in JSON encoders.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as Json;
        match &self.value {
            Value::Null => Json::Null,
            Value::Bool(flag) => Json::Bool(*flag),
            Value::Int(number) => Json::from(*number),
            Value::Float(number) => {
                serde_json::Number::from_f64(*number).map_or(Json::Null, Json::Number)
            }
            Value::Str(text) => Json::String(text.to_string()),
            Value::Seq(items) => Json::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(map) => Json::Object(
                map.entries.iter().map(|e| (e.key.to_string(), e.value.to_json())).collect(),
            ),
        }
    }

    /// Builds a tree from JSON that has no source positions (API responses, admission requests).
    pub fn from_json(json: &serde_json::Value) -> Self {
        use serde_json::Value as Json;
        let value = match json {
            Json::Null => Value::Null,
            Json::Bool(flag) => Value::Bool(*flag),
            Json::Number(number) => match number.as_i64() {
                Some(int) => Value::Int(int),
                None => Value::Float(number.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(text) => Value::Str(text.as_str().into()),
            Json::Array(items) => Value::Seq(items.iter().map(Node::from_json).collect()),
            // serde_json's keys are unique already: pushed without the lookup `insert` makes,
            // which would be quadratic in a mapping's size.
            Json::Object(fields) => Value::Map(Map {
                entries: fields
                    .iter()
                    .map(|(key, value)| Entry { key: key.as_str().into(), key_mark: Mark::default(), value: Node::from_json(value) })
                    .collect(),
            }),
        };
        Node::new(value, Mark::default())
    }
}

fn is_container(node: &Node) -> bool {
    matches!(node.value, Value::Map(_) | Value::Seq(_))
}

impl serde::Serialize for Node {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match &self.value {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(flag) => serializer.serialize_bool(*flag),
            Value::Int(number) => serializer.serialize_i64(*number),
            Value::Float(number) if number.is_finite() => serializer.serialize_f64(*number),
            Value::Float(_) => serializer.serialize_unit(),
            Value::Str(text) => serializer.serialize_str(text),
            Value::Seq(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(map) => {
                let mut out = serializer.serialize_map(Some(map.len()))?;
                for (key, value) in map.iter() {
                    out.serialize_entry(key, value)?;
                }
                out.end()
            }
        }
    }
}

/// Reads JSON (or any self-describing format) straight into a tree without source positions,
/// with no intermediate `serde_json::Value`: an admission request's object is decoded once.
/// A repeated key keeps its first place and takes the last value, as Go's decoder does. Time is
/// linear in the input and memory follows the node count, with no growth slack left over.
impl<'de> serde::Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

/// Mappings up to this size are searched for a repeated key; larger ones get an index.
const LINEAR_KEY_LOOKUP: usize = 16;

impl<'de> serde::de::Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Node, E> {
        Ok(Node::new(Value::Null, Mark::default()))
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Node, E> {
        self.visit_unit()
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        serde::Deserialize::deserialize(deserializer)
    }

    fn visit_bool<E: serde::de::Error>(self, flag: bool) -> Result<Node, E> {
        Ok(Node::new(Value::Bool(flag), Mark::default()))
    }

    fn visit_i64<E: serde::de::Error>(self, number: i64) -> Result<Node, E> {
        Ok(Node::new(Value::Int(number), Mark::default()))
    }

    fn visit_u64<E: serde::de::Error>(self, number: u64) -> Result<Node, E> {
        let value = i64::try_from(number).map_or(Value::Float(number as f64), Value::Int);
        Ok(Node::new(value, Mark::default()))
    }

    fn visit_f64<E: serde::de::Error>(self, number: f64) -> Result<Node, E> {
        Ok(Node::new(Value::Float(number), Mark::default()))
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Node, E> {
        Ok(Node::new(Value::Str(text.into()), Mark::default()))
    }

    fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Node, E> {
        Ok(Node::new(Value::Str(text.into_boxed_str()), Mark::default()))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut access: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = access.next_element::<Node>()? {
            items.push(item);
        }
        items.shrink_to_fit();
        Ok(Node::new(Value::Seq(items), Mark::default()))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<Node, A::Error> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut index: Option<std::collections::HashMap<Box<str>, usize>> = None;
        while let Some(key) = access.next_key::<Box<str>>()? {
            let value = access.next_value::<Node>()?;
            let repeated = match &index {
                Some(index) => index.get(&key).copied(),
                None => entries.iter().position(|entry| entry.key == key),
            };
            if let Some(position) = repeated {
                entries[position].value = value;
                continue;
            }
            if let Some(index) = &mut index {
                index.insert(key.clone(), entries.len());
            }
            entries.push(Entry { key, key_mark: Mark::default(), value });
            if index.is_none() && entries.len() > LINEAR_KEY_LOOKUP {
                index = Some(entries.iter().enumerate().map(|(position, entry)| (entry.key.clone(), position)).collect());
            }
        }
        entries.shrink_to_fit();
        Ok(Node::new(Value::Map(Map { entries }), Mark::default()))
    }
}

/// Splits a JSON pointer into unescaped tokens (`~1` is `/`, `~0` is `~`).
pub fn pointer_tokens(pointer: &str) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
    pointer.split('/').skip(1).map(|token| {
        if token.contains('~') {
            std::borrow::Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
        } else {
            std::borrow::Cow::Borrowed(token)
        }
    })
}

/// Appends one escaped token to a JSON pointer.
pub fn push_pointer_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    if token.contains(['~', '/']) {
        pointer.push_str(&token.replace('~', "~0").replace('/', "~1"));
    } else {
        pointer.push_str(token);
    }
}

/// The pointer to a field `path` (unescaped keys or indices) below the pointer `base`:
/// `pointer_under("/spec", &["containers", "0"])` is `/spec/containers/0`.
pub fn pointer_under(base: &str, path: &[&str]) -> String {
    let mut pointer = String::with_capacity(base.len() + path.iter().map(|t| t.len() + 1).sum::<usize>());
    pointer.push_str(base);
    for token in path {
        push_pointer_token(&mut pointer, token);
    }
    pointer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(value: Value, line: u32) -> Node {
        Node::new(value, Mark::new(line, 5))
    }

    fn sample() -> Node {
        let mut security = Map::new();
        security.insert("privileged".into(), Mark::new(4, 3), leaf(Value::Bool(true), 4));
        let mut container = Map::new();
        container.insert("name".into(), Mark::new(2, 3), leaf(Value::Str("app".into()), 2));
        container.insert(
            "securityContext".into(),
            Mark::new(3, 3),
            Node::new(Value::Map(security), Mark::new(4, 5)),
        );
        let mut root = Map::new();
        root.insert(
            "containers".into(),
            Mark::new(1, 1),
            Node::new(
                Value::Seq(vec![Node::new(Value::Map(container), Mark::new(2, 3))]),
                Mark::new(2, 1),
            ),
        );
        root.insert("a/b~c".into(), Mark::new(5, 1), leaf(Value::Int(7), 5));
        Node::new(Value::Map(root), Mark::new(1, 1))
    }

    #[test]
    fn pointer_finds_nested_values_and_escaped_keys() {
        let root = sample();
        let privileged = root.pointer("/containers/0/securityContext/privileged").unwrap();
        assert_eq!(privileged.as_bool(), Some(true));
        assert_eq!(root.pointer("/a~1b~0c").and_then(Node::as_i64), Some(7));
        assert!(root.pointer("/containers/1").is_none());
        assert!(root.pointer("/containers/x").is_none());
    }

    #[test]
    fn locate_points_at_the_field_or_its_deepest_existing_ancestor() {
        let root = sample();
        assert_eq!(root.locate("/containers/0/securityContext/privileged"), Mark::new(4, 5));
        // A mapping value is reported at its key, where a reader looks for it.
        assert_eq!(root.locate("/containers/0/securityContext"), Mark::new(3, 3));
        assert_eq!(root.locate("/containers/0/securityContext/runAsNonRoot"), Mark::new(3, 3));
        assert_eq!(root.locate("/containers/0/resources/limits"), Mark::new(2, 3));
        assert_eq!(root.locate(""), Mark::new(1, 1));
    }

    #[test]
    fn pointer_building_escapes_tokens() {
        let mut pointer = String::from("/metadata/annotations");
        push_pointer_token(&mut pointer, "container.apparmor.security.beta.kubernetes.io/app");
        assert_eq!(
            pointer,
            "/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1app"
        );
        assert_eq!(pointer_under("/spec", &["containers", "3"]), "/spec/containers/3");
        assert_eq!(pointer_under("/metadata", &["labels", "a/b"]), "/metadata/labels/a~1b");
    }

    #[test]
    fn json_round_trip_keeps_order_and_values() {
        let root = sample();
        let json = root.to_json();
        assert_eq!(
            serde_json::to_string(&json).unwrap(),
            r#"{"containers":[{"name":"app","securityContext":{"privileged":true}}],"a/b~c":7}"#
        );
        assert_eq!(serde_json::to_value(&root).unwrap(), json);
        assert_eq!(Node::from_json(&json).to_json(), json);
    }

    #[test]
    fn insert_replaces_duplicates_in_place_and_reports_them() {
        let mut map = Map::new();
        assert!(map.insert("a".into(), Mark::new(1, 1), leaf(Value::Int(1), 1)).is_none());
        assert_eq!(
            map.insert("a".into(), Mark::new(2, 1), leaf(Value::Int(2), 2)),
            Some(Mark::new(1, 1))
        );
        assert_eq!(map.len(), 1);
        assert_eq!(map.get("a").and_then(Node::as_i64), Some(2));
        assert_eq!(map.take("a").and_then(|node| node.as_i64()), Some(2));
        assert!(map.is_empty() && map.take("a").is_none());
    }

    #[test]
    fn deserializing_reads_json_as_from_json_does_and_keeps_the_last_of_repeated_keys() {
        let text = r#"{"s":"x","i":-3,"u":18446744073709551615,"f":1.5,"b":false,"n":null,"seq":[1,[2],{}],"m":{"k":"v"}}"#;
        let direct: Node = serde_json::from_str(text).unwrap();
        assert_eq!(direct, Node::from_json(&serde_json::from_str(text).unwrap()));
        assert_eq!(direct.pointer("/u").map(|node| &node.value), Some(&Value::Float(u64::MAX as f64)));

        let small: Node = serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(serde_json::to_string(&small).unwrap(), r#"{"a":3,"b":2}"#);
        // Past the linear-lookup size the index takes over, with the same result.
        let keys: Vec<String> = (0..40).map(|key| format!(r#""k{key}":{key}"#)).collect();
        let large: Node = serde_json::from_str(&format!(r#"{{{},"k3":"last","k39":"end"}}"#, keys.join(","))).unwrap();
        let map = large.as_map().unwrap();
        assert_eq!(map.len(), 40);
        assert_eq!(map.entries()[3].key.as_ref(), "k3");
        assert_eq!(large.pointer("/k3").and_then(Node::as_str), Some("last"));
        assert_eq!(large.pointer("/k39").and_then(Node::as_str), Some("end"));
    }
}
