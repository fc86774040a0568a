//! `service/node-port`: Services of type NodePort open a port on every node.

use palisade_core::{Control, Framework, FindingSink, Object, Rule, RuleMeta, Severity};

use super::service_type;

pub static META: RuleMeta = RuleMeta {
    id: "service/node-port",
    title: "Service of type NodePort",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags Services with `type: NodePort`.

## Why is this bad?
A NodePort opens the same port on every node's addresses, bypassing ingress controllers, their
TLS and authentication, and usually every firewall rule written for the load balancer. Node
addresses are rarely meant to be an entry point.

## How to fix
Use `ClusterIP` behind an Ingress or Gateway, or a `LoadBalancer` with source ranges.

## Example
```yaml
kind: Service
spec:
  type: NodePort   # flagged
```
"#,
    remediation: "Use a ClusterIP Service behind an Ingress or Gateway instead of a NodePort.",
    controls: &[Control::new(Framework::Nsa, "network-separation/service-exposure")],
};

pub struct NodePort;

impl Rule for NodePort {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        if service_type(object) == Some("NodePort") {
            sink.report("/spec/type".into(), "Service of type NodePort opens its ports on every node".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::service;
    use crate::workload::testing::{assert_documented, pointers};

    #[test]
    fn only_node_port_services_are_flagged() {
        assert_eq!(pointers(&NodePort, &service(r#"{"type": "NodePort"}"#)), ["/spec/type"]);
        assert!(pointers(&NodePort, &service("{}")).is_empty());
        assert!(pointers(&NodePort, &service(r#"{"type": "ClusterIP"}"#)).is_empty());
        assert_documented(&META);
    }
}
