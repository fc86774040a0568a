//! `$(path)` references: a string in the document naming another place in the same document,
//! relative (`$(./../name)`) or absolute, optionally after a comparison operator
//! (`$(<=./../limit)`), which is kept in front of the value.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::{Error, traversal};
use super::string_operator::operator_of;
use crate::go;

/// `$(...)` at the start or after a character other than `\`, up to the first space.
static REFERENCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\$\(.[^ ]*\)|[^\\]\$\(.[^ ]*\)").unwrap_or_else(|_| unreachable!("valid regex")));
static ESCAPED_REFERENCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\\\$\(.[^ )]*\)").unwrap_or_else(|_| unreachable!("valid regex")));
/// Resolves every reference of `document` against `document` itself.
pub(super) fn substitute(document: &Value) -> Result<Value, Error> {
    traversal::traverse(document, &mut |text, path| substitute_string(document, text, path).map(Value::String))
}

fn substitute_string(root: &Value, text: &str, path: &str) -> Result<String, Error> {
    let mut value = text.to_owned();
    let found: Vec<String> = REFERENCE.find_iter(text).map(|m| m.as_str().to_owned()).collect();
    for whole in found {
        let (prefix, reference) = if whole.starts_with("$(") {
            ("", whole.as_str())
        } else {
            let first = whole.chars().next().map_or(0, char::len_utf8);
            whole.split_at(first)
        };
        let resolved = resolve(root, reference, path)?;
        match resolved {
            Some(Value::String(resolved)) => value = value.replacen(&whole, &format!("{prefix}{resolved}"), 1),
            Some(_) => return Err(Error::UnresolvedReference { reference: reference.to_owned(), path: path.to_owned() }),
            None => return Err(Error::NilReference { reference: reference.to_owned(), path: path.to_owned() }),
        }
    }
    Ok(ESCAPED_REFERENCE.replace_all(&value, |captures: &regex::Captures<'_>| captures[0][1..].to_owned()).into_owned())
}

/// The value `reference` points at, with its operator in front when it has one.
fn resolve(root: &Value, reference: &str, path: &str) -> Result<Option<Value>, Error> {
    let failed = |message: String| Error::Reference { reference: reference.to_owned(), path: path.to_owned(), message };
    let inner = reference.trim_matches(|c| c == '$' || c == '(' || c == ')');
    let operator = operator_of(inner);
    // Kyverno cuts as many bytes as the operator has, whatever they are.
    let target = inner.get(operator.len()..).unwrap_or("");
    if target.is_empty() {
        return Err(failed("expected path, found empty reference".into()));
    }
    let absolute = if target.starts_with('/') { go::clean_path(target) } else { go::clean_path(&format!("{path}/{target}")) };
    let Some(found) = value_at(root, &absolute) else {
        return Ok(None);
    };
    if operator.is_empty() {
        return Ok(Some(found));
    }
    let text = match &found {
        Value::String(text) => text.clone(),
        // Go's `%f`.
        Value::Number(number) => format!("{:.6}", number.as_f64().unwrap_or(0.0)),
        other => {
            return Err(failed(format!("incorrect expression: operator {operator} does not match with value {}", go::sprint(other))));
        }
    };
    Ok(Some(Value::String(format!("{operator}{text}"))))
}

/// What Kyverno finds at `path` (anchors in the document's keys ignored): a leaf there, or,
/// where the path names an object, one of its keys (Kyverno takes whichever its map iteration
/// visits last; this takes the last in document order).
fn value_at(root: &Value, path: &str) -> Option<Value> {
    let mut found = None;
    visit(root, &mut String::new(), path, &mut found);
    found
}

fn visit(value: &Value, current: &mut String, target: &str, found: &mut Option<Value>) {
    let here = if current.is_empty() { "/".to_owned() } else { current.clone() };
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                if here == target {
                    *found = Some(Value::String(key.clone()));
                }
                let length = current.len();
                current.push('/');
                current.push_str(without_anchor(key));
                visit(item, current, target, found);
                current.truncate(length);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let length = current.len();
                current.push('/');
                current.push_str(&index.to_string());
                visit(item, current, target, found);
                current.truncate(length);
            }
        }
        leaf => {
            if here == target {
                *found = Some(leaf.clone());
            }
        }
    }
}

/// A pattern key without its anchor: `(name)`, `^(name)`, `=(name)`, `X(name)`, `+(name)`,
/// `<(name)` all stand for `name`.
fn without_anchor(key: &str) -> &str {
    let inner = key.strip_prefix(['^', '=', 'X', '+', '<']).unwrap_or(key);
    match inner.strip_prefix('(').and_then(|rest| rest.strip_suffix(')')) {
        Some(name) if !name.is_empty() => name,
        _ => key,
    }
}
