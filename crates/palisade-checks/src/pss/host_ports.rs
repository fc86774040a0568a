//! `pss/hostPorts` (baseline): containers must not bind host ports.

use palisade_core::{Control, Framework, Node, PodView, RuleMeta, Severity};

use super::visit::{Quoted, Violation, field};
use super::{Check, PssLevel};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/hostPorts",
    title: "Container binds a host port",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags every container port with a non-zero `hostPort`, in init, regular and ephemeral
containers (Pod Security Standards, baseline, all versions).

## Why is this bad?
A host port opens the port on the node's own address, bypassing NetworkPolicies that select
pods and Services, exposing the workload beyond the cluster network, and pinning the pod to
nodes where the port is free.

## How to fix
Remove `hostPort` and publish the port through a Service (NodePort or LoadBalancer if it must be
reachable from outside).

## Example
```yaml
ports:
- containerPort: 8080
  hostPort: 8080   # forbidden
```
"#,
    remediation: "Remove hostPort from container ports and expose the port through a Service.",
    controls: &[
        Control::new(Framework::Pss, "Baseline: Host Ports"),
        Control::new(Framework::Cis, "5.2.12"),
    ],
};

pub(super) static CHECK: Check = Check::new(&META, PssLevel::Baseline, &[0], run);

fn run(pod: &PodView<'_>, _since: u32, out: &mut Vec<Violation>) {
    for container in pod.containers() {
        let ports = field(Some(container.node), &["ports"])
            .map(Node::as_seq)
            .unwrap_or_default();
        for (index, port) in ports.iter().enumerate() {
            let host_port = field(Some(port), &["hostPort"])
                .and_then(Node::as_i64)
                .unwrap_or(0);
            if host_port != 0 {
                out.push(Violation::new(
                    container.field(&["ports", &index.to_string(), "hostPort"]),
                    format!(
                        "hostPort (container {} uses hostPort {host_port})",
                        Quoted(container.name())
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
    fn non_zero_host_ports_are_reported_at_the_port() {
        let spec = r#"{"containers": [{"name": "web", "ports": [
            {"containerPort": 80, "hostPort": 0}, {"containerPort": 8080, "hostPort": 8080}]}]}"#;
        let found = run(&CHECK, 0, spec);
        assert_eq!(
            messages(&found),
            [r#"hostPort (container "web" uses hostPort 8080)"#]
        );
        assert_eq!(pointers(&found), ["/spec/containers/0/ports/1/hostPort"]);
    }
}
