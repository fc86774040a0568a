//! Workload hardening beyond the Pod Security Standards: images, resources, probes, rollout
//! settings, service account tokens, duplicates. Every pod rule applies to every pod-creating
//! kind through [`PodView`]. Rules that take parameters keep them as fields, filled from
//! [`WorkloadOptions`] (the `.palisade.yaml` parameters, or an OperationPolicy).

mod automount_service_account_token;
mod container_runtime_socket;
mod default_namespace;
mod default_service_account;
mod duplicate_container_names;
mod duplicate_env_vars;
mod host_network_dns_policy;
mod image_not_pinned_by_digest;
mod image_pull_policy;
mod image_registry_not_allowed;
mod image_tag_latest;
mod liveness_probe_missing;
mod priority_class;
mod probes;
mod read_only_root_filesystem;
mod readiness_probe_missing;
mod resource_limits_missing;
mod resource_requests_missing;
mod resources;
mod revision_history_limit;
mod single_replica_without_pdb;

#[cfg(test)]
pub(crate) mod testing;

use palisade_core::{InventoryRule, Node, Object, PodView, Rule};

pub use automount_service_account_token::AutomountServiceAccountToken;
pub use container_runtime_socket::ContainerRuntimeSocket;
pub use default_namespace::DefaultNamespace;
pub use default_service_account::DefaultServiceAccount;
pub use duplicate_container_names::DuplicateContainerNames;
pub use duplicate_env_vars::DuplicateEnvVars;
pub use host_network_dns_policy::HostNetworkDnsPolicy;
pub use image_not_pinned_by_digest::ImageNotPinnedByDigest;
pub use image_pull_policy::ImagePullPolicy;
pub use image_registry_not_allowed::ImageRegistryNotAllowed;
pub use image_tag_latest::ImageTagDisallowed;
pub use priority_class::PriorityClass;
pub use probes::{Probe, ProbeMissing};
pub use read_only_root_filesystem::ReadOnlyRootFilesystem;
pub use resources::{ResourceField, ResourcesMissing};
pub use revision_history_limit::RevisionHistoryLimit;
pub use single_replica_without_pdb::SingleReplicaWithoutPdb;

/// The parameters of the workload rules; defaults are what the rules check when nothing is
/// configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadOptions {
    /// Image tags `workload/image-tag-latest` refuses (a missing tag counts as `latest`).
    pub disallowed_tags: Vec<String>,
    /// Registries (or registry paths) images must come from; empty allows every registry.
    pub allowed_registries: Vec<String>,
    /// Resources every container must request.
    pub required_requests: Vec<String>,
    /// Resources every container must limit.
    pub required_limits: Vec<String>,
    /// Largest `revisionHistoryLimit` accepted (Kubernetes defaults it to 10).
    pub max_revision_history: i64,
    /// Priority classes pods may use; empty accepts any class that is set.
    pub allowed_priority_classes: Vec<String>,
    /// The `imagePullPolicy` every container must end up with.
    pub image_pull_policy: String,
}

impl Default for WorkloadOptions {
    fn default() -> Self {
        let strings = |items: &[&str]| items.iter().map(|item| (*item).to_owned()).collect();
        Self {
            disallowed_tags: strings(&["latest"]),
            allowed_registries: Vec::new(),
            required_requests: strings(&["cpu", "memory"]),
            required_limits: strings(&["cpu", "memory"]),
            max_revision_history: revision_history_limit::KUBERNETES_DEFAULT,
            allowed_priority_classes: Vec::new(),
            image_pull_policy: "Always".to_owned(),
        }
    }
}

/// Every single-object workload rule, parameterised by `options`.
pub fn rules(options: &WorkloadOptions) -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(ImageTagDisallowed { tags: options.disallowed_tags.clone() }),
        Box::new(ImageNotPinnedByDigest),
        Box::new(ImageRegistryNotAllowed { allowed: options.allowed_registries.clone() }),
        Box::new(ImagePullPolicy { required: options.image_pull_policy.clone() }),
        Box::new(ResourcesMissing::requests(options.required_requests.clone())),
        Box::new(ResourcesMissing::limits(options.required_limits.clone())),
        Box::new(ProbeMissing::new(Probe::Liveness)),
        Box::new(ProbeMissing::new(Probe::Readiness)),
        Box::new(RevisionHistoryLimit { max: options.max_revision_history }),
        Box::new(PriorityClass { allowed: options.allowed_priority_classes.clone() }),
        Box::new(HostNetworkDnsPolicy),
        Box::new(DuplicateContainerNames),
        Box::new(DuplicateEnvVars),
        Box::new(ReadOnlyRootFilesystem),
        Box::new(AutomountServiceAccountToken),
        Box::new(DefaultServiceAccount),
        Box::new(ContainerRuntimeSocket),
        Box::new(DefaultNamespace),
    ]
}

/// The workload analyses that need several objects.
pub fn inventory_rules() -> Vec<Box<dyn InventoryRule>> {
    vec![Box::new(SingleReplicaWithoutPdb)]
}

/// Jobs and CronJobs run to completion: they are never "ready", so probes and rollout
/// settings do not apply to them.
pub(crate) fn runs_to_completion(object: &Object) -> bool {
    object.is(&["batch"], "Job") || object.is(&["batch"], "CronJob")
}

/// A string field of a container or pod spec; null and non-strings read as unset.
pub(crate) fn text<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    node.get(key).and_then(Node::as_str)
}

/// Each container that names an image, with the image reference.
pub(crate) fn images<'a>(
    pod: &PodView<'a>,
) -> impl Iterator<Item = (palisade_core::ContainerView<'a>, &'a str)> + 'a {
    pod.containers().filter_map(|container| Some((container, text(container.node, "image")?)))
}
