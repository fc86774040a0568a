//! `service/load-balancer`: LoadBalancer Services without source ranges are open to the
//! Internet.

use palisade_core::{Control, Framework, FindingSink, Node, Object, Rule, RuleMeta, Severity};

use super::service_type;

pub static META: RuleMeta = RuleMeta {
    id: "service/load-balancer",
    title: "LoadBalancer Service open to every source",
    severity: Severity::Low,
    doc: r#"## What it does
Flags Services with `type: LoadBalancer` that do not restrict `spec.loadBalancerSourceRanges`.
Internal load balancers are flagged too: the annotation that makes them internal differs per
cloud, so a reviewer should confirm it.

## Why is this bad?
A cloud load balancer gets a public address by default; every port of the Service is reachable
from the Internet, and each one is a separately managed entry point outside your Ingress.

## How to fix
Prefer an Ingress or Gateway. When a LoadBalancer is needed, set `loadBalancerSourceRanges` to
the networks that need access (and the cloud's internal annotation when it is internal).

## Example
```yaml
kind: Service
spec:
  type: LoadBalancer
  loadBalancerSourceRanges: [10.0.0.0/8]
```
"#,
    remediation: "Restrict spec.loadBalancerSourceRanges or expose the Service through an Ingress.",
    controls: &[Control::new(Framework::Nsa, "network-separation/service-exposure")],
};

pub struct LoadBalancer;

impl Rule for LoadBalancer {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        if service_type(object) != Some("LoadBalancer") {
            return;
        }
        let ranges = object.root.pointer("/spec/loadBalancerSourceRanges").map_or(&[][..], Node::as_seq);
        let open = ranges.is_empty() || ranges.iter().any(|range| matches!(range.as_str(), Some("0.0.0.0/0" | "::/0")));
        if open {
            sink.report(
                "/spec/loadBalancerSourceRanges".into(),
                "LoadBalancer Service accepts traffic from every source address".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::service;
    use crate::workload::testing::{assert_documented, pointers};

    #[test]
    fn unrestricted_load_balancers_are_flagged() {
        assert_eq!(pointers(&LoadBalancer, &service(r#"{"type": "LoadBalancer"}"#)), ["/spec/loadBalancerSourceRanges"]);
        let world = r#"{"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.0/8", "0.0.0.0/0"]}"#;
        assert_eq!(pointers(&LoadBalancer, &service(world)).len(), 1);
        let office = r#"{"type": "LoadBalancer", "loadBalancerSourceRanges": ["203.0.113.0/24"]}"#;
        assert!(pointers(&LoadBalancer, &service(office)).is_empty());
        assert_documented(&META);
    }
}
