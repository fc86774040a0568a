//! `pss/privileged` (baseline): no container may run privileged.

use palisade_core::{Control, Framework, Node, PodView, RuleMeta, Severity};

use super::visit::{Scope, Violation, field, report_setters};
use super::{Check, PssLevel};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/privileged",
    title: "Privileged container",
    severity: Severity::Critical,
    doc: r#"## What it does
Flags every container (init, regular and ephemeral) that sets
`securityContext.privileged: true` (Pod Security Standards, baseline, all versions).

## Why is this bad?
A privileged container gets every capability, all host devices and no seccomp, AppArmor or
SELinux confinement: root in it is root on the node, and escaping takes one `mount`.

## How to fix
Remove `privileged` or set it to `false`; grant the one capability the workload needs instead.

## Example
```yaml
containers:
- name: app
  securityContext:
    privileged: true   # forbidden
```
"#,
    remediation: "Remove securityContext.privileged or set it to false.",
    controls: &[
        Control::new(Framework::Pss, "Baseline: Privileged Containers"),
        Control::new(Framework::Cis, "5.2.2"),
        Control::new(Framework::Nsa, "pod-security/privileged"),
        Control::new(Framework::Mitre, "T1611"),
    ],
};

pub(super) static CHECK: Check = Check::new(&META, PssLevel::Baseline, &[0], run);

const PRIVILEGED: &[&str] = &["privileged"];

fn run(pod: &PodView<'_>, _since: u32, out: &mut Vec<Violation>) {
    report_setters(pod, Scope::Containers, out, |setter, context| {
        (field(context, PRIVILEGED).and_then(Node::as_bool) == Some(true)).then(|| {
            (
                PRIVILEGED,
                format!("privileged ({setter} must not set securityContext.privileged=true)"),
            )
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{containers, messages, pointers, run};

    #[test]
    fn privileged_containers_are_reported_at_the_field() {
        let spec = containers(&[
            ("app", r#"{"privileged": true}"#),
            ("ok", r#"{"privileged": false}"#),
        ]);
        let found = run(&CHECK, 0, &spec);
        assert_eq!(
            messages(&found),
            [r#"privileged (container "app" must not set securityContext.privileged=true)"#]
        );
        assert_eq!(
            pointers(&found),
            ["/spec/containers/0/securityContext/privileged"]
        );
    }

    #[test]
    fn init_and_ephemeral_containers_count_too() {
        let spec = r#"{"containers": [{"name": "a"}],
            "initContainers": [{"name": "i", "securityContext": {"privileged": true}}],
            "ephemeralContainers": [{"name": "e", "securityContext": {"privileged": true}}]}"#;
        assert_eq!(
            pointers(&run(&CHECK, 0, spec)),
            [
                "/spec/initContainers/0/securityContext/privileged",
                "/spec/ephemeralContainers/0/securityContext/privileged"
            ]
        );
    }
}
