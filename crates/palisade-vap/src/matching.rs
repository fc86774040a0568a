//! Whether a request is in scope of a policy's `matchConstraints` or a binding's
//! `matchResources`, in the order the API server decides it (`matching.Matcher.Matches`):
//! namespace selector, object selector, excluded rules, resource rules; a selector that cannot
//! be decided only matters once the rules match.

use palisade_core::selector::{LabelSelector, labels_of};
use palisade_core::value::Node;
use serde_json::Value;

use crate::model::{MatchPolicy, MatchResources, Rule, Scope};
use crate::request::{GroupVersionResource, Request};
use crate::resources;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum MatchResult {
    /// In scope as the request's own kind and resource, which `request.kind` and
    /// `request.resource` then show to CEL (a match through an equivalent resource is
    /// [`MatchResult::Undecided`]).
    Matches,
    NoMatch,
    /// In scope only if something unknown here says so (the Namespace's labels, a conversion).
    Undecided(String),
}

/// Resources the API server serves in more than one version or group, so that a rule naming one
/// matches the other under `matchPolicy: Equivalent` (after converting the object, which is not
/// done here). Custom resources may have any number of versions; see [`resource_matches`].
const EQUIVALENTS: &[&[(&str, &str, &str)]] = &[
    &[("autoscaling", "v2", "horizontalpodautoscalers"), ("autoscaling", "v1", "horizontalpodautoscalers")],
    &[("events.k8s.io", "v1", "events"), ("", "v1", "events")],
];

pub(crate) fn matches(criteria: &MatchResources, request: &Request) -> MatchResult {
    let namespace = namespace_selector_matches(&criteria.namespace_selector, request);
    if namespace == Some(false) {
        return MatchResult::NoMatch;
    }
    if !object_selector_matches(&criteria.object_selector, request) {
        return MatchResult::NoMatch;
    }
    let excluded = rules_match(&criteria.exclude_resource_rules, criteria.match_policy, request);
    let matched = match excluded {
        MatchResult::Matches => return MatchResult::NoMatch,
        // Excluding needs no conversion: a built-in equivalent excludes for certain; a custom
        // resource's other versions are a guess.
        MatchResult::Undecided(_) if built_in_equivalents(&request.resource).is_some() => return MatchResult::NoMatch,
        MatchResult::Undecided(reason) => return MatchResult::Undecided(reason),
        MatchResult::NoMatch if criteria.resource_rules.is_empty() => {
            MatchResult::Matches
        }
        MatchResult::NoMatch => rules_match(&criteria.resource_rules, criteria.match_policy, request),
    };
    match (matched, namespace) {
        (MatchResult::Matches, None) => MatchResult::Undecided(format!(
            "the namespaceSelector needs the labels of Namespace \"{}\", which was not provided",
            request.namespace
        )),
        (matched, _) => matched,
    }
}

/// `None` when the Namespace object is needed and unknown.
fn namespace_selector_matches(selector: &LabelSelector, request: &Request) -> Option<bool> {
    // Cluster-scoped resources other than Namespaces are never exempted by a namespace selector.
    if request.namespace.is_empty() && !request.is_namespace() || selector.is_everything() {
        return Some(true);
    }
    // A Namespace being created or updated is selected by the labels it is given; otherwise
    // (deleted, a subresource, any other object) by the stored Namespace's.
    let writes_namespace = request.is_namespace()
        && request.sub_resource.is_empty()
        && matches!(request.operation.as_str(), "CREATE" | "UPDATE");
    let namespace = if writes_namespace {
        request.object.as_ref()
    } else if request.is_namespace() {
        request.namespace_object.as_ref().or(request.old_object.as_ref())
    } else {
        request.namespace_object.as_ref()
    }?;
    Some(selector.matches(&labels(namespace)))
}

fn object_selector_matches(selector: &LabelSelector, request: &Request) -> bool {
    if selector.is_everything() {
        return true;
    }
    [&request.object, &request.old_object]
        .into_iter()
        .flatten()
        .any(|object| selector.matches(&labels(object)))
}

fn labels(object: &Value) -> palisade_core::selector::Labels {
    let labels = object.pointer("/metadata/labels").map(Node::from_json);
    labels_of(labels.as_ref())
}

/// `matchesResourceRules`: the request's own resource first, then (Equivalent) the resources
/// equivalent to it.
fn rules_match(rules: &[Rule], policy: MatchPolicy, request: &Request) -> MatchResult {
    if rules.iter().any(|rule| rule_matches(rule, request, &request.resource) && name_matches(rule, request)) {
        return MatchResult::Matches;
    }
    if policy == MatchPolicy::Exact {
        return MatchResult::NoMatch;
    }
    for rule in rules {
        for equivalent in equivalents(&request.resource) {
            if rule_matches(rule, request, &equivalent) && name_matches(rule, request) {
                return MatchResult::Undecided(format!(
                    "the request matches as {}/{} {}, an equivalent resource; the object would be converted to that version, which is not done here",
                    equivalent.group, equivalent.version, equivalent.resource
                ));
            }
        }
    }
    MatchResult::NoMatch
}

/// Resources the API server may consider equivalent to `resource`: the table for built-in
/// kinds; for custom resources, the same group and resource in any other version, since a
/// CustomResourceDefinition may serve several.
fn equivalents(resource: &GroupVersionResource) -> Vec<GroupVersionResource> {
    let gvr = |(group, version, resource): &(&str, &str, &str)| GroupVersionResource {
        group: (*group).to_owned(),
        version: (*version).to_owned(),
        resource: (*resource).to_owned(),
    };
    let own = (resource.group.as_str(), resource.version.as_str(), resource.resource.as_str());
    if let Some(set) = built_in_equivalents(resource) {
        return set.iter().filter(|entry| **entry != own).map(gvr).collect();
    }
    let is_built_in_group = resources::built_in_group(&resource.group);
    if is_built_in_group {
        return Vec::new();
    }
    vec![GroupVersionResource { version: "*".to_owned(), ..resource.clone() }]
}

fn built_in_equivalents(resource: &GroupVersionResource) -> Option<&'static [(&'static str, &'static str, &'static str)]> {
    let own = (resource.group.as_str(), resource.version.as_str(), resource.resource.as_str());
    EQUIVALENTS.iter().find(|set| set.contains(&own)).copied()
}

fn rule_matches(rule: &Rule, request: &Request, resource: &GroupVersionResource) -> bool {
    scope_matches(rule.scope, request)
        && rule.operations.iter().any(|operation| operation == "*" || *operation == request.operation)
        && exact_or_wildcard(&rule.api_groups, &resource.group)
        && version_matches(&rule.api_versions, &resource.version)
        && rule.resources.iter().any(|entry| {
            let (name, sub) = entry.split_once('/').unwrap_or((entry, ""));
            (name == "*" || name == resource.resource) && (sub == "*" || sub == request.sub_resource)
        })
}

/// A version of `*` in an equivalent stands for "any other version of this custom resource".
fn version_matches(versions: &[String], version: &str) -> bool {
    if version == "*" {
        return !versions.is_empty();
    }
    exact_or_wildcard(versions, version)
}

fn scope_matches(scope: Scope, request: &Request) -> bool {
    match scope {
        Scope::All => true,
        Scope::Namespaced => !request.is_namespace() && !request.namespace.is_empty(),
        Scope::Cluster => request.is_namespace() || request.namespace.is_empty(),
    }
}

fn exact_or_wildcard(items: &[String], requested: &str) -> bool {
    items.iter().any(|item| item == "*" || item == requested)
}

/// An empty `resourceNames` matches every name; a name the server is yet to generate matches none.
fn name_matches(rule: &Rule, request: &Request) -> bool {
    rule.resource_names.is_empty() || rule.resource_names.contains(&request.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Policy;
    use serde_json::json;

    fn constraints(value: Value) -> MatchResources {
        let policy = Policy::parse(&json!({"metadata": {"name": "p"}, "spec": {"matchConstraints": value}}));
        assert!(policy.problems.is_empty(), "{:?}", policy.problems);
        policy.match_constraints.unwrap()
    }

    fn deployment(labels: Value) -> Request {
        Request::create(&json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "a", "labels": labels}}), None)
    }

    const DEPLOYMENTS: &str = r#"{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["deployments"]}"#;

    fn rule(extra: Value) -> Value {
        let mut rule: Value = serde_json::from_str(DEPLOYMENTS).unwrap();
        rule.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        rule
    }

    #[test]
    fn resource_rules_match_group_version_resource_operation_and_name() {
        let request = deployment(json!({}));
        let matched = |rule: Value| matches(&constraints(json!({"resourceRules": [rule]})), &request);
        assert!(matches!(matched(rule(json!({}))), MatchResult::Matches));
        assert_eq!(matched(rule(json!({"operations": ["DELETE"]}))), MatchResult::NoMatch);
        assert_eq!(matched(rule(json!({"resources": ["deployments/scale"]}))), MatchResult::NoMatch);
        assert!(matches!(matched(rule(json!({"resources": ["deployments/*"]}))), MatchResult::Matches));
        assert_eq!(matched(rule(json!({"resourceNames": ["api"]}))), MatchResult::NoMatch);
        assert!(matches!(matched(rule(json!({"resourceNames": ["api", "web"]}))), MatchResult::Matches));
        assert_eq!(matched(rule(json!({"scope": "Cluster"}))), MatchResult::NoMatch);
        assert_eq!(matched(rule(json!({"apiVersions": ["v1beta1"]}))), MatchResult::NoMatch, "apps/v1 has no equivalent");
    }

    #[test]
    fn excluded_rules_win_and_no_rules_match_everything() {
        let request = deployment(json!({}));
        let criteria = constraints(json!({"resourceRules": [rule(json!({}))], "excludeResourceRules": [rule(json!({"resourceNames": ["web"]}))]}));
        assert_eq!(matches(&criteria, &request), MatchResult::NoMatch);
        assert!(matches!(matches(&constraints(json!({})), &request), MatchResult::Matches));
    }

    #[test]
    fn selectors_read_object_and_namespace_labels() {
        let selected = constraints(json!({"objectSelector": {"matchLabels": {"tier": "web"}}}));
        assert!(matches!(matches(&selected, &deployment(json!({"tier": "web"}))), MatchResult::Matches));
        assert_eq!(matches(&selected, &deployment(json!({"tier": "db"}))), MatchResult::NoMatch);

        let by_namespace = constraints(json!({"namespaceSelector": {"matchLabels": {"environment": "test"}}}));
        let mut request = deployment(json!({}));
        assert!(matches!(matches(&by_namespace, &request), MatchResult::Undecided(_)), "labels unknown");
        request.namespace_object = Some(json!({"metadata": {"name": "a", "labels": {"environment": "test"}}}));
        assert!(matches!(matches(&by_namespace, &request), MatchResult::Matches));
        request.namespace_object = Some(json!({"metadata": {"name": "a"}}));
        assert_eq!(matches(&by_namespace, &request), MatchResult::NoMatch);

        let cluster_role = Request::create(&json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}}), None);
        assert!(matches!(matches(&by_namespace, &cluster_role), MatchResult::Matches), "cluster-scoped objects are never exempted");
        let namespace = Request::create(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n", "labels": {"environment": "test"}}}), None);
        assert!(matches!(matches(&by_namespace, &namespace), MatchResult::Matches), "a Namespace is selected by its own labels");
        let mut relabel = namespace.clone();
        relabel.operation = "UPDATE".to_owned();
        relabel.old_object = relabel.object.take();
        relabel.object = Some(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}));
        assert_eq!(matches(&by_namespace, &relabel), MatchResult::NoMatch, "by the labels it is given, not those it had");
        relabel.operation = "DELETE".to_owned();
        relabel.object = None;
        assert!(matches!(matches(&by_namespace, &relabel), MatchResult::Matches), "a deleted Namespace by its stored labels");
    }

    #[test]
    fn equivalent_resources_are_undecided_under_the_equivalent_policy_only() {
        let hpa = Request::create(&json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h", "namespace": "a"}}), None);
        let v2 = json!({"apiGroups": ["autoscaling"], "apiVersions": ["v2"], "operations": ["*"], "resources": ["horizontalpodautoscalers"]});
        assert!(matches!(matches(&constraints(json!({"resourceRules": [v2.clone()]})), &hpa), MatchResult::Undecided(_)));
        assert_eq!(matches(&constraints(json!({"resourceRules": [v2.clone()], "matchPolicy": "Exact"})), &hpa), MatchResult::NoMatch);
        let excluded = constraints(json!({"excludeResourceRules": [v2]}));
        assert_eq!(matches(&excluded, &hpa), MatchResult::NoMatch, "a built-in equivalent excludes without conversion");
        let widget = Request::create(&json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}), None);
        let v2_widgets = json!({"apiGroups": ["example.com"], "apiVersions": ["v2"], "operations": ["*"], "resources": ["widgets"]});
        assert!(matches!(matches(&constraints(json!({"excludeResourceRules": [v2_widgets]})), &widget), MatchResult::Undecided(_)), "a custom resource's other versions are unknown");
    }
}
