//! A small YAML tree for lockfiles, built from libyaml-safer's events with a nesting limit
//! checked before anything deeper is built. Aliases are not expanded (lockfiles have none), so
//! an alias bomb costs nothing; only the first document is read.

use libyaml_safer::{EventData, Parser};

use super::MAX_DEPTH;

/// A YAML node; scalars keep their text (lockfile keys and versions are read as text whatever
/// their YAML type: `lockfileVersion: 5.4` is `"5.4"`).
#[derive(Debug)]
pub(super) enum Node {
    Scalar(String),
    /// Keys and values in file order.
    Mapping(Vec<(Node, Node)>),
    /// A sequence, an alias or an empty document: nothing a lockfile reader looks into.
    Nothing,
}

impl Node {
    pub(super) fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar(text) => Some(text),
            _ => None,
        }
    }

    /// The value under a scalar key of a mapping.
    pub(super) fn get(&self, key: &str) -> Option<&Node> {
        self.entries().find(|(name, _)| name.as_str() == Some(key)).map(|(_, value)| value)
    }

    /// The entries of a mapping (none for other nodes).
    pub(super) fn entries(&self) -> impl Iterator<Item = (&Node, &Node)> {
        let entries: &[(Node, Node)] = match self {
            Node::Mapping(entries) => entries,
            _ => &[],
        };
        entries.iter().map(|(key, value)| (key, value))
    }
}

/// A collection being built.
enum Open {
    Sequence,
    Mapping(Vec<(Node, Node)>, Option<Node>),
}

impl Open {
    fn push(&mut self, node: Node) {
        match self {
            Open::Sequence => {}
            Open::Mapping(entries, key) => match key.take() {
                Some(key) => entries.push((key, node)),
                None => *key = Some(node),
            },
        }
    }

    fn close(self) -> Node {
        match self {
            Open::Sequence => Node::Nothing,
            Open::Mapping(entries, _) => Node::Mapping(entries),
        }
    }
}

/// The first document of `text`; errors name the line and column.
pub(super) fn parse(text: &str) -> Result<Node, String> {
    // libyaml-safer panics on a block scalar that ends the input without a line break: give it one.
    let padded: std::borrow::Cow<'_, str> = if text.ends_with('\n') { text.into() } else { format!("{text}\n").into() };
    std::panic::catch_unwind(|| build(&padded)).unwrap_or_else(|_| Err("the YAML parser failed on this file".to_owned()))
}

fn build(text: &str) -> Result<Node, String> {
    let mut input = text.as_bytes();
    let mut parser = Parser::new();
    parser.set_input_string(&mut input);
    let mut open: Vec<Open> = Vec::new();
    loop {
        let event = parser.parse().map_err(|error| {
            let mark = error.problem_mark().unwrap_or_default();
            format!("line {}, column {}: {}", mark.line + 1, mark.column + 1, error.problem())
        })?;
        let node = match event.data {
            EventData::SequenceStart { .. } | EventData::MappingStart { .. } => {
                if open.len() >= MAX_DEPTH {
                    let mark = event.start_mark;
                    return Err(format!("line {}, column {}: nested deeper than {MAX_DEPTH} levels", mark.line + 1, mark.column + 1));
                }
                open.push(match event.data {
                    EventData::SequenceStart { .. } => Open::Sequence,
                    _ => Open::Mapping(Vec::new(), None),
                });
                continue;
            }
            EventData::SequenceEnd | EventData::MappingEnd => match open.pop() {
                Some(collection) => collection.close(),
                None => return Err("unbalanced YAML events".to_owned()),
            },
            EventData::Scalar { value, .. } => Node::Scalar(value),
            EventData::Alias { .. } => Node::Nothing,
            EventData::DocumentEnd { .. } | EventData::StreamEnd => return Ok(Node::Nothing),
            EventData::StreamStart { .. } | EventData::DocumentStart { .. } => continue,
        };
        match open.last_mut() {
            Some(parent) => parent.push(node),
            None => return Ok(node),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{parse, Node};

    #[test]
    fn scalars_mappings_and_first_document_only() {
        let root = parse("a: 1\nb:\n  c: [x, y]\n  d: &anchor text\n  e: *anchor\n---\nf: 2\n").unwrap();
        assert_eq!(root.get("a").and_then(Node::as_str), Some("1"));
        let b = root.get("b").unwrap();
        assert!(matches!(b.get("c"), Some(Node::Nothing)));
        assert_eq!(b.get("d").and_then(Node::as_str), Some("text"));
        assert!(matches!(b.get("e"), Some(Node::Nothing)));
        assert!(root.get("f").is_none());
    }

    #[test]
    fn a_block_scalar_at_the_end_without_a_line_break_is_read() {
        let root = parse("key: |\n  text").unwrap();
        assert_eq!(root.get("key").and_then(Node::as_str), Some("text\n"));
    }

    #[test]
    fn deep_nesting_is_refused_before_it_is_built() {
        let flow = "[".repeat(100_000);
        assert_eq!(parse(&flow).unwrap_err(), "line 1, column 65: nested deeper than 64 levels");
        let mut block = String::new();
        for depth in 0..100 {
            block.push_str(&" ".repeat(depth));
            block.push_str("k:\n");
        }
        assert!(parse(&block).unwrap_err().contains("nested deeper than 64 levels"));
        let mappings = "{a: ".repeat(100_000);
        assert!(parse(&mappings).unwrap_err().contains("nested deeper than 64 levels"));
    }

    #[test]
    fn an_alias_bomb_costs_nothing() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for level in 1..10 {
            bomb.push_str(&format!("l{level}: &l{level} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n", prev = if level == 1 { "a".to_owned() } else { format!("l{}", level - 1) }));
        }
        assert!(parse(&bomb).is_ok());
    }
}
