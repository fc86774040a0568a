//! A scan's use of the crate: a YAML stream with a policy, its binding, Namespaces and Pods,
//! read by palisade-load, each object presented as its CREATE with its Namespace object.
//!
//! The policy and binding are example-deny-privileged.static.k8s.io from the Kubernetes
//! documentation (kubernetes/website, content/en/examples/access/manifest-admission-control/
//! deny-privileged-policy.yaml, https://kubernetes.io/docs/reference/access-authn-authz/), ©
//! The Kubernetes Authors, CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/), unchanged
//! but for the comment; the Namespaces and Pods are ours.

use std::collections::BTreeMap;

use palisade_vap::{PolicySet, Request, Verdict};
use serde_json::Value;

const MANIFESTS: &str = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: "example-deny-privileged.static.k8s.io"
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["pods"]
  validations:
  - expression: >-
      !object.spec.containers.exists(c,
      has(c.securityContext) && has(c.securityContext.privileged) &&
      c.securityContext.privileged == true)
    message: "Privileged containers are not allowed"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: "example-deny-privileged-binding.static.k8s.io"
spec:
  policyName: "example-deny-privileged.static.k8s.io"
  validationActions:
  - Deny
  matchResources:
    namespaceSelector:
      matchExpressions:
      - key: "kubernetes.io/metadata.name"
        operator: NotIn
        values: ["kube-system"]
---
apiVersion: v1
kind: Namespace
metadata:
  name: kube-system
  labels: {kubernetes.io/metadata.name: kube-system}
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {kubernetes.io/metadata.name: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: privileged, namespace: shop}
spec:
  containers:
  - {name: app, image: app:1, securityContext: {privileged: true}}
---
apiVersion: v1
kind: Pod
metadata: {name: plain, namespace: shop}
spec:
  containers:
  - {name: app, image: app:1, securityContext: {privileged: false}}
  - {name: sidecar, image: proxy:1}
---
apiVersion: v1
kind: Pod
metadata: {name: system, namespace: kube-system}
spec:
  containers:
  - {name: app, image: app:1, securityContext: {privileged: true}}
---
apiVersion: v1
kind: Pod
metadata: {name: nowhere, namespace: unknown}
spec:
  containers:
  - {name: app, image: app:1, securityContext: {privileged: true}}
"#;

/// Pod name → (denial message, whether something was not evaluated).
fn scan() -> BTreeMap<String, (Option<String>, bool)> {
    let loaded = palisade_load::load_str(MANIFESTS, "manifests.yaml");
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let objects: Vec<Value> = loaded.objects.iter().map(|object| object.root.to_json()).collect();
    let namespaces: BTreeMap<&str, &Value> = objects
        .iter()
        .filter(|object| object["kind"] == "Namespace")
        .map(|namespace| (namespace["metadata"]["name"].as_str().unwrap_or_default(), namespace))
        .collect();
    let (policies, warnings) = PolicySet::from_objects(objects.clone());
    assert!(warnings.is_empty(), "{warnings:?}");
    objects
        .iter()
        .filter(|object| object["kind"] == "Pod")
        .map(|pod| {
            let namespace = pod["metadata"]["namespace"].as_str().and_then(|name| namespaces.get(name).copied());
            let verdict = Verdict::of(&policies.evaluate(&Request::create(pod, namespace)));
            let name = pod["metadata"]["name"].as_str().unwrap_or_default().to_owned();
            (name, (verdict.denial.map(|denial| denial.message), !verdict.not_evaluated.is_empty()))
        })
        .collect()
}

#[test]
fn privileged_pods_are_denied_outside_kube_system() {
    let results = scan();
    assert_eq!(
        results["privileged"],
        (
            Some("ValidatingAdmissionPolicy 'example-deny-privileged.static.k8s.io' with binding 'example-deny-privileged-binding.static.k8s.io' denied request: Privileged containers are not allowed".to_owned()),
            false
        )
    );
    assert_eq!(results["plain"], (None, false));
    assert_eq!(results["system"], (None, false), "kube-system is excluded by the binding");
    assert_eq!(results["nowhere"], (None, true), "a namespace the scan has not seen: its labels are unknown");
}
