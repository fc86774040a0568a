//! A Constraint's `spec.match`, with Gatekeeper's semantics (`pkg/mutation/match/match.go`,
//! re-implemented): every criterion must hold; `kinds` entries match on group and kind with
//! `*` and empty lists matching all; `namespaces`, `excludedNamespaces` and `name` are
//! wildcards (`prefix*`, `*suffix`, `*infix*`); the namespace of a Namespace is its own name;
//! an object whose namespace is unknown (cluster-scoped, or namespaced but written without one)
//! is neither included nor excluded by namespace, as gator judges manifests.

use palisade_core::{LabelSelector, Labels, Node, Value};

/// `spec.match` of a Constraint.
#[derive(Clone, Debug, Default)]
pub struct Match {
    kinds: Vec<KindSet>,
    scope: Scope,
    namespaces: Vec<String>,
    excluded_namespaces: Vec<String>,
    label_selector: Option<LabelSelector>,
    /// Decided by the caller against the namespace's labels: see [`Match::namespace_selector`].
    namespace_selector: Option<LabelSelector>,
    name: Option<String>,
}

#[derive(Clone, Debug, Default)]
struct KindSet {
    groups: Vec<String>,
    kinds: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Scope {
    #[default]
    Any,
    Cluster,
    Namespaced,
}

/// What matching needs to know about the object under review.
pub struct Target<'a> {
    pub group: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub generate_name: &'a str,
    /// The object's namespace as written; `None` when it has none.
    pub namespace: Option<&'a str>,
    pub labels: &'a Labels,
}

impl Target<'_> {
    fn is_namespace(&self) -> bool {
        self.kind == "Namespace" && self.group.is_empty()
    }

    /// The namespace `namespaces` and `excludedNamespaces` test, if known.
    fn namespace_name(&self) -> Option<&str> {
        if self.is_namespace() { Some(self.name) } else { self.namespace.filter(|namespace| !namespace.is_empty()) }
    }
}

/// Gatekeeper's wildcard: `*` at either end or both, else the exact string.
pub fn wildcard_matches(pattern: &str, candidate: &str) -> bool {
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        (Some(_), Some(_)) if pattern.len() >= 2 => candidate.contains(&pattern[1..pattern.len() - 1]),
        (Some(suffix), _) => candidate.ends_with(suffix),
        (None, Some(prefix)) => candidate.starts_with(prefix),
        (None, None) => pattern == candidate,
    }
}

/// A `name` wildcard against `metadata.generateName`: only prefix and infix patterns can match a
/// name that is still to be completed.
fn wildcard_matches_generate_name(pattern: &str, candidate: &str) -> bool {
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        (Some(_), Some(_)) if pattern.len() >= 2 => candidate.contains(&pattern[1..pattern.len() - 1]),
        (None, Some(prefix)) => candidate.starts_with(prefix),
        _ => false,
    }
}

impl Match {
    /// Reads `spec.match`; `None` (no match block) matches every object.
    pub fn parse(node: Option<&Node>) -> Result<Match, String> {
        let Some(node) = node else { return Ok(Match::default()) };
        let strings = |key: &str| -> Result<Vec<String>, String> {
            match node.get(key) {
                None => Ok(Vec::new()),
                Some(list) => string_list(list).ok_or_else(|| format!("`match.{key}` must be a list of strings")),
            }
        };
        let kinds = match node.get("kinds") {
            None => Vec::new(),
            Some(list) if !matches!(list.value, Value::Seq(_)) => return Err("`match.kinds` must be a list".into()),
            Some(list) => list
                .as_seq()
                .iter()
                .map(|entry| {
                    let field = |key: &str| entry.get(key).map_or(Some(Vec::new()), string_list);
                    Ok(KindSet {
                        groups: field("apiGroups").ok_or("`match.kinds[].apiGroups` must be a list of strings")?,
                        kinds: field("kinds").ok_or("`match.kinds[].kinds` must be a list of strings")?,
                    })
                })
                .collect::<Result<_, String>>()?,
        };
        let scope = match node.get("scope").and_then(Node::as_str) {
            None | Some("*") => Scope::Any,
            Some("Cluster") => Scope::Cluster,
            Some("Namespaced") => Scope::Namespaced,
            Some(other) => return Err(format!("`match.scope` must be `*`, `Cluster` or `Namespaced`, not `{other}`")),
        };
        let selector = |key: &str| -> Result<Option<LabelSelector>, String> {
            node.get(key).map(|selector| LabelSelector::parse(selector).map_err(|error| format!("`match.{key}{}`: {}", error.pointer.replace('/', "."), error.message))).transpose()
        };
        Ok(Match {
            kinds,
            scope,
            namespaces: strings("namespaces")?,
            excluded_namespaces: strings("excludedNamespaces")?,
            label_selector: selector("labelSelector")?,
            namespace_selector: selector("namespaceSelector")?,
            name: node.get("name").and_then(Node::as_str).filter(|name| !name.is_empty()).map(str::to_owned),
        })
    }

    /// Every criterion but the namespace selector, which needs the namespace's labels.
    pub fn matches(&self, target: &Target<'_>) -> bool {
        self.kinds_match(target)
            && self.scope_matches(target)
            && self.namespaces_match(target)
            && self.label_selector.as_ref().is_none_or(|selector| selector.matches(target.labels))
            && self.name.as_deref().is_none_or(|name| wildcard_matches(name, target.name) || wildcard_matches_generate_name(name, target.generate_name))
    }

    /// The namespace selector, when there is one and the object is in a namespace: the caller
    /// decides it against that namespace's labels (a Namespace is judged by its own labels,
    /// which [`Match::matches_namespace_of`] does).
    pub fn namespace_selector(&self) -> Option<&LabelSelector> {
        self.namespace_selector.as_ref()
    }

    /// The namespace selector for objects that carry the labels it tests: a Namespace (its own
    /// labels) or an object with no namespace (always matches). `None` when the answer needs
    /// the labels of the object's namespace.
    pub fn matches_namespace_of(&self, target: &Target<'_>) -> Option<bool> {
        let Some(selector) = &self.namespace_selector else { return Some(true) };
        if target.is_namespace() {
            Some(selector.matches(target.labels))
        } else if target.namespace.is_none_or(str::is_empty) {
            Some(true)
        } else {
            None
        }
    }

    fn kinds_match(&self, target: &Target<'_>) -> bool {
        let listed = |list: &[String], value: &str| list.is_empty() || list.iter().any(|item| item == "*" || item == value);
        self.kinds.is_empty() || self.kinds.iter().any(|set| listed(&set.kinds, target.kind) && listed(&set.groups, target.group))
    }

    fn scope_matches(&self, target: &Target<'_>) -> bool {
        let has_namespace = target.namespace.is_some_and(|namespace| !namespace.is_empty());
        match self.scope {
            Scope::Any => true,
            Scope::Cluster => target.is_namespace() || !has_namespace,
            Scope::Namespaced => !target.is_namespace() && has_namespace,
        }
    }

    fn namespaces_match(&self, target: &Target<'_>) -> bool {
        let Some(namespace) = target.namespace_name() else { return true };
        (self.namespaces.is_empty() || self.namespaces.iter().any(|pattern| wildcard_matches(pattern, namespace)))
            && !self.excluded_namespaces.iter().any(|pattern| wildcard_matches(pattern, namespace))
    }
}

fn string_list(node: &Node) -> Option<Vec<String>> {
    if !matches!(node.value, Value::Seq(_)) {
        return None;
    }
    node.as_seq().iter().map(|item| item.as_str().map(str::to_owned)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_prefix_suffix_or_infix() {
        assert!(wildcard_matches("kube-*", "kube-system"));
        assert!(!wildcard_matches("kube-*", "my-kube-system"));
        assert!(wildcard_matches("*-system", "kube-system"));
        assert!(wildcard_matches("*ube*", "kube-system"));
        assert!(wildcard_matches("*", "anything"));
        assert!(wildcard_matches("default", "default"));
        assert!(!wildcard_matches("default", "default2"));
        assert!(wildcard_matches_generate_name("web-*", "web-"));
        assert!(!wildcard_matches_generate_name("*-web", "x-web"));
    }
}
