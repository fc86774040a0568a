//! `cluster/pod-without-controller`: a running Pod that no controller manages.

use palisade_core::{Candidate, Control, Finding, Framework, InventoryRule, Object, RuleMeta, Severity, project};

use super::controller_of;

pub static META: RuleMeta = RuleMeta {
    id: "cluster/pod-without-controller",
    title: "Pod not managed by a controller",
    severity: Severity::Low,
    doc: r#"## What it does
In a live cluster scan, flags Pods without an owner reference marked `controller: true` (a
ReplicaSet, StatefulSet, DaemonSet, Job, or the Node of a static pod). Only
`palisade scan --cluster` runs it: a Pod in a manifest is a request, not a running pod.

## Why is this bad?
A bare pod is not rescheduled when its node fails or is drained, is not rolled when its
template should change, and is often the trace of a `kubectl run` debugging session or of an
attacker's foothold (MITRE ATT&CK T1610, deploy container) rather than of the delivery pipeline.

## How to fix
Run the workload through a Deployment, StatefulSet, DaemonSet or Job; delete pods left over
from debugging.

## Example
```yaml
apiVersion: v1
kind: Pod
metadata:
  name: debug          # no ownerReferences: flagged
spec:
  containers: [{name: shell, image: busybox}]
```
"#,
    remediation: "Run the pod through a Deployment, StatefulSet, DaemonSet or Job, or delete it.",
    controls: &[Control::new(Framework::Mitre, "T1610")],
};

pub struct PodWithoutController;

impl InventoryRule for PodWithoutController {
    fn metas(&self) -> Vec<&'static RuleMeta> {
        vec![&META]
    }

    fn retain(&self, object: &Object) -> Option<Object> {
        (object.is(&[""], "Pod") && controller_of(object).is_none()).then(|| {
            project(object, &[&["apiVersion"], &["kind"], &["metadata", "name"], &["metadata", "namespace"]])
        })
    }

    fn check(&self, retained: &[Object], out: &mut Vec<Candidate>) {
        for pod in retained {
            let message = format!("Pod {} has no controlling owner: nothing recreates it when it dies", pod.name());
            out.push(Candidate { finding: Finding::new(&META, pod, "/metadata".into(), message), gate: None });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::testing::run;
    use crate::workload::testing::assert_documented;

    #[test]
    fn only_pods_without_a_controlling_owner_are_reported() {
        let found = run(
            &PodWithoutController,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: bare, namespace: a}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: owned\n  namespace: a\n  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: r, uid: u1, controller: true}]\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: referenced\n  namespace: a\n  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: c, uid: u2}]\n",
        );
        let names: Vec<String> = found.iter().map(|f| f.object.to_string()).collect();
        assert_eq!(names, ["Pod/a/bare", "Pod/a/referenced"]);
        assert_documented(&META);
    }
}
