//! A rule's `match` and `exclude` blocks, as Kyverno's `MatchesResourceDescription` applies them:
//! within a resource description every given field must match (a list field matches when any
//! entry does); `any` needs one filter, `all` every filter; `exclude` is consulted only after a
//! match; user-info conditions are dropped from `match` when the request carries no user (a scan
//! or `kyverno apply`), while in `exclude` they can then never exclude.

use std::collections::BTreeMap;

use palisade_core::{LabelSelector, Labels, Node};
use serde_json::Value;

use crate::wildcard;

/// What a rule is matched against: the resource, its group/version/kind and the request.
pub struct Target<'a> {
    pub object: &'a Value,
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    pub subresource: &'a str,
    pub operation: &'a str,
    /// Labels of the resource's namespace; `None` while not yet known (a manifest scan decides
    /// namespace selectors once every Namespace is read): a `match` selector then holds and an
    /// `exclude` selector does not, so the rule runs and its verdict waits for the labels.
    pub namespace_labels: Option<&'a Labels>,
    pub user: Option<&'a RequestUser>,
}

/// Who sent the request, as Kyverno's `RequestInfo`: roles and cluster roles bound to the user,
/// and the authenticated user.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestUser {
    pub roles: Vec<String>,
    pub cluster_roles: Vec<String>,
    pub username: String,
    pub groups: Vec<String>,
}

impl RequestUser {
    /// Reads Kyverno's `RequestInfo` JSON (`roles`, `clusterRoles`, `userInfo.username/groups`).
    pub fn from_json(json: &Value) -> RequestUser {
        let strings = |value: Option<&Value>| -> Vec<String> {
            value.and_then(Value::as_array).map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default()
        };
        RequestUser {
            roles: strings(json.get("roles")),
            cluster_roles: strings(json.get("clusterRoles")),
            username: json.pointer("/userInfo/username").and_then(Value::as_str).unwrap_or_default().to_owned(),
            groups: strings(json.pointer("/userInfo/groups")),
        }
    }

    /// `request.userInfo` as Kyverno serialises it: empty fields are omitted, so a request
    /// without a user has no `groups` (null in JMESPath), not an empty list.
    pub fn to_json(&self) -> Value {
        let mut user = serde_json::Map::new();
        if !self.username.is_empty() {
            user.insert("username".to_owned(), Value::from(self.username.as_str()));
        }
        if !self.groups.is_empty() {
            user.insert("groups".to_owned(), Value::from(self.groups.clone()));
        }
        Value::Object(user)
    }
}

/// `match` or `exclude`: `any`, `all`, or the legacy single `resources`/user block.
#[derive(Clone, Debug, Default)]
pub struct MatchResources {
    any: Vec<Filter>,
    all: Vec<Filter>,
    single: Filter,
}

#[derive(Clone, Debug, Default)]
struct Filter {
    resources: Description,
    user: UserFilter,
}

#[derive(Clone, Debug, Default)]
struct Description {
    kinds: Vec<String>,
    name: Option<String>,
    names: Vec<String>,
    namespaces: Vec<String>,
    annotations: BTreeMap<String, String>,
    selector: Option<Value>,
    namespace_selector: Option<Value>,
    operations: Vec<String>,
}

#[derive(Clone, Debug, Default)]
struct UserFilter {
    roles: Vec<String>,
    cluster_roles: Vec<String>,
    subjects: Vec<Subject>,
}

#[derive(Clone, Debug)]
struct Subject {
    kind: String,
    name: String,
    namespace: String,
}

impl MatchResources {
    pub fn parse(json: &Value) -> MatchResources {
        let filters = |key: &str| json.get(key).and_then(Value::as_array).map(|items| items.iter().map(Filter::parse).collect()).unwrap_or_default();
        MatchResources { any: filters("any"), all: filters("all"), single: Filter::parse(json) }
    }

    /// Whether any filter of the block selects by namespace labels.
    /// Whether the block can match an object of this group, version and kind, judged from its
    /// `kinds` alone: a cheap test before building a request (`false` only when no filter that
    /// the block needs could match the kind).
    pub fn may_match_kind(&self, group: &str, version: &str, kind: &str) -> bool {
        let kind_may_match = |filter: &Filter| {
            filter.resources.kinds.is_empty()
                || filter.resources.kinds.iter().any(|selector| {
                    parse_kind_selector(selector).is_some_and(|(wanted_group, wanted_version, wanted_kind, subresource)| {
                        wildcard::matches(wanted_group, group) && wildcard::matches(wanted_version, version) && wildcard::matches(wanted_kind, kind) && wildcard::matches(subresource, "")
                    })
                })
        };
        if !self.any.is_empty() {
            self.any.iter().any(kind_may_match)
        } else if !self.all.is_empty() {
            self.all.iter().all(kind_may_match)
        } else {
            kind_may_match(&self.single)
        }
    }

    pub fn uses_namespace_selector(&self) -> bool {
        self.any.iter().chain(&self.all).chain(std::iter::once(&self.single)).any(|filter| filter.resources.namespace_selector.is_some())
    }

    fn is_empty(&self) -> bool {
        self.any.is_empty() && self.all.is_empty() && self.single.is_empty()
    }
}

/// Whether a rule applies to the target: `Ok(())`, or why not (Kyverno's reasons).
pub fn applies(matching: &MatchResources, exclude: Option<&MatchResources>, target: &Target<'_>) -> Result<(), String> {
    let ignore_user = target.user.is_none();
    let matched = if !matching.any.is_empty() {
        matching.any.iter().any(|filter| filter.matches_for_match(target, ignore_user))
    } else if !matching.all.is_empty() {
        matching.all.iter().all(|filter| filter.matches_for_match(target, ignore_user))
    } else {
        matching.single.matches_for_match(target, ignore_user)
    };
    if !matched {
        return Err("resource does not match".to_owned());
    }
    let Some(exclude) = exclude.filter(|exclude| !exclude.is_empty()) else { return Ok(()) };
    let excluded = if !exclude.any.is_empty() {
        exclude.any.iter().any(|filter| filter.excludes(target))
    } else if !exclude.all.is_empty() {
        exclude.all.iter().all(|filter| filter.excludes(target))
    } else {
        exclude.single.excludes(target)
    };
    if excluded { Err("resource excluded".to_owned()) } else { Ok(()) }
}

/// A PolicyException's `match` (Kyverno's `CheckMatchesResources`): `any` or `all`, and user
/// conditions are never dropped, so they fail without a request user.
pub fn applies_strictly(block: &MatchResources, target: &Target<'_>) -> bool {
    if !block.any.is_empty() {
        block.any.iter().any(|filter| !filter.is_empty() && filter.resources.matches(target, false) && filter.user.matches(target.user))
    } else {
        block.all.iter().all(|filter| !filter.is_empty() && filter.resources.matches(target, false) && filter.user.matches(target.user))
    }
}

impl Filter {
    fn parse(json: &Value) -> Filter {
        let resources = json.get("resources").map(Description::parse).unwrap_or_default();
        Filter { resources, user: UserFilter::parse(json) }
    }

    fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.user.is_empty()
    }

    fn matches_for_match(&self, target: &Target<'_>, ignore_user: bool) -> bool {
        let user_empty = ignore_user || self.user.is_empty();
        if self.resources.is_empty() && user_empty {
            return false; // "match cannot be empty"
        }
        self.resources.matches(target, true) && (ignore_user || self.user.matches(target.user))
    }

    fn excludes(&self, target: &Target<'_>) -> bool {
        !self.is_empty() && self.resources.matches(target, false) && self.user.matches(target.user)
    }
}

fn strings(json: Option<&Value>) -> Vec<String> {
    json.and_then(Value::as_array).map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default()
}

impl Description {
    fn parse(json: &Value) -> Description {
        let text = |key: &str| json.get(key).and_then(Value::as_str).filter(|text| !text.is_empty()).map(str::to_owned);
        let annotations = json.get("annotations").and_then(Value::as_object).map(|map| map.iter().map(|(key, value)| (key.clone(), value.as_str().unwrap_or_default().to_owned())).collect()).unwrap_or_default();
        Description {
            kinds: strings(json.get("kinds")),
            name: text("name"),
            names: strings(json.get("names")),
            namespaces: strings(json.get("namespaces")),
            annotations,
            selector: json.get("selector").filter(|selector| !selector.is_null()).cloned(),
            namespace_selector: json.get("namespaceSelector").filter(|selector| !selector.is_null()).cloned(),
            operations: strings(json.get("operations")),
        }
    }

    fn is_empty(&self) -> bool {
        self.kinds.is_empty() && self.name.is_none() && self.names.is_empty() && self.namespaces.is_empty() && self.annotations.is_empty() && self.selector.is_none() && self.namespace_selector.is_none() && self.operations.is_empty()
    }

    /// `unknown_namespace` is what a namespace selector gives while the labels are unknown.
    fn matches(&self, target: &Target<'_>, unknown_namespace: bool) -> bool {
        if !self.operations.is_empty() && !self.operations.iter().any(|operation| operation == target.operation) {
            return false;
        }
        let metadata = target.object.get("metadata");
        let field = |key: &str| metadata.and_then(|metadata| metadata.get(key)).and_then(Value::as_str).unwrap_or_default();
        let name = match field("name") {
            "" => field("generateName"),
            name => name,
        };
        let namespace = if target.kind == "Namespace" { field("name") } else { field("namespace") };
        (self.kinds.is_empty() || self.kinds.iter().any(|selector| kind_matches(selector, target)))
            && self.name.as_deref().is_none_or(|pattern| wildcard::matches(pattern, name))
            && (self.names.is_empty() || self.names.iter().any(|pattern| wildcard::matches(pattern, name)))
            && (self.namespaces.is_empty() || self.namespaces.iter().any(|pattern| wildcard::matches(pattern, namespace)))
            && annotations_match(&self.annotations, &labels_at(metadata, "annotations"))
            && self.selector.as_ref().is_none_or(|selector| selector_matches(selector, &labels_at(metadata, "labels")))
            && self.namespace_selector.as_ref().is_none_or(|selector| {
                // Kyverno: a namespace selector cannot select a Namespace.
                target.kind != "Namespace" && target.namespace_labels.map_or(unknown_namespace, |labels| selector_matches(selector, labels))
            })
    }
}

impl UserFilter {
    fn parse(json: &Value) -> UserFilter {
        let subjects = json
            .get("subjects")
            .and_then(Value::as_array)
            .map(|subjects| {
                subjects
                    .iter()
                    .map(|subject| {
                        let text = |key: &str| subject.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
                        Subject { kind: text("kind"), name: text("name"), namespace: text("namespace") }
                    })
                    .collect()
            })
            .unwrap_or_default();
        UserFilter { roles: strings(json.get("roles")), cluster_roles: strings(json.get("clusterRoles")), subjects }
    }

    fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.cluster_roles.is_empty() && self.subjects.is_empty()
    }

    fn matches(&self, user: Option<&RequestUser>) -> bool {
        let default = RequestUser::default();
        let user = user.unwrap_or(&default);
        let any_of = |wanted: &[String], held: &[String]| held.iter().any(|role| wanted.contains(role));
        (self.roles.is_empty() || any_of(&self.roles, &user.roles))
            && (self.cluster_roles.is_empty() || any_of(&self.cluster_roles, &user.cluster_roles))
            && (self.subjects.is_empty() || self.subjects.iter().any(|subject| subject.matches(user)))
    }
}

impl Subject {
    fn matches(&self, user: &RequestUser) -> bool {
        match self.kind.as_str() {
            "ServiceAccount" => wildcard::matches(&format!("system:serviceaccount:{}:{}", self.namespace, self.name), &user.username),
            "Group" => user.groups.iter().any(|group| wildcard::matches(&self.name, group)),
            "User" => wildcard::matches(&self.name, &user.username),
            _ => false,
        }
    }
}

/// Kyverno's `ParseKindSelector`: `Kind`, `version/Kind`, `group/version/Kind`, optionally with a
/// `/subresource` or `.subresource`, each part a wildcard.
fn kind_matches(selector: &str, target: &Target<'_>) -> bool {
    let Some((group, version, kind, subresource)) = parse_kind_selector(selector) else { return false };
    wildcard::matches(group, target.group) && wildcard::matches(version, target.version) && wildcard::matches(kind, target.kind) && wildcard::matches(subresource, target.subresource)
}

/// The kind a kind selector names (`apps/v1/Deployment` → `Deployment`).
pub(crate) fn kind_of_selector(selector: &str) -> &str {
    parse_kind_selector(selector).map_or("", |(_, _, kind, _)| kind)
}

/// Group, version, kind and subresource of a kind selector, each possibly a wildcard.
fn parse_kind_selector(selector: &str) -> Option<(&str, &str, &str, &str)> {
    let mut parts: Vec<&str> = selector.split('/').collect();
    if let Some(last) = parts.pop() {
        parts.extend(last.split('.'));
    }
    let is_version = |part: &str| part == "*" || is_api_version(part);
    let (group, version, kind, subresource) = match parts.as_slice() {
        [kind] => ("*", "*", *kind, ""),
        ["*", "*"] => ("*", "*", "*", "*"),
        ["*", sub] if sub.to_lowercase() == *sub => ("*", "*", "*", *sub),
        [version, kind] if is_version(version) => ("*", *version, *kind, ""),
        [kind, sub] => ("*", "*", *kind, *sub),
        [version, kind, sub] if is_version(version) => ("*", *version, *kind, *sub),
        [group, version, kind] => (*group, *version, *kind, ""),
        [group, version, kind, sub] => (*group, *version, *kind, *sub),
        _ => return None,
    };
    Some((group, version, kind, subresource))
}

/// `v1`, `v2beta1`, `v1alpha3`.
fn is_api_version(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('v') else { return false };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    let rest = &rest[digits..];
    let Some(number) = rest.strip_prefix("alpha").or_else(|| rest.strip_prefix("beta")) else { return rest.is_empty() };
    !number.is_empty() && number.bytes().all(|byte| byte.is_ascii_digit())
}

fn labels_at(metadata: Option<&Value>, key: &str) -> Labels {
    metadata
        .and_then(|metadata| metadata.get(key))
        .and_then(Value::as_object)
        .map(|map| map.iter().map(|(key, value)| (key.clone(), value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string()))).collect())
        .unwrap_or_default()
}

fn annotations_match(expected: &BTreeMap<String, String>, actual: &Labels) -> bool {
    expected.iter().all(|(key, value)| actual.iter().any(|(actual_key, actual_value)| wildcard::matches(key, actual_key) && wildcard::matches(value, actual_value)))
}

/// A label selector whose `matchLabels` may hold wildcards: Kyverno first replaces each wildcard
/// entry by the first label it matches (or by the pattern with wildcards turned to `0`, which no
/// label carries), then evaluates the selector as Kubernetes does. An invalid selector matches
/// nothing.
pub(crate) fn selector_matches(selector: &Value, labels: &Labels) -> bool {
    let mut selector = selector.clone();
    if let Some(match_labels) = selector.get_mut("matchLabels").and_then(Value::as_object_mut) {
        let expanded: serde_json::Map<String, Value> = match_labels
            .iter()
            .map(|(key, value)| {
                let value = value.as_str().unwrap_or_default();
                if !wildcard::contains_wildcard(key) && !wildcard::contains_wildcard(value) {
                    return (key.clone(), Value::from(value));
                }
                match labels.iter().find(|(label, label_value)| wildcard::matches(key, label) && wildcard::matches(value, label_value)) {
                    Some((label, label_value)) => (label.clone(), Value::from(label_value.as_str())),
                    None => (key.replace(['*', '?'], "0"), Value::from(value.replace(['*', '?'], "0"))),
                }
            })
            .collect();
        *match_labels = expanded;
    }
    LabelSelector::parse(&Node::from_json(&selector)).is_ok_and(|selector| selector.matches(labels))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn target<'a>(object: &'a Value, kind: &'a str, group: &'a str, namespace_labels: Option<&'a Labels>) -> Target<'a> {
        Target { object, group, version: "v1", kind, subresource: "", operation: "CREATE", namespace_labels, user: None }
    }

    fn applies_to(block: Value, exclude: Option<Value>, target: &Target<'_>) -> bool {
        let exclude = exclude.map(|exclude| MatchResources::parse(&exclude));
        applies(&MatchResources::parse(&block), exclude.as_ref(), target).is_ok()
    }

    #[test]
    fn kinds_with_group_version_and_wildcards() {
        let deployment = json!({"metadata": {"name": "web", "namespace": "prod"}});
        let target = target(&deployment, "Deployment", "apps", None);
        for (kinds, expected) in [
            (json!(["Deployment"]), true),
            (json!(["apps/v1/Deployment"]), true),
            (json!(["v1/Deployment"]), true),
            (json!(["extensions/v1beta1/Deployment"]), false),
            // A leading `*` reads as a version, so this is version/kind/subresource, as in Kyverno.
            (json!(["*/*/Deploy*"]), false),
            (json!(["apps/*/Deploy*"]), true),
            (json!(["Pod", "StatefulSet"]), false),
            (json!(["Deployment/scale"]), false),
            (json!(["*"]), true),
        ] {
            assert_eq!(applies_to(json!({"any": [{"resources": {"kinds": kinds}}]}), None, &target), expected, "{kinds}");
        }
    }

    #[test]
    fn names_namespaces_annotations_selectors() {
        let pod = json!({"metadata": {"name": "web-1", "namespace": "team-a", "labels": {"app": "web", "tier": "front"}, "annotations": {"owner": "alice"}}});
        let namespace_labels: Labels = [("env".to_owned(), "prod".to_owned())].into();
        let target = target(&pod, "Pod", "", Some(&namespace_labels));
        let block = |resources: Value| json!({"resources": resources});
        assert!(applies_to(block(json!({"kinds": ["Pod"], "names": ["web-*"]})), None, &target));
        assert!(!applies_to(block(json!({"kinds": ["Pod"], "name": "db-?"})), None, &target));
        assert!(applies_to(block(json!({"namespaces": ["team-?"]})), None, &target));
        assert!(applies_to(block(json!({"annotations": {"own*": "a*"}})), None, &target));
        assert!(!applies_to(block(json!({"annotations": {"owner": "bob"}})), None, &target));
        assert!(applies_to(block(json!({"selector": {"matchLabels": {"app": "w*"}}})), None, &target));
        assert!(!applies_to(block(json!({"selector": {"matchLabels": {"app": "db*"}}})), None, &target));
        assert!(applies_to(block(json!({"selector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}})), None, &target));
        assert!(applies_to(block(json!({"namespaceSelector": {"matchLabels": {"env": "prod"}}})), None, &target));
        assert!(!applies_to(block(json!({"namespaceSelector": {"matchLabels": {"env": "dev"}}})), None, &target));
        assert!(!applies_to(json!({}), None, &target), "an empty match matches nothing");
    }

    #[test]
    fn any_all_and_exclude() {
        let pod = json!({"metadata": {"name": "web", "namespace": "kube-system"}});
        let target = target(&pod, "Pod", "", None);
        let kinds = json!({"resources": {"kinds": ["Pod"]}});
        let system = json!({"resources": {"namespaces": ["kube-system"]}});
        let other = json!({"resources": {"namespaces": ["default"]}});
        assert!(applies_to(json!({"any": [other.clone(), kinds.clone()]}), None, &target));
        assert!(!applies_to(json!({"all": [other.clone(), kinds.clone()]}), None, &target));
        assert!(!applies_to(json!({"any": [kinds.clone()]}), Some(json!({"any": [other.clone(), system.clone()]})), &target));
        assert!(applies_to(json!({"any": [kinds.clone()]}), Some(json!({"all": [other, system.clone()]})), &target));
        // User conditions are ignored in `match` without a request user, and never exclude then.
        let user_only = json!({"subjects": [{"kind": "User", "name": "alice"}]});
        assert!(applies_to(json!({"any": [{"resources": {"kinds": ["Pod"]}, "subjects": [{"kind": "User", "name": "alice"}]}]}), None, &target));
        assert!(applies_to(json!({"any": [kinds.clone()]}), Some(json!({"any": [user_only]})), &target));
        let alice = RequestUser { username: "alice".into(), ..RequestUser::default() };
        let as_alice = Target { user: Some(&alice), ..target };
        assert!(!applies_to(json!({"any": [kinds]}), Some(json!({"any": [{"subjects": [{"kind": "User", "name": "ali*"}]}]})), &as_alice));
    }

    #[test]
    fn operations_and_namespace_kind() {
        let namespace = json!({"metadata": {"name": "prod"}});
        let target = target(&namespace, "Namespace", "", None);
        assert!(applies_to(json!({"resources": {"kinds": ["Namespace"], "namespaces": ["prod"]}}), None, &target));
        assert!(!applies_to(json!({"resources": {"kinds": ["Namespace"], "operations": ["UPDATE"]}}), None, &target));
        assert!(!applies_to(json!({"resources": {"kinds": ["Namespace"], "namespaceSelector": {}}}), None, &target));
    }

    #[test]
    fn kinds_decide_cheaply_whether_a_block_may_match() {
        let block = |json: Value| MatchResources::parse(&json);
        let pods = block(json!({"any": [{"resources": {"kinds": ["Pod"]}}, {"resources": {"kinds": ["apps/v1/Deployment"]}}]}));
        assert!(pods.may_match_kind("", "v1", "Pod") && pods.may_match_kind("apps", "v1", "Deployment"));
        assert!(!pods.may_match_kind("", "v1", "Service") && !pods.may_match_kind("extensions", "v1beta1", "Deployment"));
        let all = block(json!({"all": [{"resources": {"kinds": ["Pod"]}}, {"resources": {"namespaces": ["prod"]}}]}));
        assert!(all.may_match_kind("", "v1", "Pod") && !all.may_match_kind("", "v1", "Secret"));
        // Without kinds (names only, user conditions) nothing is ruled out.
        assert!(block(json!({"resources": {"names": ["web"]}})).may_match_kind("", "v1", "Secret"));
        assert!(block(json!({"any": [{"subjects": [{"kind": "User", "name": "a"}]}]})).may_match_kind("", "v1", "Secret"));
    }

    #[test]
    fn api_versions() {
        for (text, expected) in [("v1", true), ("v2beta1", true), ("v1alpha3", true), ("v1beta", false), ("apps", false), ("v", false)] {
            assert_eq!(is_api_version(text), expected, "{text}");
        }
    }
}
