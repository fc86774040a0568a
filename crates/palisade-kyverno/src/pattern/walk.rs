//! The pattern walk: Kyverno's `validateResourceElement`, `validateMap`, `validateArray`,
//! `validateArrayOfMaps` and the anchor handlers, with their paths and error texts.
//!
//! Kyverno decides skip versus fail by looking for anchor error texts inside error messages, so
//! the messages are reproduced word for word and classified the same way.

use super::anchor::{self, Anchor, AnchorKind};
use super::{gofmt, metadata, value, Failure, Outcome};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, VecDeque};

/// Deeper input is refused instead of walked: the walk recurses once per pattern level (a few
/// frames each) and error messages render resource values recursively. Kubernetes objects are
/// a few dozen levels deep, and palisade's loaders stop at 200.
const MAX_NESTING: usize = 256;

static NULL: Value = Value::Null;

pub(super) fn match_pattern(resource: &Value, pattern: &Value) -> Outcome {
    if nesting_depth(resource) > MAX_NESTING || nesting_depth(pattern) > MAX_NESTING {
        return Outcome::Fail(Failure {
            path: String::new(),
            message: format!("resource or pattern nested deeper than {MAX_NESTING} levels is not evaluated"),
        });
    }
    // Kyverno rewrites wildcard metadata keys in the pattern as it goes.
    let mut pattern = pattern.clone();
    let mut walk = Walk::default();
    let Err(error) = walk.element(resource, &mut pattern, "/") else {
        return Outcome::Pass;
    };
    if error.is_skip() {
        return Outcome::Skip(error.message);
    }
    let path = if !error.is(AnchorError::Negation) && walk.anchor_keys_missing() { String::new() } else { error.path };
    Outcome::Fail(Failure { path, message: error.message })
}

/// The deepest chain of arrays and maps, counted without recursion.
fn nesting_depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(value, 0)];
    while let Some((value, depth)) = pending.pop() {
        deepest = deepest.max(depth);
        match value {
            Value::Array(items) => pending.extend(items.iter().map(|item| (item, depth + 1))),
            Value::Object(map) => pending.extend(map.values().map(|item| (item, depth + 1))),
            _ => {}
        }
    }
    deepest
}

/// The three anchor errors Kyverno tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnchorError {
    Conditional,
    Global,
    Negation,
}

impl AnchorError {
    fn text(self) -> &'static str {
        match self {
            AnchorError::Conditional => "conditional anchor mismatch",
            AnchorError::Global => "global anchor mismatch",
            AnchorError::Negation => "negation anchor matched in resource",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ErrorKind {
    /// A plain Go error.
    Plain,
    /// Kyverno's typed anchor error (`validateAnchorError`).
    Anchor(AnchorError),
    /// Kyverno's `PatternError` with `Skip` set, gathering the skips of a map or list.
    Skipped,
}

#[derive(Debug, Clone)]
struct WalkError {
    path: String,
    message: String,
    kind: ErrorKind,
}

type Walked = Result<(), WalkError>;

impl WalkError {
    fn plain(path: &str, message: String) -> WalkError {
        WalkError { path: path.to_string(), message, kind: ErrorKind::Plain }
    }

    fn anchor(which: AnchorError, path: String, detail: &str) -> WalkError {
        WalkError { path, message: format!("{}: {detail}", which.text()), kind: ErrorKind::Anchor(which) }
    }

    /// Kyverno's `anchor.isError`: a typed anchor error by its type, anything else by its text.
    fn is(&self, which: AnchorError) -> bool {
        match self.kind {
            ErrorKind::Anchor(kind) => kind == which,
            ErrorKind::Plain | ErrorKind::Skipped => self.message.contains(which.text()),
        }
    }

    fn is_skip(&self) -> bool {
        self.is(AnchorError::Conditional) || self.is(AnchorError::Global)
    }

    /// Kyverno's `PatternError{Skip: true}` joining skips (multierr's `; `).
    fn skipped(path: &str, skips: &[WalkError]) -> WalkError {
        let message = skips.iter().map(|skip| skip.message.as_str()).collect::<Vec<_>>().join("; ");
        WalkError { path: path.to_string(), message, kind: ErrorKind::Skipped }
    }
}

/// One evaluation's state: Kyverno's `AnchorMap`, whether each conditional, existence and
/// negation anchor key was ever found in the resource.
#[derive(Default)]
struct Walk {
    anchor_keys_seen: BTreeMap<String, bool>,
}

impl Walk {
    fn element(&mut self, resource: &Value, pattern: &mut Value, path: &str) -> Walked {
        match pattern {
            Value::Object(pattern) => self.object(resource, pattern, path),
            Value::Array(pattern) => {
                let Value::Array(items) = resource else {
                    return Err(WalkError::plain(
                        path,
                        format!("validation rule failed at path {path}, resource does not satisfy the expected overlay pattern"),
                    ));
                };
                self.array(resource, items, pattern, path)
            }
            scalar => scalar_element(resource, scalar, path),
        }
    }

    fn object(&mut self, resource: &Value, pattern: &mut Map<String, Value>, path: &str) -> Walked {
        let Value::Object(resource) = resource else {
            return Err(WalkError::plain(
                path,
                format!(
                    "pattern and resource have different structures. Path: {path}. Expected map[string]interface {{}}, found {}",
                    gofmt::type_name(resource)
                ),
            ));
        };
        self.record_anchor_keys(pattern, resource);
        self.map(resource, pattern, path)
    }

    /// Kyverno's `CheckAnchorInResource`.
    fn record_anchor_keys(&mut self, pattern: &Map<String, Value>, resource: &Map<String, Value>) {
        for key in pattern.keys() {
            let Some(anchor) = anchor::parse(key) else { continue };
            if !matches!(anchor.kind, AnchorKind::Condition | AnchorKind::Existence | AnchorKind::Negation) {
                continue;
            }
            let seen = self.anchor_keys_seen.entry(key.clone()).or_insert(false);
            *seen |= resource.contains_key(anchor.key);
        }
    }

    /// Kyverno's `KeysAreMissing`; an absent negated key is what the negation asked for.
    fn anchor_keys_missing(&self) -> bool {
        self.anchor_keys_seen
            .iter()
            .any(|(key, seen)| !seen && !anchor::parse(key).is_some_and(|a| a.kind == AnchorKind::Negation))
    }

    /// Anchors first, in key order; a skipping anchor makes later failing anchors moot. Then the
    /// other keys, those that hold anchors (and global anchors) first.
    fn map(&mut self, resource: &Map<String, Value>, pattern: &mut Map<String, Value>, path: &str) -> Walked {
        metadata::expand_wildcard_keys(pattern, resource);
        let (mut anchored, plain): (Vec<String>, Vec<String>) = pattern
            .keys()
            .cloned()
            .partition(|key| anchor::parse(key).is_some_and(|a| a.kind.is_evaluated_first()));
        anchored.sort();

        let mut skips: Vec<WalkError> = Vec::new();
        let mut applied = 0;
        for key in &anchored {
            let Some(value) = pattern.get_mut(key) else { continue };
            match self.key(resource, key, value, path) {
                Ok(()) => applied += 1,
                Err(error) if error.is_skip() => skips.push(error),
                Err(error) if !has_anchor_skip(&skips) => return Err(error),
                Err(_) => {}
            }
        }
        if !skips.is_empty() && (applied == 0 || has_anchor_skip(&skips)) {
            return Err(WalkError::skipped(path, &skips));
        }

        for key in plain_keys_in_kyverno_order(plain, pattern) {
            let Some(value) = pattern.get_mut(&key) else { continue };
            self.key(resource, &key, value, path)?;
        }
        Ok(())
    }

    /// Kyverno's `CreateElementHandler(...).Handle(...)`.
    fn key(&mut self, resource: &Map<String, Value>, key: &str, pattern: &mut Value, path: &str) -> Walked {
        match anchor::parse(key) {
            Some(anchor @ Anchor { kind: AnchorKind::Condition, .. }) => self.conditional(resource, anchor, pattern, path),
            Some(anchor @ Anchor { kind: AnchorKind::Global, .. }) => self.global(resource, anchor, pattern, path),
            Some(anchor @ Anchor { kind: AnchorKind::Existence, .. }) => self.existence(resource, anchor, pattern, path),
            Some(anchor @ Anchor { kind: AnchorKind::Equality, .. }) => self.equality(resource, anchor, pattern, path),
            Some(anchor @ Anchor { kind: AnchorKind::Negation, .. }) => negation(resource, anchor, path),
            // `+(key)` has no validation handler: Kyverno looks the key up literally.
            Some(Anchor { kind: AnchorKind::AddIfNotPresent, .. }) | None => self.plain_key(resource, key, pattern, path),
        }
    }

    fn plain_key(&mut self, resource: &Map<String, Value>, key: &str, pattern: &mut Value, path: &str) -> Walked {
        let value = resource.get(key).unwrap_or(&NULL);
        if pattern.as_str() == Some("*") {
            if value.is_null() {
                return Err(WalkError::plain(path, format!("{path}/{key} not found")));
            }
            return Ok(());
        }
        self.element(value, pattern, &format!("{path}{key}/"))
    }

    fn conditional(&mut self, resource: &Map<String, Value>, anchor: Anchor, pattern: &mut Value, path: &str) -> Walked {
        let anchor_path = format!("{path}{}/", anchor.key);
        let Some(value) = resource.get(anchor.key) else {
            return Err(WalkError::anchor(
                AnchorError::Conditional,
                anchor_path,
                "conditional anchor key doesn't exist in the resource",
            ));
        };
        self.element(value, pattern, &anchor_path)
            .map_err(|error| WalkError::anchor(AnchorError::Conditional, error.path, &error.message))
    }

    fn global(&mut self, resource: &Map<String, Value>, anchor: Anchor, pattern: &mut Value, path: &str) -> Walked {
        let Some(value) = resource.get(anchor.key) else { return Ok(()) };
        self.element(value, pattern, &format!("{path}{}/", anchor.key))
            .map_err(|error| WalkError::anchor(AnchorError::Global, error.path, &error.message))
    }

    fn equality(&mut self, resource: &Map<String, Value>, anchor: Anchor, pattern: &mut Value, path: &str) -> Walked {
        let Some(value) = resource.get(anchor.key) else { return Ok(()) };
        self.element(value, pattern, &format!("{path}{}/", anchor.key))
    }

    /// Every map in the pattern list must match at least one element of the resource list.
    fn existence(&mut self, resource: &Map<String, Value>, anchor: Anchor, pattern: &mut Value, path: &str) -> Walked {
        let Some(value) = resource.get(anchor.key) else { return Ok(()) };
        let anchor_path = format!("{path}{}/", anchor.key);
        let Value::Array(items) = value else {
            return Err(WalkError::plain(
                &anchor_path,
                format!(
                    "invalid resource type {}: Existence ^ () anchor can be used only on list/array type resource",
                    gofmt::type_name(value)
                ),
            ));
        };
        let pattern_type = gofmt::type_name(pattern);
        let Value::Array(required) = pattern else {
            return Err(WalkError::plain(
                &anchor_path,
                format!("invalid pattern type {pattern_type}: Pattern has to be of list to compare against resource"),
            ));
        };
        for wanted in required.iter_mut() {
            let Value::Object(wanted) = wanted else {
                return Err(WalkError::plain(
                    &anchor_path,
                    format!("invalid pattern type {pattern_type}: Pattern has to be of type map to compare against items in resource"),
                ));
            };
            let found = items.iter().enumerate().any(|(i, item)| self.object(item, wanted, &format!("{anchor_path}{i}/")).is_ok());
            if !found {
                return Err(WalkError::plain(&anchor_path, format!("existence anchor validation failed at path {anchor_path}")));
            }
        }
        Ok(())
    }

    /// A list pattern is read by its first element: a map applies to every resource element, a
    /// scalar to every resource value, a nested list pairs elements up by position.
    fn array(&mut self, resource: &Value, items: &[Value], pattern: &mut [Value], path: &str) -> Walked {
        match pattern.first_mut() {
            None => Err(WalkError::plain(path, "pattern Array empty".to_string())),
            Some(Value::Object(each)) => self.array_of_maps(items, each, path),
            Some(Value::Array(_)) => self.array_by_position(items, pattern, path),
            Some(scalar) => scalar_element(resource, scalar, path),
        }
    }

    fn array_of_maps(&mut self, items: &[Value], each: &mut Map<String, Value>, path: &str) -> Walked {
        let mut tally = ElementTally::default();
        for (i, item) in items.iter().enumerate() {
            tally.record(self.object(item, each, &format!("{path}{i}/")))?;
        }
        tally.finish(path)
    }

    fn array_by_position(&mut self, items: &[Value], pattern: &mut [Value], path: &str) -> Walked {
        if items.len() < pattern.len() {
            return Err(WalkError::plain(
                "",
                format!(
                    "validate Array failed, array length mismatch, resource Array len is {} and pattern Array len is {}",
                    items.len(),
                    pattern.len()
                ),
            ));
        }
        let mut tally = ElementTally::default();
        for (i, (item, wanted)) in items.iter().zip(pattern.iter_mut()).enumerate() {
            tally.record(self.element(item, wanted, &format!("{path}{i}/")))?;
        }
        tally.finish(path)
    }
}

/// List elements checked one by one: every element must match, except that an element whose
/// conditions skip is left out; if every element skips, the list skips.
#[derive(Default)]
struct ElementTally {
    applied: usize,
    skips: Vec<WalkError>,
}

impl ElementTally {
    fn record(&mut self, result: Walked) -> Walked {
        match result {
            Ok(()) => self.applied += 1,
            Err(error) if error.is_skip() => self.skips.push(error),
            Err(error) => return Err(error),
        }
        Ok(())
    }

    fn finish(self, path: &str) -> Walked {
        if self.applied == 0 && !self.skips.is_empty() {
            return Err(WalkError::skipped(path, &self.skips));
        }
        Ok(())
    }
}

/// Whether a skip came from an anchor of this very map rather than from deeper down.
fn has_anchor_skip(skips: &[WalkError]) -> bool {
    skips.iter().any(|skip| skip.kind != ErrorKind::Skipped)
}

fn negation(resource: &Map<String, Value>, anchor: Anchor, path: &str) -> Walked {
    if !resource.contains_key(anchor.key) {
        return Ok(());
    }
    let anchor_path = format!("{path}{}/", anchor.key);
    let detail = format!("{anchor_path} is not allowed");
    Err(WalkError::anchor(AnchorError::Negation, anchor_path, &detail))
}

/// A scalar pattern against a value, or against every value of a list.
fn scalar_element(resource: &Value, pattern: &Value, path: &str) -> Walked {
    let satisfied = match resource {
        Value::Array(items) => items.iter().all(|item| value::matches(item, pattern)),
        single => value::matches(single, pattern),
    };
    if satisfied {
        return Ok(());
    }
    Err(WalkError::plain(
        path,
        format!("resource value '{}' does not match '{}' at path {path}", gofmt::display(resource), gofmt::display(pattern)),
    ))
}

/// Kyverno's `getSortedNestedAnchorResource`: sorted, but global anchors and keys whose pattern
/// holds anchors are moved to the front, each in front of the previous one.
fn plain_keys_in_kyverno_order(mut keys: Vec<String>, pattern: &Map<String, Value>) -> VecDeque<String> {
    keys.sort();
    let mut ordered = VecDeque::with_capacity(keys.len());
    for key in keys {
        let global = anchor::parse(&key).is_some_and(|a| a.kind == AnchorKind::Global);
        if global || pattern.get(&key).is_some_and(has_nested_anchors) {
            ordered.push_front(key);
        } else {
            ordered.push_back(key);
        }
    }
    ordered
}

/// Kyverno's `hasNestedAnchors`: any key below that is a condition, existence, equality,
/// negation or global anchor.
fn has_nested_anchors(pattern: &Value) -> bool {
    match pattern {
        Value::Object(map) => map.iter().any(|(key, value)| {
            anchor::parse(key).is_some_and(|a| a.kind != AnchorKind::AddIfNotPresent) || has_nested_anchors(value)
        }),
        Value::Array(items) => items.iter().any(has_nested_anchors),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    //! Internal tables of kyverno/kyverno 111e07bbecc66abfde36ab99969af22d7a961003
    //! pkg/engine/validate/utils_test.go and pkg/engine/anchor/anchormap_test.go (Apache-2.0).
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_anchors_kyverno_table() {
        let cases = [
            (json!({}), false),
            (json!({"metadata": {"name": "test"}}), false),
            (json!({"(metadata)": {"name": "test"}}), true),
            (json!({"^(containers)": [{"name": "test"}]}), true),
            (json!({"=(metadata)": {"name": "test"}}), true),
            (json!({"X(badField)": "value"}), true),
            (json!({"<(globalRef)": "value"}), true),
            (json!({"spec": {"template": {"(containers)": [{"name": "test"}]}}}), true),
            (json!([{"name": "test"}, {"name": "test2"}]), false),
            (json!([{"(name)": "test"}]), true),
            (json!("test"), false),
            (json!(42), false),
            (json!(2.5), false),
            (json!(true), false),
            (json!(null), false),
            (json!({"+(added)": "value"}), false),
        ];
        for (pattern, expected) in cases {
            assert_eq!(has_nested_anchors(&pattern), expected, "{pattern}");
        }
    }

    fn ordered(pattern: Value) -> Vec<String> {
        let Value::Object(map) = pattern else { panic!("map expected") };
        plain_keys_in_kyverno_order(map.keys().cloned().collect(), &map).into_iter().collect()
    }

    #[test]
    fn plain_key_order_kyverno_table() {
        assert!(ordered(json!({})).is_empty());
        assert_eq!(ordered(json!({"gamma": "value3", "alpha": "value1", "beta": "value2"})), ["alpha", "beta", "gamma"]);
        assert_eq!(ordered(json!({"zeta": "value1", "alpha": {"(anchor)": "nestedValue"}, "beta": "value2"}))[0], "alpha");
        assert_eq!(ordered(json!({"zeta": "value1", "<(globalRef)": "globalValue", "alpha": "value2"}))[0], "<(globalRef)");
        // Each key moved to the front lands before the ones moved earlier.
        assert_eq!(ordered(json!({"a": {"(x)": 1}, "b": {"(y)": 1}, "c": 1})), ["b", "a", "c"]);
    }

    #[test]
    fn missing_anchor_keys_kyverno_table() {
        let walk = |seen: &[(&str, bool)]| Walk {
            anchor_keys_seen: seen.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        };
        assert!(!walk(&[]).anchor_keys_missing());
        assert!(walk(&[("a", true), ("b", false)]).anchor_keys_missing());
        assert!(!walk(&[("a", true), ("b", true)]).anchor_keys_missing());
        assert!(!walk(&[("X(a)", false)]).anchor_keys_missing());
    }

    // pkg/engine/anchor/error_test.go: the texts of the anchor errors, and that a typed anchor
    // error is recognised by its type while any other error is recognised by its text.
    #[test]
    fn anchor_errors_kyverno_table() {
        use AnchorError::*;
        for (which, text) in [
            (Negation, "negation anchor matched in resource: test"),
            (Conditional, "conditional anchor mismatch: test"),
            (Global, "global anchor mismatch: test"),
        ] {
            assert_eq!(WalkError::anchor(which, String::new(), "test").message, text);
            assert_eq!(WalkError::anchor(which, String::new(), "").message, format!("{}: ", which.text()));
        }
        for which in [Negation, Conditional, Global] {
            let plain = WalkError::plain("", format!("{}: test", which.text()));
            for other in [Negation, Conditional, Global] {
                assert_eq!(WalkError::anchor(other, String::new(), "test").is(which), other == which);
                assert_eq!(plain.is(other), other == which);
            }
        }
        // A typed error is not re-read by its text.
        let wrapped = WalkError::anchor(Conditional, String::new(), "negation anchor matched in resource: x");
        assert!(!wrapped.is(Negation));
        assert!(WalkError::skipped("", std::slice::from_ref(&wrapped)).is(Negation));
    }

    #[test]
    fn nesting_depth_counts_without_recursion() {
        let mut deep = json!("leaf");
        for _ in 0..10_000 {
            deep = Value::Array(vec![deep]);
        }
        assert_eq!(nesting_depth(&deep), 10_000);
        assert!(matches!(match_pattern(&deep, &json!({})), Outcome::Fail(Failure { ref path, .. }) if path.is_empty()));
        // Dropping a value this deep recurses in serde_json; unwrap it iteratively.
        while let Value::Array(mut items) = deep {
            deep = items.pop().unwrap_or(Value::Null);
        }
    }
}
