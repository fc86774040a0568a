//! `rbac/default-service-account-binding`: permissions given to a namespace's `default`
//! ServiceAccount (CIS 5.1.5).

use palisade_core::{Candidate, Control, Framework, RuleMeta, Severity};
use palisade_rbac::{Rbac, SubjectKind};

use super::report;

pub(super) static META: RuleMeta = RuleMeta {
    id: "rbac/default-service-account-binding",
    title: "Binding grants permissions to a default ServiceAccount",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags every binding subject that is the ServiceAccount `default` of some namespace.

## Why is this bad?
Every pod that names no ServiceAccount runs as `default`. Permissions bound to it therefore go
to every such pod of the namespace, including ones written later by people who never meant to
ask for them, and cannot be traced to the workload that needs them.

## How to fix
Create a ServiceAccount for the workload that needs the permissions, bind the role to it and
set `serviceAccountName` in that workload; leave `default` without bindings (and with
`automountServiceAccountToken: false`).

## Example
```yaml
subjects:
- kind: ServiceAccount
  name: default
  namespace: shop
```
"#,
    remediation: "Bind the role to a dedicated ServiceAccount and set serviceAccountName in the workload that needs it.",
    controls: &[
        Control::new(Framework::Cis, "5.1.5"),
        Control::new(Framework::Nsa, "authentication-authorization/service-accounts"),
    ],
};

pub(super) fn check(meta: &'static RuleMeta, rbac: &Rbac<'_>, out: &mut Vec<Candidate>) {
    for binding in rbac.bindings.iter().filter(|binding| !binding.is_bootstrap()) {
        for subject in &binding.subjects {
            if subject.kind != SubjectKind::ServiceAccount || subject.name != "default" {
                continue;
            }
            let namespace = subject.namespace.as_deref().unwrap_or("?");
            let message = format!(
                "{binding} grants {} {} to {subject}: every pod in {namespace} without a serviceAccountName gets it",
                binding.role_ref(),
                binding.scope()
            );
            report(meta, binding.object, format!("/subjects/{}", subject.index), message, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::testing::{bind, run, sa};

    #[test]
    fn the_default_service_account_is_reported() {
        assert_eq!(
            run(&META, &[bind(Some("shop"), "v", "view", sa("shop", "default"))]),
            ["RoleBinding/shop/v /subjects/0: RoleBinding shop/v grants ClusterRole view in namespace shop to ServiceAccount shop/default: \
              every pod in shop without a serviceAccountName gets it"]
        );
    }

    #[test]
    fn named_service_accounts_are_not() {
        assert!(run(&META, &[bind(Some("shop"), "v", "view", sa("shop", "web"))]).is_empty());
    }
}
