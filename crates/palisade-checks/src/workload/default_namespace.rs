//! `workload/default-namespace`: objects should not be placed in the `default` namespace.

use palisade_core::{Control, Framework, FindingSink, Object, Rule, RuleMeta, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "workload/default-namespace",
    title: "Object in the default namespace",
    severity: Severity::Low,
    doc: r#"## What it does
Flags objects whose `metadata.namespace` is `default`. Objects without a namespace land
wherever they are applied and are not judged, nor are cluster-scoped kinds (the API server
drops a namespace written on them). Kubernetes' own objects there are exempt: the `kubernetes`
Service and its endpoints, which the API server maintains, and what it creates in every
namespace, the `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap.

## Why is this bad?
`default` is where everything without a home ends up: RBAC, NetworkPolicies, quotas and Pod
Security labels are rarely tailored to it, and one team's workload shares it with everyone's
experiments.

## How to fix
Create a namespace per application or team and move the object there.

## Example
```yaml
metadata:
  name: web
  namespace: default   # flagged
```
"#,
    remediation: "Move the object to a dedicated namespace.",
    controls: &[
        Control::new(Framework::Cis, "5.6.4"),
        Control::new(Framework::Nsa, "network-separation/namespaces"),
    ],
};

pub struct DefaultNamespace;

impl Rule for DefaultNamespace {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        if object.namespace() != Some("default") {
            return;
        }
        let kubernetes_owned = match (object.group(), object.kind(), object.name()) {
            ("" | "discovery.k8s.io", "Service" | "Endpoints" | "EndpointSlice", "kubernetes") => true,
            ("", "ServiceAccount", "default") | ("", "ConfigMap", "kube-root-ca.crt") => true,
            _ => false,
        };
        if !kubernetes_owned {
            sink.report("/metadata/namespace".into(), format!("{} is in the default namespace", object.kind()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, findings, object};

    #[test]
    fn only_objects_written_into_default_are_flagged() {
        let of = |kind: &str, name: &str, ns: &str| {
            object(&format!(r#"{{"apiVersion": "v1", "kind": "{kind}", "metadata": {{"name": "{name}"{ns}}}}}"#))
        };
        assert_eq!(
            findings(&DefaultNamespace, &of("ConfigMap", "c", r#", "namespace": "default""#)),
            [("/metadata/namespace".into(), "ConfigMap is in the default namespace".into())]
        );
        assert!(findings(&DefaultNamespace, &of("ConfigMap", "c", "")).is_empty());
        assert!(findings(&DefaultNamespace, &of("ConfigMap", "c", r#", "namespace": "shop""#)).is_empty());
        assert!(findings(&DefaultNamespace, &of("Service", "kubernetes", r#", "namespace": "default""#)).is_empty());
        assert!(findings(&DefaultNamespace, &of("ServiceAccount", "default", r#", "namespace": "default""#)).is_empty());
        assert!(findings(&DefaultNamespace, &of("ConfigMap", "kube-root-ca.crt", r#", "namespace": "default""#)).is_empty());
        assert_eq!(findings(&DefaultNamespace, &of("ServiceAccount", "builder", r#", "namespace": "default""#)).len(), 1);
        // The API server drops the namespace of a cluster-scoped object.
        assert!(findings(&DefaultNamespace, &of("Namespace", "default", r#", "namespace": "default""#)).is_empty());
        let role = r#"{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r", "namespace": "default"}}"#;
        assert!(findings(&DefaultNamespace, &object(role)).is_empty());
        assert_documented(&META);
    }
}
