//! The live-cluster source: lists, through the Kubernetes API, every kind the rules read and
//! turns each item into a [`palisade_core::Object`] for the scan engine.
//!
//! - **Configuration** follows kube-rs: `--kubeconfig FILE`, else `KUBECONFIG` or
//!   `~/.kube/config`, else the in-cluster service account; `--context` picks a kubeconfig
//!   context.
//! - **Lists** use the dynamic API (raw list requests, JSON straight into `Node::from_json`), so
//!   no typed resource is compiled in. Each list is paginated with `limit`/`continue`, at most
//!   [`ListOptions::concurrency`] lists are in flight, and each list (all of its pages) has a
//!   deadline.
//! - **Coverage**: a list that is forbidden (403), missing (404), too slow or otherwise failing
//!   is recorded as [`NotEvaluated`] with its reason. It is never treated as "nothing found":
//!   the caller reports it and decides the exit code.
//! - **Origins**: an object read from the cluster has `file = "cluster://CONTEXT/RESOURCE"`
//!   (`cluster://prod/deployments.apps`), `document` = its index in that list, and no source
//!   positions (findings show line and column 0).
//! - **What is not kept**: `metadata.managedFields` and the
//!   `kubectl.kubernetes.io/last-applied-configuration` annotation (a full copy of the object) are
//!   dropped. Secrets are never listed: no rule reads a Secret object, so the scanner needs no
//!   permission on them.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::Request;
use kube::core::params::{ListParams, Patch, PatchParams};
use palisade_core::{Node, Object, ObjectRef, Origin};
use serde_json::Value;
use tokio::sync::Semaphore;

/// One kind the scanner lists: built in ([`RESOURCES`]) or found by discovery (Gatekeeper's
/// constraint kinds, the param kinds of ValidatingAdmissionPolicies).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// API group, empty for the core group.
    pub group: Cow<'static, str>,
    pub version: Cow<'static, str>,
    /// The URL name (`deployments`).
    pub plural: Cow<'static, str>,
    pub kind: Cow<'static, str>,
    pub namespaced: bool,
    /// A kind of an add-on that may not be installed (a CRD): a server that does not serve it
    /// (404) has none, which is not a gap in the scan.
    pub optional: bool,
}

impl Resource {
    const fn new(group: &'static str, version: &'static str, plural: &'static str, kind: &'static str, namespaced: bool) -> Self {
        Self {
            group: Cow::Borrowed(group),
            version: Cow::Borrowed(version),
            plural: Cow::Borrowed(plural),
            kind: Cow::Borrowed(kind),
            namespaced,
            optional: false,
        }
    }

    const fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.to_string() } else { format!("{}/{}", self.group, self.version) }
    }

    /// `plural.group` as kubectl and RBAC name it (`deployments.apps`, `pods`).
    pub fn name(&self) -> String {
        if self.group.is_empty() { self.plural.to_string() } else { format!("{}.{}", self.plural, self.group) }
    }

    /// The collection URL, in one namespace or across all of them.
    pub fn path(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(namespace) => format!("{base}/namespaces/{namespace}/{}", self.plural),
            None => format!("{base}/{}", self.plural),
        }
    }
}

/// Every kind a built-in rule reads: workloads and pods (pod security, workload rules, the
/// cluster-only ownership and drift rules), Services and Ingresses, NetworkPolicies and Cilium's
/// policies (where Cilium is installed), RBAC,
/// Namespaces (their Pod Security labels gate findings), ServiceAccounts, ConfigMaps (plaintext
/// credentials), PodDisruptionBudgets and admission webhooks.
pub const RESOURCES: &[Resource] = &[
    Resource::new("", "v1", "namespaces", "Namespace", false),
    Resource::new("", "v1", "pods", "Pod", true),
    Resource::new("", "v1", "podtemplates", "PodTemplate", true),
    Resource::new("", "v1", "replicationcontrollers", "ReplicationController", true),
    Resource::new("", "v1", "services", "Service", true),
    Resource::new("", "v1", "serviceaccounts", "ServiceAccount", true),
    Resource::new("", "v1", "configmaps", "ConfigMap", true),
    Resource::new("apps", "v1", "deployments", "Deployment", true),
    Resource::new("apps", "v1", "replicasets", "ReplicaSet", true),
    Resource::new("apps", "v1", "statefulsets", "StatefulSet", true),
    Resource::new("apps", "v1", "daemonsets", "DaemonSet", true),
    Resource::new("batch", "v1", "jobs", "Job", true),
    Resource::new("batch", "v1", "cronjobs", "CronJob", true),
    Resource::new("networking.k8s.io", "v1", "ingresses", "Ingress", true),
    Resource::new("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true),
    Resource::new("cilium.io", "v2", "ciliumnetworkpolicies", "CiliumNetworkPolicy", true).optional(),
    Resource::new("cilium.io", "v2", "ciliumclusterwidenetworkpolicies", "CiliumClusterwideNetworkPolicy", false).optional(),
    // The backends of services without a selector, which Cilium's `toServices` rules allow.
    Resource::new("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true).optional(),
    Resource::new("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true),
    Resource::new("rbac.authorization.k8s.io", "v1", "roles", "Role", true),
    Resource::new("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true),
    Resource::new("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false),
    Resource::new("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false),
    Resource::new("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", false),
    Resource::new("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false),
];

/// The policy kinds a cluster scan reads to judge the cluster with the policies installed in it:
/// Gatekeeper's templates (its constraints' kinds are found by discovery) and ExpansionTemplates,
/// Deckhouse's Falco rules for audit detection; a cluster without the CRD has none.
pub const FALCO_AUDIT_RULES: Resource = Resource::new("deckhouse.io", "v1alpha1", "falcoauditrules", "FalcoAuditRules", false).optional();

/// Kyverno's policies and exceptions, and ValidatingAdmissionPolicies with their bindings (their
/// param kinds are found by discovery too). A kind the server does not serve (404) is simply not installed.
pub const POLICY_RESOURCES: &[Resource] = &[
    Resource::new("templates.gatekeeper.sh", "v1", "constrainttemplates", "ConstraintTemplate", false),
    Resource::new("expansion.gatekeeper.sh", "v1beta1", "expansiontemplates", "ExpansionTemplate", false),
    Resource::new("kyverno.io", "v1", "clusterpolicies", "ClusterPolicy", false),
    Resource::new("kyverno.io", "v1", "policies", "Policy", true),
    Resource::new("kyverno.io", "v2", "policyexceptions", "PolicyException", true),
    Resource::new("admissionregistration.k8s.io", "v1", "validatingadmissionpolicies", "ValidatingAdmissionPolicy", false),
    Resource::new("admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings", "ValidatingAdmissionPolicyBinding", false),
];

/// Where Gatekeeper serves one kind per ConstraintTemplate.
const CONSTRAINTS: &str = "constraints.gatekeeper.sh/v1beta1";

/// The PolicyReport kinds `--apply-reports` writes.
const REPORTS: Resource = Resource::new("wgpolicyk8s.io", "v1alpha2", "policyreports", "PolicyReport", true);
const CLUSTER_REPORTS: Resource =
    Resource::new("wgpolicyk8s.io", "v1alpha2", "clusterpolicyreports", "ClusterPolicyReport", false);

/// How to reach the cluster.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// A kubeconfig file; `None` follows `KUBECONFIG`, `~/.kube/config`, then in-cluster.
    pub kubeconfig: Option<PathBuf>,
    /// A kubeconfig context; `None` is the current context.
    pub context: Option<String>,
}

/// How to list.
#[derive(Clone, Debug)]
pub struct ListOptions {
    /// Namespaces to read namespaced kinds from; empty reads all. Cluster-scoped kinds are read
    /// either way (namespaced RoleBindings refer to ClusterRoles), and Namespace objects are
    /// narrowed to these names.
    pub namespaces: Vec<String>,
    /// Items per page (`limit`).
    pub page_size: u32,
    /// Lists in flight at once.
    pub concurrency: usize,
    /// Deadline for one list, all of its pages together.
    pub list_timeout: Duration,
}

impl Default for ListOptions {
    fn default() -> Self {
        // 500 is kubectl's page size; 4 lists in flight keep the API server's priority and
        // fairness budget for one client modest.
        Self { namespaces: Vec::new(), page_size: 500, concurrency: 4, list_timeout: Duration::from_secs(60) }
    }
}

/// A list the scan could not read: its objects were not evaluated, which is not a pass.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NotEvaluated {
    /// `plural.group` (`deployments.apps`).
    pub resource: String,
    /// The namespace listed, `None` for a cluster-wide list.
    pub namespace: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for NotEvaluated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "not evaluated: {} in namespace {namespace}: {}", self.resource, self.reason),
            None => write!(f, "not evaluated: {}: {}", self.resource, self.reason),
        }
    }
}

/// What a listing read.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub objects: Vec<Object>,
    /// Sorted by resource, namespace.
    pub not_evaluated: Vec<NotEvaluated>,
    /// Lists that completed, and pages read in all.
    pub lists: usize,
    pub pages: usize,
}

/// Told about each list as it ends, e.g. to draw a progress bar. Lists end in any order.
pub trait Progress: Sync {
    fn start(&self, lists: usize);
    fn finished(&self, list: &str, objects: usize);
}

/// Reports nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _lists: usize) {}
    fn finished(&self, _list: &str, _objects: usize) {}
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot load the kubeconfig: {0} (pass --kubeconfig FILE, set KUBECONFIG, or run inside a cluster)")]
    Config(String),
    #[error("cannot create the Kubernetes client: {0}")]
    Client(String),
    #[error("cannot start the I/O runtime: {0}")]
    Runtime(String),
}

/// A connection to one cluster. Its methods block: the scan is synchronous, the listing inside
/// is concurrent on a private runtime.
pub struct Cluster {
    runtime: tokio::runtime::Runtime,
    client: kube::Client,
    context: String,
}

/// Pages one list may have: 10,000 pages of 500 is five million objects. A server that keeps
/// returning `continue` tokens beyond that is broken, not large.
const MAX_PAGES: usize = 10_000;

impl Cluster {
    pub fn connect(options: &ConnectOptions) -> Result<Self, ClusterError> {
        // kube-rs builds its rustls configuration from the process-wide provider; installing
        // ring first keeps the choice explicit even if another crate compiles in a second one.
        // An error only means a provider is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| ClusterError::Runtime(error.to_string()))?;
        let (config, context) = runtime.block_on(load_config(options))?;
        let client = {
            // The client spawns its connection tasks on the current runtime.
            let _guard = runtime.enter();
            kube::Client::try_from(config).map_err(|error| ClusterError::Client(error.to_string()))?
        };
        Ok(Self { runtime, client, context })
    }

    /// The kubeconfig context in use, or `in-cluster`.
    pub fn context(&self) -> &str {
        &self.context
    }

    /// Lists every kind in [`RESOURCES`].
    pub fn snapshot(&self, options: &ListOptions, progress: &dyn Progress) -> Snapshot {
        self.runtime.block_on(self.list_all(RESOURCES, options, progress, Absent::Fails))
    }

    /// Lists `resources` (a subset of [`RESOURCES`] or others of the same shape).
    pub fn snapshot_of(&self, resources: &[Resource], options: &ListOptions, progress: &dyn Progress) -> Snapshot {
        self.runtime.block_on(self.list_all(resources, options, progress, Absent::Fails))
    }

    /// The cluster's FalcoAuditRules objects ([`FALCO_AUDIT_RULES`]) by name; an error names the
    /// list that could not be read.
    pub fn falco_audit_rules(&self, options: &ListOptions) -> Result<Vec<Object>, String> {
        let mut snapshot = self.snapshot_of(&[FALCO_AUDIT_RULES], options, &Quiet);
        if let Some(gap) = snapshot.not_evaluated.first() {
            return Err(gap.to_string());
        }
        snapshot.objects.sort_by(|a, b| a.root.path(&["metadata", "name"]).and_then(Node::as_str).cmp(&b.root.path(&["metadata", "name"]).and_then(Node::as_str)));
        Ok(snapshot.objects)
    }

    /// The policies installed in the cluster ([`POLICY_RESOURCES`]), every Gatekeeper
    /// constraint, and the param objects the ValidatingAdmissionPolicies name. Kinds the server
    /// does not serve are not installed; a list that fails otherwise is not evaluated.
    pub fn installed_policies(&self, options: &ListOptions) -> Snapshot {
        self.runtime.block_on(async {
            let mut resources = POLICY_RESOURCES.to_vec();
            let mut gaps = Vec::new();
            match self.discover(CONSTRAINTS).await {
                Ok(constraints) => resources.extend(constraints),
                Err(failure) => gaps.extend(failure.not_evaluated("constraints.gatekeeper.sh")),
            }
            let mut snapshot = self.list_all(&resources, options, &Quiet, Absent::IsEmpty).await;
            let param_kinds: BTreeSet<(String, String)> = snapshot
                .objects
                .iter()
                .filter(|object| object.kind() == "ValidatingAdmissionPolicy")
                .filter_map(|object| {
                    let kind = object.root.pointer("/spec/paramKind")?;
                    Some((kind.get("apiVersion")?.as_str()?.to_owned(), kind.get("kind")?.as_str()?.to_owned()))
                })
                .collect();
            let mut params = Vec::new();
            for (api_version, kind) in param_kinds {
                let label = format!("{kind} ({api_version}), the param kind of a ValidatingAdmissionPolicy");
                match self.discover(&api_version).await {
                    Ok(served) => match served.into_iter().find(|resource| resource.kind == kind) {
                        Some(resource) => params.push(resource),
                        None => gaps.push(NotEvaluated { resource: label, namespace: None, reason: "the server does not serve this kind".into() }),
                    },
                    Err(failure) => gaps.push(NotEvaluated { resource: label, namespace: None, reason: failure.reason }),
                }
            }
            if !params.is_empty() {
                let listed = self.list_all(&params, options, &Quiet, Absent::Fails).await;
                snapshot.objects.extend(listed.objects);
                snapshot.not_evaluated.extend(listed.not_evaluated);
                snapshot.lists += listed.lists;
                snapshot.pages += listed.pages;
            }
            snapshot.not_evaluated.extend(gaps);
            snapshot.not_evaluated.sort();
            snapshot
        })
    }

    /// The listable kinds the server serves in `group_version` (`v1`, `apps/v1`).
    async fn discover(&self, group_version: &str) -> Result<Vec<Resource>, ListFailure> {
        let listed = if group_version.contains('/') {
            self.client.list_api_group_resources(group_version).await
        } else {
            self.client.list_core_api_resources(group_version).await
        };
        let list = listed.map_err(|error| ListFailure::from(&error))?;
        let (group, version) = group_version.rsplit_once('/').unwrap_or(("", group_version));
        Ok(list
            .resources
            .into_iter()
            .filter(|resource| !resource.name.contains('/') && resource.verbs.iter().any(|verb| verb == "list"))
            .map(|resource| Resource {
                group: Cow::Owned(group.to_owned()),
                version: Cow::Owned(version.to_owned()),
                plural: Cow::Owned(resource.name),
                kind: Cow::Owned(resource.kind),
                namespaced: resource.namespaced,
                optional: false,
            })
            .collect())
    }

    /// Writes PolicyReports and ClusterPolicyReports by server-side apply (field manager
    /// `palisade`), so a rerun replaces the previous report instead of adding one. Returns one
    /// message per report that could not be written.
    pub fn apply_reports(&self, reports: &[Value]) -> Vec<String> {
        self.runtime.block_on(async {
            let mut errors = Vec::new();
            for report in reports {
                if let Err(error) = self.apply_report(report).await {
                    errors.push(error);
                }
            }
            errors
        })
    }

    async fn apply_report(&self, report: &Value) -> Result<(), String> {
        let name = report.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
        let namespace = report.pointer("/metadata/namespace").and_then(Value::as_str);
        let label = format!("{} {}", report["kind"].as_str().unwrap_or("report"), namespace.map_or(name.to_owned(), |ns| format!("{ns}/{name}")));
        let path = match (report["kind"].as_str(), namespace) {
            (Some("PolicyReport"), Some(namespace)) => REPORTS.path(Some(namespace)),
            (Some("ClusterPolicyReport"), None) => CLUSTER_REPORTS.path(None),
            _ => return Err(format!("{label}: not a PolicyReport with a namespace or a ClusterPolicyReport")),
        };
        let request = Request::new(path)
            .patch(name, &PatchParams::apply("palisade").force(), &Patch::Apply(report))
            .map_err(|error| format!("{label}: {error}"))?;
        self.client.request_text(request).await.map(drop).map_err(|error| format!("{label}: {}", describe(&error)))
    }

    async fn list_all(&self, resources: &[Resource], options: &ListOptions, progress: &dyn Progress, absent: Absent) -> Snapshot {
        let mut jobs: Vec<(Resource, Option<String>)> = Vec::new();
        for resource in resources {
            if resource.namespaced && !options.namespaces.is_empty() {
                jobs.extend(options.namespaces.iter().map(|namespace| (resource.clone(), Some(namespace.clone()))));
            } else {
                jobs.push((resource.clone(), None));
            }
        }
        progress.start(jobs.len());
        let permits = Arc::new(Semaphore::new(options.concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for (index, (resource, namespace)) in jobs.into_iter().enumerate() {
            let (client, permits, context) = (self.client.clone(), permits.clone(), self.context.clone());
            let (page_size, timeout) = (options.page_size.max(1), options.list_timeout);
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let listed = tokio::time::timeout(
                    timeout,
                    list_pages(&client, &context, &resource, namespace.as_deref(), page_size),
                )
                .await
                .unwrap_or_else(|_| Err(ListFailure { absent: false, reason: format!("timed out after {}s", timeout.as_secs_f64()) }));
                (index, resource, namespace, listed)
            });
        }
        let mut done = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            // A list task only panics through a bug; losing its list must still show.
            let Ok((index, resource, namespace, listed)) = joined else { continue };
            let label = match &namespace {
                Some(namespace) => format!("{} ({namespace})", resource.name()),
                None => resource.name(),
            };
            progress.finished(&label, listed.as_ref().map_or(0, |(objects, _)| objects.len()));
            done.push((index, resource, namespace, listed));
        }
        // Objects in job order, so the engine's input does not depend on which list ended first.
        done.sort_by_key(|(index, ..)| *index);
        let wanted: BTreeSet<&str> = options.namespaces.iter().map(String::as_str).collect();
        let mut snapshot = Snapshot::default();
        for (_, resource, namespace, listed) in done {
            match listed {
                Ok((objects, pages)) => {
                    snapshot.lists += 1;
                    snapshot.pages += pages;
                    snapshot.objects.extend(objects.into_iter().filter(|object| {
                        resource.kind != "Namespace" || wanted.is_empty() || wanted.contains(object.name())
                    }));
                }
                Err(failure) if failure.absent && (absent == Absent::IsEmpty || resource.optional) => {}
                Err(failure) => snapshot.not_evaluated.push(NotEvaluated { resource: resource.name(), namespace, reason: failure.reason }),
            }
        }
        snapshot.not_evaluated.sort();
        snapshot
    }
}

/// Objects a listed controller created (a ReplicaSet's pods, a Deployment's ReplicaSets, a
/// CronJob's Jobs): they repeat their controller's template, so a finding on them repeats the
/// controller's. Scans report such findings on the controller only. Objects whose controller
/// was not listed (an operator's custom resource) are not in the set.
pub fn derived(objects: &[Object]) -> HashSet<Arc<ObjectRef>> {
    let uid = |object: &Object| object.metadata()?.get("uid")?.as_str().map(str::to_owned);
    let listed: HashSet<String> = objects.iter().filter_map(uid).collect();
    objects
        .iter()
        .filter(|object| {
            let owners = object.metadata().and_then(|meta| meta.get("ownerReferences")).map(Node::as_seq).unwrap_or_default();
            owners.iter().any(|owner| {
                owner.get("controller").and_then(Node::as_bool) == Some(true)
                    && owner.get("uid").and_then(Node::as_str).is_some_and(|uid| listed.contains(uid))
            })
        })
        .map(Object::reference)
        .collect()
}

async fn load_config(options: &ConnectOptions) -> Result<(kube::Config, String), ClusterError> {
    let failed = |error: &dyn std::fmt::Display| ClusterError::Config(error.to_string());
    let kube_options = KubeConfigOptions { context: options.context.clone(), ..KubeConfigOptions::default() };
    let kubeconfig = match &options.kubeconfig {
        Some(path) => Some(Kubeconfig::read_from(path).map_err(|error| ClusterError::Config(format!("{}: {error}", path.display())))?),
        // Without an explicit file: the usual kubeconfig if there is one, else in-cluster.
        None => match Kubeconfig::read() {
            Ok(kubeconfig) => Some(kubeconfig),
            Err(_) if options.context.is_none() => None,
            Err(error) => return Err(failed(&error)),
        },
    };
    match kubeconfig {
        Some(kubeconfig) => {
            let context = options.context.clone().or_else(|| kubeconfig.current_context.clone()).unwrap_or_default();
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &kube_options).await.map_err(|e| failed(&e))?;
            Ok((config, context))
        }
        None => Ok((kube::Config::incluster().map_err(|e| failed(&e))?, "in-cluster".to_owned())),
    }
}

/// Reads every page of one list. Items of a list response carry no `apiVersion`/`kind`, so
/// they are set from the resource.
async fn list_pages(
    client: &kube::Client,
    context: &str,
    resource: &Resource,
    namespace: Option<&str>,
    page_size: u32,
) -> Result<(Vec<Object>, usize), ListFailure> {
    let file: Arc<str> = format!("cluster://{context}/{}", resource.name()).into();
    let (api_version, request) = (resource.api_version(), Request::new(resource.path(namespace)));
    let mut objects = Vec::new();
    let mut token: Option<String> = None;
    for page in 1..=MAX_PAGES {
        let params = ListParams { limit: Some(page_size), continue_token: token.take(), ..ListParams::default() };
        let http_request = request.list(&params).map_err(|error| ListFailure::failed(error.to_string()))?;
        let text = client.request_text(http_request).await.map_err(|error| ListFailure::from(&error))?;
        let mut list: Value =
            serde_json::from_str(&text).map_err(|error| ListFailure::failed(format!("the response is not JSON: {error}")))?;
        let Some(items) = list.get_mut("items").and_then(Value::as_array_mut) else {
            return Err(ListFailure::failed("the response is not a list (no `items`)".to_owned()));
        };
        for mut item in items.drain(..) {
            let Some(fields) = item.as_object_mut() else { continue };
            fields.insert("apiVersion".into(), Value::from(api_version.as_str()));
            fields.insert("kind".into(), Value::from(resource.kind.as_ref()));
            strip(&mut item);
            let document = u32::try_from(objects.len()).unwrap_or(u32::MAX);
            objects.push(Object::new(Node::from_json(&item), Origin { file: file.clone(), document, item: None }));
        }
        match list.pointer("/metadata/continue").and_then(Value::as_str).filter(|token| !token.is_empty()) {
            Some(next) => token = Some(next.to_owned()),
            None => return Ok((objects, page)),
        }
    }
    Err(ListFailure::failed(format!("more than {MAX_PAGES} pages; the server keeps returning continue tokens")))
}

/// What a list answering 404 means.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Absent {
    /// A kind every cluster serves: its absence is a failure.
    Fails,
    /// An optional kind (a policy engine's): not served means none installed.
    IsEmpty,
}

/// Why a list or a discovery request failed.
struct ListFailure {
    /// The server does not serve the kind (404).
    absent: bool,
    reason: String,
}

impl ListFailure {
    fn failed(reason: String) -> Self {
        Self { absent: false, reason }
    }

    /// Not evaluated for `resource`, unless the server simply does not serve it.
    fn not_evaluated(self, resource: &str) -> Option<NotEvaluated> {
        (!self.absent).then(|| NotEvaluated { resource: resource.to_owned(), namespace: None, reason: self.reason })
    }
}

impl From<&kube::Error> for ListFailure {
    fn from(error: &kube::Error) -> Self {
        Self { absent: matches!(error, kube::Error::Api(response) if response.code == 404), reason: describe(error) }
    }
}

/// Drops what no rule reads and what only costs memory.
fn strip(item: &mut Value) {
    let Some(metadata) = item.get_mut("metadata").and_then(Value::as_object_mut) else { return };
    metadata.remove("managedFields");
    if let Some(annotations) = metadata.get_mut("annotations").and_then(Value::as_object_mut) {
        annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
}

/// An API error as `403 Forbidden: <the server's message>`; others as kube-rs words them.
fn describe(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(response) => {
            let message = if response.message.is_empty() { &response.status } else { &response.message };
            format!("{} {}: {message}", response.code, response.reason)
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_paths_follow_the_api_conventions() {
        let pods = RESOURCES.iter().find(|r| r.plural == "pods").unwrap();
        assert_eq!(pods.path(None), "/api/v1/pods");
        assert_eq!(pods.path(Some("shop")), "/api/v1/namespaces/shop/pods");
        assert_eq!(pods.name(), "pods");
        assert_eq!(REPORTS.path(Some("shop")), "/apis/wgpolicyk8s.io/v1alpha2/namespaces/shop/policyreports");
        assert_eq!(CLUSTER_REPORTS.name(), "clusterpolicyreports.wgpolicyk8s.io");
        assert_eq!(CLUSTER_REPORTS.api_version(), "wgpolicyk8s.io/v1alpha2");
    }

    #[test]
    fn stripping_drops_managed_fields_and_the_last_applied_copy() {
        let mut item = serde_json::json!({"metadata": {"name": "a", "managedFields": [{}],
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "x"}}});
        strip(&mut item);
        assert_eq!(item, serde_json::json!({"metadata": {"name": "a", "annotations": {"team": "x"}}}));
    }

    #[test]
    fn objects_created_by_a_listed_controller_are_derived() {
        let object = |json: Value| Object::new(Node::from_json(&json), Origin { file: "c".into(), document: 0, item: None });
        let objects = [
            object(serde_json::json!({"kind": "ReplicaSet", "metadata": {"name": "rs", "uid": "r1"}})),
            object(serde_json::json!({"kind": "Pod", "metadata": {"name": "a", "ownerReferences": [{"uid": "r1", "controller": true}]}})),
            object(serde_json::json!({"kind": "Pod", "metadata": {"name": "b", "ownerReferences": [{"uid": "r1"}]}})),
            object(serde_json::json!({"kind": "Pod", "metadata": {"name": "c", "ownerReferences": [{"uid": "crd", "controller": true}]}})),
        ];
        let names: Vec<String> = derived(&objects).into_iter().map(|r| r.name.clone()).collect();
        assert_eq!(names, ["a"]);
    }

    #[test]
    fn not_evaluated_names_the_list_and_the_reason() {
        let forbidden = NotEvaluated { resource: "roles.rbac.authorization.k8s.io".into(), namespace: Some("a".into()), reason: "403 Forbidden: no".into() };
        assert_eq!(forbidden.to_string(), "not evaluated: roles.rbac.authorization.k8s.io in namespace a: 403 Forbidden: no");
    }
}
