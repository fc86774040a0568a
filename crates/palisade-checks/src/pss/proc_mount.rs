//! `pss/procMount` (baseline): containers keep the masked `/proc`, except, from policy v1.35,
//! in pods that run in their own user namespace.

use palisade_core::{Control, Framework, Node, PodView, RuleMeta, Severity};

use super::visit::{Quoted, Scope, Violation, field, report_setters};
use super::{Check, PssLevel, USER_NAMESPACE_FROM_V1_35};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/procMount",
    title: "Container unmasks /proc",
    severity: Severity::High,
    doc: r#"## What it does
Flags containers whose `securityContext.procMount` is anything but `Default` (Pod Security
Standards, baseline). From policy v1.35 a pod with `spec.hostUsers: false` may use `Unmasked`,
since its `/proc` belongs to its own user namespace; under restricted,
`pss/procMount_restricted` keeps forbidding it.

## Why is this bad?
The default mount masks `/proc` entries (`/proc/kcore`, `/proc/sysrq-trigger`, `/proc/sys`...)
that leak host memory and kernel state or let a process reconfigure the node.

## How to fix
Remove `procMount` or set it to `Default`.

## Example
```yaml
securityContext:
  procMount: Unmasked   # forbidden
```
"#,
    remediation: "Remove securityContext.procMount or set it to Default.",
    controls: &[
        Control::new(Framework::Pss, "Baseline: /proc Mount Type"),
        Control::new(Framework::Nsa, "pod-security/kernel-hardening"),
        Control::new(Framework::Mitre, "T1611"),
    ],
};

pub(super) static CHECK: Check = Check::new(&META, PssLevel::Baseline, &[0, 35], report_unmasked)
    .exempting(USER_NAMESPACE_FROM_V1_35);

const PROC_MOUNT: &[&str] = &["procMount"];

/// Reports every container that sets a `procMount` other than `Default`; the same at every
/// version, only the exemption differs between the baseline and restricted checks.
pub(super) fn report_unmasked(pod: &PodView<'_>, _since: u32, out: &mut Vec<Violation>) {
    report_setters(pod, Scope::Containers, out, |setter, context| {
        let mount = field(context, PROC_MOUNT).and_then(Node::as_str)?;
        (mount != "Default").then(|| {
            let message = format!(
                "procMount ({setter} must not set securityContext.procMount to {})",
                Quoted(mount)
            );
            (PROC_MOUNT, message)
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{messages, pointers, run};

    const UNMASKED: &str = r#"{"hostUsers": false, "containers": [
        {"name": "a", "securityContext": {"procMount": "Unmasked"}},
        {"name": "b", "securityContext": {"procMount": "Default"}}]}"#;

    #[test]
    fn unmasked_proc_is_reported_at_the_field() {
        let found = run(&CHECK, 0, UNMASKED);
        assert_eq!(
            messages(&found),
            [r#"procMount (container "a" must not set securityContext.procMount to "Unmasked")"#]
        );
        assert_eq!(
            pointers(&found),
            ["/spec/containers/0/securityContext/procMount"]
        );
    }

    #[test]
    fn user_namespace_pods_may_unmask_from_v1_35() {
        assert!(run(&CHECK, 35, UNMASKED).is_empty());
        let host_users = UNMASKED.replace(r#""hostUsers": false"#, r#""hostUsers": true"#);
        assert_eq!(run(&CHECK, 35, &host_users).len(), 1);
    }
}
