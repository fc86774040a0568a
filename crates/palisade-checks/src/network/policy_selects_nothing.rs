//! `network/policy-selects-nothing`: policies whose podSelector matches no workload.

use std::collections::HashSet;

use palisade_core::{Candidate, Control, Framework, RuleMeta, Severity};
use palisade_netpol::{Network, PolicyIndex};

use rayon::prelude::*;

use super::candidate;

pub(super) static META: RuleMeta = RuleMeta {
    id: "network/policy-selects-nothing",
    title: "NetworkPolicy selects no workload",
    severity: Severity::Low,
    doc: r#"## What it does
Flags every NetworkPolicy whose `podSelector` matches none of the workloads of its namespace
in the input (namespaces without workloads in the input are skipped), and every policy whose
selector is invalid.

## Why is this bad?
A policy that selects nothing protects nothing. It usually means labels drifted (the workload
was relabelled, the selector has a typo), so the pods it was written for are open while the
policy suggests otherwise.

## How to fix
Make the `podSelector` match the labels of the workload's pod template, or delete the policy.

## Example
```yaml
spec:
  podSelector:
    matchLabels: {app: web-server}   # pods are labelled app: web
```
"#,
    remediation: "Fix the podSelector to match the pods the policy is meant for, or remove the policy.",
    controls: &[
        Control::new(Framework::Cis, "5.3.2"),
        Control::new(Framework::Nsa, "network-separation/network-policies"),
    ],
};

pub(super) fn check(meta: &'static RuleMeta, network: &Network<'_>, out: &mut Vec<Candidate>) {
    let index = PolicyIndex::new(&network);
    let selected: Vec<Vec<usize>> = network.workloads.par_iter().map(|workload| index.selecting(workload)).collect();
    let mut selects_a_workload = vec![false; network.policies.len()];
    for position in selected.into_iter().flatten() {
        selects_a_workload[position] = true;
    }
    // Namespaces without workloads in the input are skipped: their workloads may live elsewhere.
    let with_workloads: HashSet<&str> = network.workloads.iter().map(|workload| workload.namespace.as_str()).collect();
    for (policy, selects) in network.policies.iter().zip(selects_a_workload) {
        let Some(object) = policy.object else { continue };
        let message = if policy.pod_selector.is_none() {
            format!("NetworkPolicy {}/{} has an invalid podSelector and selects nothing", policy.namespace, policy.name)
        } else if with_workloads.contains(policy.namespace.as_str()) && !selects {
            format!("NetworkPolicy {}/{} selects none of the workloads of namespace {}", policy.namespace, policy.name, policy.namespace)
        } else {
            continue;
        };
        out.push(candidate(meta, object, "/spec/podSelector".to_owned(), message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::testing::{deployment, policy, run};
    use serde_json::json;

    #[test]
    fn a_selector_matching_no_workload_is_reported() {
        let items = [
            deployment("shop", "web", json!({"app": "web"})),
            policy("shop", "typo", json!({"podSelector": {"matchLabels": {"app": "web-server"}}})),
            policy("shop", "ok", json!({"podSelector": {"matchLabels": {"app": "web"}}})),
        ];
        assert_eq!(
            run(&META, &items),
            ["NetworkPolicy/shop/typo /spec/podSelector: NetworkPolicy shop/typo selects none of the workloads of namespace shop"]
        );
    }

    #[test]
    fn invalid_selectors_are_reported_and_namespaces_without_workloads_skipped() {
        let items = [
            policy("empty", "any", json!({"podSelector": {"matchLabels": {"app": "x"}}})),
            policy("empty", "bad", json!({"podSelector": {"matchExpressions": [{"key": "app", "operator": "In"}]}})),
        ];
        assert_eq!(
            run(&META, &items),
            ["NetworkPolicy/empty/bad /spec/podSelector: NetworkPolicy empty/bad has an invalid podSelector and selects nothing"]
        );
    }
}
