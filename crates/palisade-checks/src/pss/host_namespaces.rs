//! `pss/hostNamespaces` (baseline): the pod must not share the node's network, PID or IPC
//! namespace.

use palisade_core::{Control, Framework, Node, PodView, RuleMeta, Severity};

use super::visit::Violation;
use super::{Check, PssLevel};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/hostNamespaces",
    title: "Pod shares a host namespace",
    severity: Severity::High,
    doc: r#"## What it does
Flags pods that set `spec.hostNetwork`, `spec.hostPID` or `spec.hostIPC` to `true` (Pod Security
Standards, baseline, all versions).

## Why is this bad?
A pod in the node's network namespace sees every interface of the node and can bind or sniff
its traffic; in the node's PID namespace it sees, signals and (with ptrace) enters every
process on the node; in the IPC namespace it reads host shared memory. Each one dissolves a
wall between the container and the node.

## How to fix
Remove the fields or set them to `false`. Expose ports through a Service instead of the host
network.

## Example
```yaml
spec:
  hostNetwork: true   # forbidden
  hostPID: true       # forbidden
```
"#,
    remediation: "Remove spec.hostNetwork, spec.hostPID and spec.hostIPC, or set them to false.",
    controls: &[
        Control::new(Framework::Pss, "Baseline: Host Namespaces"),
        Control::new(Framework::Cis, "5.2.3"),
        Control::new(Framework::Cis, "5.2.4"),
        Control::new(Framework::Cis, "5.2.5"),
        Control::new(Framework::Nsa, "pod-security/host-namespaces"),
        Control::new(Framework::Mitre, "T1611"),
    ],
};

pub(super) static CHECK: Check = Check::new(&META, PssLevel::Baseline, &[0], run);

fn run(pod: &PodView<'_>, _since: u32, out: &mut Vec<Violation>) {
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if pod.spec_field(field).and_then(Node::as_bool) == Some(true) {
            out.push(Violation::new(
                pod.spec_pointer_to(&[field]),
                format!("host namespaces ({field}=true)"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{messages, pointers, run};

    #[test]
    fn each_shared_namespace_is_one_violation_at_its_field() {
        let found = run(
            &CHECK,
            0,
            r#"{"hostNetwork": true, "hostPID": false, "hostIPC": true, "containers": []}"#,
        );
        assert_eq!(
            messages(&found),
            [
                "host namespaces (hostNetwork=true)",
                "host namespaces (hostIPC=true)"
            ]
        );
        assert_eq!(pointers(&found), ["/spec/hostNetwork", "/spec/hostIPC"]);
    }

    #[test]
    fn unset_and_false_are_allowed() {
        assert!(run(&CHECK, 0, r#"{"hostPID": false, "containers": []}"#).is_empty());
    }
}
