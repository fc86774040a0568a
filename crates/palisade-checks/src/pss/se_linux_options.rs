//! `pss/seLinuxOptions` (baseline): only the container SELinux types, and no custom user or
//! role.

use palisade_core::{Control, Framework, PodView, RuleMeta, Severity};

use super::visit::{Quoted, Scope, Violation, field, report_setters, text_or_empty};
use super::{Check, PssLevel};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/seLinuxOptions",
    title: "Custom SELinux type, user or role",
    severity: Severity::High,
    doc: r#"## What it does
Flags a pod or container `securityContext.seLinuxOptions` whose `type` is not empty,
`container_t`, `container_init_t` or `container_kvm_t` (plus `container_engine_t` from policy
v1.31), or that sets `user` or `role` (Pod Security Standards, baseline).

## Why is this bad?
SELinux confines containers through their type; a type such as `spc_t` or `unconfined_t`
removes that confinement, and a custom user or role can grant access to host files labelled
for other domains.

## How to fix
Remove `seLinuxOptions`, or set only `level` (for multi-category separation) and an allowed
`type`.

## Example
```yaml
securityContext:
  seLinuxOptions:
    type: spc_t   # forbidden
```
"#,
    remediation: "Remove seLinuxOptions user and role, and use an allowed container SELinux type.",
    controls: &[
        Control::new(Framework::Pss, "Baseline: SELinux"),
        Control::new(Framework::Nsa, "pod-security/kernel-hardening"),
        Control::new(Framework::Mitre, "T1611"),
    ],
};

pub(super) static CHECK: Check = Check::new(&META, PssLevel::Baseline, &[0, 31], run);

const TYPE: &[&str] = &["seLinuxOptions", "type"];
const USER: &[&str] = &["seLinuxOptions", "user"];
const ROLE: &[&str] = &["seLinuxOptions", "role"];

fn allowed_type(since: u32, selinux_type: &str) -> bool {
    matches!(
        selinux_type,
        "" | "container_t" | "container_init_t" | "container_kvm_t"
    ) || (since >= 31 && selinux_type == "container_engine_t")
}

fn run(pod: &PodView<'_>, since: u32, out: &mut Vec<Violation>) {
    report_setters(pod, Scope::PodAndContainers, out, |setter, context| {
        field(context, &["seLinuxOptions"])?;
        let selinux_type = text_or_empty(context, TYPE);
        let bad_type = !allowed_type(since, selinux_type);
        let set_user = !text_or_empty(context, USER).is_empty();
        let set_role = !text_or_empty(context, ROLE).is_empty();
        let path = match (bad_type, set_user, set_role) {
            (true, _, _) => TYPE,
            (false, true, _) => USER,
            (false, false, true) => ROLE,
            (false, false, false) => return None,
        };
        let mut problems = Vec::with_capacity(3);
        if bad_type {
            problems.push(format!("type {}", Quoted(selinux_type)));
        }
        if set_user {
            problems.push("user may not be set".to_owned());
        }
        if set_role {
            problems.push("role may not be set".to_owned());
        }
        let message = format!(
            "seLinuxOptions ({setter} set forbidden securityContext.seLinuxOptions: {})",
            problems.join("; ")
        );
        Some((path, message))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{containers, messages, pointers, run};

    #[test]
    fn custom_types_users_and_roles_are_reported_once_per_setter() {
        let spec = containers(&[
            (
                "a",
                r#"{"seLinuxOptions": {"type": "spc_t", "user": "system_u"}}"#,
            ),
            (
                "b",
                r#"{"seLinuxOptions": {"role": "sysadm_r", "level": "s0:c1"}}"#,
            ),
            (
                "c",
                r#"{"seLinuxOptions": {"type": "container_t", "level": "s0:c1"}}"#,
            ),
        ]);
        let found = run(&CHECK, 0, &spec);
        assert_eq!(
            messages(&found),
            [
                r#"seLinuxOptions (container "a" set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set)"#,
                r#"seLinuxOptions (container "b" set forbidden securityContext.seLinuxOptions: role may not be set)"#,
            ]
        );
        assert_eq!(
            pointers(&found),
            [
                "/spec/containers/0/securityContext/seLinuxOptions/type",
                "/spec/containers/1/securityContext/seLinuxOptions/role"
            ]
        );
    }

    #[test]
    fn container_engine_t_is_allowed_from_v1_31() {
        let spec = r#"{"securityContext": {"seLinuxOptions": {"type": "container_engine_t"}}, "containers": []}"#;
        assert_eq!(
            pointers(&run(&CHECK, 0, spec)),
            ["/spec/securityContext/seLinuxOptions/type"]
        );
        assert!(run(&CHECK, 31, spec).is_empty());
    }
}
