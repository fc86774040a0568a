//! `pss/capabilities_baseline` (baseline): containers may add only the container runtime's
//! default capabilities.

use palisade_core::{Control, Framework, PodView, RuleMeta, Severity};

use super::visit::{Quoted, Violation, strings_at};
use super::{Check, PssLevel};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/capabilities_baseline",
    title: "Container adds a non-default capability",
    severity: Severity::High,
    doc: r#"## What it does
Flags every entry of a container's `securityContext.capabilities.add` outside the runtime's
default set: `AUDIT_WRITE`, `CHOWN`, `DAC_OVERRIDE`, `FOWNER`, `FSETID`, `KILL`, `MKNOD`,
`NET_BIND_SERVICE`, `SETFCAP`, `SETGID`, `SETPCAP`, `SETUID`, `SYS_CHROOT` (Pod Security
Standards, baseline, all versions). Under restricted, `pss/capabilities_restricted` replaces it.

## Why is this bad?
Capabilities such as `SYS_ADMIN`, `SYS_PTRACE`, `SYS_MODULE` or `NET_ADMIN` hand root-equivalent
kernel powers to the container; most documented container escapes start from one of them.
`NET_RAW` (not in the set) allows packet spoofing on the pod network.

## How to fix
Remove the capability; if the workload truly needs it, run it in a namespace whose policy
allows it and document why.

## Example
```yaml
securityContext:
  capabilities:
    add: ["SYS_ADMIN"]   # forbidden
```
"#,
    remediation: "Remove capabilities outside the default set from securityContext.capabilities.add.",
    controls: &[
        Control::new(Framework::Pss, "Baseline: Capabilities"),
        Control::new(Framework::Cis, "5.2.8"),
        Control::new(Framework::Cis, "5.2.9"),
        Control::new(Framework::Nsa, "pod-security/capabilities"),
        Control::new(Framework::Mitre, "T1611"),
    ],
};

pub(super) static CHECK: Check = Check::new(&META, PssLevel::Baseline, &[0], run);

const DEFAULT_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// The path of the added capabilities under a container.
pub(super) const ADD: &[&str] = &["securityContext", "capabilities", "add"];

fn run(pod: &PodView<'_>, _since: u32, out: &mut Vec<Violation>) {
    for container in pod.containers() {
        for (index, capability) in strings_at(Some(container.node), ADD) {
            if !DEFAULT_CAPABILITIES.contains(&capability) {
                out.push(added_capability(
                    &container,
                    index,
                    capability,
                    "non-default capabilities",
                ));
            }
        }
    }
}

/// A forbidden entry of `capabilities.add`, in PSA's words with `reason` in front.
pub(super) fn added_capability(
    container: &palisade_core::ContainerView<'_>,
    index: usize,
    capability: &str,
    reason: &str,
) -> Violation {
    let mut pointer = container.field(ADD);
    palisade_core::push_pointer_token(&mut pointer, &index.to_string());
    Violation::new(
        pointer,
        format!(
            "{reason} (container {} must not include {} in securityContext.capabilities.add)",
            Quoted(container.name()),
            Quoted(capability)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{containers, messages, pointers, run};

    #[test]
    fn each_non_default_capability_is_reported_at_its_entry() {
        let spec = containers(&[(
            "app",
            r#"{"capabilities": {"add": ["CHOWN", "NET_RAW", "SYS_ADMIN"]}}"#,
        )]);
        let found = run(&CHECK, 0, &spec);
        assert_eq!(
            messages(&found),
            [
                r#"non-default capabilities (container "app" must not include "NET_RAW" in securityContext.capabilities.add)"#,
                r#"non-default capabilities (container "app" must not include "SYS_ADMIN" in securityContext.capabilities.add)"#,
            ]
        );
        assert_eq!(
            pointers(&found)[1],
            "/spec/containers/0/securityContext/capabilities/add/2"
        );
    }

    #[test]
    fn default_capabilities_and_drops_are_allowed() {
        let spec = containers(&[(
            "app",
            r#"{"capabilities": {"add": ["KILL", "SETUID"], "drop": ["ALL"]}}"#,
        )]);
        assert!(run(&CHECK, 0, &spec).is_empty());
    }
}
