//! `workload/default-service-account`: pods should run under a dedicated ServiceAccount.

use palisade_core::{Control, Framework, FindingSink, Object, PodView, Rule, RuleMeta, Severity};

use super::text;

pub static META: RuleMeta = RuleMeta {
    id: "workload/default-service-account",
    title: "Pod uses the default ServiceAccount",
    severity: Severity::Low,
    doc: r#"## What it does
Flags pod templates whose `serviceAccountName` (or the deprecated `serviceAccount`) is unset or
`default`.

## Why is this bad?
Every pod of a namespace shares the `default` ServiceAccount: permissions granted to it for one
workload are granted to all, and audit logs cannot tell the workloads apart.

## How to fix
Create one ServiceAccount per workload, grant it only what it needs, and name it in the pod
spec.

## Example
```yaml
spec:
  serviceAccountName: billing-api
```
"#,
    remediation: "Run the pod under a dedicated ServiceAccount set in serviceAccountName.",
    controls: &[
        Control::new(Framework::Cis, "5.1.5"),
        Control::new(Framework::Nsa, "authentication-authorization/least-privilege"),
    ],
};

pub struct DefaultServiceAccount;

impl Rule for DefaultServiceAccount {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let Some(pod) = PodView::of(object) else { return };
        let name = text(pod.spec, "serviceAccountName")
            .or_else(|| text(pod.spec, "serviceAccount"))
            .filter(|name| !name.is_empty());
        if name.is_none_or(|name| name == "default") {
            sink.report(
                pod.spec_pointer_to(&["serviceAccountName"]),
                "pod runs under the namespace's default ServiceAccount".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, pointers, pod};

    #[test]
    fn unset_or_default_accounts_are_flagged() {
        assert_eq!(pointers(&DefaultServiceAccount, &pod("{}")), ["/spec/serviceAccountName"]);
        assert_eq!(pointers(&DefaultServiceAccount, &pod(r#"{"serviceAccountName": "default"}"#)).len(), 1);
        assert!(pointers(&DefaultServiceAccount, &pod(r#"{"serviceAccountName": "api"}"#)).is_empty());
        assert!(pointers(&DefaultServiceAccount, &pod(r#"{"serviceAccount": "api"}"#)).is_empty());
        assert_documented(&META);
    }
}
