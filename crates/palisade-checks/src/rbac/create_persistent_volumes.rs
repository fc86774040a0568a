//! `rbac/create-persistent-volumes`: who can create PersistentVolumes (CIS 5.1.9).

use palisade_core::{Control, Framework, RuleMeta, Severity};

use super::Permission;

pub(super) static META: RuleMeta = RuleMeta {
    id: "rbac/create-persistent-volumes",
    title: "Binding grants creation of PersistentVolumes",
    severity: Severity::High,
    doc: r#"## What it does
Flags every subject of a binding whose role allows `create` on `persistentvolumes`.

## Why is this bad?
A PersistentVolume can be a `hostPath`: whoever creates one and a claim bound to it mounts
any directory of a node into a pod, bypassing Pod Security admission, which checks pods'
volumes but not the PersistentVolumes behind their claims.

## How to fix
Let a StorageClass provision volumes dynamically; grant PersistentVolume creation to storage
administrators only.

## Example
```yaml
rules:
- apiGroups: [""]
  resources: ["persistentvolumes"]
  verbs: ["create"]
```
"#,
    remediation: "Remove create on persistentvolumes; provision volumes through a StorageClass.",
    controls: &[
        Control::new(Framework::Cis, "5.1.9"),
        Control::new(Framework::Nsa, "authentication-authorization/least-privilege"),
        Control::new(Framework::Mitre, "T1611"),
    ],
};

pub(super) const PERMISSIONS: &[Permission] = &[("create", "", "persistentvolumes")];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::testing::{bind, cluster_role, run, sa};
    use serde_json::json;

    #[test]
    fn creating_volumes_is_reported() {
        let items = [
            cluster_role("storage", json!([{"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["create"]}])),
            bind(None, "s", "storage", sa("ops", "bot")),
        ];
        assert_eq!(run(&META, &items).len(), 1);
    }

    #[test]
    fn creating_claims_is_fine() {
        let items = [
            cluster_role("storage", json!([{"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["create"]}])),
            bind(Some("shop"), "s", "storage", sa("shop", "app")),
        ];
        assert!(run(&META, &items).is_empty());
    }
}
