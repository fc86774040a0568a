//! Kyverno's document traversal (pkg/engine/jsonutils): every string leaf and every map key is
//! handed to an action with the JSON-pointer-like path of its place (`/spec/containers/0`, a
//! `/` inside a key written `\/`; a key gets its map's path). A leaf the action turns into an
//! object or array is traversed in turn.

use serde_json::{Map, Value};

use super::Error;

/// `document` with `action(text, path)` applied to its string leaves and keys. A key's action
/// must give a string, or `null` to keep the key.
pub(super) fn traverse(document: &Value, action: &mut impl FnMut(&str, &str) -> Result<Value, Error>) -> Result<Value, Error> {
    walk(document, &mut String::new(), action)
}

fn walk(value: &Value, path: &mut String, action: &mut impl FnMut(&str, &str) -> Result<Value, Error>) -> Result<Value, Error> {
    let replaced;
    let value = match value {
        Value::String(text) => {
            replaced = action(text, path)?;
            &replaced
        }
        other => other,
    };
    match value {
        Value::Object(map) => {
            let mut result = Map::with_capacity(map.len());
            for (key, item) in map {
                let new_key = match action(key, path)? {
                    Value::String(text) => text,
                    Value::Null => key.clone(),
                    _ => return Err(Error::KeyNotString { key: key.clone() }),
                };
                let length = path.len();
                path.push('/');
                path.push_str(&key.replace('/', "\\/"));
                let item = walk(item, path, action)?;
                path.truncate(length);
                result.insert(new_key, item);
            }
            Ok(Value::Object(result))
        }
        Value::Array(items) => {
            let mut result = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                let length = path.len();
                path.push('/');
                path.push_str(&index.to_string());
                result.push(walk(item, path, action)?);
                path.truncate(length);
            }
            Ok(Value::Array(result))
        }
        other => Ok(other.clone()),
    }
}
