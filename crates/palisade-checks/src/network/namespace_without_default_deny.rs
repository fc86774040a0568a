//! `network/namespace-without-default-deny`: namespaces where some pod accepts or opens any
//! connection because no policy isolates every pod (CIS 5.3.2).

use palisade_core::{Candidate, Control, Framework, Object, RuleMeta, Severity};
use palisade_netpol::{Direction, Network};

use super::candidate;

pub(super) static META: RuleMeta = RuleMeta {
    id: "network/namespace-without-default-deny",
    title: "Namespace without default-deny NetworkPolicy",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags every namespace of the input (from Namespace objects, workloads and policies) that has
no NetworkPolicy with an empty `podSelector` isolating its pods for ingress, for egress, or
both, without an allow-everything rule that undoes it.

## Why is this bad?
Pods that no policy selects accept connections from every pod of the cluster and can connect
anywhere. One compromised pod can then scan and reach every other service, including ones
that trust the cluster network, and exfiltrate to the internet. A default-deny makes every
allowed flow an explicit, reviewable policy.

## How to fix
Add a default-deny policy to the namespace, then allow the flows the workloads need (DNS
egress to kube-dns included). `palisade netpol default-deny` shows what it would cut.

## Example
```yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
```
"#,
    remediation: "Add a NetworkPolicy with podSelector: {} and policyTypes [Ingress, Egress] to the namespace, then allow the flows it needs.",
    controls: &[
        Control::new(Framework::Cis, "5.3.2"),
        Control::new(Framework::Nsa, "network-separation/network-policies"),
        Control::new(Framework::Mitre, "T1046"),
    ],
};

pub(super) fn check(meta: &'static RuleMeta, network: &Network<'_>, out: &mut Vec<Candidate>) {
    for namespace in network.namespaces.keys() {
        let missing: Vec<&str> = Direction::BOTH
            .into_iter()
            .filter(|&direction| network.default_deny(namespace, direction).is_none())
            .map(Direction::as_str)
            .collect();
        if missing.is_empty() {
            continue;
        }
        let Some((object, pointer)) = anchor(network, namespace) else { continue };
        let message = format!("namespace {namespace} has no default-deny NetworkPolicy for {}", missing.join(" or "));
        out.push(candidate(meta, object, pointer.to_owned(), message));
    }
}

/// Where to report a namespace: its Namespace object when the input has one, else its first
/// workload or policy, at the field that puts it in the namespace.
fn anchor<'a>(network: &Network<'a>, namespace: &str) -> Option<(&'a Object, &'static str)> {
    if let Some(object) = network.namespace_objects.get(namespace) {
        return Some((object, "/metadata/name"));
    }
    let workloads = network.workloads.iter().filter(|w| w.namespace == namespace).map(|w| w.object);
    let policies = network.policies.iter().filter(|p| p.namespace == namespace).filter_map(|p| p.object);
    workloads.chain(policies).next().map(|object| (object, "/metadata/namespace"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::testing::{deployment, policy, run};
    use serde_json::json;

    #[test]
    fn a_namespace_with_workloads_and_no_policy_is_reported_at_a_workload() {
        assert_eq!(
            run(&META, &[deployment("shop", "web", json!({"app": "web"}))]),
            ["Deployment/shop/web /metadata/namespace: namespace shop has no default-deny NetworkPolicy for ingress or egress"]
        );
    }

    #[test]
    fn the_missing_direction_is_named_and_the_namespace_object_preferred() {
        let items = [
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
            policy("shop", "deny-in", json!({"podSelector": {}, "policyTypes": ["Ingress"]})),
        ];
        assert_eq!(run(&META, &items), ["Namespace/shop /metadata/name: namespace shop has no default-deny NetworkPolicy for egress"]);
    }

    #[test]
    fn a_namespace_isolated_both_ways_is_not_reported() {
        let items = [
            deployment("shop", "web", json!({"app": "web"})),
            policy("shop", "deny", json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})),
        ];
        assert!(run(&META, &items).is_empty());
    }
}
