//! `serviceaccount/automount-token`: ServiceAccounts should not hand tokens to every pod.

use palisade_core::{Control, Framework, FindingSink, Node, Object, Rule, RuleMeta, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "serviceaccount/automount-token",
    title: "ServiceAccount mounts its token into every pod",
    severity: Severity::Low,
    doc: r#"## What it does
Flags ServiceAccounts that do not set `automountServiceAccountToken: false`. Pods that need a
token can still request one (`automountServiceAccountToken: true` in the pod spec, or a
projected volume); `workload/automount-service-account-token` judges the pods.

## Why is this bad?
The ServiceAccount's setting is the default of every pod using it: new workloads get an API
token they usually do not need, and a compromise of any of them yields the account's rights.

## How to fix
Set `automountServiceAccountToken: false` on the ServiceAccount and opt in per pod.

## Example
```yaml
kind: ServiceAccount
metadata: {name: web}
automountServiceAccountToken: false
```
"#,
    remediation: "Set automountServiceAccountToken: false on the ServiceAccount and opt in per pod.",
    controls: &[
        Control::new(Framework::Cis, "5.1.6"),
        Control::new(Framework::Nsa, "authentication-authorization/service-account-tokens"),
        Control::new(Framework::Mitre, "T1528"),
    ],
};

pub struct AutomountToken;

impl Rule for AutomountToken {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        if object.is(&[""], "ServiceAccount")
            && object.root.get("automountServiceAccountToken").and_then(Node::as_bool) != Some(false)
        {
            sink.report(
                "/automountServiceAccountToken".into(),
                "ServiceAccount does not set automountServiceAccountToken=false".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, pointers, object};

    #[test]
    fn only_an_explicit_false_passes() {
        let account = |extra: &str| object(&format!(r#"{{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {{"name": "a"}}{extra}}}"#));
        assert_eq!(pointers(&AutomountToken, &account("")), ["/automountServiceAccountToken"]);
        assert_eq!(pointers(&AutomountToken, &account(r#", "automountServiceAccountToken": true"#)).len(), 1);
        assert!(pointers(&AutomountToken, &account(r#", "automountServiceAccountToken": false"#)).is_empty());
        assert_documented(&META);
    }
}
