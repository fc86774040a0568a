//! `rbac/create-workloads`: who can create pods or pod controllers (CIS 5.1.4).

use palisade_core::{Control, Framework, RuleMeta, Severity};

use super::Permission;

pub(super) static META: RuleMeta = RuleMeta {
    id: "rbac/create-workloads",
    title: "Binding grants creation of pods or workloads",
    severity: Severity::High,
    doc: r#"## What it does
Flags every subject of a binding whose role allows `create` on pods or on any controller that
creates pods: Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs and
ReplicationControllers.

## Why is this bad?
Whoever creates a pod chooses its ServiceAccount: any ServiceAccount of the namespace, with
its token mounted. Creating a pod therefore grants every permission of every ServiceAccount
in that namespace, and every Secret and ConfigMap it can mount. Unless admission control
forbids it, the pod can also be privileged or mount the host.

## How to fix
Leave workload creation to the deployment pipeline's identity; give people and applications
read access, and enforce Pod Security admission in namespaces where creation is needed.

## Example
```yaml
rules:
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["create"]
```
"#,
    remediation: "Remove create on pods and workload controllers from this role, or confine it to a CI identity in a namespace with Pod Security enforcement.",
    controls: &[
        Control::new(Framework::Cis, "5.1.4"),
        Control::new(Framework::Nsa, "authentication-authorization/least-privilege"),
        Control::new(Framework::Mitre, "T1610"),
    ],
};

pub(super) const PERMISSIONS: &[Permission] = &[
    ("create", "", "pods"),
    ("create", "", "replicationcontrollers"),
    ("create", "apps", "deployments"),
    ("create", "apps", "replicasets"),
    ("create", "apps", "statefulsets"),
    ("create", "apps", "daemonsets"),
    ("create", "batch", "jobs"),
    ("create", "batch", "cronjobs"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::testing::{bind, cluster_role, run, sa};
    use serde_json::json;

    #[test]
    fn creating_a_controller_is_reported_with_its_group() {
        let items = [
            cluster_role("deployer", json!([{"apiGroups": ["apps", "batch"], "resources": ["deployments", "jobs"], "verbs": ["create", "get"]}])),
            bind(None, "deploy", "deployer", sa("ci", "runner")),
        ];
        let found = run(&META, &items);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("ServiceAccount ci/runner can create deployments.apps, create jobs.batch cluster-wide"), "{found:?}");
    }

    #[test]
    fn updating_pods_alone_is_not_creation() {
        let items = [
            cluster_role("patcher", json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["update", "patch"]}])),
            bind(None, "p", "patcher", sa("ci", "runner")),
        ];
        assert!(run(&META, &items).is_empty());
    }
}
