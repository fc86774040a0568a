//! `rbac/exec-attach`: who can run commands in, or attach to, running containers.

use palisade_core::{Control, Framework, RuleMeta, Severity};

use super::Permission;

pub(super) static META: RuleMeta = RuleMeta {
    id: "rbac/exec-attach",
    title: "Binding grants exec or attach into pods",
    severity: Severity::High,
    doc: r#"## What it does
Flags every subject of a binding whose role allows `pods/exec` or `pods/attach`, with `create`
(the verb of the SPDY and current WebSocket handshakes) or `get` (which older API servers
accepted for WebSocket connections).

## Why is this bad?
Exec runs any command inside any container in scope: the caller gets the container's files,
its mounted Secrets and ServiceAccount token, and its network position, whatever the pod's
owner intended. Attach reaches the same processes' standard streams.

## How to fix
Grant exec to break-glass identities only, in the namespaces they operate; use ephemeral debug
containers under audit instead of standing exec rights.

## Example
```yaml
rules:
- apiGroups: [""]
  resources: ["pods/exec"]
  verbs: ["create"]
```
"#,
    remediation: "Remove pods/exec and pods/attach from this role; grant them only to audited break-glass identities.",
    controls: &[
        Control::new(Framework::Nsa, "authentication-authorization/least-privilege"),
        Control::new(Framework::Mitre, "T1609"),
    ],
};

pub(super) const PERMISSIONS: &[Permission] = &[
    ("create", "", "pods/exec"),
    ("get", "", "pods/exec"),
    ("create", "", "pods/attach"),
    ("get", "", "pods/attach"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::testing::{bind, cluster_role, run, sa};
    use serde_json::json;

    #[test]
    fn exec_through_a_star_subresource_rule_is_reported() {
        let items = [
            cluster_role("debugger", json!([{"apiGroups": [""], "resources": ["*/exec"], "verbs": ["create"]}])),
            bind(Some("shop"), "debug", "debugger", json!([{"kind": "User", "name": "alice"}])),
        ];
        let found = run(&META, &items);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("User alice can create pods/exec in namespace shop"), "{found:?}");
    }

    #[test]
    fn access_to_pods_does_not_include_their_exec_subresource() {
        let items = [
            cluster_role("pods", json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}])),
            bind(None, "p", "pods", sa("ci", "runner")),
        ];
        assert!(run(&META, &items).is_empty());
    }
}
