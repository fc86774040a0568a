//! `network/workload-not-selected`: workloads no NetworkPolicy selects.

use palisade_core::{Candidate, Control, Framework, PodView, RuleMeta, Severity};
use palisade_netpol::{Network, PolicyIndex};

use rayon::prelude::*;

use super::candidate;

pub(super) static META: RuleMeta = RuleMeta {
    id: "network/workload-not-selected",
    title: "Workload selected by no NetworkPolicy",
    severity: Severity::Low,
    doc: r#"## What it does
Flags every workload (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob,
ReplicationController) whose pod-template labels no NetworkPolicy of its namespace selects.

## Why is this bad?
A pod that no policy selects is isolated in neither direction: it accepts connections from
every pod and address that can route to it, and connects anywhere. When the namespace has
policies, an unselected workload is usually a labelling mistake that leaves it wide open.

## How to fix
Add a default-deny policy to the namespace, or a policy whose `podSelector` matches the
workload's pod labels and allows only the traffic it serves.

## Example
```yaml
kind: NetworkPolicy
spec:
  podSelector:
    matchLabels: {app: web}   # the Deployment's pods are labelled app: frontend
```
"#,
    remediation: "Select the workload's pods with a NetworkPolicy (a namespace default-deny covers every pod).",
    controls: &[
        Control::new(Framework::Cis, "5.3.2"),
        Control::new(Framework::Nsa, "network-separation/network-policies"),
    ],
};

pub(super) fn check(meta: &'static RuleMeta, network: &Network<'_>, out: &mut Vec<Candidate>) {
    let index = PolicyIndex::new(&network);
    let found: Vec<Candidate> = network
        .workloads
        .par_iter()
        .filter_map(|workload| {
            if !index.selecting(workload).is_empty() {
                return None;
            }
            let pointer =
                PodView::of(workload.object).map_or_else(|| "/metadata".to_owned(), |pod| pod.metadata_pointer_to(&["labels"]));
            let message = format!(
                "{} {}/{} is selected by no NetworkPolicy: it accepts and opens connections to anything",
                workload.kind, workload.namespace, workload.name
            );
            Some(candidate(meta, workload.object, pointer, message))
        })
        .collect();
    out.extend(found);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::testing::{deployment, policy, run};
    use serde_json::json;

    #[test]
    fn a_workload_whose_labels_no_policy_matches_is_reported_at_its_labels() {
        let items = [
            deployment("shop", "web", json!({"app": "frontend"})),
            deployment("shop", "db", json!({"app": "db"})),
            policy("shop", "db", json!({"podSelector": {"matchLabels": {"app": "db"}}})),
        ];
        assert_eq!(
            run(&META, &items),
            ["Deployment/shop/web /spec/template/metadata/labels: Deployment shop/web is selected by no NetworkPolicy: it accepts and opens connections to anything"]
        );
    }

    #[test]
    fn a_policy_in_another_namespace_does_not_count() {
        let items = [
            deployment("shop", "web", json!({"app": "web"})),
            policy("other", "all", json!({"podSelector": {}})),
        ];
        assert_eq!(run(&META, &items).len(), 1);
    }
}
