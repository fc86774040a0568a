//! `rbac/webhook-config-edit`: who can change admission webhooks (CIS 5.1.12).

use palisade_core::{Control, Framework, RuleMeta, Severity};

use super::Permission;

pub(super) static META: RuleMeta = RuleMeta {
    id: "rbac/webhook-config-edit",
    title: "Binding grants changes to admission webhook configurations",
    severity: Severity::High,
    doc: r#"## What it does
Flags every subject of a binding whose role allows `create`, `update`, `patch` or `delete` on
`mutatingwebhookconfigurations` or `validatingwebhookconfigurations`.

## Why is this bad?
Admission webhooks see, and mutating ones rewrite, every object the API server admits. Whoever
edits them can switch off policy enforcement (delete a validating webhook, or set
`failurePolicy: Ignore` and point it nowhere) or inject containers into every new pod.

## How to fix
Keep webhook configurations in the hands of cluster administrators and the operators that own
them, with `resourceNames` naming their own configuration.

## Example
```yaml
rules:
- apiGroups: ["admissionregistration.k8s.io"]
  resources: ["validatingwebhookconfigurations"]
  verbs: ["delete"]
```
"#,
    remediation: "Remove write verbs on webhook configurations, or restrict them with resourceNames to the operator's own configuration.",
    controls: &[
        Control::new(Framework::Cis, "5.1.12"),
        Control::new(Framework::Nsa, "authentication-authorization/least-privilege"),
        Control::new(Framework::Mitre, "T1562.001"),
    ],
};

pub(super) const PERMISSIONS: &[Permission] = &[
    ("create", "admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
    ("update", "admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
    ("patch", "admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
    ("delete", "admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
    ("create", "admissionregistration.k8s.io", "validatingwebhookconfigurations"),
    ("update", "admissionregistration.k8s.io", "validatingwebhookconfigurations"),
    ("patch", "admissionregistration.k8s.io", "validatingwebhookconfigurations"),
    ("delete", "admissionregistration.k8s.io", "validatingwebhookconfigurations"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::testing::{bind, cluster_role, run, sa};
    use serde_json::json;

    #[test]
    fn deleting_validating_webhooks_is_reported() {
        let items = [
            cluster_role("hooks", json!([{"apiGroups": ["admissionregistration.k8s.io"], "resources": ["validatingwebhookconfigurations"], "verbs": ["get", "delete"]}])),
            bind(None, "h", "hooks", sa("ops", "bot")),
        ];
        assert!(run(&META, &items)[0].contains("can delete validatingwebhookconfigurations.admissionregistration.k8s.io cluster-wide"));
    }

    #[test]
    fn reading_webhooks_is_fine() {
        let items = [
            cluster_role("hooks", json!([{"apiGroups": ["admissionregistration.k8s.io"], "resources": ["*"], "verbs": ["get", "list", "watch"]}])),
            bind(None, "h", "hooks", sa("ops", "bot")),
        ];
        assert!(run(&META, &items).is_empty());
    }
}
