//! `pss/procMount_restricted` (restricted, v1.35+): containers keep the masked `/proc` even in
//! user namespaces.

use palisade_core::{Control, Framework, RuleMeta, Severity};

use super::proc_mount::report_unmasked;
use super::{Check, PssLevel};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/procMount_restricted",
    title: "Container unmasks /proc in a restricted namespace",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags containers whose `securityContext.procMount` is anything but `Default`, whatever
`spec.hostUsers` says (Pod Security Standards, restricted, v1.35+). Under restricted it
replaces `pss/procMount`, whose v1.35 implementation allows `Unmasked` in user-namespaced pods.

## Why is this bad?
Even inside a user namespace an unmasked `/proc` exposes kernel interfaces that the default
masks hide; restricted keeps the masks unconditionally.

## How to fix
Remove `procMount` or set it to `Default`.

## Example
```yaml
spec:
  hostUsers: false
  containers:
  - name: app
    securityContext:
      procMount: Unmasked   # still forbidden under restricted
```
"#,
    remediation: "Remove securityContext.procMount or set it to Default.",
    controls: &[
        Control::new(Framework::Pss, "Restricted: /proc Mount Type"),
        Control::new(Framework::Nsa, "pod-security/kernel-hardening"),
        Control::new(Framework::Mitre, "T1611"),
    ],
};

pub(super) static CHECK: Check =
    Check::new(&META, PssLevel::Restricted, &[35], report_unmasked).overriding(&["procMount"]);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{pointers, run};

    #[test]
    fn user_namespaces_do_not_relax_the_restricted_check() {
        let spec = r#"{"hostUsers": false, "initContainers": [{"name": "i", "securityContext": {"procMount": "Unmasked"}}],
            "containers": [{"name": "a"}]}"#;
        assert_eq!(
            pointers(&run(&CHECK, 35, spec)),
            ["/spec/initContainers/0/securityContext/procMount"]
        );
    }
}
