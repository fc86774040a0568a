//! Policy rules and requests, matched as the Kubernetes RBAC authorizer matches them
//! (`RuleAllows` and the helpers of `pkg/apis/rbac/v1/evaluation_helpers.go`).

use std::fmt;

use palisade_core::Node;

/// The wildcard of verbs, API groups, resources and non-resource URLs.
pub const ALL: &str = "*";

/// One entry of a role's `rules`, with its pointer inside the role object.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    pub verbs: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub api_groups: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
    #[serde(rename = "nonResourceURLs", skip_serializing_if = "Vec::is_empty")]
    pub non_resource_urls: Vec<String>,
    #[serde(skip)]
    pub pointer: String,
}

/// What a client asks the API server to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Resource { verb: String, group: String, resource: String, subresource: Option<String>, name: Option<String> },
    NonResource { verb: String, path: String },
}

/// Resources whose API group `who-can` fills in when the user gives none, as kubectl would
/// find it through discovery. Anything else defaults to the core group.
const KNOWN_GROUPS: &[(&str, &str)] = &[
    ("deployments", "apps"),
    ("replicasets", "apps"),
    ("statefulsets", "apps"),
    ("daemonsets", "apps"),
    ("controllerrevisions", "apps"),
    ("jobs", "batch"),
    ("cronjobs", "batch"),
    ("roles", "rbac.authorization.k8s.io"),
    ("rolebindings", "rbac.authorization.k8s.io"),
    ("clusterroles", "rbac.authorization.k8s.io"),
    ("clusterrolebindings", "rbac.authorization.k8s.io"),
    ("networkpolicies", "networking.k8s.io"),
    ("ingresses", "networking.k8s.io"),
    ("certificatesigningrequests", "certificates.k8s.io"),
    ("signers", "certificates.k8s.io"),
    ("mutatingwebhookconfigurations", "admissionregistration.k8s.io"),
    ("validatingwebhookconfigurations", "admissionregistration.k8s.io"),
    ("validatingadmissionpolicies", "admissionregistration.k8s.io"),
    ("customresourcedefinitions", "apiextensions.k8s.io"),
    ("tokenreviews", "authentication.k8s.io"),
    ("subjectaccessreviews", "authorization.k8s.io"),
    ("storageclasses", "storage.k8s.io"),
    ("poddisruptionbudgets", "policy"),
    ("horizontalpodautoscalers", "autoscaling"),
];

impl PolicyRule {
    /// Reads one rule; absent lists are empty (they match nothing).
    pub fn parse(node: &Node, pointer: String) -> Self {
        let list = |key: &str| -> Vec<String> {
            node.get(key).map(Node::as_seq).unwrap_or_default().iter().filter_map(Node::as_str).map(str::to_owned).collect()
        };
        Self {
            verbs: list("verbs"),
            api_groups: list("apiGroups"),
            resources: list("resources"),
            resource_names: list("resourceNames"),
            non_resource_urls: list("nonResourceURLs"),
            pointer,
        }
    }

    /// A rule written in code (the built-in `cluster-admin`), with the pointer it has in the
    /// object the API server creates.
    pub fn new(verbs: &[&str], api_groups: &[&str], resources: &[&str], non_resource_urls: &[&str], pointer: &str) -> Self {
        let owned = |items: &[&str]| items.iter().map(|item| (*item).to_owned()).collect();
        Self {
            verbs: owned(verbs),
            api_groups: owned(api_groups),
            resources: owned(resources),
            resource_names: Vec::new(),
            non_resource_urls: owned(non_resource_urls),
            pointer: pointer.to_owned(),
        }
    }

    /// Whether two rules say the same thing, wherever they are written (the aggregation
    /// controller drops such duplicates).
    pub fn same_grant(&self, other: &PolicyRule) -> bool {
        (&self.verbs, &self.api_groups, &self.resources, &self.resource_names, &self.non_resource_urls)
            == (&other.verbs, &other.api_groups, &other.resources, &other.resource_names, &other.non_resource_urls)
    }

    pub fn allows(&self, request: &Request) -> bool {
        match request {
            Request::Resource { verb, group, resource, subresource, name } => {
                self.verb_matches(verb)
                    && self.api_groups.iter().any(|g| g == ALL || g == group)
                    && self.resource_matches(resource, subresource.as_deref())
                    && name_matches(&self.resource_names, name.as_deref())
            }
            Request::NonResource { verb, path } => self.verb_matches(verb) && self.url_matches(path),
        }
    }

    fn verb_matches(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == ALL || v == verb)
    }

    /// `*` matches every resource and subresource; otherwise the rule must name
    /// `resource/subresource` exactly, or `*/subresource`. There is no `resource/*` wildcard:
    /// `pods/*` names a subresource called `*`, which no request has.
    fn resource_matches(&self, resource: &str, subresource: Option<&str>) -> bool {
        self.resources.iter().any(|rule| {
            if rule == ALL {
                return true;
            }
            match subresource {
                None => rule == resource,
                Some(sub) => {
                    rule.strip_prefix(resource).and_then(|rest| rest.strip_prefix('/')) == Some(sub)
                        || rule.strip_prefix("*/") == Some(sub)
                }
            }
        })
    }

    /// `*` matches every path; a trailing `*` matches by prefix; otherwise exact.
    fn url_matches(&self, path: &str) -> bool {
        self.non_resource_urls.iter().any(|rule| {
            rule == ALL || rule == path || rule.strip_suffix('*').is_some_and(|prefix| path.starts_with(prefix))
        })
    }

    /// Whether this rule grants every verb on every resource of every group.
    pub fn is_full_wildcard(&self) -> bool {
        [&self.verbs, &self.api_groups, &self.resources].iter().all(|list| list.iter().any(|item| item == ALL))
            && self.resource_names.is_empty()
    }
}

/// With no resourceNames a rule covers every name, including requests with no name at all
/// (list, watch, create); with some it covers only requests for those names.
fn name_matches(names: &[String], requested: Option<&str>) -> bool {
    names.is_empty() || requested.is_some_and(|requested| names.iter().any(|name| name == requested))
}

impl Request {
    /// A resource request; `target` is `resource[.group][/subresource]` as in
    /// `kubectl auth can-i`, or a non-resource URL starting with `/`.
    pub fn parse(verb: &str, target: &str, name: Option<&str>) -> Self {
        if target.starts_with('/') {
            return Request::NonResource { verb: verb.to_owned(), path: target.to_owned() };
        }
        let (resource, subresource) = match target.split_once('/') {
            Some((resource, sub)) => (resource, Some(sub.to_owned())),
            None => (target, None),
        };
        let (resource, group) = match resource.split_once('.') {
            Some((resource, group)) => (resource, group),
            None => (resource, KNOWN_GROUPS.iter().find(|(known, _)| *known == resource).map_or("", |(_, group)| *group)),
        };
        Request::Resource {
            verb: verb.to_owned(),
            group: group.to_owned(),
            resource: resource.to_owned(),
            subresource,
            name: name.map(str::to_owned),
        }
    }

    /// A resource request in code: `Request::resource("create", "", "pods/exec")`.
    pub fn resource(verb: &str, group: &str, target: &str) -> Self {
        let (resource, subresource) = match target.split_once('/') {
            Some((resource, sub)) => (resource, Some(sub.to_owned())),
            None => (target, None),
        };
        Request::Resource {
            verb: verb.to_owned(),
            group: group.to_owned(),
            resource: resource.to_owned(),
            subresource,
            name: None,
        }
    }
}

/// `get pods/exec`, `create deployments.apps`, `get /healthz`: how reports name a request.
impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::Resource { verb, group, resource, subresource, name } => {
                write!(f, "{verb} {resource}")?;
                if !group.is_empty() {
                    write!(f, ".{group}")?;
                }
                if let Some(sub) = subresource {
                    write!(f, "/{sub}")?;
                }
                if let Some(name) = name {
                    write!(f, " named {name}")?;
                }
                Ok(())
            }
            Request::NonResource { verb, path } => write!(f, "{verb} {path}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(json: serde_json::Value) -> PolicyRule {
        PolicyRule::parse(&Node::from_json(&json), "/rules/0".to_owned())
    }

    fn allows(rule_json: serde_json::Value, verb: &str, target: &str) -> bool {
        rule(rule_json).allows(&Request::parse(verb, target, None))
    }

    #[test]
    fn verbs_match_exactly_or_by_wildcard() {
        let pods = json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]});
        assert!(allows(pods.clone(), "get", "pods"));
        assert!(!allows(pods, "list", "pods"));
        assert!(allows(json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}), "delete", "pods"));
    }

    #[test]
    fn api_groups_match_exactly_or_by_wildcard() {
        let apps = json!({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]});
        assert!(allows(apps.clone(), "get", "deployments.apps"));
        assert!(!allows(apps, "get", "deployments.extensions"));
        assert!(allows(json!({"apiGroups": ["*"], "resources": ["deployments"], "verbs": ["get"]}), "get", "deployments.extensions"));
        // The core group is the empty string, not a wildcard.
        assert!(!allows(json!({"apiGroups": [""], "resources": ["deployments"], "verbs": ["get"]}), "get", "deployments.apps"));
    }

    #[test]
    fn a_resource_does_not_cover_its_subresources() {
        let pods = json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]});
        assert!(!allows(pods, "create", "pods/exec"));
        let exec = json!({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]});
        assert!(allows(exec.clone(), "create", "pods/exec"));
        assert!(!allows(exec, "create", "pods"));
    }

    #[test]
    fn resource_wildcard_covers_subresources() {
        assert!(allows(json!({"apiGroups": [""], "resources": ["*"], "verbs": ["create"]}), "create", "pods/exec"));
    }

    #[test]
    fn star_slash_subresource_matches_that_subresource_of_any_resource() {
        let status = json!({"apiGroups": ["*"], "resources": ["*/status"], "verbs": ["update"]});
        assert!(allows(status.clone(), "update", "pods/status"));
        assert!(allows(status.clone(), "update", "deployments.apps/status"));
        assert!(!allows(status.clone(), "update", "pods"));
        assert!(!allows(status, "update", "pods/statusx"));
    }

    #[test]
    fn resource_slash_star_is_not_a_wildcard() {
        let pods_any = json!({"apiGroups": [""], "resources": ["pods/*"], "verbs": ["*"]});
        assert!(!allows(pods_any.clone(), "create", "pods/exec"));
        assert!(!allows(pods_any, "get", "pods"));
    }

    #[test]
    fn resource_names_restrict_to_named_requests() {
        let named = rule(json!({"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["tls"], "verbs": ["get", "list"]}));
        assert!(named.allows(&Request::parse("get", "secrets", Some("tls"))));
        assert!(!named.allows(&Request::parse("get", "secrets", Some("db"))));
        // A list has no name, so a name-restricted rule never allows it.
        assert!(!named.allows(&Request::parse("list", "secrets", None)));
    }

    #[test]
    fn non_resource_urls_match_exactly_by_prefix_star_or_wildcard() {
        let health = json!({"nonResourceURLs": ["/healthz", "/metrics/*"], "verbs": ["get"]});
        assert!(allows(health.clone(), "get", "/healthz"));
        assert!(!allows(health.clone(), "get", "/healthz/etcd"));
        assert!(allows(health.clone(), "get", "/metrics/cadvisor"));
        assert!(!allows(health, "post", "/healthz"));
        assert!(allows(json!({"nonResourceURLs": ["*"], "verbs": ["*"]}), "get", "/anything"));
    }

    #[test]
    fn resource_rules_never_match_non_resource_requests_and_vice_versa() {
        assert!(!allows(json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}), "get", "/healthz"));
        assert!(!allows(json!({"nonResourceURLs": ["*"], "verbs": ["*"]}), "get", "pods"));
    }

    #[test]
    fn targets_parse_like_kubectl_auth_can_i() {
        assert_eq!(
            Request::parse("create", "deployments", None),
            Request::resource("create", "apps", "deployments")
        );
        assert_eq!(
            Request::parse("update", "certificatesigningrequests.certificates.k8s.io/approval", None),
            Request::resource("update", "certificates.k8s.io", "certificatesigningrequests/approval")
        );
        assert_eq!(Request::parse("get", "pods/log", None).to_string(), "get pods/log");
    }
}
