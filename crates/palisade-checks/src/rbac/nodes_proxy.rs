//! `rbac/nodes-proxy`: who can reach the kubelet API through `nodes/proxy` (CIS 5.1.10).

use palisade_core::{Control, Framework, RuleMeta, Severity};

use super::Permission;

pub(super) static META: RuleMeta = RuleMeta {
    id: "rbac/nodes-proxy",
    title: "Binding grants access to nodes/proxy",
    severity: Severity::High,
    doc: r#"## What it does
Flags every subject of a binding whose role allows `get` or `create` on `nodes/proxy`.

## Why is this bad?
`nodes/proxy` forwards requests to the kubelet API of any node. The kubelet authorizes them as
`nodes/proxy` requests, so the caller can run commands in every container on the node
(`/exec`, `/run`) without any `pods/exec` permission, and without per-pod audit entries.

## How to fix
Grant narrower kubelet subresources (`nodes/metrics`, `nodes/stats`, `nodes/log`) to
monitoring agents instead of `nodes/proxy`.

## Example
```yaml
rules:
- apiGroups: [""]
  resources: ["nodes/proxy"]
  verbs: ["get"]
```
"#,
    remediation: "Replace nodes/proxy with the specific kubelet subresources the agent needs (nodes/metrics, nodes/stats).",
    controls: &[
        Control::new(Framework::Cis, "5.1.10"),
        Control::new(Framework::Nsa, "authentication-authorization/least-privilege"),
        Control::new(Framework::Mitre, "T1609"),
    ],
};

pub(super) const PERMISSIONS: &[Permission] = &[("get", "", "nodes/proxy"), ("create", "", "nodes/proxy")];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::testing::{bind, cluster_role, run, sa};
    use serde_json::json;

    #[test]
    fn node_proxy_access_is_reported() {
        let items = [
            cluster_role("monitor", json!([{"apiGroups": [""], "resources": ["nodes/proxy", "nodes/metrics"], "verbs": ["get"]}])),
            bind(None, "mon", "monitor", sa("monitoring", "agent")),
        ];
        let found = run(&META, &items);
        assert!(found[0].contains("ServiceAccount monitoring/agent can get nodes/proxy cluster-wide"), "{found:?}");
    }

    #[test]
    fn node_metrics_alone_are_fine() {
        let items = [
            cluster_role("monitor", json!([{"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]}])),
            bind(None, "mon", "monitor", sa("monitoring", "agent")),
        ];
        assert!(run(&META, &items).is_empty());
    }
}
