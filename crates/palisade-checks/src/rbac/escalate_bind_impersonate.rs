//! `rbac/escalate-bind-impersonate`: who can raise their own privileges (CIS 5.1.8).

use palisade_core::{Control, Framework, RuleMeta, Severity};

use super::Permission;

pub(super) static META: RuleMeta = RuleMeta {
    id: "rbac/escalate-bind-impersonate",
    title: "Binding grants escalate, bind or impersonate",
    severity: Severity::Critical,
    doc: r#"## What it does
Flags every subject of a binding whose role allows `escalate` or `bind` on Roles or
ClusterRoles, or `impersonate` on users, groups, ServiceAccounts, UIDs or user extras.

## Why is this bad?
RBAC stops a user from granting permissions they do not hold, except through these verbs.
`escalate` lets a subject edit a role to include anything; `bind` lets it bind any role,
`cluster-admin` included, to itself; `impersonate` lets it act as any user or group,
`system:masters` included. Each is cluster-admin one request away.

## How to fix
Grant these verbs only to the identities that administer RBAC, and with `resourceNames` that
list the exact roles a delegated administrator may bind.

## Example
```yaml
rules:
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["clusterroles"]
  verbs: ["bind"]
```
"#,
    remediation: "Remove escalate, bind and impersonate from this role, or restrict bind to the named roles a delegate may hand out.",
    controls: &[
        Control::new(Framework::Cis, "5.1.8"),
        Control::new(Framework::Nsa, "authentication-authorization/least-privilege"),
        Control::new(Framework::Mitre, "T1098.006"),
    ],
};

pub(super) const PERMISSIONS: &[Permission] = &[
    ("escalate", "rbac.authorization.k8s.io", "roles"),
    ("escalate", "rbac.authorization.k8s.io", "clusterroles"),
    ("bind", "rbac.authorization.k8s.io", "roles"),
    ("bind", "rbac.authorization.k8s.io", "clusterroles"),
    ("impersonate", "", "users"),
    ("impersonate", "", "groups"),
    ("impersonate", "", "serviceaccounts"),
    ("impersonate", "authentication.k8s.io", "uids"),
    ("impersonate", "authentication.k8s.io", "userextras"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::testing::{bind, cluster_role, run, sa};
    use serde_json::json;

    #[test]
    fn bind_and_impersonate_are_reported_together() {
        let items = [
            cluster_role("delegate", json!([
                {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind"]},
                {"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"]}])),
            bind(None, "d", "delegate", sa("ops", "bot")),
        ];
        let found = run(&META, &items);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("can bind clusterroles.rbac.authorization.k8s.io, impersonate users cluster-wide"), "{found:?}");
    }

    #[test]
    fn creating_roles_is_not_escalation_by_itself() {
        let items = [
            cluster_role("author", json!([{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["create"]}])),
            bind(Some("shop"), "a", "author", sa("shop", "bot")),
        ];
        assert!(run(&META, &items).is_empty());
    }
}
