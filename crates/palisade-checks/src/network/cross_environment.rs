//! `network/cross-environment`: workloads that pods of a namespace labelled as another
//! environment or tenant can reach.

use std::collections::BTreeMap;

use palisade_core::{Candidate, Control, Framework, RuleMeta, Severity};
use palisade_netpol::{Network, PortSet};

use super::{NetworkOptions, candidate};

pub(super) static META: RuleMeta = RuleMeta {
    id: "network/cross-environment",
    title: "Workload reachable from another environment or tenant",
    severity: Severity::High,
    doc: r#"## What it does
Flags every workload that pods of another namespace can reach when the two namespaces carry an
environment or tenant label (`env`, `environment` or `tenant` by default; set
`rules.params."network/cross-environment".labels`) with different values: a `stage` namespace
reaching into `production`, or one tenant into another. The verdict is the reachability
engine's, NetworkPolicies and Cilium policies together. One finding per workload names the
source namespaces (the first five by name, and how many more), their labels and the ports: in
a cluster of hundreds of namespaces without isolation, a finding per pair of workload and
namespace would bury everything else.

## Why is this bad?
Environments and tenants are separated so that a compromise or a mistake in one stays there.
A path from staging into production is the hole audits find most often: staging runs
unreviewed code with weaker credentials, and any of its pods can then talk to production
databases and APIs.

## How to fix
Give the destination's namespace a default deny for ingress, and allow only the namespaces of
its own environment (a `namespaceSelector` on the environment label), or deny the other
environments explicitly with a Cilium `ingressDeny` rule.

## Example
```yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: same-env-only, namespace: shop-prod}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {env: production}}
```
"#,
    remediation: "Isolate the namespace for ingress and allow only namespaces of its own environment or tenant.",
    controls: &[
        Control::new(Framework::Cis, "5.3.2"),
        Control::new(Framework::Nsa, "network-separation/network-policies"),
    ],
};

/// Source namespaces a finding names; the rest are counted.
const LISTED: usize = 5;

pub(super) fn check(meta: &'static RuleMeta, network: &Network<'_>, options: &NetworkOptions, out: &mut Vec<Candidate>) {
    // The first configured label each namespace carries, with its value.
    let environment = |namespace: &str| {
        let labels = network.namespace_labels(namespace)?;
        options.environment_labels.iter().find_map(|key| labels.get(key).map(|value| (key.as_str(), value.as_str())))
    };
    let labelled: Vec<Option<(&str, &str)>> = network.workloads.iter().map(|workload| environment(&workload.namespace)).collect();
    let values: std::collections::BTreeSet<(&str, &str)> = labelled.iter().flatten().copied().collect();
    if values.len() < 2 {
        return;
    }
    let matrix = network.matrix();
    for (to, destination) in network.workloads.iter().enumerate() {
        let Some((key, value)) = labelled[to] else { continue };
        // Per source namespace of another value of the same label: the ports its pods reach.
        let mut reached: BTreeMap<&str, (&str, PortSet)> = BTreeMap::new();
        for (from, source) in network.workloads.iter().enumerate() {
            let Some((source_key, source_value)) = labelled[from] else { continue };
            if source_key != key || source_value == value || source.namespace == destination.namespace {
                continue;
            }
            let ports = matrix.get(from, to);
            if !ports.is_empty() {
                reached.entry(source.namespace.as_str()).or_insert_with(|| (source_value, PortSet::none())).1.union_with(ports);
            }
        }
        let sources: Vec<String> = reached.iter().take(LISTED).map(|(namespace, (source_value, ports))| format!("{namespace} ({key}={source_value}) on {ports}")).collect();
        let message = match reached.len() {
            0 => continue,
            1 => format!("{} ({key}={value}) can be reached from namespace {}", destination.label(), sources[0]),
            count => {
                let more = if count > LISTED { format!("; and {} more", count - LISTED) } else { String::new() };
                format!("{} ({key}={value}) can be reached from {count} namespaces of other {key} values: {}{more}", destination.label(), sources.join("; "))
            }
        };
        out.push(candidate(meta, destination.object, String::new(), message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::testing::{deployment, policy};
    use serde_json::json;

    fn namespace(name: &str, labels: serde_json::Value) -> serde_json::Value {
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
    }

    fn run(items: &[serde_json::Value], options: &NetworkOptions) -> Vec<String> {
        let retained: Vec<palisade_core::Object> = crate::rbac::testing::objects(items).iter().filter_map(palisade_netpol::retain).collect();
        let network = Network::from_objects(&retained);
        let mut out = Vec::new();
        check(&META, &network, options, &mut out);
        out.iter().map(|c| format!("{}: {}", c.finding.object, c.finding.message)).collect()
    }

    #[test]
    fn reach_across_environments_is_reported_once_per_destination_naming_the_source_namespaces() {
        let items = [
            namespace("shop-stage", json!({"env": "stage"})),
            namespace("shop-prod", json!({"env": "production"})),
            namespace("api-prod", json!({"env": "production"})),
            deployment("shop-stage", "tester", json!({"app": "tester"})),
            deployment("shop-prod", "db", json!({"app": "db"})),
            deployment("api-prod", "api", json!({"app": "api"})),
            // api-prod lets only production namespaces in: no finding there.
            policy("api-prod", "same-env", json!({"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"env": "production"}}}]}]})),
        ];
        let found = run(&items, &NetworkOptions::default());
        assert_eq!(
            found,
            [
                // Nothing isolates the production pods' egress: both reach into staging.
                "Deployment/shop-stage/tester: shop-stage/Deployment/tester (env=stage) can be reached from 2 namespaces of other env values: api-prod (env=production) on all ports; shop-prod (env=production) on all ports",
                "Deployment/shop-prod/db: shop-prod/Deployment/db (env=production) can be reached from namespace shop-stage (env=stage) on all ports",
            ]
        );
        // Past five source namespaces, the rest are counted.
        let mut many: Vec<serde_json::Value> = vec![namespace("shop-prod", json!({"env": "production"})), deployment("shop-prod", "db", json!({"app": "db"}))];
        for index in 0..7 {
            many.push(namespace(&format!("dev-{index}"), json!({"env": "dev"})));
            many.push(deployment(&format!("dev-{index}"), "tool", json!({"app": "tool"})));
        }
        let found: Vec<String> = run(&many, &NetworkOptions::default()).into_iter().filter(|finding| finding.starts_with("Deployment/shop-prod/db")).collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].ends_with("can be reached from 7 namespaces of other env values: dev-0 (env=dev) on all ports; dev-1 (env=dev) on all ports; dev-2 (env=dev) on all ports; dev-3 (env=dev) on all ports; dev-4 (env=dev) on all ports; and 2 more"), "{}", found[0]);
        // Another label, configured: only namespaces carrying it count.
        let options = NetworkOptions { environment_labels: vec!["tenant".into()] };
        assert!(run(&items, &options).is_empty());
    }
}
