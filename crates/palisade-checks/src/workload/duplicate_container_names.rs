//! `workload/duplicate-container-names`: container names must be unique across init, regular
//! and ephemeral containers.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use palisade_core::{FindingSink, Object, PodView, Rule, RuleMeta, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "workload/duplicate-container-names",
    title: "Duplicate container names",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags every container whose name an earlier container of the same pod (init, regular or
ephemeral) already uses (OperationPolicy `checkContainerDuplicates`).

## Why is this bad?
The API server rejects such pods, but often only when a controller creates them: the
Deployment is accepted and its ReplicaSet silently fails to create pods. Tools that merge
manifests (kustomize patches, Helm values) also pick one of the twins unpredictably.

## How to fix
Give every container a unique name.

## Example
```yaml
initContainers:
- name: app     # first use
containers:
- name: app     # flagged
```
"#,
    remediation: "Rename the container so that every container name in the pod is unique.",
    controls: &[],
};

pub struct DuplicateContainerNames;

impl Rule for DuplicateContainerNames {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let Some(pod) = PodView::of(object) else { return };
        // Keyed by name: one pass, however many containers an admission request carries.
        let mut first_use = HashMap::new();
        for container in pod.containers() {
            let name = container.name();
            match first_use.entry(name) {
                Entry::Vacant(vacant) => {
                    vacant.insert(container);
                }
                Entry::Occupied(first) => sink.report(
                    container.field(&["name"]),
                    format!("container name {name:?} is already used at {}", first.get().pointer()),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, findings, pod};

    #[test]
    fn names_repeated_across_container_kinds_are_flagged_once_each() {
        let spec = r#"{"initContainers": [{"name": "app"}],
            "containers": [{"name": "app"}, {"name": "web"}, {"name": "app"}],
            "ephemeralContainers": [{"name": "web"}]}"#;
        assert_eq!(
            findings(&DuplicateContainerNames, &pod(spec)),
            [
                ("/spec/containers/0/name".into(), r#"container name "app" is already used at /spec/initContainers/0"#.into()),
                ("/spec/containers/2/name".into(), r#"container name "app" is already used at /spec/initContainers/0"#.into()),
                ("/spec/ephemeralContainers/0/name".into(), r#"container name "web" is already used at /spec/containers/1"#.into()),
            ]
        );
        assert!(findings(&DuplicateContainerNames, &pod(r#"{"containers": [{"name": "a"}, {"name": "b"}]}"#)).is_empty());
        assert_documented(&META);
    }
}
