//! Resolver behaviour over whole object sets: scoping, aggregation, subjects, built-in groups.

use palisade_core::{Node, Object, Origin};
use serde_json::{Value, json};

use crate::{Identity, Rbac, Request, Scope};

fn objects(items: &[Value]) -> Vec<Object> {
    items
        .iter()
        .enumerate()
        .map(|(document, item)| Object::new(Node::from_json(item), Origin { file: "rbac.yaml".into(), document: document as u32, item: None }))
        .collect()
}

fn role(kind: &str, namespace: Option<&str>, name: &str, rules: Value) -> Value {
    let mut metadata = json!({"name": name});
    if let Some(namespace) = namespace {
        metadata["namespace"] = json!(namespace);
    }
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": metadata, "rules": rules})
}

fn binding(kind: &str, namespace: Option<&str>, name: &str, role_kind: &str, role: &str, subjects: Value) -> Value {
    let mut metadata = json!({"name": name});
    if let Some(namespace) = namespace {
        metadata["namespace"] = json!(namespace);
    }
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": metadata,
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role}, "subjects": subjects})
}

fn secrets_reader() -> Value {
    role("ClusterRole", None, "secret-reader", json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]))
}

fn sa(namespace: &str, name: &str) -> Value {
    json!({"kind": "ServiceAccount", "name": name, "namespace": namespace})
}

/// Who may make `request` in `namespace`, as `Kind name @ binding`.
fn who(objects: &[Object], verb: &str, target: &str, namespace: Option<&str>) -> Vec<String> {
    let rbac = Rbac::from_objects(objects);
    let mut names: Vec<String> = rbac
        .who_can(&Request::parse(verb, target, None), namespace)
        .iter()
        .map(|grant| format!("{} @ {}", grant.subject, grant.binding.name))
        .collect();
    names.sort();
    names
}

#[test]
fn a_role_binding_to_a_cluster_role_grants_only_in_its_namespace() {
    let objects = objects(&[
        secrets_reader(),
        binding("RoleBinding", Some("shop"), "read", "ClusterRole", "secret-reader", json!([sa("shop", "app")])),
    ]);
    assert_eq!(who(&objects, "get", "secrets", Some("shop")), ["ServiceAccount shop/app @ read"]);
    assert!(who(&objects, "get", "secrets", Some("bank")).is_empty());
    let rbac = Rbac::from_objects(&objects);
    assert_eq!(rbac.bindings[0].scope(), Scope::Namespace("shop".into()));
}

#[test]
fn a_cluster_role_binding_grants_in_every_namespace() {
    let objects = objects(&[
        secrets_reader(),
        binding("ClusterRoleBinding", None, "read-all", "ClusterRole", "secret-reader", json!([sa("ops", "bot")])),
    ]);
    assert_eq!(who(&objects, "list", "secrets", Some("bank")), ["ServiceAccount ops/bot @ read-all"]);
    assert_eq!(who(&objects, "list", "secrets", None), ["ServiceAccount ops/bot @ read-all"]);
}

#[test]
fn a_role_binding_resolves_a_role_in_its_own_namespace_only() {
    let objects = objects(&[
        role("Role", Some("bank"), "reader", json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}])),
        binding("RoleBinding", Some("shop"), "read", "Role", "reader", json!([sa("shop", "app")])),
    ]);
    let rbac = Rbac::from_objects(&objects);
    assert!(rbac.bindings[0].role.is_none());
    assert!(rbac.problems[0].message.contains("not in the input"), "{:?}", rbac.problems);
    assert_eq!(rbac.problems[0].pointer, "/roleRef/name");
}

#[test]
fn service_account_subjects_default_to_the_role_binding_namespace() {
    let objects = objects(&[
        secrets_reader(),
        binding("RoleBinding", Some("shop"), "read", "ClusterRole", "secret-reader", json!([{"kind": "ServiceAccount", "name": "app"}])),
    ]);
    let rbac = Rbac::from_objects(&objects);
    assert!(Identity::parse("serviceaccount:shop:app").unwrap().matches(&rbac.bindings[0].subjects[0]));
}

#[test]
fn a_service_account_subject_of_a_cluster_role_binding_needs_a_namespace() {
    let objects = objects(&[
        secrets_reader(),
        binding("ClusterRoleBinding", None, "read", "ClusterRole", "secret-reader", json!([{"kind": "ServiceAccount", "name": "app"}])),
    ]);
    let rbac = Rbac::from_objects(&objects);
    assert_eq!(rbac.problems[0].pointer, "/subjects/0");
    assert_eq!(rbac.bindings_for(&Identity::service_account("default", "app")).count(), 0);
}

#[test]
fn service_accounts_belong_to_the_built_in_groups() {
    let objects = objects(&[
        secrets_reader(),
        binding("ClusterRoleBinding", None, "all-sas", "ClusterRole", "secret-reader", json!([{"kind": "Group", "name": "system:serviceaccounts"}])),
        binding("ClusterRoleBinding", None, "shop-sas", "ClusterRole", "secret-reader", json!([{"kind": "Group", "name": "system:serviceaccounts:shop"}])),
        binding("ClusterRoleBinding", None, "everyone", "ClusterRole", "secret-reader", json!([{"kind": "Group", "name": "system:authenticated"}])),
        binding("ClusterRoleBinding", None, "anon", "ClusterRole", "secret-reader", json!([{"kind": "Group", "name": "system:unauthenticated"}])),
    ]);
    let rbac = Rbac::from_objects(&objects);
    let names = |identity: &Identity| rbac.bindings_for(identity).map(|(b, _)| b.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&Identity::service_account("shop", "app")), ["all-sas", "shop-sas", "everyone"]);
    assert_eq!(names(&Identity::service_account("bank", "app")), ["all-sas", "everyone"]);
    assert_eq!(names(&Identity::user("alice")), ["everyone"]);
    assert_eq!(names(&Identity::user("system:anonymous")), ["anon"]);
}

#[test]
fn a_user_subject_with_a_service_account_username_names_that_service_account() {
    let objects = objects(&[
        secrets_reader(),
        binding("ClusterRoleBinding", None, "read", "ClusterRole", "secret-reader", json!([{"kind": "User", "name": "system:serviceaccount:shop:app"}])),
    ]);
    let rbac = Rbac::from_objects(&objects);
    assert_eq!(rbac.bindings_for(&Identity::parse("serviceaccount:shop:app").unwrap()).count(), 1);
    assert_eq!(Identity::parse("system:serviceaccount:shop:app").unwrap(), Identity::service_account("shop", "app"));
}

#[test]
fn aggregated_cluster_roles_take_the_rules_of_the_roles_their_selectors_pick() {
    let mut piece = secrets_reader();
    piece["metadata"]["labels"] = json!({"aggregate-to-reader": "true"});
    let mut duplicate = role("ClusterRole", None, "secrets-again", json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]));
    duplicate["metadata"]["labels"] = json!({"aggregate-to-reader": "true"});
    let mut outer = role("ClusterRole", None, "reader", json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]));
    outer["aggregationRule"] = json!({"clusterRoleSelectors": [{"matchLabels": {"aggregate-to-reader": "true"}}]});
    let objects = objects(&[outer, piece, duplicate,
        binding("ClusterRoleBinding", None, "r", "ClusterRole", "reader", json!([{"kind": "User", "name": "alice"}]))]);
    let rbac = Rbac::from_objects(&objects);
    let rules: Vec<String> = rbac.rules_of(0).map(|(role, rule)| format!("{}{}", role.name, rule.pointer)).collect();
    // The written `*` rule is replaced, and the identical rule of `secrets-again` is dropped.
    assert_eq!(rules, ["secret-reader/rules/0"]);
    assert_eq!(who(&objects, "get", "secrets", None), ["User alice @ r"]);
    assert!(who(&objects, "delete", "pods", None).is_empty());
}

#[test]
fn aggregation_chains_settle_to_a_fixed_point() {
    let mut inner = role("ClusterRole", None, "a-inner", json!([]));
    inner["metadata"]["labels"] = json!({"layer": "middle"});
    inner["aggregationRule"] = json!({"clusterRoleSelectors": [{"matchLabels": {"layer": "bottom"}}]});
    let mut leaf = secrets_reader();
    leaf["metadata"]["labels"] = json!({"layer": "bottom"});
    let mut top = role("ClusterRole", None, "top", json!([]));
    top["aggregationRule"] = json!({"clusterRoleSelectors": [{"matchLabels": {"layer": "middle"}}]});
    let objects = objects(&[top, inner, leaf,
        binding("ClusterRoleBinding", None, "t", "ClusterRole", "top", json!([{"kind": "User", "name": "bob"}]))]);
    assert_eq!(who(&objects, "list", "secrets", None), ["User bob @ t"]);
}

#[test]
fn cluster_admin_is_assumed_when_the_input_binds_to_it_without_defining_it() {
    let objects = objects(&[binding("ClusterRoleBinding", None, "ops", "ClusterRole", "cluster-admin", json!([{"kind": "Group", "name": "ops"}]))]);
    assert_eq!(who(&objects, "create", "pods/exec", Some("kube-system")), ["Group ops @ ops"]);
    assert_eq!(who(&objects, "get", "/metrics", None), ["Group ops @ ops"]);
    assert!(Rbac::from_objects(&objects).problems.is_empty());
}

#[test]
fn a_cluster_role_binding_cannot_reference_a_role() {
    let objects = objects(&[binding("ClusterRoleBinding", None, "bad", "Role", "x", json!([]))]);
    let rbac = Rbac::from_objects(&objects);
    assert!(rbac.bindings.is_empty());
    assert_eq!(rbac.problems[0].pointer, "/roleRef/kind");
}

#[test]
fn retain_keeps_what_the_resolver_reads() {
    let mut full = secrets_reader();
    full["metadata"]["annotations"] = json!({"kubectl.kubernetes.io/last-applied-configuration": "{...}"});
    let objects = objects(&[full, json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})]);
    let kept = crate::retain(&objects[0]).unwrap();
    assert!(kept.annotation("kubectl.kubernetes.io/last-applied-configuration").is_none());
    assert_eq!(kept.root.get("rules"), objects[0].root.get("rules"));
    assert!(crate::retain(&objects[1]).is_none());
}
