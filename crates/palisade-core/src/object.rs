//! Kubernetes objects as loaded from any source, with where they came from.

use std::sync::{Arc, OnceLock};

use crate::value::{Mark, Node};

/// Where an object was read: the file as the user named it (or `-` for stdin, or a cluster
/// URL), the 0-based document index in a multi-document stream, the item index inside a `List`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: Arc<str>,
    pub document: u32,
    pub item: Option<u32>,
}

#[derive(Clone, Debug)]
pub struct Object {
    pub root: Node,
    pub origin: Origin,
    /// Mapping keys written twice in the source. kubectl keeps the last value, and so does
    /// `root`; the first one is still what a reviewer reads.
    pub duplicate_keys: Box<[DuplicateKey]>,
    /// Built on first use and shared by every finding on this object, so a object with many
    /// findings holds its identity once.
    reference: OnceLock<Arc<ObjectRef>>,
    /// Which pod-creating kind this is, if any (see `pod.rs`); decided on first use.
    template_location: OnceLock<Option<usize>>,
    /// `root` as JSON, built on first use: policy engines (Gatekeeper, Kyverno,
    /// ValidatingAdmissionPolicies) read JSON, and many of their rules see the same object.
    json: OnceLock<serde_json::Value>,
}

/// A key that appears twice in one mapping: where the mapping's key is (`pointer`) and the lines
/// of the overridden and of the winning occurrence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateKey {
    pub pointer: Box<str>,
    pub first: Mark,
    pub second: Mark,
}

/// What a finding names: the object's identity, without its content.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{}/{}/{}", self.kind, namespace, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

impl Object {
    pub fn new(root: Node, origin: Origin) -> Self {
        Self {
            root,
            origin,
            duplicate_keys: Box::default(),
            reference: OnceLock::new(),
            template_location: OnceLock::new(),
            json: OnceLock::new(),
        }
    }

    pub fn api_version(&self) -> &str {
        self.root.get("apiVersion").and_then(Node::as_str).unwrap_or("")
    }

    pub fn kind(&self) -> &str {
        self.root.get("kind").and_then(Node::as_str).unwrap_or("")
    }

    /// The API group: the part of `apiVersion` before `/`, empty for the core group.
    pub fn group(&self) -> &str {
        api_group(self.api_version())
    }

    pub fn metadata(&self) -> Option<&Node> {
        self.root.get("metadata")
    }

    pub fn name(&self) -> &str {
        self.metadata()
            .and_then(|meta| meta.get("name").or_else(|| meta.get("generateName")))
            .and_then(Node::as_str)
            .unwrap_or("")
    }

    /// The namespace written in the object, if any; never one for a cluster-scoped kind, whose
    /// namespace the API server drops. Where the object will land when it has none depends on
    /// how it is applied; callers decide (see `effective_namespace`).
    pub fn namespace(&self) -> Option<&str> {
        if self.is_cluster_scoped() {
            return None;
        }
        self.metadata()
            .and_then(|meta| meta.get("namespace"))
            .and_then(Node::as_str)
            .filter(|namespace| !namespace.is_empty())
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.metadata()?.get("labels")?.get(key)?.as_str()
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata()?.get("annotations")?.get(key)?.as_str()
    }

    /// Whether this object is `kind` in one of `groups` (`""` is the core group).
    /// Whether the API server serves the kind cluster-scoped (see [`is_cluster_scoped`]).
    pub fn is_cluster_scoped(&self) -> bool {
        is_cluster_scoped(self.group(), self.kind())
    }

    pub fn is(&self, groups: &[&str], kind: &str) -> bool {
        self.kind() == kind && groups.contains(&self.group())
    }

    pub fn reference(&self) -> Arc<ObjectRef> {
        self.reference
            .get_or_init(|| {
                Arc::new(ObjectRef {
                    api_version: self.api_version().to_owned(),
                    kind: self.kind().to_owned(),
                    namespace: self.namespace().map(str::to_owned),
                    name: self.name().to_owned(),
                })
            })
            .clone()
    }

    /// The object as JSON, converted once however many rules ask.
    pub fn json(&self) -> &serde_json::Value {
        self.json.get_or_init(|| self.root.to_json())
    }

    pub(crate) fn template_location(&self) -> Option<usize> {
        *self.template_location.get_or_init(|| crate::pod::template_location_index(self))
    }

    /// The position of a field named by a JSON pointer (see [`Node::locate`]).
    pub fn locate(&self, pointer: &str) -> Mark {
        self.root.locate(pointer)
    }

    /// `file:line` of the object (just the file when its line is not known), for text reports.
    pub fn file_line(&self) -> String {
        let mark = self.locate("");
        if mark.is_known() { format!("{}:{}", self.origin.file, mark.line) } else { self.origin.file.to_string() }
    }

    /// `{"file": ..., "line": ...}` of the object, for JSON reports.
    pub fn source_json(&self) -> serde_json::Value {
        serde_json::json!({"file": &*self.origin.file, "line": self.locate("").line})
    }
}

/// Something in the input the API server would reject, found by an analysis that goes on
/// without it; reported at the field `pointer` names.
#[derive(Clone, Debug)]
pub struct Problem<'a> {
    pub object: &'a Object,
    pub pointer: String,
    pub message: String,
}

/// Built-in kinds the API server serves cluster-scoped (as the discovery data the `kyverno` CLI
/// ships lists them, and Kyverno's own ClusterPolicy); every other kind, custom ones included,
/// counts as namespaced.
pub fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        ("", "Namespace" | "Node" | "PersistentVolume" | "ComponentStatus")
            | ("rbac.authorization.k8s.io", "ClusterRole" | "ClusterRoleBinding")
            | ("storage.k8s.io", "StorageClass" | "CSIDriver" | "CSINode" | "VolumeAttachment" | "VolumeAttributesClass")
            | ("apiextensions.k8s.io", "CustomResourceDefinition")
            | ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration" | "ValidatingAdmissionPolicy" | "ValidatingAdmissionPolicyBinding" | "MutatingAdmissionPolicy" | "MutatingAdmissionPolicyBinding")
            | ("scheduling.k8s.io", "PriorityClass")
            | ("node.k8s.io", "RuntimeClass")
            | ("networking.k8s.io", "IngressClass" | "IPAddress" | "ServiceCIDR")
            | ("policy", "PodSecurityPolicy")
            | ("certificates.k8s.io", "CertificateSigningRequest" | "ClusterTrustBundle")
            | ("apiregistration.k8s.io", "APIService")
            | ("flowcontrol.apiserver.k8s.io", "FlowSchema" | "PriorityLevelConfiguration")
            | ("resource.k8s.io", "DeviceClass" | "ResourceSlice")
            | ("authentication.k8s.io", "TokenReview" | "SelfSubjectReview")
            | ("authorization.k8s.io", "SubjectAccessReview" | "SelfSubjectAccessReview" | "SelfSubjectRulesReview")
            | ("kyverno.io", "ClusterPolicy" | "ClusterCleanupPolicy")
    )
}

pub fn api_group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Map, Value};

    fn text(value: &str) -> Node {
        Node::new(Value::Str(value.into()), Mark::new(1, 1))
    }

    #[test]
    fn a_cluster_scoped_kind_is_in_no_namespace_whatever_it_says() {
        let of = |api_version: &str, kind: &str| {
            let json = serde_json::json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "namespace": "default"}});
            Object::new(Node::from_json(&json), Origin { file: "f".into(), document: 0, item: None })
        };
        assert_eq!(of("rbac.authorization.k8s.io/v1", "ClusterRole").namespace(), None);
        assert_eq!(of("v1", "Namespace").reference().namespace, None);
        assert_eq!(of("rbac.authorization.k8s.io/v1", "Role").namespace(), Some("default"));
        // A custom kind counts as namespaced, as the API server's discovery would say of most.
        assert_eq!(of("example.com/v1", "ClusterRole").namespace(), Some("default"));
    }

    fn deployment() -> Object {
        let mut meta = Map::new();
        meta.insert("name".into(), Mark::default(), text("web"));
        meta.insert("namespace".into(), Mark::default(), text("shop"));
        let mut root = Map::new();
        root.insert("apiVersion".into(), Mark::default(), text("apps/v1"));
        root.insert("kind".into(), Mark::default(), text("Deployment"));
        root.insert("metadata".into(), Mark::default(), Node::new(Value::Map(meta), Mark::default()));
        Object::new(
            Node::new(Value::Map(root), Mark::new(1, 1)),
            Origin { file: "app.yaml".into(), document: 0, item: None },
        )
    }

    #[test]
    fn identity_fields_are_read_from_the_tree() {
        let object = deployment();
        assert_eq!(object.group(), "apps");
        assert!(object.is(&["apps"], "Deployment"));
        assert!(!object.is(&[""], "Deployment"));
        assert_eq!(object.reference().to_string(), "Deployment/shop/web");
        assert_eq!(api_group("v1"), "");
        assert_eq!(api_group("networking.k8s.io/v1"), "networking.k8s.io");
    }
}
