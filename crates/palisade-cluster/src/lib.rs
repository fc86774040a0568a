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
use rayon::prelude::*;
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::Semaphore;
use tokio::sync::mpsc::Sender;

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

/// `palisade/<version> (<os>/<arch>)`, as kubectl writes `kubectl/v1.31.2 (linux/amd64)`.
pub fn user_agent() -> String {
    format!("palisade/{} ({}/{})", env!("CARGO_PKG_VERSION"), std::env::consts::OS, std::env::consts::ARCH)
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
        let (mut config, context) = runtime.block_on(load_config(options))?;
        // The API server's audit log names the client by its User-Agent, as kubectl's does.
        if let Ok(agent) = http::HeaderValue::from_str(&user_agent()) {
            config.headers.push((http::header::USER_AGENT, agent));
        }
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

    /// Lists every kind in [`RESOURCES`], handing each page's objects to `consume` as it
    /// arrives (on the calling thread, in arrival order), parsed on every core: nothing of a
    /// page outlives `consume` unless it keeps it.
    ///
    /// Controllers are listed before what they create (see [`phase`]), so that as each object
    /// arrives, [`Ownership`] already knows whether a listed controller created it.
    pub fn stream(&self, options: &ListOptions, progress: &dyn Progress, consume: &mut dyn FnMut(Vec<Object>)) -> Listed {
        let all = jobs(RESOURCES, options);
        progress.start(all.len());
        let mut listed = Listed::default();
        for step in 0..=2 {
            let jobs = all.iter().filter(|(resource, _)| phase(resource) == step).cloned().collect();
            let done = self.list_each(jobs, options, progress, Absent::Fails, &mut |_, objects| consume(objects));
            listed.not_evaluated.extend(done.not_evaluated);
            listed.lists += done.lists;
            listed.pages += done.pages;
            listed.objects += done.objects;
        }
        listed.not_evaluated.sort();
        listed
    }

    /// Lists every kind in [`RESOURCES`] and keeps every object.
    pub fn snapshot(&self, options: &ListOptions, progress: &dyn Progress) -> Snapshot {
        self.collect(RESOURCES, options, progress, Absent::Fails)
    }

    /// Lists `resources` (a subset of [`RESOURCES`] or others of the same shape).
    pub fn snapshot_of(&self, resources: &[Resource], options: &ListOptions, progress: &dyn Progress) -> Snapshot {
        self.collect(resources, options, progress, Absent::Fails)
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
        let mut resources = POLICY_RESOURCES.to_vec();
        let mut gaps = Vec::new();
        match self.runtime.block_on(self.discover(CONSTRAINTS)) {
            Ok(constraints) => resources.extend(constraints),
            Err(failure) => gaps.extend(failure.not_evaluated("constraints.gatekeeper.sh")),
        }
        let mut snapshot = self.collect(&resources, options, &Quiet, Absent::IsEmpty);
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
            match self.runtime.block_on(self.discover(&api_version)) {
                Ok(served) => match served.into_iter().find(|resource| resource.kind == kind) {
                    Some(resource) => params.push(resource),
                    None => gaps.push(NotEvaluated { resource: label, namespace: None, reason: "the server does not serve this kind".into() }),
                },
                Err(failure) => gaps.push(NotEvaluated { resource: label, namespace: None, reason: failure.reason }),
            }
        }
        if !params.is_empty() {
            let listed = self.collect(&params, options, &Quiet, Absent::Fails);
            snapshot.objects.extend(listed.objects);
            snapshot.not_evaluated.extend(listed.not_evaluated);
            snapshot.lists += listed.lists;
            snapshot.pages += listed.pages;
        }
        snapshot.not_evaluated.extend(gaps);
        snapshot.not_evaluated.sort();
        snapshot
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

    /// Lists `resources` and keeps every object, in the order of `resources` (so the engine's
    /// input does not depend on which list answered first).
    fn collect(&self, resources: &[Resource], options: &ListOptions, progress: &dyn Progress, absent: Absent) -> Snapshot {
        let mut pages: Vec<(usize, Vec<Object>)> = Vec::new();
        let jobs = jobs(resources, options);
        progress.start(jobs.len());
        let listed = self.list_each(jobs, options, progress, absent, &mut |job, objects| pages.push((job, objects)));
        // A list's pages arrive in order: a stable sort by list keeps them so.
        pages.sort_by_key(|(job, _)| *job);
        let objects = pages.into_iter().flat_map(|(_, objects)| objects).collect();
        Snapshot { objects, not_evaluated: listed.not_evaluated, lists: listed.lists, pages: listed.pages }
    }

    /// Lists `resources`, at most [`ListOptions::concurrency`] at once on the I/O thread, and
    /// hands each page's objects to `consume` (with the index of their list) on this thread,
    /// after parsing them on every core. At most [`PAGES_IN_FLIGHT`] pages wait for `consume`,
    /// so a slow consumer slows the listing instead of filling memory; that wait does not count
    /// against a list's deadline.
    fn list_each(&self, jobs: Vec<(Resource, Option<String>)>, options: &ListOptions, progress: &dyn Progress, absent: Absent, consume: &mut dyn FnMut(usize, Vec<Object>)) -> Listed {
        let wanted: BTreeSet<&str> = options.namespaces.iter().map(String::as_str).collect();
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Page>(PAGES_IN_FLIGHT);
        let mut listed = Listed::default();
        let done = std::thread::scope(|threads| {
            let lister = threads.spawn(move || self.runtime.block_on(self.list_jobs(jobs, options, progress, sender)));
            while let Some(page) = receiver.blocking_recv() {
                let (objects, unreadable) = page.objects(&wanted);
                listed.not_evaluated.extend(unreadable);
                listed.objects += objects.len();
                consume(page.items.job, objects);
            }
            lister.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        for (resource, namespace, outcome) in done {
            match outcome {
                Ok(read) => {
                    listed.lists += 1;
                    listed.pages += read.pages;
                }
                Err(failure) if failure.absent && (absent == Absent::IsEmpty || resource.optional) => {}
                Err(failure) => listed.not_evaluated.push(NotEvaluated { resource: resource.name(), namespace, reason: failure.reason }),
            }
        }
        listed.not_evaluated.sort();
        listed
    }

    /// Runs every list (on the I/O runtime), sending their pages to `pages`.
    async fn list_jobs(&self, jobs: Vec<(Resource, Option<String>)>, options: &ListOptions, progress: &dyn Progress, pages: Sender<Page>) -> Vec<(Resource, Option<String>, Result<ListRead, ListFailure>)> {
        let permits = Arc::new(Semaphore::new(options.concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for (job, (resource, namespace)) in jobs.into_iter().enumerate() {
            let mut lister = Lister {
                client: self.client.clone(),
                request: Request::new(resource.path(namespace.as_deref())),
                page_size: options.page_size.max(1),
                timeout: options.list_timeout,
                deadline: tokio::time::Instant::now(),
                pages: pages.clone(),
                items: Arc::new(Items {
                    job,
                    api_version: resource.api_version(),
                    kind: resource.kind.to_string(),
                    file: format!("cluster://{}/{}", self.context, resource.name()).into(),
                    resource: resource.name(),
                    namespace: namespace.clone(),
                }),
            };
            let permits = permits.clone();
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                lister.deadline = tokio::time::Instant::now() + lister.timeout;
                let read = lister.run().await;
                (job, resource, namespace, read)
            });
        }
        drop(pages);
        let mut done = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            // A list task only panics through a bug; losing its list must still show.
            let Ok((job, resource, namespace, read)) = joined else { continue };
            let label = match &namespace {
                Some(namespace) => format!("{} ({namespace})", resource.name()),
                None => resource.name(),
            };
            progress.finished(&label, read.as_ref().map_or(0, |read| read.objects));
            done.push((job, resource, namespace, read));
        }
        done.sort_by_key(|(job, ..)| *job);
        done.into_iter().map(|(_, resource, namespace, read)| (resource, namespace, read)).collect()
    }
}

/// Which objects a listed controller created (a ReplicaSet's pods, a Deployment's
/// ReplicaSets, a CronJob's Jobs): they repeat their controller's template, so a finding on them
/// repeats the controller's, and scans report such findings on the controller only. Objects
/// whose controller was not listed (an operator's custom resource) are not derived. Told about
/// objects as they are listed, and decided once every list is read, since a controller may be
/// listed after what it created; it keeps uids and references, not objects.
#[derive(Default)]
pub struct Ownership {
    listed: HashSet<String>,
    /// Objects with a controller, and the controller's uid.
    controlled: Vec<(Arc<ObjectRef>, String)>,
}

impl Ownership {
    pub fn observe(&mut self, object: &Object) {
        if let Some(uid) = object.metadata().and_then(|metadata| metadata.get("uid")).and_then(Node::as_str) {
            self.listed.insert(uid.to_owned());
        }
        if let Some(controller) = controller_uid(object) {
            self.controlled.push((object.reference(), controller.to_owned()));
        }
    }

    /// Whether `object`'s controller is among the objects observed so far.
    pub fn created_by_listed(&self, object: &Object) -> bool {
        controller_uid(object).is_some_and(|uid| self.listed.contains(uid))
    }

    /// The objects whose controller was listed.
    pub fn derived(self) -> HashSet<Arc<ObjectRef>> {
        let Ownership { listed, controlled } = self;
        controlled.into_iter().filter(|(_, controller)| listed.contains(controller)).map(|(object, _)| object).collect()
    }
}

/// The uid of the owner reference marked `controller: true`.
fn controller_uid(object: &Object) -> Option<&str> {
    let owners = object.metadata()?.get("ownerReferences")?.as_seq();
    let controller = owners.iter().find(|owner| owner.get("controller").and_then(Node::as_bool) == Some(true))?;
    controller.get("uid")?.as_str()
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

/// The lists to run: each resource, per namespace when namespaces are named and it has them.
fn jobs(resources: &[Resource], options: &ListOptions) -> Vec<(Resource, Option<String>)> {
    let mut jobs = Vec::new();
    for resource in resources {
        if resource.namespaced && !options.namespaces.is_empty() {
            jobs.extend(options.namespaces.iter().map(|namespace| (resource.clone(), Some(namespace.clone()))));
        } else {
            jobs.push((resource.clone(), None));
        }
    }
    jobs
}

/// When a kind is listed: controllers before what they create. Deployments, CronJobs,
/// StatefulSets, DaemonSets and ReplicationControllers (and every kind no controller creates)
/// first, then ReplicaSets and Jobs, then Pods.
fn phase(resource: &Resource) -> usize {
    match (resource.group.as_ref(), resource.kind.as_ref()) {
        ("", "Pod") => 2,
        ("apps", "ReplicaSet") | ("batch", "Job") => 1,
        _ => 0,
    }
}

/// Pages parsed or waiting to be, across all lists: enough to keep every core busy while the
/// next pages arrive.
const PAGES_IN_FLIGHT: usize = 2;

/// Attempts at one page before its list is given up (client-go retries up to 10 times).
const ATTEMPTS: u32 = 8;

/// The longest wait between two attempts, whatever the server's `Retry-After` asks.
const LONGEST_WAIT: Duration = Duration::from_secs(10);

/// Times one list may start over after its continue token expired (410).
const RELISTS: usize = 3;

/// What one list read.
#[derive(Default)]
struct ListRead {
    pages: usize,
    objects: usize,
}

/// What a listing read; the objects went to the consumer page by page.
#[derive(Debug, Default)]
pub struct Listed {
    /// Sorted by resource, namespace.
    pub not_evaluated: Vec<NotEvaluated>,
    /// Lists that completed, pages read in all, and objects handed on.
    pub lists: usize,
    pub pages: usize,
    pub objects: usize,
}

/// What every item of one list shares.
struct Items {
    /// The list's index in the listing.
    job: usize,
    api_version: String,
    kind: String,
    file: Arc<str>,
    /// For errors: `plural.group` and the namespace listed.
    resource: String,
    namespace: Option<String>,
}

/// One page's items as the server wrote them, parsed by the consumer.
struct Page {
    items: Arc<Items>,
    /// The list position of the first item: its objects' `document`.
    first: usize,
    raw: Vec<Box<RawValue>>,
}

impl Page {
    /// The page's objects, parsed on every core (items of a list response carry no
    /// `apiVersion`/`kind`: they are set from the resource), and the items that are not objects.
    fn objects(&self, wanted: &BTreeSet<&str>) -> (Vec<Object>, Vec<NotEvaluated>) {
        let items = &self.items;
        let parsed: Vec<Result<Option<Object>, NotEvaluated>> = self
            .raw
            .par_iter()
            .enumerate()
            .map(|(index, raw)| {
                let document = self.first + index;
                let mut item: Value = serde_json::from_str(raw.get()).map_err(|error| NotEvaluated {
                    resource: items.resource.clone(),
                    namespace: items.namespace.clone(),
                    reason: format!("item {document} cannot be read: {error}"),
                })?;
                let Some(fields) = item.as_object_mut() else { return Ok(None) };
                fields.insert("apiVersion".into(), Value::from(items.api_version.as_str()));
                fields.insert("kind".into(), Value::from(items.kind.as_str()));
                strip(&mut item);
                let origin = Origin { file: items.file.clone(), document: u32::try_from(document).unwrap_or(u32::MAX), item: None };
                let object = Object::new(Node::from_json(&item), origin);
                let unwanted = items.kind == "Namespace" && !wanted.is_empty() && !wanted.contains(object.name());
                Ok((!unwanted).then_some(object))
            })
            .collect();
        let mut objects = Vec::with_capacity(parsed.len());
        let mut unreadable = Vec::new();
        for item in parsed {
            match item {
                Ok(Some(object)) => objects.push(object),
                Ok(None) => {}
                Err(gap) => unreadable.push(gap),
            }
        }
        (objects, unreadable)
    }
}

/// One page of a list response: the items stay unparsed text for the consumer.
#[derive(serde::Deserialize)]
struct ListPage {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default)]
    items: Option<Vec<Box<RawValue>>>,
}

#[derive(serde::Deserialize, Default)]
struct ListMeta {
    #[serde(rename = "continue", default)]
    next: Option<String>,
    #[serde(rename = "remainingItemCount", default)]
    remaining: Option<u64>,
}

/// An item's name and namespace, all a relist needs of it.
#[derive(serde::Deserialize)]
struct ItemKey {
    #[serde(default)]
    metadata: KeyMeta,
}

#[derive(serde::Deserialize, Default)]
struct KeyMeta {
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    name: String,
}

/// Where the API server keeps an item, and so the order it lists items in (`namespace/name`).
fn storage_key(raw: &RawValue) -> String {
    let key = serde_json::from_str::<ItemKey>(raw.get()).map(|item| item.metadata).unwrap_or_default();
    if key.namespace.is_empty() { key.name } else { format!("{}/{}", key.namespace, key.name) }
}

/// What one request for a page gave.
enum Fetched {
    Page(bytes::Bytes),
    /// 410 Gone: the continue token expired.
    Expired(String),
}

/// Reads one list page by page, with retries, and sends the pages to the consumer.
struct Lister {
    client: kube::Client,
    request: Request,
    page_size: u32,
    timeout: Duration,
    /// When the list must be done; pushed back by the time spent waiting for the consumer.
    deadline: tokio::time::Instant,
    pages: Sender<Page>,
    items: Arc<Items>,
}

impl Lister {
    /// Reads every page. A continue token the server gave before, or more items than its first
    /// `remainingItemCount` announced (by more than a page, or a tenth of the list), fails the
    /// list: the server is not advancing. An expired token (410) starts the list over, skipping the items already read
    /// (the server lists in storage-key order, as the token itself resumes).
    async fn run(&mut self) -> Result<ListRead, ListFailure> {
        let mut read = ListRead::default();
        let mut token: Option<String> = None;
        let mut tokens = HashSet::new();
        let (mut position, mut announced, mut relists) = (0usize, None::<usize>, 0);
        let (mut last_key, mut resume_after): (Option<String>, Option<String>) = (None, None);
        loop {
            if read.pages >= MAX_PAGES {
                return Err(ListFailure::failed(format!("more than {MAX_PAGES} pages; the server keeps returning continue tokens")));
            }
            let body = match self.fetch(token.as_deref()).await? {
                Fetched::Page(body) => body,
                Fetched::Expired(_) if token.is_some() && relists < RELISTS => {
                    relists += 1;
                    resume_after = last_key.clone();
                    (token, position, announced) = (None, 0, None);
                    tokens.clear();
                    continue;
                }
                Fetched::Expired(reason) => return Err(ListFailure::failed(reason)),
            };
            read.pages += 1;
            let page: ListPage = serde_json::from_slice(&body).map_err(|error| ListFailure::failed(format!("the response is not JSON: {error}")))?;
            let Some(mut raw) = page.items.or_else(|| page.kind.ends_with("List").then(Vec::new)) else {
                return Err(ListFailure::failed("the response is not a list (no `items`)".to_owned()));
            };
            position += raw.len();
            // The first announcement counts: a server whose later pages keep announcing a few
            // more never ends. A list may grow while it is read, hence the slack.
            if announced.is_none() {
                announced = page.metadata.remaining.and_then(|remaining| usize::try_from(remaining).ok()).map(|remaining| position + remaining);
            }
            if let Some(announced) = announced.filter(|announced| position > announced + (self.page_size as usize).max(announced / 10)) {
                return Err(ListFailure::failed(format!("the server sent {position} items, more than the {announced} it announced (remainingItemCount): the list does not end")));
            }
            let next = page.metadata.next.filter(|next| !next.is_empty());
            if let Some(next) = &next
                && !tokens.insert(next.clone())
            {
                return Err(ListFailure::failed(format!("the server returned a continue token it had given before, after {} pages: the list does not advance", read.pages)));
            }
            if let Some(after) = &resume_after {
                raw.retain(|item| storage_key(item) > *after);
                if !raw.is_empty() {
                    resume_after = None;
                }
            }
            if let Some(last) = raw.last() {
                last_key = Some(storage_key(last));
                let page = Page { items: self.items.clone(), first: read.objects, raw };
                read.objects += page.raw.len();
                let waiting = tokio::time::Instant::now();
                self.pages.send(page).await.map_err(|_| ListFailure::failed("the scan stopped reading".to_owned()))?;
                self.deadline += waiting.elapsed();
            }
            match next {
                Some(next) => token = Some(next),
                None => return Ok(read),
            }
        }
    }

    /// One page, tried again after a 429 or a 5xx (waiting as `Retry-After` says, else backing
    /// off from 0.25 s, doubling) or a connection lost before the whole answer, up to
    /// [`ATTEMPTS`] times and within the list's deadline.
    async fn fetch(&self, token: Option<&str>) -> Result<Fetched, ListFailure> {
        let params = ListParams { limit: Some(self.page_size), continue_token: token.map(str::to_owned), ..ListParams::default() };
        let timed_out = || ListFailure::failed(format!("timed out after {}s", self.timeout.as_secs_f64()));
        for attempt in 1..=ATTEMPTS {
            let request = self.request.list(&params).map_err(|error| ListFailure::failed(error.to_string()))?;
            let answer = tokio::time::timeout_at(self.deadline, self.answer(request)).await.map_err(|_| timed_out())?;
            let (reason, wait) = match answer {
                Answer::Page(body) => return Ok(Fetched::Page(body)),
                Answer::Expired(reason) => return Ok(Fetched::Expired(reason)),
                Answer::Failed(failure) => return Err(failure),
                Answer::Retry(reason, wait) => (reason, wait),
            };
            if attempt == ATTEMPTS {
                return Err(ListFailure::failed(format!("{reason} (gave up after {ATTEMPTS} attempts)")));
            }
            let backoff = Duration::from_millis(250u64 << (attempt - 1).min(6));
            let wait = wait.unwrap_or(backoff).min(LONGEST_WAIT);
            if tokio::time::Instant::now() + wait >= self.deadline {
                return Err(ListFailure::failed(format!("{reason} (no time left to try again within {}s)", self.timeout.as_secs_f64())));
            }
            tokio::time::sleep(wait).await;
        }
        unreachable!("the last attempt returns")
    }

    /// Sends one request and reads the whole answer.
    async fn answer(&self, request: http::Request<Vec<u8>>) -> Answer {
        let response = match self.client.send(request.map(kube::client::Body::from)).await {
            Ok(response) => response,
            // The connection failed or closed before an answer: nothing was read.
            Err(error @ (kube::Error::HyperError(_) | kube::Error::Service(_))) => return Answer::Retry(describe(&error), None),
            Err(error) => return Answer::Failed(ListFailure::from(&error)),
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = match response.into_body().collect_bytes().await {
            Ok(body) => body,
            Err(error) => return Answer::Retry(format!("the answer was cut off ({error})"), None),
        };
        if status.is_success() {
            return Answer::Page(body);
        }
        let reason = status_reason(status.as_u16(), status.canonical_reason().unwrap_or(""), &body);
        match status.as_u16() {
            410 => Answer::Expired(reason),
            429 | 500 | 502 | 503 | 504 => Answer::Retry(reason, retry_after),
            404 => Answer::Failed(ListFailure { absent: true, reason }),
            _ => Answer::Failed(ListFailure::failed(reason)),
        }
    }
}

/// What one request gave.
enum Answer {
    Page(bytes::Bytes),
    Expired(String),
    /// Worth another attempt, after the server's `Retry-After` if it gave one.
    Retry(String, Option<Duration>),
    Failed(ListFailure),
}

/// An error answer as `403 Forbidden: <the server's message>`, from its `Status` body when it
/// has one.
fn status_reason(code: u16, canonical: &str, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Status {
        #[serde(default)]
        reason: String,
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<Status>(body) {
        Ok(status) if !status.message.is_empty() => {
            let reason = if status.reason.is_empty() { canonical } else { &status.reason };
            format!("{code} {reason}: {}", status.message)
        }
        _ => {
            let text = String::from_utf8_lossy(&body[..body.len().min(200)]).trim().to_owned();
            if text.is_empty() { format!("{code} {canonical}") } else { format!("{code} {canonical}: {text}") }
        }
    }
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
            object(serde_json::json!({"kind": "Pod", "metadata": {"name": "a", "ownerReferences": [{"uid": "r1", "controller": true}]}})),
            object(serde_json::json!({"kind": "Pod", "metadata": {"name": "b", "ownerReferences": [{"uid": "r1"}]}})),
            object(serde_json::json!({"kind": "Pod", "metadata": {"name": "c", "ownerReferences": [{"uid": "crd", "controller": true}]}})),
            // Listed after the pods it created.
            object(serde_json::json!({"kind": "ReplicaSet", "metadata": {"name": "rs", "uid": "r1"}})),
        ];
        let mut ownership = Ownership::default();
        objects.iter().for_each(|object| ownership.observe(object));
        assert!(ownership.created_by_listed(&objects[0]), "the ReplicaSet was observed");
        assert!(!ownership.created_by_listed(&objects[2]), "the controller was not listed");
        let names: Vec<String> = ownership.derived().into_iter().map(|r| r.name.clone()).collect();
        assert_eq!(names, ["a"]);
    }

    #[test]
    fn error_answers_are_named_from_their_status_or_their_text() {
        let status = br#"{"kind":"Status","status":"Failure","message":"pods is forbidden: User \"x\" cannot list","reason":"Forbidden","code":403}"#;
        assert_eq!(status_reason(403, "Forbidden", status), r#"403 Forbidden: pods is forbidden: User "x" cannot list"#);
        assert_eq!(status_reason(503, "Service Unavailable", b"upstream connect error"), "503 Service Unavailable: upstream connect error");
        assert_eq!(status_reason(502, "Bad Gateway", b""), "502 Bad Gateway");
    }

    #[test]
    fn storage_keys_order_items_as_the_api_server_lists_them() {
        let raw = |text: &str| RawValue::from_string(text.to_owned()).unwrap();
        assert_eq!(storage_key(&raw(r#"{"metadata":{"namespace":"shop","name":"web","labels":{"a":"b"}},"spec":{}}"#)), "shop/web");
        assert_eq!(storage_key(&raw(r#"{"metadata":{"name":"admin"}}"#)), "admin");
        // `a-b/x` comes before `a/x` in storage, whatever the namespaces' own order.
        assert!(storage_key(&raw(r#"{"metadata":{"namespace":"a-b","name":"x"}}"#)) < storage_key(&raw(r#"{"metadata":{"namespace":"a","name":"x"}}"#)));
    }

    #[test]
    fn the_user_agent_names_palisade_and_its_version() {
        assert!(user_agent().starts_with(&format!("palisade/{} (", env!("CARGO_PKG_VERSION"))), "{}", user_agent());
    }

    #[test]
    fn not_evaluated_names_the_list_and_the_reason() {
        let forbidden = NotEvaluated { resource: "roles.rbac.authorization.k8s.io".into(), namespace: Some("a".into()), reason: "403 Forbidden: no".into() };
        assert_eq!(forbidden.to_string(), "not evaluated: roles.rbac.authorization.k8s.io in namespace a: 403 Forbidden: no");
    }
}
