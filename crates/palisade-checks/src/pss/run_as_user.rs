//! `pss/runAsUser` (restricted, v1.23+): neither the pod nor a container may ask for UID 0.

use palisade_core::{Control, Framework, Node, PodView, RuleMeta, Severity};

use super::visit::{Scope, Violation, field, report_setters};
use super::{Check, PssLevel, USER_NAMESPACE_FROM_V1_35};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/runAsUser",
    title: "Container runs as UID 0",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags a pod or container that sets `securityContext.runAsUser: 0` (Pod Security Standards,
restricted, v1.23+). From policy v1.35, pods with `spec.hostUsers: false` are exempt.

## Why is this bad?
UID 0 is root: it overrides the image's non-root `USER` and defeats `runAsNonRoot`'s purpose;
any escape or host mount then acts as root on the node.

## How to fix
Remove `runAsUser: 0` or set a non-zero UID.

## Example
```yaml
securityContext:
  runAsUser: 0   # forbidden
```
"#,
    remediation: "Remove runAsUser: 0 or set a non-zero user id.",
    controls: &[
        Control::new(Framework::Pss, "Restricted: Running as Non-root user"),
        Control::new(Framework::Cis, "5.2.7"),
        Control::new(Framework::Nsa, "pod-security/non-root"),
        Control::new(Framework::Mitre, "T1611"),
    ],
};

pub(super) static CHECK: Check =
    Check::new(&META, PssLevel::Restricted, &[23, 35], run).exempting(USER_NAMESPACE_FROM_V1_35);

const RUN_AS_USER: &[&str] = &["runAsUser"];

fn run(pod: &PodView<'_>, _since: u32, out: &mut Vec<Violation>) {
    report_setters(pod, Scope::PodAndContainers, out, |setter, context| {
        (field(context, RUN_AS_USER).and_then(Node::as_i64) == Some(0)).then(|| {
            (
                RUN_AS_USER,
                format!("runAsUser=0 ({setter} must not set runAsUser=0)"),
            )
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{messages, pointers, run};

    const ROOT: &str = r#"{"securityContext": {"runAsUser": 0},
        "containers": [{"name": "a", "securityContext": {"runAsUser": 0}}, {"name": "b", "securityContext": {"runAsUser": 1000}}]}"#;

    #[test]
    fn uid_zero_is_reported_for_pod_and_containers() {
        let found = run(&CHECK, 23, ROOT);
        assert_eq!(
            messages(&found),
            [
                "runAsUser=0 (pod must not set runAsUser=0)",
                r#"runAsUser=0 (container "a" must not set runAsUser=0)"#
            ]
        );
        assert_eq!(pointers(&found)[0], "/spec/securityContext/runAsUser");
    }

    #[test]
    fn user_namespace_pods_are_exempt_from_v1_35() {
        let userns = ROOT.replacen('{', r#"{"hostUsers": false, "#, 1);
        assert_eq!(run(&CHECK, 23, &userns).len(), 2);
        assert!(run(&CHECK, 35, &userns).is_empty());
    }
}
