//! `cluster/namespace-without-pss-labels`: a live Namespace with no Pod Security Admission
//! `enforce` label.

use palisade_core::{Candidate, Control, Finding, Framework, InventoryRule, Object, RuleMeta, Severity, project};

pub static META: RuleMeta = RuleMeta {
    id: "cluster/namespace-without-pss-labels",
    title: "Namespace without Pod Security enforce label",
    severity: Severity::Medium,
    doc: r#"## What it does
In a live cluster scan, flags Namespaces that carry no `pod-security.kubernetes.io/enforce`
label. Only `palisade scan --cluster` runs it: Namespaces in manifests are often labelled by the
platform at creation, so their labels in a repository say little.

## Why is this bad?
Without the label, Pod Security Admission applies the cluster's default level, which is
`privileged` unless the API server's admission configuration says otherwise: any pod, including
privileged and host-namespace pods, is admitted into the namespace.

## How to fix
Label the namespace with the level it must meet (`restricted` where possible, `baseline`
otherwise), and pin the version if upgrades must not tighten it unannounced.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    pod-security.kubernetes.io/enforce: restricted   # missing: flagged
    pod-security.kubernetes.io/enforce-version: latest
```
"#,
    remediation: "Label the namespace with pod-security.kubernetes.io/enforce (restricted or baseline).",
    controls: &[Control::new(Framework::Cis, "5.2.1"), Control::new(Framework::Nsa, "pod-security/admission")],
};

const LABEL: &str = "pod-security.kubernetes.io/enforce";

pub struct NamespaceWithoutPssLabels;

impl InventoryRule for NamespaceWithoutPssLabels {
    fn metas(&self) -> Vec<&'static RuleMeta> {
        vec![&META]
    }

    fn retain(&self, object: &Object) -> Option<Object> {
        object
            .is(&[""], "Namespace")
            .then(|| project(object, &[&["apiVersion"], &["kind"], &["metadata", "name"], &["metadata", "labels"]]))
    }

    fn check(&self, retained: &[Object], out: &mut Vec<Candidate>) {
        for namespace in retained.iter().filter(|namespace| namespace.label(LABEL).is_none()) {
            let message = format!("Namespace {} has no {LABEL} label: Pod Security Admission enforces the cluster default", namespace.name());
            let finding = Finding::new(&META, namespace, "/metadata/labels".into(), message);
            out.push(Candidate { finding, gate: None });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::testing::run;
    use crate::workload::testing::assert_documented;

    #[test]
    fn namespaces_without_the_enforce_label_are_reported() {
        let found = run(
            &NamespaceWithoutPssLabels,
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: open, labels: {pod-security.kubernetes.io/warn: restricted}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {pod-security.kubernetes.io/enforce: restricted}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].object.to_string(), "Namespace/open");
        assert_eq!(found[0].location.path, "/metadata/labels");
        assert_documented(&META);
    }
}
