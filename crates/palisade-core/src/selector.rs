//! Kubernetes label selectors (`metav1.LabelSelector`): `matchLabels` and `matchExpressions`,
//! all requirements ANDed, as `LabelSelectorAsSelector` evaluates them.

use std::collections::BTreeMap;

use crate::value::Node;

/// Labels of a pod, namespace or ClusterRole.
pub type Labels = BTreeMap<String, String>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// Why a selector is invalid; the API server rejects such objects, so we select nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectorError {
    /// JSON pointer below the selector, e.g. `/matchExpressions/0/operator`.
    pub pointer: String,
    pub message: String,
}

impl LabelSelector {
    /// The selector that selects everything (`{}`).
    pub const fn everything() -> Self {
        Self { requirements: Vec::new() }
    }

    pub fn parse(node: &Node) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        if let Some(labels) = node.get("matchLabels").and_then(Node::as_map) {
            for (key, value) in labels.iter() {
                requirements.push(Requirement {
                    key: key.to_owned(),
                    operator: Operator::In,
                    values: vec![scalar_text(value)],
                });
            }
        }
        let expressions = node.get("matchExpressions").map(Node::as_seq).unwrap_or_default();
        for (index, expression) in expressions.iter().enumerate() {
            requirements.push(parse_expression(expression, index)?);
        }
        Ok(Self { requirements })
    }

    /// Whether a requirement of this selector is on `key`.
    pub fn mentions(&self, key: &str) -> bool {
        self.requirements.iter().any(|requirement| requirement.key == key)
    }

    /// The keys the selector's requirements are on.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.requirements.iter().map(|requirement| requirement.key.as_str())
    }

    /// The selector with each requirement's key passed through `rename` (Cilium's source
    /// prefixes such as `k8s:` taken off, say).
    pub fn with_keys_renamed(mut self, rename: impl Fn(&str) -> String) -> Self {
        for requirement in &mut self.requirements {
            requirement.key = rename(&requirement.key);
        }
        self
    }

    /// Whether this selector is `{}` and so selects every object.
    pub fn is_everything(&self) -> bool {
        self.requirements.is_empty()
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.requirements.iter().all(|requirement| requirement.matches(labels))
    }

    /// A label that every object this selector matches must carry, for indexing selectors:
    /// a key with one of some values (`matchLabels`, `In`) when there is one, else a key with
    /// any value (`Exists`). `None` when the selector needs no label (`{}`, `NotIn`, ...).
    pub fn anchor(&self) -> Option<Anchor<'_>> {
        let values = self.requirements.iter().find(|requirement| requirement.operator == Operator::In);
        let key = || self.requirements.iter().find(|requirement| requirement.operator == Operator::Exists);
        match values {
            Some(requirement) => Some(Anchor::Values(&requirement.key, &requirement.values)),
            None => key().map(|requirement| Anchor::Key(&requirement.key)),
        }
    }
}

/// See [`LabelSelector::anchor`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor<'s> {
    Values(&'s str, &'s [String]),
    Key(&'s str),
}

impl Requirement {
    fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            Operator::In => value.is_some_and(|value| self.values.contains(value)),
            // NotIn also selects objects that lack the key, as in apimachinery's selectors.
            Operator::NotIn => value.is_none_or(|value| !self.values.contains(value)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
}

fn parse_expression(node: &Node, index: usize) -> Result<Requirement, SelectorError> {
    let error = |field: &str, message: String| SelectorError {
        pointer: format!("/matchExpressions/{index}/{field}"),
        message,
    };
    let key = node.get("key").and_then(Node::as_str).unwrap_or_default();
    if key.is_empty() {
        return Err(error("key", "a match expression needs a key".to_owned()));
    }
    let operator = match node.get("operator").and_then(Node::as_str).unwrap_or_default() {
        "In" => Operator::In,
        "NotIn" => Operator::NotIn,
        "Exists" => Operator::Exists,
        "DoesNotExist" => Operator::DoesNotExist,
        other => {
            return Err(error(
                "operator",
                format!("unknown operator `{other}` (expected In, NotIn, Exists or DoesNotExist)"),
            ));
        }
    };
    let values: Vec<String> =
        node.get("values").map(Node::as_seq).unwrap_or_default().iter().map(scalar_text).collect();
    let needs_values = matches!(operator, Operator::In | Operator::NotIn);
    if needs_values == values.is_empty() {
        let message = if needs_values {
            format!("operator {operator:?} needs at least one value")
        } else {
            format!("operator {operator:?} takes no values")
        };
        return Err(error("values", message));
    }
    Ok(Requirement { key: key.to_owned(), operator, values })
}

/// Label values are strings; YAML authors sometimes write `version: 2`, which the API server
/// rejects, but reading it as text keeps the selector meaningful for analysis.
fn scalar_text(node: &Node) -> String {
    match node.as_str() {
        Some(text) => text.to_owned(),
        None => node.to_json().to_string(),
    }
}

/// Reads a `labels` mapping.
pub fn labels_of(node: Option<&Node>) -> Labels {
    node.and_then(Node::as_map)
        .map(|map| map.iter().map(|(key, value)| (key.to_owned(), scalar_text(value))).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn selector(json: serde_json::Value) -> Result<LabelSelector, SelectorError> {
        LabelSelector::parse(&Node::from_json(&json))
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_anchor_is_a_label_every_match_carries() {
        let values = selector(json!({"matchExpressions": [{"key": "tier", "operator": "Exists"}],
            "matchLabels": {"app": "web"}}))
        .unwrap();
        assert_eq!(values.anchor(), Some(Anchor::Values("app", &["web".to_owned()])));
        let key = selector(json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]},
            {"key": "team", "operator": "Exists"}]}))
        .unwrap();
        assert_eq!(key.anchor(), Some(Anchor::Key("team")));
        let none = selector(json!({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]})).unwrap();
        assert_eq!(none.anchor(), None);
        assert_eq!(LabelSelector::everything().anchor(), None);
    }

    #[test]
    fn empty_selector_selects_everything() {
        let all = selector(json!({})).unwrap();
        assert!(all.is_everything());
        assert!(all.matches(&Labels::new()));
    }

    #[test]
    fn match_labels_require_every_pair() {
        let sel = selector(json!({"matchLabels": {"app": "web", "tier": "front"}})).unwrap();
        assert!(sel.matches(&labels(&[("app", "web"), ("tier", "front"), ("x", "y")])));
        assert!(!sel.matches(&labels(&[("app", "web")])));
    }

    #[test]
    fn in_and_not_in_treat_missing_keys_differently() {
        let within = selector(json!({"matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]}]})).unwrap();
        let outside = selector(json!({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["a"]}]})).unwrap();
        assert!(within.matches(&labels(&[("env", "b")])));
        assert!(!within.matches(&Labels::new()));
        assert!(outside.matches(&Labels::new()));
        assert!(outside.matches(&labels(&[("env", "c")])));
        assert!(!outside.matches(&labels(&[("env", "a")])));
    }

    #[test]
    fn exists_and_does_not_exist_look_at_the_key_only() {
        let present = selector(json!({"matchExpressions": [{"key": "env", "operator": "Exists"}]})).unwrap();
        let absent = selector(json!({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]})).unwrap();
        assert!(present.matches(&labels(&[("env", "")])) && !present.matches(&Labels::new()));
        assert!(absent.matches(&Labels::new()) && !absent.matches(&labels(&[("env", "x")])));
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let sel = selector(json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]
        }))
        .unwrap();
        assert!(sel.matches(&labels(&[("app", "web"), ("env", "prod")])));
        assert!(!sel.matches(&labels(&[("app", "web"), ("env", "dev")])));
    }

    #[test]
    fn invalid_expressions_are_errors_with_their_pointer() {
        let bad_operator = selector(json!({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]}));
        assert_eq!(bad_operator.unwrap_err().pointer, "/matchExpressions/0/operator");
        let in_without_values = selector(json!({"matchExpressions": [{"key": "a", "operator": "In"}]}));
        assert!(in_without_values.unwrap_err().message.contains("at least one value"));
        let exists_with_values = selector(json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}));
        assert!(exists_with_values.unwrap_err().message.contains("takes no values"));
    }
}
