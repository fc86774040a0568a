//! `rbac/create-serviceaccount-token`: who can mint ServiceAccount tokens (CIS 5.1.13).

use palisade_core::{Control, Framework, RuleMeta, Severity};

use super::Permission;

pub(super) static META: RuleMeta = RuleMeta {
    id: "rbac/create-serviceaccount-token",
    title: "Binding grants ServiceAccount token creation",
    severity: Severity::High,
    doc: r#"## What it does
Flags every subject of a binding whose role allows `create` on `serviceaccounts/token` (the
TokenRequest API).

## Why is this bad?
A TokenRequest returns a fresh, valid token for any ServiceAccount in scope, so the caller
gains the permissions of every ServiceAccount it can name, for as long as the token lives.

## How to fix
Let the kubelet mint tokens for pods (projected volumes) and grant TokenRequest to no
workload; where a controller needs it, restrict it with `resourceNames`.

## Example
```yaml
rules:
- apiGroups: [""]
  resources: ["serviceaccounts/token"]
  verbs: ["create"]
```
"#,
    remediation: "Remove create on serviceaccounts/token, or restrict it to named ServiceAccounts.",
    controls: &[
        Control::new(Framework::Cis, "5.1.13"),
        Control::new(Framework::Nsa, "authentication-authorization/least-privilege"),
        Control::new(Framework::Mitre, "T1528"),
    ],
};

pub(super) const PERMISSIONS: &[Permission] = &[("create", "", "serviceaccounts/token")];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::testing::{bind, cluster_role, run, sa};
    use serde_json::json;

    #[test]
    fn token_creation_is_reported() {
        let items = [
            cluster_role("minter", json!([{"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]}])),
            bind(Some("shop"), "m", "minter", sa("shop", "app")),
        ];
        assert_eq!(run(&META, &items).len(), 1);
    }

    #[test]
    fn creating_service_accounts_is_not_minting_tokens() {
        let items = [
            cluster_role("sa-admin", json!([{"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["create"]}])),
            bind(Some("shop"), "m", "sa-admin", sa("shop", "app")),
        ];
        assert!(run(&META, &items).is_empty());
    }
}
