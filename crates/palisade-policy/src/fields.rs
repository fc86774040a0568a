//! Reading configuration and policy documents from positioned nodes, with errors that name the
//! file, line and column of the offending field.

use std::sync::Arc;

use palisade_core::{InputError, Map, Node, Value};

/// Reads fields of documents from one file.
#[derive(Clone)]
pub(crate) struct Reader {
    pub file: Arc<str>,
}

impl Reader {
    pub fn new(file: &str) -> Self {
        Self { file: Arc::from(file) }
    }

    pub fn error(&self, node: &Node, message: String) -> InputError {
        InputError { file: self.file.clone(), line: node.mark.line, column: node.mark.column, message }
    }

    pub fn map<'n>(&self, node: &'n Node, what: &str) -> Result<&'n Map, InputError> {
        node.as_map().ok_or_else(|| self.error(node, format!("{what} must be a mapping")))
    }

    /// Fails on keys outside `known`, so that typos do not silently disable settings.
    pub fn known_keys(&self, map: &Map, known: &[&str], what: &str) -> Result<(), InputError> {
        match map.entries().iter().find(|entry| !known.contains(&&*entry.key)) {
            None => Ok(()),
            Some(entry) => Err(InputError {
                file: self.file.clone(),
                line: entry.key_mark.line,
                column: entry.key_mark.column,
                message: format!("unknown key `{}` in {what} (expected one of: {})", entry.key, known.join(", ")),
            }),
        }
    }

    pub fn string(&self, node: &Node, what: &str) -> Result<String, InputError> {
        match &node.value {
            Value::Str(text) => Ok(text.to_string()),
            Value::Int(number) => Ok(number.to_string()),
            _ => Err(self.error(node, format!("{what} must be a string"))),
        }
    }

    /// A list of strings; a single string counts as a list of one.
    pub fn strings(&self, node: &Node, what: &str) -> Result<Vec<String>, InputError> {
        match &node.value {
            Value::Seq(items) => items.iter().map(|item| self.string(item, what)).collect(),
            Value::Null => Ok(Vec::new()),
            _ => Ok(vec![self.string(node, what)?]),
        }
    }

    pub fn int(&self, node: &Node, what: &str) -> Result<i64, InputError> {
        node.as_i64().ok_or_else(|| self.error(node, format!("{what} must be an integer")))
    }

    pub fn bool(&self, node: &Node, what: &str) -> Result<bool, InputError> {
        node.as_bool().ok_or_else(|| self.error(node, format!("{what} must be true or false")))
    }
}

/// Reads `path` as one YAML document.
pub(crate) fn read_document(path: &std::path::Path) -> Result<(Reader, Node), InputError> {
    let display = path.display().to_string();
    let reader = Reader::new(&display);
    let text = std::fs::read_to_string(path).map_err(|error| InputError {
        file: reader.file.clone(),
        line: 0,
        column: 0,
        message: format!("cannot read: {error}"),
    })?;
    let node = parse_single(&reader, &text)?;
    Ok((reader, node))
}

pub(crate) fn parse_single(reader: &Reader, text: &str) -> Result<Node, InputError> {
    let mut documents = palisade_load::yaml::parse_documents(text, &palisade_load::Limits::default());
    if documents.len() > 1 {
        return Err(InputError { file: reader.file.clone(), line: 0, column: 0, message: "expected one YAML document".into() });
    }
    match documents.pop().map(|document| document.result) {
        None => Ok(Node::new(Value::Map(Map::new()), Default::default())),
        Some(Ok(node)) => Ok(node),
        Some(Err(error)) => Err(InputError {
            file: reader.file.clone(),
            line: error.line,
            column: error.column,
            message: error.message,
        }),
    }
}
