//! `rbac/read-secrets`: who can read Secrets (CIS 5.1.2).

use palisade_core::{Control, Framework, RuleMeta, Severity};

use super::Permission;

pub(super) static META: RuleMeta = RuleMeta {
    id: "rbac/read-secrets",
    title: "Binding grants read access to Secrets",
    severity: Severity::High,
    doc: r#"## What it does
Flags every subject of a RoleBinding or ClusterRoleBinding whose role allows `get`, `list` or
`watch` on `secrets` without naming the Secrets it may read (`resourceNames`).

## Why is this bad?
Secrets hold credentials: ServiceAccount tokens, registry passwords, TLS keys, database
passwords. `list` and `watch` return every Secret's content, not only names. Reading a
privileged ServiceAccount's token is the shortest path from a foothold to its permissions.

## How to fix
Grant `get` on the specific Secrets the workload needs (`resourceNames`), in its namespace
only; mount Secrets into pods instead of reading them through the API.

## Example
```yaml
rules:
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list"]     # every Secret in scope
```
"#,
    remediation: "Drop get/list/watch on secrets, or restrict get to named Secrets with resourceNames.",
    controls: &[
        Control::new(Framework::Cis, "5.1.2"),
        Control::new(Framework::Nsa, "authentication-authorization/least-privilege"),
        Control::new(Framework::Mitre, "T1552.007"),
    ],
};

pub(super) const PERMISSIONS: &[Permission] = &[("get", "", "secrets"), ("list", "", "secrets"), ("watch", "", "secrets")];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::testing::{bind, cluster_role, run, sa};
    use serde_json::json;

    #[test]
    fn reading_secrets_is_reported_with_who_and_how() {
        let items = [
            cluster_role("reader", json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}])),
            bind(Some("shop"), "read", "reader", sa("shop", "app")),
        ];
        assert_eq!(
            run(&META, &items),
            ["RoleBinding/shop/read /subjects/0: ServiceAccount shop/app can get/list secrets in namespace shop \
              via RoleBinding shop/read → ClusterRole reader (rule /rules/0 of ClusterRole reader)"]
        );
    }

    #[test]
    fn reading_named_secrets_only_is_not_reported() {
        let items = [
            cluster_role("reader", json!([{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["tls"], "verbs": ["get"]}])),
            bind(None, "read", "reader", sa("shop", "app")),
        ];
        assert!(run(&META, &items).is_empty());
    }
}
