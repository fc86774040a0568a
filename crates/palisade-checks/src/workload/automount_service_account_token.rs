//! `workload/automount-service-account-token`: pods should not mount an API token unless they
//! need one.

use palisade_core::{Control, Framework, FindingSink, Node, Object, PodView, Rule, RuleMeta, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "workload/automount-service-account-token",
    title: "Service account token mounted automatically",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags pod templates that do not set `automountServiceAccountToken: false`. A pod that leaves
the field unset inherits its ServiceAccount's setting, which a manifest scan cannot always see;
`serviceaccount/automount-token` judges the ServiceAccounts themselves.

## Why is this bad?
Every process in the pod can read the token at
`/var/run/secrets/kubernetes.io/serviceaccount/token` and call the API server with the
ServiceAccount's permissions; after a compromise it is the first thing an intruder uses.

## How to fix
Set `automountServiceAccountToken: false` in the pod spec, and mount a projected token only
in pods that call the API.

## Example
```yaml
spec:
  template:
    spec:
      automountServiceAccountToken: false
```
"#,
    remediation: "Set automountServiceAccountToken: false in pods that do not call the Kubernetes API.",
    controls: &[
        Control::new(Framework::Cis, "5.1.6"),
        Control::new(Framework::Nsa, "authentication-authorization/service-account-tokens"),
        Control::new(Framework::Mitre, "T1528"),
    ],
};

pub struct AutomountServiceAccountToken;

impl Rule for AutomountServiceAccountToken {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let Some(pod) = PodView::of(object) else { return };
        let value = pod.spec_field("automountServiceAccountToken").and_then(Node::as_bool);
        if value != Some(false) {
            let how = if value == Some(true) { "sets automountServiceAccountToken=true" } else { "does not set automountServiceAccountToken=false" };
            sink.report(
                pod.spec_pointer_to(&["automountServiceAccountToken"]),
                format!("pod {how}, so every container can read an API token"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, findings, pod, workload};

    #[test]
    fn only_an_explicit_false_passes() {
        assert!(findings(&AutomountServiceAccountToken, &pod(r#"{"automountServiceAccountToken": false}"#)).is_empty());
        assert_eq!(
            findings(&AutomountServiceAccountToken, &pod(r#"{"automountServiceAccountToken": true}"#)),
            [("/spec/automountServiceAccountToken".into(), "pod sets automountServiceAccountToken=true, so every container can read an API token".into())]
        );
        let job = workload("batch/v1", "Job", "{}");
        assert_eq!(findings(&AutomountServiceAccountToken, &job)[0].0, "/spec/template/spec/automountServiceAccountToken");
        assert_documented(&META);
    }
}
