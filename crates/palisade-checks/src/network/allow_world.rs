//! `network/allow-world`: policy rules that open the pods to the whole outside world, or the
//! whole outside world to them, on every port.

use palisade_core::{Candidate, Control, Framework, RuleMeta, Severity};
use palisade_netpol::{Direction, Entity, NetRule, Network, Peer};

use super::candidate;

pub(super) static META: RuleMeta = RuleMeta {
    id: "network/allow-world",
    title: "Policy rule allows the whole outside world on every port",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags every ingress or egress rule, of a NetworkPolicy or a Cilium policy, that admits every
address outside the cluster on every port: Cilium's `world` (or `all`) entity, or a CIDR or
`ipBlock` of `0.0.0.0/0` or `::/0` without exceptions, with no `ports`/`toPorts`. A rule that
also admits every pod is `network/allow-all`'s.

## Why is this bad?
Ingress from anywhere on every port exposes every port the pods listen on to the internet as
soon as a load balancer or node port reaches them. Egress to anywhere on every port is the
path data takes out of a compromised pod, and what DNS or domain allow-lists exist to prevent.

## How to fix
Name the ports the traffic uses, and narrow the peers: the CIDRs of the partners, Cilium's
`toFQDNs` for the domains the pods call, or `toEntities: [kube-apiserver]` for the API server.

## Example
```yaml
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
spec:
  endpointSelector: {}
  egress:
  - toEntities: [world]     # every address outside the cluster, every port
```
"#,
    remediation: "Limit the rule to the ports and the outside peers (CIDRs, DNS names) the traffic needs.",
    controls: &[
        Control::new(Framework::Cis, "5.3.2"),
        Control::new(Framework::Nsa, "network-separation/network-policies"),
    ],
};

/// Whether `peer` admits every address outside the cluster.
fn whole_world(peer: &Peer) -> bool {
    match peer {
        Peer::Entity(entity) => matches!(entity, Entity::World | Entity::All),
        Peer::Block(block) => block.cidr.prefix == 0 && block.except.is_empty(),
        _ => false,
    }
}

fn opens_world(rule: &NetRule) -> bool {
    rule.ports.is_empty() && rule.l7.is_empty() && !rule.peers.is_empty() && rule.peers.iter().any(whole_world)
}

pub(super) fn check(meta: &'static RuleMeta, network: &Network<'_>, out: &mut Vec<Candidate>) {
    for policy in &network.policies {
        let Some(object) = policy.object else { continue };
        for direction in Direction::BOTH {
            for rule in policy.rules(direction).unwrap_or_default().iter().filter(|rule| opens_world(rule) && !rule.allows_everything()) {
                let (verb, place) = match direction {
                    Direction::Ingress => ("accept connections from", "anywhere outside the cluster"),
                    Direction::Egress => ("open connections to", "anywhere outside the cluster"),
                };
                let name = if policy.namespace.is_empty() { policy.name.clone() } else { format!("{}/{}", policy.namespace, policy.name) };
                let message = format!("{} {name} lets the pods it selects {verb} {place} on every port", object.kind());
                out.push(candidate(meta, object, rule.pointer.clone(), message));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::testing::{policy, run};
    use serde_json::json;

    fn cilium(spec: serde_json::Value) -> serde_json::Value {
        json!({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "c", "namespace": "shop"}, "spec": spec})
    }

    #[test]
    fn world_entities_and_zero_prefixes_without_ports_are_reported_at_the_rule() {
        let items = [
            cilium(json!({"endpointSelector": {}, "egress": [{"toEntities": ["world"]}, {"toEntities": ["world"], "toPorts": [{"ports": [{"port": "443"}]}]}, {"toCIDR": ["0.0.0.0/0"]}]})),
            policy("shop", "np", json!({"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "::/0"}}]}, {"from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]}]})),
        ];
        assert_eq!(
            run(&META, &items),
            [
                "CiliumNetworkPolicy/shop/c /spec/egress/0: CiliumNetworkPolicy shop/c lets the pods it selects open connections to anywhere outside the cluster on every port",
                "CiliumNetworkPolicy/shop/c /spec/egress/2: CiliumNetworkPolicy shop/c lets the pods it selects open connections to anywhere outside the cluster on every port",
                "NetworkPolicy/shop/np /spec/ingress/0: NetworkPolicy shop/np lets the pods it selects accept connections from anywhere outside the cluster on every port",
            ]
        );
    }

    #[test]
    fn a_rule_that_allows_everything_is_left_to_allow_all() {
        let items = [cilium(json!({"endpointSelector": {}, "ingress": [{"fromEntities": ["all"]}]}))];
        assert!(run(&META, &items).is_empty());
    }
}
