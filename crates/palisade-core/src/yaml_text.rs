//! Block-style YAML for objects Palisade writes for `kubectl apply` (Policy Reports, suggested
//! policies). Every string is a JSON-quoted scalar, which YAML reads as the same string, so no
//! value can change type (`"on"`, `"1.0"`, `"0755"`) on the way; output is stable byte for byte.

use serde_json::Value;

/// `value` as one YAML document, `---` first.
pub fn document(value: &Value) -> String {
    let mut text = String::from("---\n");
    block(value, 0, &mut text);
    text
}

/// Appends `value` as block YAML at `indent`; the caller has written the key or `- `.
fn block(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, value) in map {
                out.push_str(&pad);
                out.push_str(&yaml_key(key));
                out.push(':');
                nested(value, indent, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                match item {
                    // `- key: value` with the mapping's other keys aligned under the first.
                    Value::Object(map) if !map.is_empty() => {
                        let mut lines = String::new();
                        block(item, indent + 2, &mut lines);
                        out.push_str(&pad);
                        out.push_str("- ");
                        out.push_str(&lines[indent + 2..]);
                    }
                    _ => {
                        out.push_str(&pad);
                        out.push('-');
                        nested(item, indent, out);
                    }
                }
            }
        }
        scalar => {
            out.push_str(&pad);
            out.push_str(&scalar.to_string());
            out.push('\n');
        }
    }
}

/// After `key:` or `-`: a scalar or empty collection on the same line, else a nested block.
fn nested(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            block(value, indent + 2, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            block(value, indent + 2, out);
        }
        // JSON text of a scalar, `{}` or `[]` is valid YAML flow text with the same meaning.
        scalar => {
            out.push(' ');
            out.push_str(&scalar.to_string());
            out.push('\n');
        }
    }
}

/// A key made of letters, digits and `-_./` that starts with a letter is plain; anything else
/// is quoted.
fn yaml_key(key: &str) -> String {
    let plain = key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if plain { key.to_owned() } else { Value::from(key).to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_mappings_and_sequences_are_block_style_with_quoted_strings() {
        let value = json!({"metadata": {"name": "web", "labels": {"app.kubernetes.io/name": "on"}}, "spec": {"ports": [{"port": 80, "protocol": "TCP"}, {"port": "53"}], "empty": {}, "none": []}, "9key": true});
        let expected = "---\nmetadata:\n  name: \"web\"\n  labels:\n    app.kubernetes.io/name: \"on\"\nspec:\n  ports:\n    - port: 80\n      protocol: \"TCP\"\n    - port: \"53\"\n  empty: {}\n  none: []\n\"9key\": true\n";
        assert_eq!(document(&value), expected);
    }

    #[test]
    fn sequences_of_scalars_and_of_sequences() {
        let value = json!({"a": ["x", 1, null], "b": [["y"]], "1x": null});
        assert_eq!(document(&value), "---\na:\n  - \"x\"\n  - 1\n  - null\nb:\n  -\n    - \"y\"\n\"1x\": null\n");
    }
}
