//! Verdicts remembered per rule. Once a rule matches a request, its verdict is a function of the
//! parts of the request's context its variables read and of the parts of the resource its
//! patterns reach: requests that agree on all of them get the same response. Pods of one
//! ReplicaSet differ in names and status, which few rules read, so a fleet's pods are judged
//! once per distinct spec instead of once each.
//!
//! What a rule reads is found in the rule itself:
//! - every `{{ }}` variable and `foreach` list is a JMESPath expression whose reads from the
//!   context root are its leading field chains (`request.object.spec.containers[].image` reads
//!   `request.object.spec.containers`); what is evaluated on their results (projections,
//!   filters, pipes, `element`) reads nothing more of the context;
//! - a pattern reaches the resource only through its own keys (anchors stripped); under a key
//!   with a wildcard, or an array pattern of several elements, the whole value is kept;
//! - a `podSecurity` check reads the pod spec and annotations: the resource's `spec` and
//!   `metadata.annotations`.
//!
//! A rule remembers nothing when it loads `context` entries (ConfigMaps, API calls), uses CEL,
//! `$(...)` references, `{{@}}`, a variable inside another, a clock function, or anything this
//! analysis does not know, or when a PolicyException names it. A request remembers nothing when a value read holds `{{`,
//! which substitution would evaluate again.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use jmespath::ast::Ast;
use serde_json::Value;

use crate::engine::RuleResponse;

/// Distinct requests remembered per rule before the memo starts over: a key holds what a rule
/// reads of one object (a pod's containers: a few KiB), so 50 rules stay within about 100 MiB
/// even when every object differs.
const CAPACITY: usize = 512;

/// Functions whose result is not a function of their arguments.
const CLOCKS: &[&str] = &["time_now", "time_now_utc", "time_since", "random"];

/// A rule's remembered responses, by what the rule reads of a request.
#[derive(Debug)]
pub(crate) struct Memo {
    /// Context paths the rule's variables read, none the prefix of another.
    paths: Vec<Vec<String>>,
    /// The patterns that reach the resource.
    patterns: Vec<Value>,
    pod_security: bool,
    responses: Mutex<HashMap<Vec<u8>, Option<RuleResponse>>>,
}

impl Memo {
    /// The memo of the rule `json`, or `None` when its verdicts may depend on more than this
    /// analysis sees.
    pub(crate) fn of(json: &Value) -> Option<Memo> {
        let mut reads = Reads::default();
        let rule = json.as_object()?;
        for (key, value) in rule {
            match key.as_str() {
                "name" | "match" | "exclude" | "skipBackgroundRequests" => {}
                "context" if value.as_array().is_some_and(Vec::is_empty) => {}
                "preconditions" => reads.variables(value)?,
                "validate" => reads.validation(value, true)?,
                _ => return None,
            }
        }
        reads.paths.insert(vec!["request".to_owned(), "operation".to_owned()]);
        let paths = reads.paths.iter().filter(|path| !reads.paths.iter().any(|other| other.len() < path.len() && path.starts_with(other))).cloned().collect();
        Some(Memo { paths, patterns: reads.patterns, pod_security: reads.pod_security, responses: Mutex::new(HashMap::new()) })
    }

    /// The response for a request with this [`Memo::key`]: remembered, or from `evaluate`.
    pub(crate) fn judge(&self, key: Option<Vec<u8>>, evaluate: impl FnOnce() -> Option<RuleResponse>) -> Option<RuleResponse> {
        let Some(key) = key else { return evaluate() };
        if let Some(found) = self.responses.lock().unwrap_or_else(|poison| poison.into_inner()).get(&key) {
            return found.clone();
        }
        let response = evaluate();
        let mut responses = self.responses.lock().unwrap_or_else(|poison| poison.into_inner());
        if responses.len() >= CAPACITY {
            responses.clear();
        }
        responses.insert(key, response.clone());
        response
    }

    /// What the rule reads of a request with `context` and `resource`; `None` when the request
    /// must be evaluated afresh.
    pub(crate) fn key(&self, context: &Value, resource: &Value) -> Option<Vec<u8>> {
        let mut key = Key::default();
        for path in &self.paths {
            key.path(context, path);
        }
        for pattern in &self.patterns {
            key.projection(resource, pattern);
        }
        if self.pod_security {
            for field in ["apiVersion", "kind", "spec"] {
                key.path(resource, &[field.to_owned()]);
            }
            key.path(resource, &["metadata".to_owned(), "annotations".to_owned()]);
        }
        (!key.nested_variables).then_some(key.bytes)
    }
}

/// What a rule reads, gathered from its parts.
#[derive(Default)]
struct Reads {
    paths: BTreeSet<Vec<String>>,
    patterns: Vec<Value>,
    pod_security: bool,
}

impl Reads {
    /// A `validate` block, or a `foreach` entry (`top` false).
    fn validation(&mut self, validation: &Value, top: bool) -> Option<()> {
        for (key, value) in validation.as_object()? {
            match key.as_str() {
                "failureAction" | "validationFailureAction" | "failureActionOverrides" | "allowExistingViolations" | "elementScope" => {}
                "message" | "deny" | "preconditions" => self.variables(value)?,
                "pattern" => self.pattern(value)?,
                "anyPattern" => {
                    for pattern in value.as_array()? {
                        self.pattern(pattern)?;
                    }
                }
                "podSecurity" if top => {
                    self.variables(value)?;
                    self.pod_security = true;
                }
                "foreach" => {
                    for entry in value.as_array()? {
                        self.validation(entry, false)?;
                    }
                }
                "list" if !top => self.expression(value.as_str()?)?,
                "context" if !top && value.as_array().is_some_and(Vec::is_empty) => {}
                _ => return None,
            }
        }
        Some(())
    }

    fn pattern(&mut self, pattern: &Value) -> Option<()> {
        self.variables(pattern)?;
        self.patterns.push(pattern.clone());
        Some(())
    }

    /// The variables of every string and key of `document`.
    fn variables(&mut self, document: &Value) -> Option<()> {
        match document {
            Value::String(text) => self.text(text),
            Value::Array(items) => items.iter().try_for_each(|item| self.variables(item)),
            Value::Object(map) => map.iter().try_for_each(|(key, item)| {
                if key.contains("{{") || key.contains("$(") {
                    return None;
                }
                self.variables(item)
            }),
            _ => Some(()),
        }
    }

    fn text(&mut self, text: &str) -> Option<()> {
        if text.contains("$(") {
            return None;
        }
        if !text.contains("{{") {
            return Some(());
        }
        let mut rest = text.to_owned();
        for (_, variable) in crate::variables::variables_in(text) {
            let (expression, _) = crate::variables::expression_of(&variable);
            if expression.trim() == "@" {
                return None;
            }
            self.expression(&expression)?;
            rest = rest.replacen(&variable, "", 1);
        }
        // A variable written inside another (`{{ a[?name == '{{element.name}}'] }}`) is read
        // once the inner one is substituted, into an expression whose reads depend on the value.
        crate::variables::variables_in(&rest).is_empty().then_some(())
    }

    /// The context paths a JMESPath expression evaluated at the context root reads; a DELETE
    /// reads `request.oldObject` where the expression says `request.object`.
    fn expression(&mut self, expression: &str) -> Option<()> {
        let ast = jmespath::parse(expression.trim()).ok()?;
        let mut paths = Vec::new();
        root_reads(&ast, &mut paths)?;
        for path in paths {
            if path.len() >= 2 && path[0] == "request" && path[1] == "object" {
                let mut old = path.clone();
                old[1] = "oldObject".to_owned();
                self.paths.insert(old);
            }
            self.paths.insert(path);
        }
        Some(())
    }
}

/// The leading field chains of `node`, evaluated against the root; `None` when it reads the
/// root as a whole or calls a clock.
fn root_reads(node: &Ast, paths: &mut Vec<Vec<String>>) -> Option<()> {
    if let Some(path) = field_chain(node) {
        paths.push(path);
        return Some(());
    }
    match node {
        Ast::Literal { .. } => Some(()),
        // What a subexpression, projection or pipe evaluates on its left side's result reads
        // nothing more of the root.
        Ast::Subexpr { lhs, .. } | Ast::Projection { lhs, .. } => root_reads(lhs, paths),
        Ast::Flatten { node, .. } | Ast::ObjectValues { node, .. } | Ast::Not { node, .. } => root_reads(node, paths),
        Ast::Comparison { lhs, rhs, .. } | Ast::And { lhs, rhs, .. } | Ast::Or { lhs, rhs, .. } => {
            root_reads(lhs, paths)?;
            root_reads(rhs, paths)
        }
        Ast::Condition { predicate, then, .. } => {
            root_reads(predicate, paths)?;
            root_reads(then, paths)
        }
        Ast::MultiList { elements, .. } => elements.iter().try_for_each(|element| root_reads(element, paths)),
        Ast::MultiHash { elements, .. } => elements.iter().try_for_each(|pair| root_reads(&pair.value, paths)),
        Ast::Function { name, args, .. } => {
            if CLOCKS.contains(&name.as_str()) {
                return None;
            }
            // An expression reference is evaluated on the elements of another argument.
            args.iter().filter(|arg| !matches!(arg, Ast::Expref { .. })).try_for_each(|arg| root_reads(arg, paths))
        }
        Ast::Field { .. } | Ast::Identity { .. } | Ast::Index { .. } | Ast::Slice { .. } | Ast::Expref { .. } => None,
    }
}

/// `a.b.c` (dots or pipes between plain fields) as its names.
fn field_chain(node: &Ast) -> Option<Vec<String>> {
    match node {
        Ast::Field { name, .. } => Some(vec![name.clone()]),
        Ast::Subexpr { lhs, rhs, .. } => {
            let mut path = field_chain(lhs)?;
            path.extend(field_chain(rhs)?);
            Some(path)
        }
        _ => None,
    }
}

/// A memo key: the values read, written so that two keys are equal only when the values are.
#[derive(Default)]
struct Key {
    bytes: Vec<u8>,
    /// A string read holds `{{`: substitution would evaluate it again, reading more.
    nested_variables: bool,
}

impl Key {
    /// What a path of plain fields finds, as Kyverno's JMESPath walks it: the value, a missing
    /// key at some depth (an error naming that key), or a non-object at some depth (null).
    fn path(&mut self, root: &Value, path: &[String]) {
        let mut node = root;
        for (depth, name) in path.iter().enumerate() {
            match node {
                Value::Object(map) => match map.get(name) {
                    Some(child) => node = child,
                    None => {
                        self.tag(b'u', depth);
                        return;
                    }
                },
                other => {
                    self.tag(b'x', depth);
                    self.value(other);
                    return;
                }
            }
        }
        self.bytes.push(b'v');
        self.value(node);
    }

    /// `value` as far as `pattern` reaches it.
    fn projection(&mut self, value: &Value, pattern: &Value) {
        match (pattern, value) {
            (Value::Object(keys), Value::Object(fields)) if !keys.keys().any(|key| crate::wildcard::contains_wildcard(key)) => {
                self.tag(b'M', keys.len());
                for (key, inner) in keys {
                    // The key as written too: validation looks `+(key)` up literally.
                    let bare = crate::pattern::anchor_key(key);
                    for name in [Some(key.as_str()), bare.filter(|bare| *bare != key)].into_iter().flatten() {
                        self.string(name);
                        match fields.get(name) {
                            Some(field) => {
                                self.bytes.push(b'1');
                                self.projection(field, inner);
                            }
                            None => self.bytes.push(b'0'),
                        }
                    }
                }
            }
            (Value::Object(_), Value::Array(items)) => {
                self.tag(b'A', items.len());
                for item in items {
                    self.projection(item, pattern);
                }
            }
            (Value::Array(patterns), Value::Array(items)) if patterns.len() == 1 => {
                self.tag(b'A', items.len());
                for item in items {
                    self.projection(item, &patterns[0]);
                }
            }
            _ => {
                self.bytes.push(b'w');
                self.value(value);
            }
        }
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Null => self.bytes.push(b'n'),
            Value::Bool(flag) => self.bytes.push(if *flag { b't' } else { b'f' }),
            Value::Number(number) => {
                self.bytes.push(b'd');
                self.string(&number.to_string());
            }
            Value::String(text) => {
                self.nested_variables |= text.contains("{{");
                self.bytes.push(b's');
                self.string(text);
            }
            Value::Array(items) => {
                self.tag(b'a', items.len());
                items.iter().for_each(|item| self.value(item));
            }
            Value::Object(map) => {
                self.tag(b'o', map.len());
                for (key, item) in map {
                    self.string(key);
                    self.value(item);
                }
            }
        }
    }

    fn tag(&mut self, tag: u8, count: usize) {
        self.bytes.push(tag);
        self.bytes.extend_from_slice(&(count as u64).to_le_bytes());
    }

    fn string(&mut self, text: &str) {
        self.bytes.extend_from_slice(&(text.len() as u64).to_le_bytes());
        self.bytes.extend_from_slice(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn paths(rule: Value) -> Option<Vec<String>> {
        Memo::of(&rule).map(|memo| memo.paths.iter().map(|path| path.join(".")).collect())
    }

    fn rule(validate: Value) -> Value {
        json!({"name": "r", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]}, "validate": validate})
    }

    #[test]
    fn variables_read_their_leading_field_chains() {
        let read = paths(rule(json!({
            "message": "{{ request.object.metadata.name }} uses {{ request.object.spec.containers[].image | join(', ', @) }}",
            "deny": {"conditions": {"any": [{"key": "{{ length(request.object.spec.volumes[?hostPath]) }}", "operator": "GreaterThan", "value": 0}]}}
        })))
        .expect("remembers");
        assert_eq!(
            read,
            [
                "request.object.metadata.name",
                "request.object.spec.containers",
                "request.object.spec.volumes",
                "request.oldObject.metadata.name",
                "request.oldObject.spec.containers",
                "request.oldObject.spec.volumes",
                "request.operation"
            ]
        );
    }

    #[test]
    fn a_read_of_a_prefix_covers_the_longer_paths() {
        let read = paths(rule(json!({"message": "{{ images.containers }} {{ images.containers.app.tag }}", "pattern": {"spec": {}}}))).expect("remembers");
        assert_eq!(read, ["images.containers", "request.operation"]);
    }

    #[test]
    fn what_the_analysis_cannot_see_remembers_nothing() {
        assert!(paths(rule(json!({"message": "{{ @ }}", "pattern": {"spec": {"x": "{{@}}"}}}))).is_none(), "{{@}}");
        assert!(paths(rule(json!({"deny": {"conditions": {"any": [{"key": "{{ time_now_utc() }}", "operator": "Equals", "value": ""}]}}}))).is_none(), "a clock");
        assert!(paths(rule(json!({"deny": {"conditions": {"any": [{"key": "{{ @ | length(@) }}", "operator": "Equals", "value": 1}]}}}))).is_none(), "the whole context");
        assert!(paths(rule(json!({"pattern": {"spec": {"x": "$(./../y)"}}}))).is_none(), "a reference");
        assert!(paths(rule(json!({"message": "{{ request.object.spec.volumes[?name == '{{element.name}}'] }}"}))).is_none(), "a variable inside another");
        assert!(paths(rule(json!({"cel": {"expressions": []}}))).is_none(), "CEL");
        let mut with_context = rule(json!({"pattern": {"spec": {}}}));
        with_context["context"] = json!([{"name": "cm", "configMap": {"name": "x", "namespace": "y"}}]);
        assert!(paths(with_context).is_none(), "context entries");
        let mut empty_context = rule(json!({"pattern": {"spec": {}}}));
        empty_context["context"] = json!([]);
        assert!(paths(empty_context).is_some(), "an empty context list loads nothing");
    }

    fn key(pattern: Value, resource: Value) -> Vec<u8> {
        let memo = Memo::of(&rule(json!({"pattern": pattern}))).expect("remembers");
        memo.key(&json!({}), &resource).expect("a key")
    }

    #[test]
    fn patterns_reach_only_their_keys() {
        let pattern = json!({"spec": {"containers": [{"(name)": "app", "image": "!*:latest"}]}});
        let pod = |name: &str, image: &str, extra: Value| json!({"metadata": {"name": name}, "spec": {"nodeName": extra, "containers": [{"name": "app", "image": image, "ports": [80]}]}});
        assert_eq!(key(pattern.clone(), pod("a", "nginx:1", json!("n1"))), key(pattern.clone(), pod("b", "nginx:1", json!("n2"))), "names and other fields are not read");
        assert_ne!(key(pattern.clone(), pod("a", "nginx:1", json!("n1"))), key(pattern.clone(), pod("a", "nginx:2", json!("n1"))));
        let two = json!({"spec": {"containers": [{"name": "app", "image": "nginx:1"}, {"name": "app", "image": "nginx:1"}]}});
        assert_ne!(key(pattern.clone(), pod("a", "nginx:1", json!(null))), key(pattern.clone(), two), "the number of elements counts");
        let wildcard = json!({"metadata": {"labels": {"app.kubernetes.io/*": "?*"}}});
        let labelled = |value: &str| json!({"metadata": {"labels": {"app.kubernetes.io/name": "web", "team": value}}});
        assert_ne!(key(wildcard.clone(), labelled("a")), key(wildcard, labelled("b")), "under a wildcard key the whole map counts");
    }

    #[test]
    fn a_missing_key_and_a_null_differ() {
        let memo = Memo::of(&rule(json!({"message": "{{ request.object.spec.x }}"}))).expect("remembers");
        let key = |context: Value| memo.key(&context, &json!({})).expect("a key");
        let missing = key(json!({"request": {"object": {"spec": {}}}}));
        assert_ne!(missing, key(json!({"request": {"object": {"spec": {"x": null}}}})));
        assert_ne!(missing, key(json!({"request": {"object": {}}})), "the missing key is named in Kyverno's error");
        assert_eq!(missing, key(json!({"request": {"object": {"spec": {"y": 1}}}})));
        assert!(memo.key(&json!({"request": {"object": {"spec": {"x": "{{ request.object }}"}}}}), &json!({})).is_none(), "a value that substitution would read again");
    }
}
