//! OperationPolicy: the Deckhouse policy object (`deckhouse.io/v1alpha1`), accepted as
//! written, and the same object under our own group (`palisade.dev/v1alpha1`).
//!
//! Each setting of `spec.policies` runs the built-in workload rule that checks the same thing,
//! with the policy's parameters, and reports under a fixed rule id
//! `operationpolicy/<check>`; the message names the policy. `spec.match` narrows the objects:
//! `labelSelector` against the object's labels or its pod template's, and `namespaceSelector`
//! (`matchNames`, `excludeNames`, `labelSelector`) against the namespace. Namespace labels are
//! decided once the whole input is read, so a policy selecting namespaces by label applies only
//! where the Namespace object is part of the scan.

use std::sync::Arc;

use palisade_checks::workload::{
    DuplicateContainerNames, DuplicateEnvVars, HostNetworkDnsPolicy, ImagePullPolicy, ImageRegistryNotAllowed,
    ImageTagDisallowed, PriorityClass, Probe, ProbeMissing, ResourcesMissing, RevisionHistoryLimit,
};
use palisade_core::{
    FindingSink, Gate, InputError, LabelSelector, Map, NamespaceFacts, Node, Object, PodView, Rule, RuleMeta, Severity, labels_of,
};

use crate::fields::Reader;
use crate::glob;

pub const API_VERSIONS: [&str; 2] = ["deckhouse.io/v1alpha1", "palisade.dev/v1alpha1"];

macro_rules! policy_meta {
    ($id:literal, $key:literal, $title:literal, $severity:expr, $what:literal, $fix:literal, $example:literal) => {
        RuleMeta {
            id: concat!("operationpolicy/", $id),
            title: $title,
            severity: $severity,
            doc: concat!(
                "## What it does\nReports objects that an OperationPolicy's `spec.policies.", $key,
                "` refuses: ", $what,
                "\n\n## Why is this bad?\nThe OperationPolicy is your platform's operating contract; Deckhouse's admission",
                " controller rejects such objects, so they fail at deploy time instead of in review.",
                "\n\n## How to fix\n", $fix,
                "\n\n## Example\n```yaml\nspec:\n  policies:\n", $example, "```\n"
            ),
            remediation: $fix,
            controls: &[],
        }
    };
}

pub static ALLOWED_REPOS: RuleMeta = policy_meta!("allowed-repos", "allowedRepos", "Image outside the policy's allowed repositories", Severity::High,
    "images from registries or paths not listed (whole path components: `registry.example.com` does not admit `registry.example.com.evil.io`).",
    "Pull the image from one of the policy's allowed repositories.", "    allowedRepos: [registry.example.com]\n");
pub static REQUIRED_RESOURCES: RuleMeta = policy_meta!("required-resources", "requiredResources", "Container misses resources the policy requires", Severity::Medium,
    "containers without the listed `requests` and `limits`.",
    "Set the resource requests and limits the policy requires on every container.", "    requiredResources:\n      limits: [memory]\n      requests: [cpu, memory]\n");
pub static DISALLOWED_IMAGE_TAGS: RuleMeta = policy_meta!("disallowed-image-tags", "disallowedImageTags", "Image uses a tag the policy disallows", Severity::Medium,
    "images whose tag is listed (a missing tag is `latest`).",
    "Pin the image to a tag the policy allows, or a digest.", "    disallowedImageTags: [latest]\n");
pub static REQUIRED_PROBES: RuleMeta = policy_meta!("required-probes", "requiredProbes", "Container misses a probe the policy requires", Severity::Medium,
    "regular containers of long-running workloads without the listed probes.",
    "Add the probes the policy requires to every container.", "    requiredProbes: [livenessProbe, readinessProbe]\n");
pub static MAX_REVISION_HISTORY_LIMIT: RuleMeta = policy_meta!("max-revision-history-limit", "maxRevisionHistoryLimit", "revisionHistoryLimit above the policy's maximum", Severity::Low,
    "Deployments, StatefulSets and DaemonSets keeping more revisions (unset means 10).",
    "Set spec.revisionHistoryLimit at or below the policy's maximum.", "    maxRevisionHistoryLimit: 3\n");
pub static IMAGE_PULL_POLICY: RuleMeta = policy_meta!("image-pull-policy", "imagePullPolicy", "imagePullPolicy differs from the policy", Severity::Low,
    "containers whose effective pull policy (after the API server's default) differs.",
    "Set imagePullPolicy to the value the policy requires.", "    imagePullPolicy: Always\n");
pub static PRIORITY_CLASS_NAMES: RuleMeta = policy_meta!("priority-class-names", "priorityClassNames", "Priority class not allowed by the policy", Severity::Medium,
    "pods without `priorityClassName` or with one not listed.",
    "Set spec.priorityClassName to one of the policy's classes.", "    priorityClassNames: [production-high]\n");
pub static HOST_NETWORK_DNS_POLICY: RuleMeta = policy_meta!("host-network-dns-policy", "checkHostNetworkDNSPolicy", "hostNetwork pod without ClusterFirstWithHostNet", Severity::Medium,
    "pods with `hostNetwork: true` whose `dnsPolicy` is not `ClusterFirstWithHostNet`.",
    "Set dnsPolicy: ClusterFirstWithHostNet on pods that use hostNetwork.", "    checkHostNetworkDNSPolicy: true\n");
pub static CONTAINER_DUPLICATES: RuleMeta = policy_meta!("container-duplicates", "checkContainerDuplicates", "Duplicate container or env var names", Severity::Medium,
    "pods with two containers of one name, or containers defining an env var twice.",
    "Make container names and env var names unique.", "    checkContainerDuplicates: true\n");

/// The metadata of every OperationPolicy check.
pub fn metas() -> Vec<&'static RuleMeta> {
    vec![
        &ALLOWED_REPOS,
        &CONTAINER_DUPLICATES,
        &DISALLOWED_IMAGE_TAGS,
        &HOST_NETWORK_DNS_POLICY,
        &IMAGE_PULL_POLICY,
        &MAX_REVISION_HISTORY_LIMIT,
        &PRIORITY_CLASS_NAMES,
        &REQUIRED_PROBES,
        &REQUIRED_RESOURCES,
    ]
}

/// Which objects a policy applies to.
struct Scope {
    name: String,
    labels: Option<LabelSelector>,
    namespace_names: Vec<String>,
    excluded_namespaces: Vec<String>,
    /// Holds for namespaces whose labels (when known) match `namespaceSelector.labelSelector`.
    namespace_labels: Option<Gate>,
}

impl Scope {
    fn selects(&self, object: &Object) -> bool {
        let namespace = object.namespace().unwrap_or("");
        if !self.namespace_names.is_empty() && !self.namespace_names.iter().any(|name| glob::matches(name, namespace)) {
            return false;
        }
        if self.excluded_namespaces.iter().any(|name| glob::matches(name, namespace)) {
            return false;
        }
        self.labels.as_ref().is_none_or(|selector| {
            let template = PodView::of(object).and_then(|pod| pod.metadata).and_then(|meta| meta.get("labels"));
            selector.matches(&labels_of(object.metadata().and_then(|meta| meta.get("labels"))))
                || template.is_some_and(|labels| selector.matches(&labels_of(Some(labels))))
        })
    }
}

/// One parsed OperationPolicy.
pub struct OperationPolicy {
    pub name: String,
    scope: Arc<Scope>,
    checks: Vec<(&'static RuleMeta, Box<dyn Rule>)>,
}

impl OperationPolicy {
    /// The policy's checks as rules for the engine.
    pub fn into_rules(self) -> Vec<Box<dyn Rule>> {
        let scope = self.scope;
        self.checks
            .into_iter()
            .map(|(meta, inner)| Box::new(PolicyRule { meta, inner, scope: scope.clone() }) as Box<dyn Rule>)
            .collect()
    }

    pub fn rule_ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.checks.iter().map(|(meta, _)| meta.id)
    }
}

struct PolicyRule {
    meta: &'static RuleMeta,
    inner: Box<dyn Rule>,
    scope: Arc<Scope>,
}

impl Rule for PolicyRule {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        // The check runs first: it allocates nothing when it finds nothing, while matching the
        // policy's selectors would build label maps for every object.
        let mut found = Vec::new();
        self.inner.check(object, &mut FindingSink::new(self.meta, object, &mut found));
        if found.is_empty() || !self.scope.selects(object) {
            return;
        }
        for candidate in found {
            let finding = candidate.finding;
            let message = format!("{} (OperationPolicy {:?})", finding.message, self.scope.name);
            match &self.scope.namespace_labels {
                Some(gate) => sink.report_when(finding.location.path.to_string(), message, gate.clone()),
                None => sink.report(finding.location.path.to_string(), message),
            };
        }
    }
}

const POLICY_KEYS: [&str; 9] = [
    "allowedRepos",
    "requiredResources",
    "disallowedImageTags",
    "requiredProbes",
    "maxRevisionHistoryLimit",
    "imagePullPolicy",
    "priorityClassNames",
    "checkHostNetworkDNSPolicy",
    "checkContainerDuplicates",
];

pub(crate) fn parse(reader: &Reader, object: &Object, warnings: &mut Vec<String>) -> Result<OperationPolicy, InputError> {
    if object.kind() != "OperationPolicy" || !API_VERSIONS.contains(&object.api_version()) {
        return Err(reader.error(
            &object.root,
            format!("expected an OperationPolicy ({}), found {} {}", API_VERSIONS.join(" or "), object.api_version(), object.kind()),
        ));
    }
    let name = object.name().to_owned();
    let empty = Node::new(palisade_core::Value::Map(Map::new()), object.root.mark);
    let spec = object.root.get("spec").unwrap_or(&empty);
    let policies = reader.map(spec.get("policies").unwrap_or(&empty), "`spec.policies`")?;
    let mut checks: Vec<(&'static RuleMeta, Box<dyn Rule>)> = Vec::new();
    for entry in policies.entries() {
        let value = &entry.value;
        let what = format!("`spec.policies.{}`", entry.key);
        match &*entry.key {
            "allowedRepos" => checks.push((&ALLOWED_REPOS, Box::new(ImageRegistryNotAllowed { allowed: reader.strings(value, &what)? }))),
            "disallowedImageTags" => checks.push((&DISALLOWED_IMAGE_TAGS, Box::new(ImageTagDisallowed { tags: reader.strings(value, &what)? }))),
            "requiredResources" => {
                let resources = reader.map(value, &what)?;
                reader.known_keys(resources, &["limits", "requests"], &what)?;
                if let Some(limits) = resources.get("limits") {
                    checks.push((&REQUIRED_RESOURCES, Box::new(ResourcesMissing::limits(reader.strings(limits, &what)?))));
                }
                if let Some(requests) = resources.get("requests") {
                    checks.push((&REQUIRED_RESOURCES, Box::new(ResourcesMissing::requests(reader.strings(requests, &what)?))));
                }
            }
            "requiredProbes" => {
                for probe in value.as_seq() {
                    let field = reader.string(probe, &what)?;
                    let probe = Probe::from_field(&field).ok_or_else(|| {
                        reader.error(probe, format!("unknown probe `{field}` (expected livenessProbe or readinessProbe)"))
                    })?;
                    checks.push((&REQUIRED_PROBES, Box::new(ProbeMissing::new(probe))));
                }
            }
            "maxRevisionHistoryLimit" => checks.push((&MAX_REVISION_HISTORY_LIMIT, Box::new(RevisionHistoryLimit { max: reader.int(value, &what)? }))),
            "imagePullPolicy" => checks.push((&IMAGE_PULL_POLICY, Box::new(ImagePullPolicy { required: reader.string(value, &what)? }))),
            "priorityClassNames" => checks.push((&PRIORITY_CLASS_NAMES, Box::new(PriorityClass { allowed: reader.strings(value, &what)? }))),
            "checkHostNetworkDNSPolicy" => {
                if reader.bool(value, &what)? {
                    checks.push((&HOST_NETWORK_DNS_POLICY, Box::new(HostNetworkDnsPolicy)));
                }
            }
            "checkContainerDuplicates" => {
                if reader.bool(value, &what)? {
                    checks.push((&CONTAINER_DUPLICATES, Box::new(DuplicateContainerNames)));
                    checks.push((&CONTAINER_DUPLICATES, Box::new(DuplicateEnvVars)));
                }
            }
            other => warnings.push(format!(
                "{}:{}: OperationPolicy {name:?}: `{other}` is not evaluated by this version (supported: {})",
                reader.file,
                entry.key_mark.line,
                POLICY_KEYS.join(", ")
            )),
        }
    }
    let scope = parse_match(reader, spec.get("match"), name.clone())?;
    Ok(OperationPolicy { name, scope: Arc::new(scope), checks })
}

fn parse_match(reader: &Reader, node: Option<&Node>, name: String) -> Result<Scope, InputError> {
    let mut scope = Scope { name, labels: None, namespace_names: Vec::new(), excluded_namespaces: Vec::new(), namespace_labels: None };
    let Some(node) = node else { return Ok(scope) };
    let map = reader.map(node, "`spec.match`")?;
    reader.known_keys(map, &["namespaceSelector", "labelSelector"], "`spec.match`")?;
    let selector = |node: &Node| {
        LabelSelector::parse(node).map_err(|error| reader.error(node, format!("invalid label selector at {}: {}", error.pointer, error.message)))
    };
    if let Some(labels) = map.get("labelSelector") {
        scope.labels = Some(selector(labels)?);
    }
    if let Some(namespaces) = map.get("namespaceSelector") {
        let namespaces = reader.map(namespaces, "`spec.match.namespaceSelector`")?;
        reader.known_keys(namespaces, &["matchNames", "excludeNames", "labelSelector"], "`spec.match.namespaceSelector`")?;
        if let Some(names) = namespaces.get("matchNames") {
            scope.namespace_names = reader.strings(names, "`matchNames`")?;
        }
        if let Some(names) = namespaces.get("excludeNames") {
            scope.excluded_namespaces = reader.strings(names, "`excludeNames`")?;
        }
        if let Some(labels) = namespaces.get("labelSelector") {
            let selector = selector(labels)?;
            scope.namespace_labels = Some(Arc::new(move |facts: &NamespaceFacts<'_>| {
                facts.labels.is_some_and(|labels| selector.matches(labels))
            }));
        }
    }
    Ok(scope)
}

#[cfg(test)]
mod tests;
