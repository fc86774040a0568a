//! `network/allow-all`: policy rules that admit every peer on every port.

use palisade_core::{Candidate, Control, Framework, RuleMeta, Severity};
use palisade_netpol::{Direction, Network};

use super::candidate;

pub(super) static META: RuleMeta = RuleMeta {
    id: "network/allow-all",
    title: "NetworkPolicy rule allows all traffic",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags every ingress or egress rule of a NetworkPolicy that has neither peers (`from`/`to`)
nor `ports`, such as `ingress: [{}]`, and every Cilium rule that names the `all` entity without
`toPorts`: it admits every pod, namespace and address on every port.

## Why is this bad?
Policies are additive: one allow-all rule cancels every other policy that selects the same
pods for that direction, default-deny included. It is often left over from debugging.

## How to fix
Replace the rule with peers and ports for the traffic the pods serve, or delete it.

## Example
```yaml
spec:
  podSelector: {}
  ingress:
  - {}        # every source, every port
```
"#,
    remediation: "Give the rule explicit peers and ports, or remove it.",
    controls: &[
        Control::new(Framework::Cis, "5.3.2"),
        Control::new(Framework::Nsa, "network-separation/network-policies"),
    ],
};

pub(super) fn check(meta: &'static RuleMeta, network: &Network<'_>, out: &mut Vec<Candidate>) {
    for policy in &network.policies {
        let Some(object) = policy.object else { continue };
        for direction in Direction::BOTH {
            for rule in policy.rules(direction).unwrap_or_default().iter().filter(|rule| rule.allows_everything()) {
                let name = if policy.namespace.is_empty() { policy.name.clone() } else { format!("{}/{}", policy.namespace, policy.name) };
                let message = format!("{} {name} allows all {} traffic for the pods it selects", object.kind(), direction.as_str());
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

    #[test]
    fn an_empty_rule_is_reported_at_the_rule() {
        let items = [policy("shop", "open", json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"ports": [{"port": 80}]}], "egress": [{}]}))];
        assert_eq!(run(&META, &items), ["NetworkPolicy/shop/open /spec/egress/0: NetworkPolicy shop/open allows all egress traffic for the pods it selects"]);
    }

    #[test]
    fn rules_of_a_direction_the_policy_does_not_isolate_are_ignored() {
        // Egress rules without Egress in policyTypes have no effect.
        let items = [policy("shop", "p", json!({"podSelector": {}, "policyTypes": ["Ingress"], "egress": [{}]}))];
        assert!(run(&META, &items).is_empty());
    }
}
