//! `pss/allowPrivilegeEscalation` (restricted, v1.8+): every container must forbid privilege
//! escalation explicitly.

use palisade_core::{Control, Framework, Node, PodView, RuleMeta, Severity};

use super::visit::{Scope, Violation, field, report_setters};
use super::{Check, PssLevel, WINDOWS_FROM_V1_25};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/allowPrivilegeEscalation",
    title: "Privilege escalation not disabled",
    severity: Severity::Medium,
    doc: r#"## What it does
Requires every container to set `securityContext.allowPrivilegeEscalation: false` (Pod
Security Standards, restricted, v1.8+). From policy v1.25, pods with `spec.os.name: windows` are
exempt.

## Why is this bad?
Unless it is `false`, the kernel's `no_new_privs` flag is off and a process can gain
privileges through set-user-ID binaries or file capabilities, turning a foothold as a normal
user into root in the container.

## How to fix
Set `allowPrivilegeEscalation: false` in every container's `securityContext`.

## Example
```yaml
containers:
- name: app
  securityContext:
    allowPrivilegeEscalation: false
```
"#,
    remediation: "Set securityContext.allowPrivilegeEscalation to false in every container.",
    controls: &[
        Control::new(Framework::Pss, "Restricted: Privilege Escalation"),
        Control::new(Framework::Cis, "5.2.6"),
        Control::new(Framework::Nsa, "pod-security/privilege-escalation"),
        Control::new(Framework::Mitre, "T1548.001"),
    ],
};

pub(super) static CHECK: Check =
    Check::new(&META, PssLevel::Restricted, &[8, 25], run).exempting(WINDOWS_FROM_V1_25);

const ALLOW_PRIVILEGE_ESCALATION: &[&str] = &["allowPrivilegeEscalation"];

fn run(pod: &PodView<'_>, _since: u32, out: &mut Vec<Violation>) {
    report_setters(pod, Scope::Containers, out, |setter, context| {
        (field(context, ALLOW_PRIVILEGE_ESCALATION).and_then(Node::as_bool) != Some(false)).then(|| {
            let message = format!(
                "allowPrivilegeEscalation != false ({setter} must set securityContext.allowPrivilegeEscalation=false)"
            );
            (ALLOW_PRIVILEGE_ESCALATION, message)
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{containers, messages, pointers, run};

    #[test]
    fn unset_and_true_are_both_violations() {
        let spec = containers(&[
            ("a", "{}"),
            ("b", r#"{"allowPrivilegeEscalation": true}"#),
            ("c", r#"{"allowPrivilegeEscalation": false}"#),
        ]);
        let found = run(&CHECK, 8, &spec);
        assert_eq!(
            messages(&found)[0],
            r#"allowPrivilegeEscalation != false (container "a" must set securityContext.allowPrivilegeEscalation=false)"#
        );
        assert_eq!(
            pointers(&found),
            [
                "/spec/containers/0/securityContext/allowPrivilegeEscalation",
                "/spec/containers/1/securityContext/allowPrivilegeEscalation"
            ]
        );
    }

    #[test]
    fn windows_pods_are_exempt_from_v1_25() {
        let spec = r#"{"os": {"name": "windows"}, "containers": [{"name": "a"}]}"#;
        assert_eq!(run(&CHECK, 8, spec).len(), 1);
        assert!(run(&CHECK, 25, spec).is_empty());
    }
}
