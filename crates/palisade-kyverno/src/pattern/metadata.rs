//! Kyverno's `wildcards.ExpandInMetadata`: wildcard keys under a pattern's `metadata.labels` and
//! `metadata.annotations` are replaced by the resource key they match, before the map is checked.
//!
//! Kyverno rewrites the pattern in place, so the rewrite stays for the rest of the evaluation
//! (later list elements see the keys expanded for the first), and the rewritten labels keep only
//! the entries whose value is a string. Both matter for results and are reproduced.

use super::anchor;
use crate::wildcard;
use serde_json::{Map, Value};

const EXPANDED_TAGS: [&str; 2] = ["labels", "annotations"];

pub(super) fn expand_wildcard_keys(pattern: &mut Map<String, Value>, resource: &Map<String, Value>) {
    let Some(resource_metadata) = resource.get("metadata").filter(|v| !v.is_null()) else {
        return;
    };
    let Some(Value::Object(pattern_metadata)) = tagged_value_mut(pattern, "metadata") else {
        return;
    };
    for tag in EXPANDED_TAGS {
        let Some((pattern_key, pattern_entries)) = string_entries(pattern_metadata, tag) else {
            continue;
        };
        let Some((_, resource_entries)) = resource_metadata.as_object().and_then(|m| string_entries(m, tag)) else {
            continue;
        };
        let expanded = expand_keys(pattern_entries, &resource_entries);
        pattern_metadata.insert(pattern_key, Value::Object(expanded));
    }
}

/// Kyverno's `getPatternValue`: the key itself or an anchor on it. Go takes whichever its map
/// iteration meets first; this takes the first in the map's order.
fn tagged_key<'a>(map: &'a Map<String, Value>, tag: &str) -> Option<&'a String> {
    map.iter()
        .find(|(key, _)| key.as_str() == tag || anchor::parse(key).is_some_and(|a| a.key == tag))
        .filter(|(_, value)| !value.is_null())
        .map(|(key, _)| key)
}

fn tagged_value_mut<'a>(map: &'a mut Map<String, Value>, tag: &str) -> Option<&'a mut Value> {
    let key = tagged_key(map, tag)?.clone();
    map.get_mut(&key)
}

/// Kyverno's `getValueAsStringMap`: the tag's key and its string-valued entries.
fn string_entries(map: &Map<String, Value>, tag: &str) -> Option<(String, Vec<(String, String)>)> {
    let key = tagged_key(map, tag)?;
    let entries = map.get(key)?.as_object()?;
    let strings = entries.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect();
    Some((key.clone(), strings))
}

/// Kyverno's `replaceWildcardsInMapKeys`: a wildcard key becomes the first resource key it
/// matches (Go: a random one of them), keeping its anchor; other keys stay as they are.
fn expand_keys(pattern: Vec<(String, String)>, resource: &[(String, String)]) -> Map<String, Value> {
    let first_match = |wildcard_key: &str| {
        resource.iter().map(|(k, _)| k.as_str()).find(|k| wildcard::matches(wildcard_key, k)).map(str::to_string)
    };
    let mut expanded = Map::new();
    for (key, value) in pattern {
        let key = if !wildcard::contains_wildcard(&key) {
            key
        } else if let Some(anchored) = anchor::parse(&key) {
            let matched = first_match(anchored.key).unwrap_or_else(|| anchored.key.to_string());
            anchor::render(anchored.kind, &matched)
        } else {
            first_match(&key).unwrap_or(key)
        };
        expanded.insert(key, Value::String(value));
    }
    expanded
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn expanded(pattern: Value, resource: Value) -> Value {
        let (Value::Object(mut pattern), Value::Object(resource)) = (pattern, resource) else {
            panic!("maps expected");
        };
        expand_wildcard_keys(&mut pattern, &resource);
        Value::Object(pattern)
    }

    #[test]
    fn wildcard_keys_take_the_matching_resource_key() {
        let pattern = json!({"metadata": {"labels": {"app*": "web", "=(tier?)": "x", "plain": "y"}, "annotations": {"a/*": "1"}}});
        let resource = json!({"metadata": {"labels": {"application": "web", "tier1": "x"}, "annotations": {"a/b": "1"}}});
        assert_eq!(
            expanded(pattern, resource),
            json!({"metadata": {"labels": {"application": "web", "=(tier1)": "x", "plain": "y"}, "annotations": {"a/b": "1"}}})
        );
    }

    #[test]
    fn unmatched_wildcards_stay_and_non_strings_are_dropped() {
        let pattern = json!({"metadata": {"labels": {"foo/X*": "bar", "count": 3, "nested": {"a": "b"}}}});
        let resource = json!({"metadata": {"labels": {"other": "bar"}}});
        assert_eq!(expanded(pattern, resource), json!({"metadata": {"labels": {"foo/X*": "bar"}}}));
    }

    // TestExpandInMetadata and TestGetValueAsStringMap_NilHandling of kyverno/kyverno
    // 111e07bbecc66abfde36ab99969af22d7a961003 pkg/engine/wildcards/wildcards_test.go (Apache-2.0).
    #[test]
    fn expand_keys_kyverno_table() {
        let pair = |(k, v): (&str, &str)| vec![(k.to_string(), v.to_string())];
        let cases = [
            (("test/*", "*"), ("test/test", "test"), json!({"test/test": "*"})),
            (("=(test/*)", "test"), ("test/test", "test"), json!({"=(test/test)": "test"})),
            (("test/*", "*"), ("test/test1", "test1"), json!({"test/test1": "*"})),
        ];
        for (pattern, resource, expected) in cases {
            assert_eq!(Value::Object(expand_keys(pair(pattern), &pair(resource))), expected);
        }
    }

    #[test]
    fn string_entries_kyverno_table() {
        let cases: [(Value, Option<(&str, Value)>); 7] = [
            (json!({"otherKey": "value"}), None),
            (json!({"test": null}), None),
            (json!({"test": "not a map"}), None),
            (json!({"test": {"key1": "value1", "key2": null, "key3": "value3"}}), Some(("test", json!({"key1": "value1", "key3": "value3"})))),
            (json!({"test": {"key1": "value1", "key2": 123, "key3": {"nested": "value"}, "key4": "value4"}}), Some(("test", json!({"key1": "value1", "key4": "value4"})))),
            (json!({"test": {"key1": "value1", "key2": "value2"}}), Some(("test", json!({"key1": "value1", "key2": "value2"})))),
            (json!({"=(test)": {"key1": "value1"}}), Some(("=(test)", json!({"key1": "value1"})))),
        ];
        for (data, expected) in cases {
            let Value::Object(data) = data else { panic!("map expected") };
            let found = string_entries(&data, "test").map(|(key, entries)| {
                (key, Value::Object(entries.into_iter().map(|(k, v)| (k, Value::String(v))).collect()))
            });
            assert_eq!(found, expected.map(|(key, entries)| (key.to_string(), entries)));
        }
    }

    // TestExpandInMetadata_NilSafety and TestJMESPathNil of the same file: values that are
    // null or maps are dropped from the rewritten labels and annotations.
    #[test]
    fn null_and_map_values_kyverno_table() {
        let resource = json!({"metadata": {"annotations": {"real-key": "real-value"}}});
        for annotation in [json!(null), json!({"nested": "value"})] {
            let pattern = json!({"metadata": {"annotations": {"some-key": annotation}}});
            assert_eq!(expanded(pattern, resource.clone()), json!({"metadata": {"annotations": {}}}));
        }
        let pattern = json!({"metadata": {
            "labels": {"normal": "value", "nil-value": null},
            "annotations": {"another-normal": "value", "complex-value": {"nested": "value"}},
        }});
        let resource = json!({"metadata": {"labels": {"app": "test"}, "annotations": {"test": "value"}}});
        assert_eq!(
            expanded(pattern, resource),
            json!({"metadata": {"labels": {"normal": "value"}, "annotations": {"another-normal": "value"}}})
        );
    }

    #[test]
    fn nothing_changes_without_resource_labels() {
        let pattern = json!({"metadata": {"labels": {"app*": 1}}});
        assert_eq!(expanded(pattern.clone(), json!({"metadata": {"name": "x"}})), pattern);
        assert_eq!(expanded(pattern.clone(), json!({"spec": {}})), pattern);
    }
}
