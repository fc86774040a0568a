//! `pss/hostProbesAndHostLifecycle` (baseline, v1.34+): probes and lifecycle hooks must target
//! the pod itself, not an arbitrary host.

use palisade_core::{Control, Framework, Node, PodView, RuleMeta, Severity};

use super::visit::{Quoted, Violation, field};
use super::{Check, PssLevel};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/hostProbesAndHostLifecycle",
    title: "Probe or lifecycle hook targets another host",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags a non-empty `host` in the `httpGet` or `tcpSocket` action of a container's
`livenessProbe`, `readinessProbe`, `startupProbe`, `lifecycle.postStart` or `lifecycle.preStop`
(Pod Security Standards, baseline, v1.34+).

## Why is this bad?
The kubelet performs probes and hooks from the node. With `host` set, a pod makes the kubelet
connect wherever it wants: node-local services, cloud metadata endpoints or other pods, a
server-side request forgery that NetworkPolicies do not stop.

## How to fix
Remove `host`; the kubelet then targets the pod's own IP.

## Example
```yaml
livenessProbe:
  httpGet:
    host: 169.254.169.254   # forbidden
    path: /latest/meta-data
    port: 80
```
"#,
    remediation: "Remove the host field from probes and lifecycle hooks so they target the pod itself.",
    controls: &[Control::new(
        Framework::Pss,
        "Baseline: Host Probes / Lifecycle Hooks",
    )],
};

pub(super) static CHECK: Check = Check::new(&META, PssLevel::Baseline, &[34], run);

/// The handlers that can name a host, as paths under a container.
const HANDLERS: [&[&str]; 5] = [
    &["livenessProbe"],
    &["readinessProbe"],
    &["startupProbe"],
    &["lifecycle", "postStart"],
    &["lifecycle", "preStop"],
];

fn run(pod: &PodView<'_>, _since: u32, out: &mut Vec<Violation>) {
    for container in pod.containers() {
        for handler in HANDLERS {
            let Some(action) = field(Some(container.node), handler) else {
                continue;
            };
            for kind in ["httpGet", "tcpSocket"] {
                let host = field(Some(action), &[kind, "host"])
                    .and_then(Node::as_str)
                    .unwrap_or("");
                if host.is_empty() {
                    continue;
                }
                let mut path = handler.to_vec();
                path.extend([kind, "host"]);
                out.push(Violation::new(
                    container.field(&path),
                    format!(
                        "probe or lifecycle host (container {} uses probe or lifecycle host {})",
                        Quoted(container.name()),
                        Quoted(host)
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{messages, pointers, run};

    #[test]
    fn hosts_in_probes_and_hooks_are_reported_at_the_field() {
        let spec = r#"{"containers": [{"name": "a",
            "readinessProbe": {"tcpSocket": {"port": 80, "host": "10.0.0.1"}},
            "livenessProbe": {"httpGet": {"port": 80, "host": ""}},
            "lifecycle": {"preStop": {"httpGet": {"port": 80, "host": "metadata"}}}}]}"#;
        let found = run(&CHECK, 34, spec);
        assert_eq!(
            messages(&found),
            [
                r#"probe or lifecycle host (container "a" uses probe or lifecycle host "10.0.0.1")"#,
                r#"probe or lifecycle host (container "a" uses probe or lifecycle host "metadata")"#,
            ]
        );
        assert_eq!(
            pointers(&found),
            [
                "/spec/containers/0/readinessProbe/tcpSocket/host",
                "/spec/containers/0/lifecycle/preStop/httpGet/host"
            ]
        );
    }
}
