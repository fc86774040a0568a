//! Kind → resource (plural) and scope for the built-in Kubernetes API, which a manifest does not
//! carry but resource rules match on. Kinds outside the table (custom resources) get kubectl's
//! guess (`UnsafeGuessKindToResource`: lower case, then `s`, `es` after an `s`, `ies` for a
//! final `y`), and their scope is read from the object (namespaced when it has a namespace).

/// What the table knows of a built-in kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuiltIn {
    pub group: &'static str,
    pub kind: &'static str,
    pub resource: &'static str,
    pub namespaced: bool,
}

const fn namespaced(group: &'static str, kind: &'static str, resource: &'static str) -> BuiltIn {
    BuiltIn { group, kind, resource, namespaced: true }
}

const fn cluster(group: &'static str, kind: &'static str, resource: &'static str) -> BuiltIn {
    BuiltIn { group, kind, resource, namespaced: false }
}

/// The kinds served by a current kube-apiserver (`kubectl api-resources`), by group.
const BUILT_INS: &[BuiltIn] = &[
    namespaced("", "Binding", "bindings"),
    cluster("", "ComponentStatus", "componentstatuses"),
    namespaced("", "ConfigMap", "configmaps"),
    namespaced("", "Endpoints", "endpoints"),
    namespaced("", "Event", "events"),
    namespaced("", "LimitRange", "limitranges"),
    cluster("", "Namespace", "namespaces"),
    cluster("", "Node", "nodes"),
    namespaced("", "PersistentVolumeClaim", "persistentvolumeclaims"),
    cluster("", "PersistentVolume", "persistentvolumes"),
    namespaced("", "Pod", "pods"),
    namespaced("", "PodTemplate", "podtemplates"),
    namespaced("", "ReplicationController", "replicationcontrollers"),
    namespaced("", "ResourceQuota", "resourcequotas"),
    namespaced("", "Secret", "secrets"),
    namespaced("", "ServiceAccount", "serviceaccounts"),
    namespaced("", "Service", "services"),
    cluster("admissionregistration.k8s.io", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations"),
    cluster("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations"),
    cluster("admissionregistration.k8s.io", "ValidatingAdmissionPolicy", "validatingadmissionpolicies"),
    cluster("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings"),
    cluster("admissionregistration.k8s.io", "MutatingAdmissionPolicy", "mutatingadmissionpolicies"),
    cluster("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding", "mutatingadmissionpolicybindings"),
    cluster("apiextensions.k8s.io", "CustomResourceDefinition", "customresourcedefinitions"),
    cluster("apiregistration.k8s.io", "APIService", "apiservices"),
    namespaced("apps", "ControllerRevision", "controllerrevisions"),
    namespaced("apps", "DaemonSet", "daemonsets"),
    namespaced("apps", "Deployment", "deployments"),
    namespaced("apps", "ReplicaSet", "replicasets"),
    namespaced("apps", "StatefulSet", "statefulsets"),
    namespaced("authentication.k8s.io", "TokenReview", "tokenreviews"),
    cluster("authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews"),
    namespaced("authorization.k8s.io", "LocalSubjectAccessReview", "localsubjectaccessreviews"),
    cluster("authorization.k8s.io", "SelfSubjectAccessReview", "selfsubjectaccessreviews"),
    cluster("authorization.k8s.io", "SelfSubjectRulesReview", "selfsubjectrulesreviews"),
    cluster("authorization.k8s.io", "SubjectAccessReview", "subjectaccessreviews"),
    namespaced("autoscaling", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
    namespaced("batch", "CronJob", "cronjobs"),
    namespaced("batch", "Job", "jobs"),
    cluster("certificates.k8s.io", "CertificateSigningRequest", "certificatesigningrequests"),
    cluster("certificates.k8s.io", "ClusterTrustBundle", "clustertrustbundles"),
    namespaced("coordination.k8s.io", "Lease", "leases"),
    namespaced("discovery.k8s.io", "EndpointSlice", "endpointslices"),
    namespaced("events.k8s.io", "Event", "events"),
    cluster("flowcontrol.apiserver.k8s.io", "FlowSchema", "flowschemas"),
    cluster("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration", "prioritylevelconfigurations"),
    cluster("networking.k8s.io", "IngressClass", "ingressclasses"),
    namespaced("networking.k8s.io", "Ingress", "ingresses"),
    cluster("networking.k8s.io", "IPAddress", "ipaddresses"),
    namespaced("networking.k8s.io", "NetworkPolicy", "networkpolicies"),
    cluster("networking.k8s.io", "ServiceCIDR", "servicecidrs"),
    cluster("node.k8s.io", "RuntimeClass", "runtimeclasses"),
    namespaced("policy", "PodDisruptionBudget", "poddisruptionbudgets"),
    cluster("rbac.authorization.k8s.io", "ClusterRoleBinding", "clusterrolebindings"),
    cluster("rbac.authorization.k8s.io", "ClusterRole", "clusterroles"),
    namespaced("rbac.authorization.k8s.io", "RoleBinding", "rolebindings"),
    namespaced("rbac.authorization.k8s.io", "Role", "roles"),
    cluster("resource.k8s.io", "DeviceClass", "deviceclasses"),
    namespaced("resource.k8s.io", "ResourceClaim", "resourceclaims"),
    namespaced("resource.k8s.io", "ResourceClaimTemplate", "resourceclaimtemplates"),
    cluster("resource.k8s.io", "ResourceSlice", "resourceslices"),
    cluster("scheduling.k8s.io", "PriorityClass", "priorityclasses"),
    cluster("storage.k8s.io", "CSIDriver", "csidrivers"),
    cluster("storage.k8s.io", "CSINode", "csinodes"),
    namespaced("storage.k8s.io", "CSIStorageCapacity", "csistoragecapacities"),
    cluster("storage.k8s.io", "StorageClass", "storageclasses"),
    cluster("storage.k8s.io", "VolumeAttachment", "volumeattachments"),
    cluster("storage.k8s.io", "VolumeAttributesClass", "volumeattributesclasses"),
];

/// The built-in kind of an API group, if there is one.
pub fn built_in(group: &str, kind: &str) -> Option<&'static BuiltIn> {
    BUILT_INS.iter().find(|entry| entry.group == group && entry.kind == kind)
}

/// Whether an API group is one of the built-in ones (its resources are all in the table).
pub fn built_in_group(group: &str) -> bool {
    BUILT_INS.iter().any(|entry| entry.group == group)
}

/// kubectl's guess of a kind's resource name (`meta.UnsafeGuessKindToResource`).
pub fn guess_resource(kind: &str) -> String {
    let singular = kind.to_lowercase();
    if let Some(stem) = singular.strip_suffix('y') {
        format!("{stem}ies")
    } else if singular.ends_with('s') {
        format!("{singular}es")
    } else if singular.is_empty() {
        singular
    } else {
        format!("{singular}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_kinds_have_their_served_plural_and_scope() {
        let ingress = built_in("networking.k8s.io", "Ingress").unwrap();
        assert_eq!((ingress.resource, ingress.namespaced), ("ingresses", true));
        assert!(!built_in("", "Namespace").unwrap().namespaced);
        assert!(built_in("apps", "Pod").is_none(), "the group is part of the key");
    }

    #[test]
    fn custom_kinds_get_kubectls_guess() {
        assert_eq!(guess_resource("Widget"), "widgets");
        assert_eq!(guess_resource("Policy"), "policies");
        assert_eq!(guess_resource("Ingress"), "ingresses");
        assert_eq!(guess_resource(""), "");
    }
}
