//! `rbac/cluster-admin-binding`: bindings to `cluster-admin` or a role as broad (CIS 5.1.1).

use palisade_core::{Candidate, Control, Framework, RuleMeta, Severity};
use palisade_rbac::Rbac;

use super::{chosen_bindings, report_subjects, via};

pub(super) static META: RuleMeta = RuleMeta {
    id: "rbac/cluster-admin-binding",
    title: "Binding grants cluster-admin or every permission",
    severity: Severity::Critical,
    doc: r#"## What it does
Flags every subject of a RoleBinding or ClusterRoleBinding to `cluster-admin`, or to any role
with a rule granting every verb on every resource of every API group (`*`, `*`, `*`).
Other `rbac/` rules leave such bindings to this one, so a superuser binding is reported once.

## Why is this bad?
`cluster-admin` can do anything: read every Secret, run any pod on any node, change RBAC and
admission. Through a ClusterRoleBinding that is the whole cluster; through a RoleBinding it is
full control of the namespace, its Secrets and its ServiceAccounts. A compromised subject
with it needs no further escalation.

## How to fix
Bind a role that lists what the subject does; keep `cluster-admin` for break-glass access
through `system:masters` certificates held offline.

## Example
```yaml
kind: ClusterRoleBinding
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: ServiceAccount, name: ci, namespace: build}
```
"#,
    remediation: "Bind a least-privilege role instead of cluster-admin or a full-wildcard role.",
    controls: &[
        Control::new(Framework::Cis, "5.1.1"),
        Control::new(Framework::Nsa, "authentication-authorization/least-privilege"),
        Control::new(Framework::Mitre, "T1078"),
    ],
};

pub(super) fn check(meta: &'static RuleMeta, rbac: &Rbac<'_>, out: &mut Vec<Candidate>) {
    for (binding, role_index) in chosen_bindings(rbac) {
        let role = &rbac.roles[role_index];
        let Some((rule_role, rule)) = rbac.rules_of(role_index).find(|(_, rule)| rule.is_full_wildcard()) else { continue };
        let scope = binding.scope();
        let route = via(binding, role, rule_role, &rule.pointer);
        report_subjects(meta, binding, out, |subject| format!("{subject} can do anything {scope} {route}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::testing::{bind, cluster_role, run, sa};
    use serde_json::json;

    #[test]
    fn binding_the_built_in_cluster_admin_is_reported_even_when_it_is_not_in_the_input() {
        let items = [bind(None, "ci-admin", "cluster-admin", sa("build", "ci"))];
        assert_eq!(
            run(&META, &items),
            ["ClusterRoleBinding/ci-admin /subjects/0: ServiceAccount build/ci can do anything cluster-wide \
              via ClusterRoleBinding ci-admin → ClusterRole cluster-admin (rule /rules/0 of ClusterRole cluster-admin)"]
        );
    }

    #[test]
    fn a_custom_role_with_every_permission_counts_as_cluster_admin() {
        let items = [
            cluster_role("superuser", json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])),
            bind(Some("shop"), "su", "superuser", json!([{"kind": "User", "name": "alice"}])),
        ];
        let found = run(&META, &items);
        assert!(found[0].contains("User alice can do anything in namespace shop via RoleBinding shop/su → ClusterRole superuser"), "{found:?}");
    }

    #[test]
    fn wildcards_limited_to_one_group_are_not_cluster_admin() {
        let items = [
            cluster_role("apps-admin", json!([{"apiGroups": ["apps"], "resources": ["*"], "verbs": ["*"]}])),
            bind(None, "a", "apps-admin", sa("ci", "bot")),
        ];
        assert!(run(&META, &items).is_empty());
    }
}
