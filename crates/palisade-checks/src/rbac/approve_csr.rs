//! `rbac/approve-csr`: who can approve CertificateSigningRequests (CIS 5.1.11).

use palisade_core::{Control, Framework, RuleMeta, Severity};

use super::Permission;

pub(super) static META: RuleMeta = RuleMeta {
    id: "rbac/approve-csr",
    title: "Binding grants approval of certificate signing requests",
    severity: Severity::High,
    doc: r#"## What it does
Flags every subject of a binding whose role allows `update` or `patch` on
`certificatesigningrequests/approval` (group `certificates.k8s.io`).

## Why is this bad?
Approving a CSR for the `kubernetes.io/kube-apiserver-client` signer issues a client
certificate with whatever user and groups the request names, `system:masters` included, and
certificates cannot be revoked before they expire.

## How to fix
Leave approval to the controllers that need it (node bootstrap); restrict any other approver
with `approve` on named `signers` as well.

## Example
```yaml
rules:
- apiGroups: ["certificates.k8s.io"]
  resources: ["certificatesigningrequests/approval"]
  verbs: ["update"]
```
"#,
    remediation: "Remove update/patch on certificatesigningrequests/approval from this role.",
    controls: &[
        Control::new(Framework::Cis, "5.1.11"),
        Control::new(Framework::Nsa, "authentication-authorization/least-privilege"),
        Control::new(Framework::Mitre, "T1649"),
    ],
};

pub(super) const PERMISSIONS: &[Permission] = &[
    ("update", "certificates.k8s.io", "certificatesigningrequests/approval"),
    ("patch", "certificates.k8s.io", "certificatesigningrequests/approval"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::testing::{bind, cluster_role, run, sa};
    use serde_json::json;

    #[test]
    fn approval_is_reported() {
        let items = [
            cluster_role("approver", json!([{"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests/approval"], "verbs": ["update"]}])),
            bind(None, "a", "approver", sa("ops", "bot")),
        ];
        assert!(run(&META, &items)[0].contains("can update certificatesigningrequests.certificates.k8s.io/approval cluster-wide"));
    }

    #[test]
    fn creating_requests_is_not_approving_them() {
        let items = [
            cluster_role("requester", json!([{"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests"], "verbs": ["create", "update"]}])),
            bind(None, "r", "requester", sa("ops", "bot")),
        ];
        assert!(run(&META, &items).is_empty());
    }
}
