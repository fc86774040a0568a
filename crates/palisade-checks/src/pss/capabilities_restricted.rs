//! `pss/capabilities_restricted` (restricted, v1.22+): containers must drop `ALL` and may add
//! back only `NET_BIND_SERVICE`.

use palisade_core::{Control, Framework, PodView, RuleMeta, Severity};

use super::capabilities_baseline::{ADD, added_capability};
use super::visit::{Quoted, Violation, strings_at};
use super::{Check, PssLevel, WINDOWS_FROM_V1_25};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/capabilities_restricted",
    title: "Container does not drop all capabilities",
    severity: Severity::Medium,
    doc: r#"## What it does
Requires every container to list `ALL` in `securityContext.capabilities.drop`, and flags any
entry of `capabilities.add` other than `NET_BIND_SERVICE` (Pod Security Standards, restricted,
v1.22+). Under restricted it replaces `pss/capabilities_baseline`. From policy v1.25, pods with
`spec.os.name: windows` are exempt, as Windows has no Linux capabilities.

## Why is this bad?
The runtime's default set still includes `CHOWN`, `DAC_OVERRIDE`, `SETUID`, `NET_RAW` and
others that an attacker inside the container can use to tamper with files, switch users or
spoof packets. Dropping everything and adding back only what is needed removes that surface.

## How to fix
Add `drop: ["ALL"]` to every container and remove additions other than `NET_BIND_SERVICE`.

## Example
```yaml
securityContext:
  capabilities:
    drop: ["ALL"]
    add: ["NET_BIND_SERVICE"]   # the only addition allowed
```
"#,
    remediation: "Set securityContext.capabilities.drop to [\"ALL\"] and add back at most NET_BIND_SERVICE.",
    controls: &[
        Control::new(Framework::Pss, "Restricted: Capabilities"),
        Control::new(Framework::Cis, "5.2.8"),
        Control::new(Framework::Cis, "5.2.9"),
        Control::new(Framework::Nsa, "pod-security/capabilities"),
        Control::new(Framework::Mitre, "T1611"),
    ],
};

pub(super) static CHECK: Check = Check::new(&META, PssLevel::Restricted, &[22, 25], run)
    .overriding(&["capabilities_baseline"])
    .exempting(WINDOWS_FROM_V1_25);

const REASON: &str = "unrestricted capabilities";
const DROP: &[&str] = &["securityContext", "capabilities", "drop"];

fn run(pod: &PodView<'_>, _since: u32, out: &mut Vec<Violation>) {
    for container in pod.containers() {
        let drops_all = strings_at(Some(container.node), DROP).any(|(_, name)| name == "ALL");
        if !drops_all {
            out.push(Violation::new(
                container.field(DROP),
                format!(
                    r#"{REASON} (container {} must set securityContext.capabilities.drop=["ALL"])"#,
                    Quoted(container.name())
                ),
            ));
        }
        for (index, capability) in strings_at(Some(container.node), ADD) {
            if capability != "NET_BIND_SERVICE" {
                out.push(added_capability(&container, index, capability, REASON));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{containers, messages, pointers, run};

    #[test]
    fn containers_must_drop_all() {
        let spec = containers(&[
            ("a", "{}"),
            ("b", r#"{"capabilities": {"drop": ["NET_RAW"]}}"#),
        ]);
        let found = run(&CHECK, 22, &spec);
        assert_eq!(
            messages(&found),
            [
                r#"unrestricted capabilities (container "a" must set securityContext.capabilities.drop=["ALL"])"#,
                r#"unrestricted capabilities (container "b" must set securityContext.capabilities.drop=["ALL"])"#,
            ]
        );
        assert_eq!(
            pointers(&found)[1],
            "/spec/containers/1/securityContext/capabilities/drop"
        );
    }

    #[test]
    fn only_net_bind_service_may_be_added() {
        let spec = containers(&[(
            "a",
            r#"{"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "CHOWN"]}}"#,
        )]);
        let found = run(&CHECK, 25, &spec);
        assert_eq!(
            messages(&found),
            [
                r#"unrestricted capabilities (container "a" must not include "CHOWN" in securityContext.capabilities.add)"#
            ]
        );
        assert_eq!(
            pointers(&found),
            ["/spec/containers/0/securityContext/capabilities/add/1"]
        );
    }

    #[test]
    fn windows_pods_are_exempt_from_v1_25_only() {
        let spec = r#"{"os": {"name": "windows"}, "containers": [{"name": "a"}]}"#;
        assert_eq!(run(&CHECK, 22, spec).len(), 1);
        assert!(run(&CHECK, 25, spec).is_empty());
    }
}
