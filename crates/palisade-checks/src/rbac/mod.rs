//! RBAC risk rules (CIS 5.1.x and known escalation paths), over the permissions the resolver
//! in `palisade-rbac` computes for every binding. One analysis retains the RBAC objects (only
//! the fields the resolver reads) and runs every rule on the resolved model, so the model is
//! built once. Each finding is reported on a binding's subject and names who, via which
//! binding and role, and which rule of which role grants it.
//!
//! Objects the API server creates at bootstrap (`kubernetes.io/bootstrapping: rbac-defaults`)
//! still take part in resolution but are never reported: they are the platform, not a choice.

mod approve_csr;
mod cluster_admin_binding;
mod create_persistent_volumes;
mod create_serviceaccount_token;
mod create_workloads;
mod default_service_account_binding;
mod escalate_bind_impersonate;
mod exec_attach;
mod nodes_proxy;
mod read_secrets;
mod system_group_binding;
mod webhook_config_edit;
mod wildcard_resources;
mod wildcard_verbs;

use palisade_core::{Candidate, Finding, InventoryRule, Object, RuleMeta};
use palisade_rbac::{Binding, PolicyRule, Rbac, Request, Role, Subject};

/// A rule: its metadata and how it looks at the resolved model.
struct RbacRule {
    meta: &'static RuleMeta,
    check: Check,
}

enum Check {
    /// Reports every binding that grants any of these permissions.
    Grants(&'static [Permission]),
    Custom(fn(&'static RuleMeta, &Rbac<'_>, &mut Vec<Candidate>)),
}

const RULES: &[RbacRule] = &[
    RbacRule { meta: &cluster_admin_binding::META, check: Check::Custom(cluster_admin_binding::check) },
    RbacRule { meta: &system_group_binding::META, check: Check::Custom(system_group_binding::check) },
    RbacRule { meta: &wildcard_verbs::META, check: Check::Custom(wildcard_verbs::check) },
    RbacRule { meta: &wildcard_resources::META, check: Check::Custom(wildcard_resources::check) },
    RbacRule { meta: &read_secrets::META, check: Check::Grants(read_secrets::PERMISSIONS) },
    RbacRule { meta: &create_workloads::META, check: Check::Grants(create_workloads::PERMISSIONS) },
    RbacRule { meta: &exec_attach::META, check: Check::Grants(exec_attach::PERMISSIONS) },
    RbacRule { meta: &escalate_bind_impersonate::META, check: Check::Grants(escalate_bind_impersonate::PERMISSIONS) },
    RbacRule { meta: &create_serviceaccount_token::META, check: Check::Grants(create_serviceaccount_token::PERMISSIONS) },
    RbacRule { meta: &nodes_proxy::META, check: Check::Grants(nodes_proxy::PERMISSIONS) },
    RbacRule { meta: &approve_csr::META, check: Check::Grants(approve_csr::PERMISSIONS) },
    RbacRule { meta: &webhook_config_edit::META, check: Check::Grants(webhook_config_edit::PERMISSIONS) },
    RbacRule { meta: &create_persistent_volumes::META, check: Check::Grants(create_persistent_volumes::PERMISSIONS) },
    RbacRule { meta: &default_service_account_binding::META, check: Check::Custom(default_service_account_binding::check) },
];

struct RbacAnalysis;

impl InventoryRule for RbacAnalysis {
    fn metas(&self) -> Vec<&'static RuleMeta> {
        RULES.iter().map(|rule| rule.meta).collect()
    }

    fn retain(&self, object: &Object) -> Option<Object> {
        palisade_rbac::retain(object)
    }

    fn check(&self, retained: &[Object], out: &mut Vec<Candidate>) {
        let rbac = Rbac::from_objects(retained);
        for rule in RULES {
            run_rule(rule, &rbac, out);
        }
    }
}

fn run_rule(rule: &RbacRule, rbac: &Rbac<'_>, out: &mut Vec<Candidate>) {
    match rule.check {
        Check::Grants(permissions) => report_permissions(rule.meta, permissions, rbac, out),
        Check::Custom(check) => check(rule.meta, rbac, out),
    }
}

/// The RBAC analyses, for the scan engine.
pub fn inventory_rules() -> Vec<Box<dyn InventoryRule>> {
    vec![Box::new(RbacAnalysis)]
}

fn report(meta: &'static RuleMeta, object: &Object, pointer: String, message: String, out: &mut Vec<Candidate>) {
    out.push(Candidate { finding: Finding::new(meta, object, pointer, message), gate: None });
}

/// Reports `message(subject)` at every subject of `binding`.
fn report_subjects(meta: &'static RuleMeta, binding: &Binding<'_>, out: &mut Vec<Candidate>, message: impl Fn(&Subject) -> String) {
    for subject in &binding.subjects {
        report(meta, binding.object, format!("/subjects/{}", subject.index), message(subject), out);
    }
}

/// The bindings a user chose (not bootstrap defaults) with the role they resolve to.
fn chosen_bindings<'r, 'a>(rbac: &'r Rbac<'a>) -> impl Iterator<Item = (&'r Binding<'a>, usize)> {
    rbac.bindings.iter().filter(|b| !b.is_bootstrap()).filter_map(|binding| Some((binding, binding.role?)))
}

/// Whether a role grants every verb on every resource: `cluster-admin` or its equivalent.
fn grants_everything(rbac: &Rbac<'_>, role: usize) -> bool {
    rbac.rules_of(role).any(|(_, rule)| rule.is_full_wildcard())
}

/// `via RoleBinding shop/x → ClusterRole edit (rule /rules/3 of ClusterRole aggregate-to-edit)`.
fn via(binding: &Binding<'_>, role: &Role<'_>, rule_role: &Role<'_>, pointer: &str) -> String {
    format!("via {binding} → {role} (rule {pointer} of {rule_role})")
}

/// Reports what `pick` finds in the rules written in each chosen role (an aggregated role's
/// written rules are replaced by the controller, so they are skipped), at `rule pointer/field`,
/// naming the subjects that hold the rule through any binding, aggregation included.
fn report_role_rules(
    meta: &'static RuleMeta,
    rbac: &Rbac<'_>,
    out: &mut Vec<Candidate>,
    pick: impl Fn(&PolicyRule) -> Option<(&'static str, String)>,
) {
    for role in &rbac.roles {
        let Some(object) = role.object.filter(|_| !role.is_bootstrap() && role.aggregation.is_none()) else { continue };
        for rule in &role.rules {
            let Some((field, what)) = pick(rule) else { continue };
            let message = format!("{role} {what}; {}", holders(rbac, role, rule));
            report(meta, object, format!("{}/{field}", rule.pointer), message, out);
        }
    }
}

/// `held by User alice via ClusterRoleBinding x; ...` or `not bound in the input`.
fn holders(rbac: &Rbac<'_>, role: &Role<'_>, rule: &PolicyRule) -> String {
    let holds = |binding: &Binding<'_>| {
        binding.role.is_some_and(|bound| rbac.rules_of(bound).any(|(source, held)| std::ptr::eq(source, role) && held.pointer == rule.pointer))
    };
    let held: Vec<String> = rbac
        .bindings
        .iter()
        .filter(|binding| holds(binding))
        .flat_map(|binding| binding.subjects.iter().map(move |subject| format!("{subject} via {binding}")))
        .collect();
    if held.is_empty() { "not bound in the input".to_owned() } else { format!("held by {}", held.join("; ")) }
}

/// A permission a rule looks for: verb, API group, `resource[/subresource]`.
type Permission = (&'static str, &'static str, &'static str);

/// Reports every subject of every chosen binding whose role allows any of `permissions`.
/// Roles that grant everything are left to `rbac/cluster-admin-binding`, which says it once.
fn report_permissions(meta: &'static RuleMeta, permissions: &[Permission], rbac: &Rbac<'_>, out: &mut Vec<Candidate>) {
    for (binding, role) in chosen_bindings(rbac) {
        if grants_everything(rbac, role) {
            continue;
        }
        let mut granted: Vec<(String, Vec<&str>)> = Vec::new();
        let mut first_rule = None;
        for &(verb, group, target) in permissions {
            let request = Request::resource(verb, group, target);
            let Some(found) = rbac.rules_of(role).find(|(_, rule)| rule.allows(&request)) else { continue };
            first_rule.get_or_insert(found);
            let shown = match group {
                "" => target.to_owned(),
                group => match target.split_once('/') {
                    Some((resource, sub)) => format!("{resource}.{group}/{sub}"),
                    None => format!("{target}.{group}"),
                },
            };
            match granted.iter_mut().find(|(t, _)| *t == shown) {
                Some((_, verbs)) => verbs.push(verb),
                None => granted.push((shown, vec![verb])),
            }
        }
        let Some((rule_role, rule)) = first_rule else { continue };
        let what: Vec<String> = granted.iter().map(|(target, verbs)| format!("{} {target}", verbs.join("/"))).collect();
        let scope = binding.scope();
        let route = via(binding, &rbac.roles[role], rule_role, &rule.pointer);
        report_subjects(meta, binding, out, |subject| format!("{subject} can {} {scope} {route}", what.join(", ")));
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for the rule tests: objects from JSON (the network rules use them too), and
    //! the analysis run over them.

    use palisade_core::{Node, Object, Origin, RuleMeta};
    use palisade_rbac::Rbac;
    use serde_json::{Value, json};

    pub fn objects(items: &[Value]) -> Vec<Object> {
        items
            .iter()
            .enumerate()
            .map(|(document, item)| Object::new(Node::from_json(item), Origin { file: "rbac.yaml".into(), document: document as u32, item: None }))
            .collect()
    }

    pub fn cluster_role(name: &str, rules: Value) -> Value {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name}, "rules": rules})
    }

    /// A RoleBinding in `shop` (or a ClusterRoleBinding when `namespace` is `None`) of the
    /// ClusterRole `role` to `subjects`.
    pub fn bind(namespace: Option<&str>, name: &str, role: &str, subjects: Value) -> Value {
        let (kind, metadata) = match namespace {
            Some(namespace) => ("RoleBinding", json!({"name": name, "namespace": namespace})),
            None => ("ClusterRoleBinding", json!({"name": name})),
        };
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": metadata,
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}, "subjects": subjects})
    }

    pub fn sa(namespace: &str, name: &str) -> Value {
        json!([{"kind": "ServiceAccount", "name": name, "namespace": namespace}])
    }

    /// Runs the rule with id `meta.id` over `items` (through `retain`, as the engine does)
    /// and returns `object pointer: message` of each finding.
    pub fn run(meta: &RuleMeta, items: &[Value]) -> Vec<String> {
        let rule = super::RULES.iter().find(|rule| rule.meta.id == meta.id).expect("a registered rule");
        let retained: Vec<Object> = objects(items).iter().filter_map(palisade_rbac::retain).collect();
        let rbac = Rbac::from_objects(&retained);
        let mut out = Vec::new();
        super::run_rule(rule, &rbac, &mut out);
        out.iter().map(|c| format!("{} {}: {}", c.finding.object, c.finding.location.path, c.finding.message)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{bind, cluster_role, objects, sa};
    use super::*;
    use serde_json::json;

    #[test]
    fn every_rule_has_the_documented_sections_and_an_rbac_id() {
        for rule in RULES {
            assert!(rule.meta.id.starts_with("rbac/"), "{}", rule.meta.id);
            for section in ["## What it does", "## Why is this bad?", "## How to fix", "## Example"] {
                assert!(rule.meta.doc.contains(section), "{} lacks {section}", rule.meta.id);
            }
        }
    }

    #[test]
    fn the_analysis_retains_rbac_objects_and_reports_through_every_rule() {
        let items = [
            cluster_role("reader", json!([{"apiGroups": [""], "resources": ["secrets", "pods/exec"], "verbs": ["get", "create"]}])),
            bind(Some("shop"), "read", "reader", sa("shop", "default")),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
        ];
        let objects = objects(&items);
        let analysis = &inventory_rules()[0];
        let retained: Vec<Object> = objects.iter().filter_map(|o| analysis.retain(o)).collect();
        assert_eq!(retained.len(), 2);
        let mut out = Vec::new();
        analysis.check(&retained, &mut out);
        let mut rules: Vec<&str> = out.iter().map(|c| c.finding.rule).collect();
        rules.sort();
        assert_eq!(rules, ["rbac/default-service-account-binding", "rbac/exec-attach", "rbac/read-secrets"]);
    }

    #[test]
    fn bootstrap_bindings_are_never_reported() {
        let mut binding = bind(None, "system:basic-user", "reader", json!([{"kind": "Group", "name": "system:authenticated"}]));
        binding["metadata"]["labels"] = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
        let items = [cluster_role("reader", json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}])), binding];
        assert!(super::testing::run(&read_secrets::META, &items).is_empty());
    }
}
