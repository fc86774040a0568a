//! Functions over objects and arrays, and decoding JSON or YAML text into them.

use jmespath::Runtime;
use palisade_load::yaml;
use serde_json::{Map, Value};

use super::{Arg, define, failure, integer, string_arg, wrong_type};
use crate::go;

pub(super) fn register(runtime: &mut Runtime) {
    define(runtime, "label_match", &[Arg::Object, Arg::Object], |args| {
        let (Some(Value::Object(selector)), Some(Value::Object(labels))) = (args.first(), args.get(1)) else {
            return Err(wrong_type("label_match", 0, "Object"));
        };
        Ok(Value::Bool(selector.iter().all(|(key, value)| labels.get(key).is_some_and(|label| go::deep_equal(label, value)))))
    });
    define(runtime, "lookup", &[Arg::ObjectOrArray, Arg::StringOrNumber], |args| match (args.first(), args.get(1)) {
        (Some(Value::Object(map)), Some(Value::String(key))) => Ok(map.get(key).cloned().unwrap_or(Value::Null)),
        (Some(Value::Object(_)), _) => Err(wrong_type("lookup", 2, "String")),
        (Some(Value::Array(items)), Some(Value::Number(index))) => {
            let index = integer(index.as_f64().unwrap_or(f64::NAN)).map_err(|error| format!("JMESPath function 'lookup': argument #2: {error}"))?;
            Ok(usize::try_from(index).ok().and_then(|index| items.get(index)).cloned().unwrap_or(Value::Null))
        }
        (Some(Value::Array(_)), _) => Err(wrong_type("lookup", 2, "Number")),
        _ => Err(wrong_type("lookup", 1, "Object or Array")),
    });
    define(runtime, "items", &[Arg::ObjectOrArray, Arg::String, Arg::String], |args| {
        let key_name = string_arg("items", args, 1).map_err(|_| wrong_type("items", 2, "String"))?;
        let value_name = string_arg("items", args, 2).map_err(|_| wrong_type("items", 3, "String"))?;
        let pair = |key: Value, value: &Value| {
            let mut item = Map::new();
            item.insert(key_name.to_owned(), key);
            item.insert(value_name.to_owned(), value.clone());
            Value::Object(item)
        };
        match args.first() {
            Some(Value::Object(map)) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Ok(Value::Array(keys.into_iter().map(|key| pair(Value::String(key.clone()), &map[key])).collect()))
            }
            Some(Value::Array(items)) => {
                Ok(Value::Array(items.iter().enumerate().map(|(index, item)| pair(Value::from(index), item)).collect()))
            }
            _ => Err(wrong_type("items", 1, "Object or Array")),
        }
    });
    define(runtime, "object_from_lists", &[Arg::Array, Arg::Array], |args| {
        let (Some(Value::Array(keys)), Some(Value::Array(values))) = (args.first(), args.get(1)) else {
            return Err(wrong_type("object_from_lists", 1, "Array"));
        };
        let mut object = Map::new();
        for (index, key) in keys.iter().enumerate() {
            let key = match key {
                Value::String(text) => text.clone(),
                Value::Number(number) => go::format_float32(number.as_f64().unwrap_or(0.0)),
                Value::Bool(flag) => flag.to_string(),
                _ => return Err(wrong_type("object_from_lists", 1, "StringArray")),
            };
            object.insert(key, values.get(index).cloned().unwrap_or(Value::Null));
        }
        Ok(Value::Object(object))
    });
    define(runtime, "parse_json", &[Arg::String], |args| {
        serde_json::from_str(string_arg("parse_json", args, 0)?).map_err(|error| error.to_string())
    });
    define(runtime, "parse_yaml", &[Arg::String], |args| parse_yaml(string_arg("parse_yaml", args, 0)?));
}

/// sigs.k8s.io/yaml's `YAMLToJSON`: the first document, read as kubectl reads YAML.
fn parse_yaml(text: &str) -> Result<Value, String> {
    let limits = yaml::Limits::default();
    let Some(chunk) = yaml::split_documents(text).into_iter().find(|chunk| !chunk.text.trim().is_empty()) else {
        return Ok(Value::Null);
    };
    match yaml::parse_chunk(chunk, &limits).result {
        Ok(node) => Ok(node.to_json()),
        Err(error) => Err(failure("parse_yaml", format!("error converting YAML to JSON: yaml: line {}: {}", error.line, error.message))),
    }
}
