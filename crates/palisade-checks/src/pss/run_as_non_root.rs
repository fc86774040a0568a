//! `pss/runAsNonRoot` (restricted): containers must be required to run as a non-root user.

use palisade_core::{Control, Framework, Node, PodView, RuleMeta, Severity};

use super::visit::{PodOrContainerField, Setter, Violation};
use super::{Check, PssLevel, USER_NAMESPACE_FROM_V1_35};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/runAsNonRoot",
    title: "Container may run as root",
    severity: Severity::Medium,
    doc: r#"## What it does
Requires `securityContext.runAsNonRoot: true` on the pod, or on every container that does not
inherit it, and flags any explicit `runAsNonRoot: false` (Pod Security Standards, restricted).
From policy v1.35, pods with `spec.hostUsers: false` are exempt: root in a user namespace is not
root on the node.

## Why is this bad?
Root in a container is root on the node for the kernel; any escape, mounted host path or
kernel bug then runs with full privileges. `runAsNonRoot` makes the kubelet refuse images that
would start as UID 0.

## How to fix
Set `runAsNonRoot: true` in the pod's `securityContext` and build images with a non-root
`USER`.

## Example
```yaml
spec:
  securityContext:
    runAsNonRoot: true
```
"#,
    remediation: "Set securityContext.runAsNonRoot to true on the pod (or every container).",
    controls: &[
        Control::new(Framework::Pss, "Restricted: Running as Non-root"),
        Control::new(Framework::Cis, "5.2.7"),
        Control::new(Framework::Nsa, "pod-security/non-root"),
        Control::new(Framework::Mitre, "T1611"),
    ],
};

pub(super) static CHECK: Check =
    Check::new(&META, PssLevel::Restricted, &[0, 35], run).exempting(USER_NAMESPACE_FROM_V1_35);

fn is_true(value: &Node) -> bool {
    value.as_bool() == Some(true)
}

fn set_false(setter: &Setter<'_>, _value: &Node) -> String {
    format!("runAsNonRoot != true ({setter} must not set securityContext.runAsNonRoot=false)")
}

fn unset(setter: &Setter<'_>) -> String {
    format!("runAsNonRoot != true (pod or {setter} must set securityContext.runAsNonRoot=true)")
}

static RUN_AS_NON_ROOT: PodOrContainerField = PodOrContainerField {
    field: "runAsNonRoot",
    pointer: &["runAsNonRoot"],
    accepts: is_true,
    forbidden: set_false,
    unset,
};

fn run(pod: &PodView<'_>, _since: u32, out: &mut Vec<Violation>) {
    RUN_AS_NON_ROOT.report(pod, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{containers, messages, pointers, run};

    #[test]
    fn containers_must_opt_in_when_the_pod_does_not() {
        let spec = containers(&[("a", "{}"), ("b", r#"{"runAsNonRoot": true}"#)]);
        let found = run(&CHECK, 0, &spec);
        assert_eq!(
            messages(&found),
            [
                r#"runAsNonRoot != true (pod or container "a" must set securityContext.runAsNonRoot=true)"#
            ]
        );
        assert_eq!(
            pointers(&found),
            ["/spec/containers/0/securityContext/runAsNonRoot"]
        );
    }

    #[test]
    fn explicit_false_is_reported_even_under_a_true_pod() {
        let spec = r#"{"securityContext": {"runAsNonRoot": true},
            "containers": [{"name": "a", "securityContext": {"runAsNonRoot": false}}, {"name": "b"}]}"#;
        let found = run(&CHECK, 0, spec);
        assert_eq!(
            messages(&found),
            [
                r#"runAsNonRoot != true (container "a" must not set securityContext.runAsNonRoot=false)"#
            ]
        );
    }

    #[test]
    fn user_namespace_pods_are_exempt_from_v1_35() {
        let spec = r#"{"hostUsers": false, "containers": [{"name": "a"}]}"#;
        assert_eq!(run(&CHECK, 0, spec).len(), 1);
        assert!(run(&CHECK, 35, spec).is_empty());
    }
}
