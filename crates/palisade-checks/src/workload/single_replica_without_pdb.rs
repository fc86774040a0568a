//! `workload/single-replica-without-pdb`: a Deployment or StatefulSet running one replica with
//! no PodDisruptionBudget covering it. Needs the PodDisruptionBudgets of the whole input, so it
//! is an inventory rule that keeps only identities, replica counts, labels and selectors.

use palisade_core::{
    Candidate, Control, Finding, Framework, InventoryRule, LabelSelector, Node, Object, RuleMeta, Severity, labels_of,
    project,
};

pub static META: RuleMeta = RuleMeta {
    id: "workload/single-replica-without-pdb",
    title: "Single-replica workload without PodDisruptionBudget",
    severity: Severity::Low,
    doc: r#"## What it does
Flags Deployments and StatefulSets with one replica (`spec.replicas: 1`, or unset, which means
1) when no PodDisruptionBudget in the same namespace selects their pods. Workloads with any other
replica count are not judged.

## Why is this bad?
Every node drain, upgrade or autoscaler scale-down evicts the only pod with no warning: the
service is down until a replacement is scheduled and ready. Nothing tells the platform team
that this workload cannot tolerate disruption.

## How to fix
Run at least two replicas and add a PodDisruptionBudget (`maxUnavailable: 1`); if one replica
is intended, document it with an exception.

## Example
```yaml
kind: Deployment
spec:
  replicas: 1            # flagged unless a PodDisruptionBudget selects app=web
  template:
    metadata: {labels: {app: web}}
```
"#,
    remediation: "Run at least two replicas and cover the pods with a PodDisruptionBudget.",
    controls: &[Control::new(Framework::Nsa, "network-separation/resource-policies")],
};

const WORKLOAD_FIELDS: &[&[&str]] = &[
    &["apiVersion"],
    &["kind"],
    &["metadata", "name"],
    &["metadata", "namespace"],
    &["spec", "replicas"],
    &["spec", "template", "metadata", "labels"],
];

const PDB_FIELDS: &[&[&str]] =
    &[&["apiVersion"], &["kind"], &["metadata", "name"], &["metadata", "namespace"], &["spec", "selector"]];

pub struct SingleReplicaWithoutPdb;

fn is_pdb(object: &Object) -> bool {
    object.is(&["policy"], "PodDisruptionBudget")
}

/// `spec.replicas` as the API server defaults it.
fn replicas(object: &Object) -> i64 {
    object.root.pointer("/spec/replicas").and_then(Node::as_i64).unwrap_or(1)
}

impl InventoryRule for SingleReplicaWithoutPdb {
    fn metas(&self) -> Vec<&'static RuleMeta> {
        vec![&META]
    }

    fn retain(&self, object: &Object) -> Option<Object> {
        let fields = if is_pdb(object) {
            PDB_FIELDS
        } else if (object.is(&["apps"], "Deployment") || object.is(&["apps"], "StatefulSet")) && replicas(object) == 1 {
            WORKLOAD_FIELDS
        } else {
            return None;
        };
        Some(project(object, fields))
    }

    fn check(&self, retained: &[Object], out: &mut Vec<Candidate>) {
        let budgets: Vec<(Option<&str>, LabelSelector, bool)> = retained
            .iter()
            .filter(|object| is_pdb(object))
            .filter_map(|pdb| {
                // A missing or invalid selector protects nothing; an empty one selects every
                // pod of the namespace in policy/v1 and none in policy/v1beta1.
                let selector = LabelSelector::parse(pdb.root.pointer("/spec/selector")?).ok()?;
                Some((pdb.namespace(), selector, pdb.api_version() == "policy/v1"))
            })
            .collect();
        for workload in retained.iter().filter(|object| !is_pdb(object)) {
            let labels = labels_of(workload.root.pointer("/spec/template/metadata/labels"));
            let covered = budgets.iter().any(|(namespace, selector, empty_selects_all)| {
                *namespace == workload.namespace()
                    && (if selector.is_everything() { *empty_selects_all } else { selector.matches(&labels) })
            });
            if !covered {
                let message = format!(
                    "{} runs a single replica and no PodDisruptionBudget selects its pods",
                    workload.kind()
                );
                let finding = Finding::new(&META, workload, "/spec/replicas".into(), message);
                out.push(Candidate { finding, gate: None });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::assert_documented;

    fn run(text: &str) -> Vec<Finding> {
        let loaded = palisade_load::load_str(text, "apps.yaml");
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let rule = SingleReplicaWithoutPdb;
        let retained: Vec<Object> = loaded.objects.iter().filter_map(|object| rule.retain(object)).collect();
        let mut out = Vec::new();
        rule.check(&retained, &mut out);
        out.into_iter().map(|candidate| candidate.finding).collect()
    }

    const WEB: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n  annotations: {big: data}\nspec:\n  replicas: 1\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers: [{name: a, image: x}]\n";

    fn pdb(namespace: &str, selector: &str) -> String {
        format!("---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: p, namespace: {namespace}}}\nspec:\n  maxUnavailable: 1\n  selector: {selector}\n")
    }

    #[test]
    fn a_single_replica_without_budget_is_reported_at_replicas() {
        let found = run(WEB);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].message, "Deployment runs a single replica and no PodDisruptionBudget selects its pods");
        assert_eq!((found[0].location.path.as_str(), found[0].location.line), ("/spec/replicas", 8));
        assert_eq!(found[0].object.to_string(), "Deployment/shop/web");
    }

    #[test]
    fn a_matching_budget_in_the_same_namespace_covers_it() {
        assert!(run(&format!("{WEB}{}", pdb("shop", "{matchLabels: {app: web}}"))).is_empty());
        assert_eq!(run(&format!("{WEB}{}", pdb("other", "{matchLabels: {app: web}}"))).len(), 1);
        assert_eq!(run(&format!("{WEB}{}", pdb("shop", "{matchLabels: {app: api}}"))).len(), 1);
        assert!(run(&format!("{WEB}{}", pdb("shop", "{}"))).is_empty());
        let beta = pdb("shop", "{}").replace("policy/v1", "policy/v1beta1");
        assert_eq!(run(&format!("{WEB}{beta}")).len(), 1);
    }

    #[test]
    fn scaled_workloads_are_not_retained_and_retained_ones_are_pruned() {
        assert!(run(&WEB.replace("replicas: 1", "replicas: 3")).is_empty());
        assert_eq!(run(&WEB.replace("  replicas: 1\n", "")).len(), 1);
        let object = palisade_load::load_str(WEB, "apps.yaml").objects.remove(0);
        let kept = SingleReplicaWithoutPdb.retain(&object).unwrap();
        assert!(kept.root.pointer("/metadata/annotations").is_none());
        assert!(kept.root.pointer("/spec/template/spec").is_none());
        assert_eq!(kept.root.pointer("/spec/template/metadata/labels/app").and_then(Node::as_str), Some("web"));
        assert_documented(&META);
    }
}
