//! A realistic cluster to serve from the fake API server, and to write as manifest files for the
//! same scan from disk: a kubeadm cluster (control-plane static pods, kube-proxy, CoreDNS, the
//! system ClusterRoles, bindings and ServiceAccounts, `kube-root-ca.crt` and `default` in every
//! namespace), a CNI DaemonSet, monitoring and an ingress controller, then application namespaces
//! until the size asked for: Deployments with their ReplicaSets (the current one and often the
//! previous) and Pods, StatefulSets, CronJobs with their Jobs and Pods, Services with their
//! EndpointSlices, ConfigMaps, ServiceAccounts, Roles and RoleBindings, NetworkPolicies,
//! Ingresses and PodDisruptionBudgets.
//!
//! Objects look as the API server returns them: uids, resourceVersions, creationTimestamps,
//! `managedFields`, `ownerReferences` (`controller: true` and the owner's uid), `generation`,
//! `status`, and the fields defaulting fills in (`terminationMessagePath`, `imagePullPolicy`,
//! `dnsPolicy`, `restartPolicy`, `schedulerName`, probe thresholds, the projected
//! `kube-api-access-*` volume of pods). Namespaces get a security profile (hardened, typical or
//! risky) so that the rules fire on a realistic share of objects. Everything is drawn from a
//! seeded generator: the same size and seed give the same bytes.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::Arc;

use palisade_cluster::RESOURCES;
use serde_json::{Map, Value, json};

use super::{FakeApi, RawItem, Reply};

/// The revision lists are served at: above every object's resourceVersion.
pub const LIST_REVISION: u64 = 90_000_000;

/// The seed [`cluster`] uses.
pub const SEED: u64 = 19;

/// A simulated cluster of about `objects` objects (exactly that many once it exceeds the
/// kubeadm baseline of a few hundred), from [`SEED`].
pub fn cluster(objects: usize) -> SimulatedCluster {
    SimulatedCluster::generate(objects, SEED)
}

/// The lists of a simulated cluster, serialized once.
pub struct SimulatedCluster {
    /// Per entry of [`RESOURCES`], the items in the API server's order: by storage key,
    /// `namespace/name` (or `name`) as a string.
    lists: Vec<Arc<Vec<RawItem>>>,
    /// `(kind, namespace, name)` of the objects created by a controller that is listed too.
    derived: BTreeSet<(String, String, String)>,
    namespaces: Vec<String>,
    nodes: usize,
}

impl SimulatedCluster {
    pub fn generate(objects: usize, seed: u64) -> Self {
        let nodes = (objects / 400).clamp(3, 300);
        let mut generator = Generator::new(seed, nodes, objects >= 5000);
        generator.system();
        generator.commit();
        let mut index = 0;
        let mut last_app_namespace = "default".to_owned();
        loop {
            let namespace = generator.app_namespace(index);
            if generator.count + generator.pending.len() > objects {
                generator.pending.clear();
                break;
            }
            generator.commit();
            last_app_namespace = namespace;
            index += 1;
        }
        // The rest, up to the exact size: ConfigMaps, of which real namespaces have plenty.
        let mut extra = 0;
        while generator.count < objects {
            generator.extra_config_map(&last_app_namespace, extra);
            generator.commit();
            extra += 1;
        }
        generator.finish()
    }

    /// Objects in all lists.
    pub fn len(&self) -> usize {
        self.lists.iter().map(|list| list.len()).sum()
    }

    /// Objects of one kind.
    pub fn count(&self, kind: &str) -> usize {
        RESOURCES.iter().zip(&self.lists).filter(|(resource, _)| resource.kind == kind).map(|(_, list)| list.len()).sum()
    }

    /// JSON bytes of all items as served (before compression).
    pub fn bytes(&self) -> usize {
        self.lists.iter().flat_map(|list| list.iter()).map(|item| item.json.len()).sum()
    }

    /// Every namespace, system ones first.
    pub fn namespaces(&self) -> &[String] {
        &self.namespaces
    }

    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// The items of one kind as the server sends them (no `apiVersion`/`kind`).
    pub fn items(&self, kind: &str) -> Vec<Value> {
        RESOURCES
            .iter()
            .zip(&self.lists)
            .filter(|(resource, _)| resource.kind == kind)
            .flat_map(|(_, list)| list.iter().map(|item| serde_json::from_str(&item.json).unwrap()))
            .collect()
    }

    /// The cluster-wide collection path of every kind the scanner reads that this cluster
    /// serves, with its items: all of [`RESOURCES`] but Cilium's (not installed: 404, as a
    /// server without the CRDs answers). No policy engine is installed either.
    pub fn lists(&self) -> std::collections::BTreeMap<String, Reply> {
        RESOURCES
            .iter()
            .zip(&self.lists)
            .filter(|(resource, _)| resource.group != "cilium.io")
            .map(|(resource, list)| (resource.path(None), Reply::Raw(list.clone())))
            .collect()
    }

    /// A fake API server serving [`lists`](Self::lists).
    pub fn serve(&self) -> FakeApi {
        FakeApi::start(self.lists())
    }

    /// `(kind, namespace, name)` of the objects whose controlling owner (an ownerReference with
    /// `controller: true`) is listed too: ReplicaSets of Deployments, Pods of ReplicaSets,
    /// StatefulSets, DaemonSets and Jobs, Jobs of CronJobs, EndpointSlices of Services. A
    /// cluster scan reports catalog findings on their controllers only. Static pods (owned by
    /// a Node, which is not listed) are not among them.
    pub fn derived(&self) -> &BTreeSet<(String, String, String)> {
        &self.derived
    }

    /// Writes the objects as manifests, as `kubectl get -o json` shows them (with `apiVersion`
    /// and `kind`, without `managedFields`) and without the `last-applied-configuration`
    /// annotation the scanner drops on arrival: one `List` per kind and namespace,
    /// `NN-RESOURCE/NAMESPACE.json` (`NN-RESOURCE.json` for cluster-scoped kinds), so that the
    /// files walk in the order the scanner lists (kinds in its order, items by storage key) and
    /// no file nears the loader's 16 MiB document limit. Returns the number of files written.
    pub fn write_manifests(&self, dir: &Path) -> std::io::Result<usize> {
        std::fs::create_dir_all(dir)?;
        let mut files = 0;
        for (index, (resource, list)) in RESOURCES.iter().zip(&self.lists).enumerate() {
            let mut start = 0;
            while start < list.len() {
                let namespace = list[start].namespace.clone();
                let end = start + list[start..].iter().take_while(|item| item.namespace == namespace).count();
                let file = match &namespace {
                    Some(namespace) => {
                        let folder = dir.join(format!("{index:02}-{}", resource.name()));
                        std::fs::create_dir_all(&folder)?;
                        folder.join(format!("{namespace}.json"))
                    }
                    None => dir.join(format!("{index:02}-{}.json", resource.name())),
                };
                let mut text = String::from("{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n");
                for (n, item) in list[start..end].iter().enumerate() {
                    let mut object: Map<String, Value> = serde_json::from_str(&item.json).unwrap();
                    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                        metadata.remove("managedFields");
                        if let Some(annotations) = metadata.get_mut("annotations").and_then(Value::as_object_mut) {
                            annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
                        }
                    }
                    let mut full = Map::new();
                    full.insert("apiVersion".into(), json!(resource.api_version()));
                    full.insert("kind".into(), json!(resource.kind.as_ref()));
                    full.extend(object);
                    if n > 0 {
                        text.push_str(",\n");
                    }
                    text.push_str(&Value::Object(full).to_string());
                }
                text.push_str("\n]}\n");
                std::fs::write(file, text)?;
                files += 1;
                start = end;
            }
        }
        Ok(files)
    }
}

/// SplitMix64: small, fast and the same everywhere.
struct Rng(u64);

const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// In `low..=high`.
    fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }

    fn chance(&mut self, probability: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < probability
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }

    fn hex(&mut self, digits: usize) -> String {
        (0..digits).map(|_| char::from_digit((self.next() % 16) as u32, 16).unwrap()).collect()
    }

    fn uid(&mut self) -> String {
        format!("{}-{}-4{}-{}-{}", self.hex(8), self.hex(4), self.hex(3), self.hex(4), self.hex(12))
    }

    /// A suffix as Kubernetes makes them (`generateName`, `pod-template-hash`).
    fn suffix(&mut self, length: usize) -> String {
        (0..length).map(|_| *self.pick(NAME_ALPHABET) as char).collect()
    }
}

/// RFC 3339 in UTC, as the API server writes timestamps.
fn timestamp(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest / 60 % 60, rest % 60)
}

/// `metadata.managedFields[].fieldsV1` for the fields of `value`: `f:` per key, `k:` per item
/// of a list keyed by name, `{}` for leaves.
fn fields_v1(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.iter().map(|(key, value)| (format!("f:{key}"), fields_v1(value))).collect()),
        Value::Array(items) if !items.is_empty() && items.iter().all(|item| item.get("name").is_some_and(Value::is_string)) => Value::Object(
            items
                .iter()
                .map(|item| {
                    let mut fields = fields_v1(item);
                    fields.as_object_mut().unwrap().insert(".".into(), json!({}));
                    (format!("k:{{\"name\":\"{}\"}}", item["name"].as_str().unwrap()), fields)
                })
                .collect(),
        ),
        _ => json!({}),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Profile {
    /// Restricted Pod Security, pinned images, default-deny network policies.
    Hardened,
    /// Some settings, not all.
    Typical,
    /// Privileged containers, host namespaces and paths, credentials in plain text.
    Risky,
}

struct Node {
    name: String,
    uid: String,
    ip: String,
}

/// An object waiting for its namespace to be committed.
struct Pending {
    resource: usize,
    namespace: Option<String>,
    name: String,
    uid: String,
    controller: Option<String>,
    object: Value,
}

/// A pod made for an EndpointSlice: name, uid, IP, node.
struct Backend {
    name: String,
    uid: String,
    ip: String,
    node: String,
}

struct Generator {
    rng: Rng,
    resource_version: u64,
    clock: u64,
    ca_bundle: String,
    nodes: Vec<Node>,
    control_plane: Vec<usize>,
    pending: Vec<Pending>,
    /// Per resource: (storage key, item).
    committed: Vec<Vec<(String, RawItem)>>,
    uids: HashSet<String>,
    owned: Vec<(usize, String, String, String)>,
    namespaces: Vec<String>,
    count: usize,
    pod_ip: u32,
    service_ip: u32,
}

const TEAMS: &[&str] = &[
    "shop", "payments", "search", "identity", "ledger", "logistics", "media", "ads", "growth", "support", "risk", "pricing", "catalog",
    "checkout", "messaging", "maps", "booking", "loyalty", "fraud", "data", "ml", "platform", "billing", "crm", "docs", "mobile", "partners",
    "reports", "events", "inventory", "orders", "shipping", "reviews", "notifications", "accounts", "gateway", "studio", "insights", "vault",
    "compliance",
];
const ENVIRONMENTS: &[&str] = &["prod", "staging", "dev", "qa"];
const APPS: &[&str] = &[
    "api", "web", "worker", "frontend", "backend", "scheduler", "consumer", "indexer", "gateway", "auth", "cache-warmer", "exporter",
    "notifier", "renderer", "sync", "importer", "admin", "graphql", "webhooks", "reporter",
];

impl Generator {
    fn new(seed: u64, nodes: usize, three_control_planes: bool) -> Self {
        let mut rng = Rng(seed);
        // One cluster CA for every kube-root-ca.crt, about the size of a real one.
        let mut ca = String::from("-----BEGIN CERTIFICATE-----\n");
        for _ in 0..17 {
            let line: String = (0..64).map(|_| *rng.pick(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") as char).collect();
            ca.push_str(&line);
            ca.push('\n');
        }
        ca.push_str("-----END CERTIFICATE-----\n");
        let control_planes = if three_control_planes { 3 } else { 1 };
        let nodes: Vec<Node> = (0..nodes)
            .map(|i| {
                let name = if i < control_planes { format!("cp-{}", i + 1) } else { format!("worker-{:03}", i - control_planes + 1) };
                Node { name, uid: rng.uid(), ip: format!("10.0.{}.{}", i / 250, i % 250 + 4) }
            })
            .collect();
        Self {
            rng,
            resource_version: 1_000_000,
            clock: 1_736_931_600, // 2025-01-15T09:00:00Z
            ca_bundle: ca,
            nodes,
            control_plane: (0..control_planes).collect(),
            pending: Vec::new(),
            committed: RESOURCES.iter().map(|_| Vec::new()).collect(),
            uids: HashSet::new(),
            owned: Vec::new(),
            namespaces: Vec::new(),
            count: 0,
            pod_ip: 0,
            service_ip: 10,
        }
    }

    fn finish(mut self) -> SimulatedCluster {
        let derived = self
            .owned
            .iter()
            .filter(|(_, _, _, controller)| self.uids.contains(controller))
            .map(|(resource, namespace, name, _)| (RESOURCES[*resource].kind.to_string(), namespace.clone(), name.clone()))
            .collect();
        let lists = self
            .committed
            .iter_mut()
            .map(|list| {
                // The API server lists in etcd's key order.
                list.sort_by(|(a, _), (b, _)| a.cmp(b));
                Arc::new(std::mem::take(list).into_iter().map(|(_, item)| item).collect())
            })
            .collect();
        SimulatedCluster { lists, derived, namespaces: self.namespaces, nodes: self.nodes.len() }
    }

    fn commit(&mut self) {
        for pending in std::mem::take(&mut self.pending) {
            self.uids.insert(pending.uid);
            if let Some(controller) = pending.controller {
                self.owned.push((pending.resource, pending.namespace.clone().unwrap_or_default(), pending.name.clone(), controller));
            }
            if pending.resource == 0 {
                self.namespaces.push(pending.name.clone());
            }
            // etcd's key below the resource prefix: `namespace/name`, or `name`.
            let key = match &pending.namespace {
                Some(namespace) => format!("{namespace}/{}", pending.name),
                None => pending.name,
            };
            let item = RawItem { namespace: pending.namespace.map(Arc::from), json: pending.object.to_string().into() };
            self.committed[pending.resource].push((key, item));
            self.count += 1;
        }
    }

    fn tick(&mut self) -> String {
        self.clock += self.rng.range(1, 90);
        timestamp(self.clock)
    }

    fn next_resource_version(&mut self) -> String {
        self.resource_version += self.rng.range(1, 40);
        self.resource_version.to_string()
    }

    fn pod_ip(&mut self) -> String {
        self.pod_ip += 1;
        format!("10.244.{}.{}", self.pod_ip / 250 % 250, self.pod_ip % 250 + 2)
    }

    fn cluster_ip(&mut self) -> String {
        self.service_ip += 1;
        format!("10.96.{}.{}", self.service_ip / 250 % 250, self.service_ip % 250 + 1)
    }

    /// Metadata as the API server fills it: name, namespace, uid, resourceVersion,
    /// creationTimestamp, then the parts given (labels, annotations, owner, generation).
    fn meta(&mut self, namespace: Option<&str>, name: &str, labels: Value, annotations: Value) -> Map<String, Value> {
        let mut meta = Map::new();
        meta.insert("name".into(), json!(name));
        if let Some(namespace) = namespace {
            meta.insert("namespace".into(), json!(namespace));
        }
        meta.insert("uid".into(), json!(self.rng.uid()));
        meta.insert("resourceVersion".into(), json!(self.next_resource_version()));
        meta.insert("creationTimestamp".into(), json!(self.tick()));
        if !labels.is_null() {
            meta.insert("labels".into(), labels);
        }
        if !annotations.is_null() {
            meta.insert("annotations".into(), annotations);
        }
        meta
    }

    /// The object of `kind` from its metadata and top-level parts, with `managedFields` for
    /// `manager` (the parts other than status) and `status_manager` (the status subresource).
    fn add(&mut self, kind: &str, mut meta: Map<String, Value>, parts: Vec<(&str, Value)>, manager: &str, status_manager: Option<&str>) -> (String, String) {
        let resource = RESOURCES.iter().position(|resource| resource.kind == kind).unwrap_or_else(|| panic!("{kind} is not listed"));
        let api_version = RESOURCES[resource].api_version();
        let time = meta["creationTimestamp"].clone();
        let mut owned = Map::new();
        let mut owned_meta = Map::new();
        for key in ["generateName", "labels", "annotations", "ownerReferences", "finalizers"] {
            if let Some(value) = meta.get(key) {
                owned_meta.insert(key.to_owned(), value.clone());
            }
        }
        if !owned_meta.is_empty() {
            owned.insert("metadata".into(), Value::Object(owned_meta));
        }
        let mut status = None;
        for (key, value) in &parts {
            if *key == "status" {
                status = Some(value);
            } else {
                owned.insert((*key).to_owned(), value.clone());
            }
        }
        let mut managed = vec![json!({"manager": manager, "operation": "Update", "apiVersion": api_version, "time": time,
            "fieldsType": "FieldsV1", "fieldsV1": fields_v1(&Value::Object(owned))})];
        if let (Some(status_manager), Some(status)) = (status_manager, status) {
            managed.push(json!({"manager": status_manager, "operation": "Update", "apiVersion": api_version, "time": time,
                "fieldsType": "FieldsV1", "fieldsV1": {"f:status": fields_v1(status)}, "subresource": "status"}));
        }
        meta.insert("managedFields".into(), Value::Array(managed));
        let namespace = meta.get("namespace").and_then(Value::as_str).map(str::to_owned);
        let name = meta["name"].as_str().unwrap().to_owned();
        let uid = meta["uid"].as_str().unwrap().to_owned();
        let controller = meta
            .get("ownerReferences")
            .and_then(Value::as_array)
            .and_then(|owners| owners.iter().find(|owner| owner["controller"] == true))
            .and_then(|owner| owner["uid"].as_str())
            .map(str::to_owned);
        let mut object = Map::new();
        object.insert("metadata".into(), Value::Object(meta));
        for (key, value) in parts {
            object.insert(key.to_owned(), value);
        }
        self.pending.push(Pending { resource, namespace, name: name.clone(), uid: uid.clone(), controller, object: Value::Object(object) });
        (name, uid)
    }

    fn owner(api_version: &str, kind: &str, name: &str, uid: &str) -> Value {
        json!([{"apiVersion": api_version, "kind": kind, "name": name, "uid": uid, "controller": true, "blockOwnerDeletion": true}])
    }

    /// Namespace, its `default` ServiceAccount and `kube-root-ca.crt` ConfigMap, as Kubernetes
    /// creates them.
    fn namespace(&mut self, name: &str, labels: Value) {
        let mut all_labels = json!({"kubernetes.io/metadata.name": name});
        if let Value::Object(extra) = labels {
            all_labels.as_object_mut().unwrap().extend(extra);
        }
        let meta = self.meta(None, name, all_labels, Value::Null);
        self.add("Namespace", meta, vec![("spec", json!({"finalizers": ["kubernetes"]})), ("status", json!({"phase": "Active"}))], "kubectl-create", None);
        let meta = self.meta(Some(name), "default", Value::Null, Value::Null);
        self.pending.push(Pending {
            resource: RESOURCES.iter().position(|r| r.kind == "ServiceAccount").unwrap(),
            namespace: Some(name.to_owned()),
            name: "default".into(),
            uid: meta["uid"].as_str().unwrap().to_owned(),
            controller: None,
            object: json!({"metadata": meta}),
        });
        let annotations = json!({"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."});
        let meta = self.meta(Some(name), "kube-root-ca.crt", Value::Null, annotations);
        let data = json!({"ca.crt": self.ca_bundle});
        self.add("ConfigMap", meta, vec![("data", data)], "kube-controller-manager", None);
    }

    fn service_account(&mut self, namespace: &str, name: &str, labels: Value, automount: Option<bool>) {
        let meta = self.meta(Some(namespace), name, labels, Value::Null);
        let mut parts = Vec::new();
        if let Some(automount) = automount {
            parts.push(("automountServiceAccountToken", json!(automount)));
        }
        self.add("ServiceAccount", meta, parts, "kubectl-client-side-apply", None);
    }

    fn config_map(&mut self, namespace: &str, name: &str, labels: Value, data: Value, manager: &str) {
        let meta = self.meta(Some(namespace), name, labels, Value::Null);
        self.add("ConfigMap", meta, vec![("data", data)], manager, None);
    }

    fn extra_config_map(&mut self, namespace: &str, index: usize) {
        let data = json!({"flags.yaml": format!("# feature flags, revision {index}\nnew-checkout: {}\ndark-mode: true\nsearch-v2: false\nrate-limit-per-minute: {}\n", self.rng.chance(0.5), self.rng.range(60, 6000))});
        self.config_map(namespace, &format!("feature-flags-{index}"), json!({"app.kubernetes.io/component": "feature-flags"}), data, "kubectl-client-side-apply");
    }

    /// A container with the fields defaulting adds.
    #[allow(clippy::too_many_arguments)] // the fields of one object, all needed
    fn container(&self, name: &str, image: &str, security: Value, resources: Value, probes: bool, port: Option<u16>, env: Vec<Value>, mounts: Vec<Value>) -> Value {
        let mut container = Map::new();
        container.insert("name".into(), json!(name));
        container.insert("image".into(), json!(image));
        let last = image.rsplit('/').next().unwrap_or(image);
        let untagged_or_latest = !image.contains('@') && (!last.contains(':') || last.ends_with(":latest"));
        if let Some(port) = port {
            container.insert("ports".into(), json!([{"name": "http", "containerPort": port, "protocol": "TCP"}]));
        }
        if !env.is_empty() {
            container.insert("env".into(), Value::Array(env));
        }
        container.insert("resources".into(), resources);
        if !mounts.is_empty() {
            container.insert("volumeMounts".into(), Value::Array(mounts));
        }
        if probes {
            let probe = |path: &str, delay: u64| {
                json!({"httpGet": {"path": path, "port": "http", "scheme": "HTTP"}, "initialDelaySeconds": delay,
                    "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
            };
            container.insert("livenessProbe".into(), probe("/healthz", 10));
            container.insert("readinessProbe".into(), probe("/ready", 5));
        }
        container.insert("terminationMessagePath".into(), json!("/dev/termination-log"));
        container.insert("terminationMessagePolicy".into(), json!("File"));
        container.insert("imagePullPolicy".into(), json!(if untagged_or_latest { "Always" } else { "IfNotPresent" }));
        if !security.as_object().is_some_and(Map::is_empty) {
            container.insert("securityContext".into(), security);
        }
        Value::Object(container)
    }

    fn image(&mut self, profile: Profile, team: &str, app: &str) -> String {
        let version = format!("{}.{}.{}", self.rng.range(1, 4), self.rng.range(0, 30), self.rng.range(0, 12));
        match profile {
            Profile::Hardened if self.rng.chance(0.6) => format!("registry.example.com/{team}/{app}@sha256:{}", self.rng.hex(64)),
            Profile::Hardened => format!("registry.example.com/{team}/{app}:{version}"),
            Profile::Typical => match self.rng.range(0, 9) {
                0 => "nginx:1.27.2".to_owned(),
                1 => "python:3.12-slim".to_owned(),
                _ => format!("ghcr.io/acme/{team}-{app}:v{version}"),
            },
            Profile::Risky => match self.rng.range(0, 3) {
                0 => "nginx:latest".to_owned(),
                1 => format!("docker.io/acme/{app}"),
                2 => format!("ghcr.io/acme/{team}-{app}:latest"),
                _ => format!("ghcr.io/acme/{team}-{app}:v{version}"),
            },
        }
    }

    /// A workload's pod template spec for a security profile, and its ServiceAccount name.
    fn pod_template(&mut self, profile: Profile, team: &str, app: &str, restart: &str, config: Option<&str>) -> Value {
        let image = self.image(profile, team, app);
        let mut env = vec![
            json!({"name": "LOG_LEVEL", "value": *self.rng.pick(&["info", "debug", "warn"])}),
            json!({"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}),
            json!({"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://otel-collector.monitoring.svc:4317"}),
        ];
        let mut mounts = vec![json!({"name": "tmp", "mountPath": "/tmp"})];
        let mut volumes = vec![json!({"name": "tmp", "emptyDir": {}})];
        if let Some(config) = config {
            mounts.push(json!({"name": "config", "mountPath": "/etc/app", "readOnly": true}));
            volumes.push(json!({"name": "config", "configMap": {"name": config, "defaultMode": 420}}));
        }
        let full_resources = json!({"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}});
        let mut spec = Map::new();
        let (security, pod_security, resources, probes, service_account);
        let (mut host_network, mut automount) = (false, None);
        match profile {
            Profile::Hardened => {
                security = json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": true});
                pod_security = json!({"runAsNonRoot": true, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}});
                resources = full_resources;
                probes = restart == "Always";
                service_account = app.to_owned();
                automount = Some(false);
            }
            Profile::Typical => {
                security = if self.rng.chance(0.5) { json!({"allowPrivilegeEscalation": false}) } else { json!({}) };
                pod_security = if self.rng.chance(0.3) { json!({"runAsNonRoot": true, "runAsUser": 1000}) } else { json!({}) };
                resources = match self.rng.range(0, 4) {
                    0 => json!({}),
                    1 | 2 => json!({"requests": {"cpu": "50m", "memory": "64Mi"}}),
                    _ => full_resources,
                };
                probes = restart == "Always" && self.rng.chance(0.6);
                service_account = if self.rng.chance(0.4) { "default".to_owned() } else { app.to_owned() };
                if self.rng.chance(0.4) {
                    env.push(json!({"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": format!("{app}-credentials"), "key": "token"}}}));
                }
            }
            Profile::Risky => {
                security = match self.rng.range(0, 3) {
                    0 => json!({"privileged": true}),
                    1 => json!({"capabilities": {"add": ["NET_ADMIN", "SYS_ADMIN"]}}),
                    2 => json!({"runAsUser": 0, "allowPrivilegeEscalation": true}),
                    _ => json!({}),
                };
                pod_security = json!({});
                resources = if self.rng.chance(0.5) { json!({}) } else { json!({"requests": {"cpu": "10m"}}) };
                probes = restart == "Always" && self.rng.chance(0.3);
                service_account = if self.rng.chance(0.6) { "default".to_owned() } else { app.to_owned() };
                if self.rng.chance(0.6) {
                    env.push(json!({"name": "DATABASE_URL", "value": format!("postgres://{app}:Xk9mP2vLq7Wz4Rt8@postgres.{team}.svc:5432/{app}")}));
                }
                if self.rng.chance(0.3) {
                    mounts.push(json!({"name": "host-logs", "mountPath": "/host/var/log", "readOnly": true}));
                    volumes.push(json!({"name": "host-logs", "hostPath": {"path": "/var/log", "type": ""}}));
                }
                if self.rng.chance(0.1) {
                    mounts.push(json!({"name": "containerd", "mountPath": "/run/containerd/containerd.sock"}));
                    volumes.push(json!({"name": "containerd", "hostPath": {"path": "/run/containerd/containerd.sock", "type": "Socket"}}));
                }
                host_network = self.rng.chance(0.15);
            }
        }
        let port = (restart == "Always").then_some(8080);
        let mut containers = vec![self.container(app, &image, security.clone(), resources.clone(), probes, port, env, mounts)];
        if restart == "Always" && self.rng.chance(0.2) {
            let shipper = self.container(
                "log-shipper",
                "fluent/fluent-bit:3.1.9",
                security,
                json!({"limits": {"memory": "64Mi"}, "requests": {"cpu": "10m", "memory": "32Mi"}}),
                false,
                None,
                Vec::new(),
                vec![json!({"name": "tmp", "mountPath": "/tmp", "readOnly": true})],
            );
            containers.push(shipper);
        }
        spec.insert("volumes".into(), Value::Array(volumes));
        spec.insert("containers".into(), Value::Array(containers));
        spec.insert("restartPolicy".into(), json!(restart));
        spec.insert("terminationGracePeriodSeconds".into(), json!(30));
        spec.insert("dnsPolicy".into(), json!("ClusterFirst"));
        spec.insert("serviceAccountName".into(), json!(service_account));
        spec.insert("serviceAccount".into(), json!(service_account));
        if let Some(automount) = automount {
            spec.insert("automountServiceAccountToken".into(), json!(automount));
        }
        if host_network {
            spec.insert("hostNetwork".into(), json!(true));
        }
        spec.insert("securityContext".into(), pod_security);
        spec.insert("schedulerName".into(), json!("default-scheduler"));
        Value::Object(spec)
    }

    /// A pod from a template spec, as the scheduler, the ServiceAccount admission plugin and
    /// the kubelet leave it.
    #[allow(clippy::too_many_arguments)] // the fields of one object, all needed
    fn pod(&mut self, namespace: &str, name: &str, generate_name: Option<&str>, labels: Value, annotations: Value, owner: Option<Value>, template: &Value, phase: &str, node: Option<usize>) -> Backend {
        let node = node.unwrap_or_else(|| self.control_plane.len() + (self.rng.next() as usize) % (self.nodes.len() - self.control_plane.len()).max(1));
        let node = node.min(self.nodes.len() - 1);
        let mut spec = template.clone();
        let host_network = spec["hostNetwork"] == true;
        if spec["automountServiceAccountToken"] != false {
            let volume = format!("kube-api-access-{}", self.rng.suffix(5));
            let source = json!({"projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}});
            let mut entry = json!({"name": volume});
            entry.as_object_mut().unwrap().extend(source.as_object().unwrap().clone());
            match spec.get_mut("volumes").and_then(Value::as_array_mut) {
                Some(volumes) => volumes.push(entry),
                None => spec["volumes"] = json!([entry]),
            }
            for container in spec["containers"].as_array_mut().unwrap() {
                let mount = json!({"name": volume, "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"});
                match container.get_mut("volumeMounts").and_then(Value::as_array_mut) {
                    Some(mounts) => mounts.push(mount),
                    None => {
                        container["volumeMounts"] = json!([mount]);
                    }
                }
            }
        }
        let fields = spec.as_object_mut().unwrap();
        fields.insert("nodeName".into(), json!(self.nodes[node].name));
        fields.insert("tolerations".into(), json!([
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]));
        if !fields.contains_key("priority") {
            fields.insert("priority".into(), json!(0));
        }
        fields.insert("enableServiceLinks".into(), json!(true));
        fields.insert("preemptionPolicy".into(), json!("PreemptLowerPriority"));
        let mut meta = self.meta(Some(namespace), name, labels, annotations);
        if let Some(generate_name) = generate_name {
            meta.insert("generateName".into(), json!(generate_name));
        }
        if let Some(owner) = owner {
            meta.insert("ownerReferences".into(), owner);
        }
        let started = meta["creationTimestamp"].clone();
        let ip = if host_network { self.nodes[node].ip.clone() } else { self.pod_ip() };
        let running = phase == "Running";
        let statuses: Vec<Value> = spec["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|container| {
                let image = container["image"].as_str().unwrap();
                let repository = image.split('@').next().unwrap().rsplit_once(':').filter(|(_, tag)| !tag.contains('/')).map_or(image, |(repository, _)| repository);
                let state = if running {
                    json!({"running": {"startedAt": started}})
                } else {
                    json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": started, "containerID": format!("containerd://{}", self.rng.hex(64))}})
                };
                json!({"name": container["name"], "state": state, "lastState": {}, "ready": running, "restartCount": self.rng.range(0, 1),
                    "image": image, "imageID": format!("{repository}@sha256:{}", self.rng.hex(64)), "containerID": format!("containerd://{}", self.rng.hex(64)), "started": running})
            })
            .collect();
        let condition = |kind: &str, status: bool| json!({"type": kind, "status": if status { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": started});
        let qos = if spec["containers"].as_array().unwrap().iter().all(|c| c["resources"].get("limits").is_some() && c["resources"].get("requests").is_some()) {
            "Burstable"
        } else if spec["containers"].as_array().unwrap().iter().all(|c| c["resources"].as_object().is_some_and(Map::is_empty)) {
            "BestEffort"
        } else {
            "Burstable"
        };
        let status = json!({"phase": phase, "conditions": [condition("PodReadyToStartContainers", running), condition("Initialized", true),
                condition("Ready", running), condition("ContainersReady", running), condition("PodScheduled", true)],
            "hostIP": self.nodes[node].ip, "hostIPs": [{"ip": self.nodes[node].ip}], "podIP": ip, "podIPs": [{"ip": ip}],
            "startTime": started, "containerStatuses": statuses, "qosClass": qos});
        let node_name = self.nodes[node].name.clone();
        let (name, uid) = self.add("Pod", meta, vec![("spec", spec), ("status", status)], "kube-controller-manager", Some("kubelet"));
        Backend { name, uid, ip, node: node_name }
    }

    #[allow(clippy::too_many_arguments)] // the fields of one object, all needed
    fn service(&mut self, namespace: &str, name: &str, labels: Value, selector: Value, kind: &str, headless: bool, backends: &[Backend]) {
        let meta = self.meta(Some(namespace), name, labels.clone(), Value::Null);
        let ip = if headless { "None".to_owned() } else { self.cluster_ip() };
        let mut spec = json!({"ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": "http"}], "selector": selector,
            "clusterIP": ip, "clusterIPs": [ip], "type": kind, "sessionAffinity": "None", "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"});
        if kind != "ClusterIP" {
            spec["ports"][0]["nodePort"] = json!(self.rng.range(30000, 32767));
            spec["externalTrafficPolicy"] = json!("Cluster");
        }
        let status = if kind == "LoadBalancer" {
            json!({"loadBalancer": {"ingress": [{"ip": format!("203.0.113.{}", self.rng.range(1, 254)), "ipMode": "VIP"}]}})
        } else {
            json!({"loadBalancer": {}})
        };
        let (service, uid) = self.add("Service", meta, vec![("spec", spec), ("status", status)], "kubectl-client-side-apply", None);
        let endpoints: Vec<Value> = backends
            .iter()
            .map(|pod| json!({"addresses": [pod.ip], "conditions": {"ready": true, "serving": true, "terminating": false},
                "targetRef": {"kind": "Pod", "namespace": namespace, "name": pod.name, "uid": pod.uid}, "nodeName": pod.node}))
            .collect();
        let mut slice_labels = labels;
        if let Some(labels) = slice_labels.as_object_mut() {
            labels.insert("endpointslice.kubernetes.io/managed-by".into(), json!("endpointslice-controller.k8s.io"));
            labels.insert("kubernetes.io/service-name".into(), json!(service));
        }
        let suffix = self.rng.suffix(5);
        let mut meta = self.meta(Some(namespace), &format!("{service}-{suffix}"), slice_labels, json!({"endpoints.kubernetes.io/last-change-trigger-time": timestamp(self.clock)}));
        meta.insert("generateName".into(), json!(format!("{service}-")));
        meta.insert("generation".into(), json!(1));
        meta.insert("ownerReferences".into(), Self::owner("v1", "Service", &service, &uid));
        self.add(
            "EndpointSlice",
            meta,
            vec![("addressType", json!("IPv4")), ("endpoints", Value::Array(endpoints)), ("ports", json!([{"name": "http", "protocol": "TCP", "port": 8080}]))],
            "kube-controller-manager",
            None,
        );
    }

    /// A Deployment with its ReplicaSets (the previous one too, scaled to 0, half the time) and
    /// the current one's pods; returns the pods.
    fn deployment(&mut self, namespace: &str, name: &str, labels: Value, template: Value, replicas: u64, managed_by_helm: bool) -> Vec<Backend> {
        let selector = json!({"matchLabels": {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}});
        let template_labels = json!({"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name});
        let revisions = if self.rng.chance(0.5) { 2 } else { 1 };
        let mut annotations = json!({"deployment.kubernetes.io/revision": revisions.to_string()});
        let manager = if managed_by_helm {
            annotations["meta.helm.sh/release-name"] = json!(name);
            annotations["meta.helm.sh/release-namespace"] = json!(namespace);
            "helm"
        } else {
            let applied = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"annotations": {}, "labels": labels, "name": name, "namespace": namespace},
                "spec": {"replicas": replicas, "selector": selector, "template": {"metadata": {"labels": template_labels}, "spec": template}}});
            annotations["kubectl.kubernetes.io/last-applied-configuration"] = json!(format!("{applied}\n"));
            "kubectl-client-side-apply"
        };
        let mut meta = self.meta(Some(namespace), name, labels, annotations);
        meta.insert("generation".into(), json!(revisions));
        let spec = json!({"replicas": replicas, "selector": selector, "template": {"metadata": {"creationTimestamp": null, "labels": template_labels}, "spec": template},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600});
        let time = meta["creationTimestamp"].clone();
        let status = json!({"observedGeneration": revisions, "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
            "conditions": [
                {"type": "Available", "status": "True", "lastUpdateTime": time, "lastTransitionTime": time, "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                {"type": "Progressing", "status": "True", "lastUpdateTime": time, "lastTransitionTime": time, "reason": "NewReplicaSetAvailable", "message": format!("ReplicaSet \"{name}\" has successfully progressed.")}]});
        let (_, uid) = self.add("Deployment", meta, vec![("spec", spec), ("status", status)], manager, Some("kube-controller-manager"));
        let mut pods = Vec::new();
        for revision in 1..=revisions {
            let current = revision == revisions;
            let hash = self.rng.suffix(10);
            let rs_name = format!("{name}-{hash}");
            let mut labels = template_labels.clone();
            labels["pod-template-hash"] = json!(hash);
            let mut rs_template = template.clone();
            if !current {
                // The previous rollout ran the previous image.
                let digest = self.rng.hex(64);
                if let Some(image) = rs_template.pointer_mut("/containers/0/image") {
                    let current = image.as_str().unwrap().to_owned();
                    let previous = match current.split_once("@sha256:") {
                        Some((repository, _)) => format!("{repository}@sha256:{digest}"),
                        None => current.replace(":v", ":v0."),
                    };
                    *image = json!(previous);
                }
            }
            let count = if current { replicas } else { 0 };
            let annotations = json!({"deployment.kubernetes.io/desired-replicas": replicas.to_string(), "deployment.kubernetes.io/max-replicas": (replicas + 1).to_string(), "deployment.kubernetes.io/revision": revision.to_string()});
            let mut meta = self.meta(Some(namespace), &rs_name, labels.clone(), annotations);
            meta.insert("generation".into(), json!(if current { 1 } else { 2 }));
            meta.insert("ownerReferences".into(), Self::owner("apps/v1", "Deployment", name, &uid));
            let mut selector = selector.clone();
            selector["matchLabels"]["pod-template-hash"] = json!(hash);
            let spec = json!({"replicas": count, "selector": selector, "template": {"metadata": {"creationTimestamp": null, "labels": labels}, "spec": rs_template}});
            let status = if count > 0 {
                json!({"replicas": count, "fullyLabeledReplicas": count, "readyReplicas": count, "availableReplicas": count, "observedGeneration": 1})
            } else {
                json!({"replicas": 0, "observedGeneration": 2})
            };
            let (_, rs_uid) = self.add("ReplicaSet", meta, vec![("spec", spec), ("status", status)], "kube-controller-manager", Some("kube-controller-manager"));
            for _ in 0..count {
                let pod_name = format!("{rs_name}-{}", self.rng.suffix(5));
                let owner = Self::owner("apps/v1", "ReplicaSet", &rs_name, &rs_uid);
                pods.push(self.pod(namespace, &pod_name, Some(&format!("{rs_name}-")), labels.clone(), Value::Null, Some(owner), &rs_template, "Running", None));
            }
        }
        pods
    }

    fn stateful_set(&mut self, namespace: &str, name: &str, labels: Value, mut template: Value, replicas: u64) -> Vec<Backend> {
        let selector = json!({"matchLabels": {"app.kubernetes.io/name": name}});
        let mut meta = self.meta(Some(namespace), name, labels, Value::Null);
        meta.insert("generation".into(), json!(1));
        if let Some(mounts) = template["containers"][0]["volumeMounts"].as_array_mut() {
            mounts.push(json!({"name": "data", "mountPath": "/var/lib/data"}));
        }
        let claim = json!([{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "creationTimestamp": null},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}, "volumeMode": "Filesystem"}, "status": {"phase": "Pending"}}]);
        let spec = json!({"replicas": replicas, "selector": selector, "template": {"metadata": {"creationTimestamp": null, "labels": {"app.kubernetes.io/name": name}}, "spec": template},
            "volumeClaimTemplates": claim, "serviceName": name, "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}, "revisionHistoryLimit": 10,
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"}});
        let revision = format!("{name}-{}", self.rng.suffix(10));
        let status = json!({"observedGeneration": 1, "replicas": replicas, "readyReplicas": replicas, "currentReplicas": replicas, "updatedReplicas": replicas,
            "currentRevision": revision, "updateRevision": revision, "collisionCount": 0, "availableReplicas": replicas});
        let (_, uid) = self.add("StatefulSet", meta, vec![("spec", spec), ("status", status)], "kubectl-client-side-apply", Some("kube-controller-manager"));
        let mut pods = Vec::new();
        let mut pod_template = template.clone();
        pod_template["volumes"].as_array_mut().unwrap().push(json!({"name": "data", "persistentVolumeClaim": {"claimName": "data"}}));
        for index in 0..replicas {
            let pod_name = format!("{name}-{index}");
            let labels = json!({"app.kubernetes.io/name": name, "apps.kubernetes.io/pod-index": index.to_string(), "controller-revision-hash": revision, "statefulset.kubernetes.io/pod-name": pod_name});
            let mut spec = pod_template.clone();
            spec["volumes"].as_array_mut().unwrap().last_mut().unwrap()["persistentVolumeClaim"]["claimName"] = json!(format!("data-{pod_name}"));
            spec["hostname"] = json!(pod_name);
            spec["subdomain"] = json!(name);
            let owner = Self::owner("apps/v1", "StatefulSet", name, &uid);
            pods.push(self.pod(namespace, &pod_name, Some(&format!("{name}-")), labels, Value::Null, Some(owner), &spec, "Running", None));
        }
        pods
    }

    /// A DaemonSet with a pod on every node.
    fn daemon_set(&mut self, namespace: &str, name: &str, labels: Value, template: Value, manager: &str) {
        let selector = json!({"matchLabels": {"k8s-app": name}});
        let mut meta = self.meta(Some(namespace), name, labels, json!({"deprecated.daemonset.template.generation": "1"}));
        meta.insert("generation".into(), json!(1));
        let nodes = self.nodes.len();
        let spec = json!({"selector": selector, "template": {"metadata": {"creationTimestamp": null, "labels": {"k8s-app": name}}, "spec": template},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}, "revisionHistoryLimit": 10});
        let status = json!({"currentNumberScheduled": nodes, "numberMisscheduled": 0, "desiredNumberScheduled": nodes, "numberReady": nodes,
            "observedGeneration": 1, "updatedNumberScheduled": nodes, "numberAvailable": nodes});
        let (_, uid) = self.add("DaemonSet", meta, vec![("spec", spec), ("status", status)], manager, Some("kube-controller-manager"));
        let hash = self.rng.suffix(10);
        for node in 0..nodes {
            let pod_name = format!("{name}-{}", self.rng.suffix(5));
            let labels = json!({"k8s-app": name, "controller-revision-hash": hash, "pod-template-generation": "1"});
            let mut spec = template.clone();
            spec["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [self.nodes[node].name]}]}]}}});
            let owner = Self::owner("apps/v1", "DaemonSet", name, &uid);
            self.pod(namespace, &pod_name, Some(&format!("{name}-")), labels, Value::Null, Some(owner), &spec, "Running", Some(node));
        }
    }

    /// A CronJob with its last successful Jobs and their completed pods.
    fn cron_job(&mut self, namespace: &str, name: &str, labels: Value, template: Value) {
        let schedule = format!("{} {} * * *", self.rng.range(0, 59), self.rng.range(0, 23));
        let mut meta = self.meta(Some(namespace), name, labels, Value::Null);
        meta.insert("generation".into(), json!(1));
        let last = timestamp(self.clock);
        let spec = json!({"schedule": schedule, "concurrencyPolicy": "Forbid", "suspend": false,
            "jobTemplate": {"metadata": {"creationTimestamp": null}, "spec": {"backoffLimit": 2, "template": {"metadata": {"creationTimestamp": null}, "spec": template}}},
            "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1});
        let status = json!({"lastScheduleTime": last, "lastSuccessfulTime": last});
        let (_, uid) = self.add("CronJob", meta, vec![("spec", spec), ("status", status)], "kubectl-client-side-apply", Some("kube-controller-manager"));
        let jobs = self.rng.range(1, 3);
        let base = self.clock / 60;
        for job in 0..jobs {
            let job_name = format!("{name}-{}", base - (jobs - job) * 1440);
            let job_uid_labels = |uid: &str| json!({"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": job_name, "controller-uid": uid, "job-name": job_name});
            let mut meta = self.meta(Some(namespace), &job_name, Value::Null, json!({"batch.kubernetes.io/cronjob-scheduled-timestamp": timestamp(self.clock)}));
            let job_uid = meta["uid"].as_str().unwrap().to_owned();
            meta.insert("labels".into(), job_uid_labels(&job_uid));
            meta.insert("generation".into(), json!(1));
            meta.insert("ownerReferences".into(), Self::owner("batch/v1", "CronJob", name, &uid));
            let labels = job_uid_labels(&job_uid);
            let spec = json!({"parallelism": 1, "completions": 1, "backoffLimit": 2, "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": job_uid}},
                "manualSelector": false, "template": {"metadata": {"creationTimestamp": null, "labels": labels}, "spec": template},
                "completionMode": "NonIndexed", "suspend": false, "podReplacementPolicy": "TerminatingOrFailed"});
            let time = timestamp(self.clock);
            let status = json!({"conditions": [{"type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": time, "lastTransitionTime": time, "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods"},
                {"type": "Complete", "status": "True", "lastProbeTime": time, "lastTransitionTime": time, "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods"}],
                "startTime": time, "completionTime": time, "succeeded": 1, "terminating": 0, "uncountedTerminatedPods": {}, "ready": 0});
            self.add("Job", meta, vec![("spec", spec), ("status", status)], "kube-controller-manager", Some("kube-controller-manager"));
            let owner = Self::owner("batch/v1", "Job", &job_name, &job_uid);
            let pod_name = format!("{job_name}-{}", self.rng.suffix(5));
            self.pod(namespace, &pod_name, Some(&format!("{job_name}-")), labels, Value::Null, Some(owner), &template, "Succeeded", None);
        }
    }

    fn role(&mut self, namespace: Option<&str>, name: &str, rules: Value, labels: Value, manager: &str) {
        let meta = self.meta(namespace, name, labels, Value::Null);
        self.add(if namespace.is_some() { "Role" } else { "ClusterRole" }, meta, vec![("rules", rules)], manager, None);
    }

    fn binding(&mut self, namespace: Option<&str>, name: &str, role: (&str, &str), subjects: Value, manager: &str) {
        let meta = self.meta(namespace, name, Value::Null, Value::Null);
        let role_ref = json!({"apiGroup": "rbac.authorization.k8s.io", "kind": role.0, "name": role.1});
        self.add(if namespace.is_some() { "RoleBinding" } else { "ClusterRoleBinding" }, meta, vec![("subjects", subjects), ("roleRef", role_ref)], manager, None);
    }

    fn network_policy(&mut self, namespace: &str, name: &str, spec: Value) {
        let mut meta = self.meta(Some(namespace), name, Value::Null, Value::Null);
        meta.insert("generation".into(), json!(1));
        self.add("NetworkPolicy", meta, vec![("spec", spec)], "kubectl-client-side-apply", None);
    }

    /// kube-system, kube-public, kube-node-lease, default, the CNI, monitoring and the ingress
    /// controller, and the cluster-scoped objects of kubeadm.
    fn system(&mut self) {
        for namespace in ["default", "kube-node-lease", "kube-public", "kube-system"] {
            self.namespace(namespace, Value::Null);
        }
        // default: the kubernetes Service and its EndpointSlice (kept by the API server, no owner).
        let meta = self.meta(Some("default"), "kubernetes", json!({"component": "apiserver", "provider": "kubernetes"}), Value::Null);
        let spec = json!({"ports": [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": 6443}], "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
            "type": "ClusterIP", "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"});
        self.add("Service", meta, vec![("spec", spec), ("status", json!({"loadBalancer": {}}))], "kube-apiserver", None);
        let mut meta = self.meta(Some("default"), "kubernetes", json!({"kubernetes.io/service-name": "kubernetes"}), Value::Null);
        meta.insert("generation".into(), json!(1));
        let endpoints: Vec<Value> = self.control_plane.clone().into_iter().map(|i| json!({"addresses": [self.nodes[i].ip], "conditions": {"ready": true}})).collect();
        self.add("EndpointSlice", meta, vec![("addressType", json!("IPv4")), ("endpoints", Value::Array(endpoints)), ("ports", json!([{"name": "https", "protocol": "TCP", "port": 6443}]))], "kube-apiserver", None);

        // Static pods of the control plane: mirror pods owned by their Node.
        for &node in &self.control_plane.clone() {
            let (node_name, node_uid) = (self.nodes[node].name.clone(), self.nodes[node].uid.clone());
            for (component, image, command, paths) in [
                ("etcd", "registry.k8s.io/etcd:3.5.16-0", vec!["etcd", "--data-dir=/var/lib/etcd", "--client-cert-auth=true", "--listen-client-urls=https://127.0.0.1:2379"], vec![("etcd-data", "/var/lib/etcd"), ("etcd-certs", "/etc/kubernetes/pki/etcd")]),
                ("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.31.4", vec!["kube-apiserver", "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction", "--secure-port=6443", "--service-cluster-ip-range=10.96.0.0/12"], vec![("ca-certs", "/etc/ssl/certs"), ("k8s-certs", "/etc/kubernetes/pki")]),
                ("kube-controller-manager", "registry.k8s.io/kube-controller-manager:v1.31.4", vec!["kube-controller-manager", "--bind-address=127.0.0.1", "--leader-elect=true", "--use-service-account-credentials=true"], vec![("ca-certs", "/etc/ssl/certs"), ("kubeconfig", "/etc/kubernetes/controller-manager.conf")]),
                ("kube-scheduler", "registry.k8s.io/kube-scheduler:v1.31.4", vec!["kube-scheduler", "--bind-address=127.0.0.1", "--leader-elect=true"], vec![("kubeconfig", "/etc/kubernetes/scheduler.conf")]),
            ] {
                let mounts: Vec<Value> = paths.iter().map(|(name, path)| json!({"name": name, "mountPath": path, "readOnly": *name != "etcd-data"})).collect();
                let volumes: Vec<Value> = paths.iter().map(|(name, path)| json!({"name": name, "hostPath": {"path": path, "type": "DirectoryOrCreate"}})).collect();
                let mut container = self.container(component, image, json!({}), json!({"requests": {"cpu": "100m"}}), false, None, Vec::new(), mounts);
                container["command"] = json!(command);
                container["livenessProbe"] = json!({"httpGet": {"host": "127.0.0.1", "path": "/livez", "port": 10257, "scheme": "HTTPS"}, "initialDelaySeconds": 10,
                    "timeoutSeconds": 15, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 8});
                let template = json!({"volumes": volumes, "containers": [container], "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
                    "dnsPolicy": "ClusterFirst", "hostNetwork": true, "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                    "schedulerName": "default-scheduler", "priorityClassName": "system-node-critical", "priority": 2000001000, "automountServiceAccountToken": false});
                let hash = self.rng.hex(32);
                let annotations = json!({"kubernetes.io/config.hash": hash, "kubernetes.io/config.mirror": hash, "kubernetes.io/config.seen": timestamp(self.clock), "kubernetes.io/config.source": "file"});
                let labels = json!({"component": component, "tier": "control-plane"});
                let owner = json!([{"apiVersion": "v1", "kind": "Node", "name": node_name, "uid": node_uid, "controller": true}]);
                self.pod("kube-system", &format!("{component}-{node_name}"), None, labels, annotations, Some(owner), &template, "Running", Some(node));
            }
        }

        // CoreDNS and kube-proxy.
        self.service_account("kube-system", "coredns", Value::Null, None);
        self.config_map("kube-system", "coredns", Value::Null, json!({"Corefile": ".:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n    prometheus :9153\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n"}), "kubeadm");
        let mut dns = self.container("coredns", "registry.k8s.io/coredns/coredns:v1.11.3",
            json!({"allowPrivilegeEscalation": false, "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}, "readOnlyRootFilesystem": true}),
            json!({"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}}), true, Some(8080), Vec::new(),
            vec![json!({"name": "config-volume", "mountPath": "/etc/coredns", "readOnly": true})]);
        dns["args"] = json!(["-conf", "/etc/coredns/Corefile"]);
        let dns_template = json!({"volumes": [{"name": "config-volume", "configMap": {"name": "coredns", "items": [{"key": "Corefile", "path": "Corefile"}], "defaultMode": 420}}],
            "containers": [dns], "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "Default", "nodeSelector": {"kubernetes.io/os": "linux"},
            "serviceAccountName": "coredns", "serviceAccount": "coredns", "securityContext": {}, "schedulerName": "default-scheduler", "priorityClassName": "system-cluster-critical", "priority": 2000000000});
        let pods = self.deployment("kube-system", "coredns", json!({"k8s-app": "kube-dns"}), dns_template, 2, false);
        self.service("kube-system", "kube-dns", json!({"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"}),
            json!({"app.kubernetes.io/name": "coredns"}), "ClusterIP", false, &pods);
        self.service_account("kube-system", "kube-proxy", Value::Null, None);
        self.config_map("kube-system", "kube-proxy", json!({"app": "kube-proxy"}), json!({"config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nbindAddress: 0.0.0.0\nclusterCIDR: 10.244.0.0/16\nmode: iptables\n", "kubeconfig.conf": "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt\n    server: https://10.0.0.4:6443\n  name: default\n"}), "kubeadm");
        let mut proxy = self.container("kube-proxy", "registry.k8s.io/kube-proxy:v1.31.4", json!({"privileged": true}), json!({}), false, None,
            vec![json!({"name": "NODE_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}})],
            vec![json!({"name": "kube-proxy", "mountPath": "/var/lib/kube-proxy"}), json!({"name": "xtables-lock", "mountPath": "/run/xtables.lock"}), json!({"name": "lib-modules", "mountPath": "/lib/modules", "readOnly": true})]);
        proxy["command"] = json!(["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)"]);
        let proxy_template = json!({"volumes": [{"name": "kube-proxy", "configMap": {"name": "kube-proxy", "defaultMode": 420}},
                {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}}, {"name": "lib-modules", "hostPath": {"path": "/lib/modules", "type": ""}}],
            "containers": [proxy], "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst", "nodeSelector": {"kubernetes.io/os": "linux"},
            "serviceAccountName": "kube-proxy", "serviceAccount": "kube-proxy", "hostNetwork": true, "securityContext": {}, "schedulerName": "default-scheduler",
            "tolerations": [{"operator": "Exists"}], "priorityClassName": "system-node-critical", "priority": 2000001000});
        self.daemon_set("kube-system", "kube-proxy", json!({"k8s-app": "kube-proxy"}), proxy_template, "kubeadm");

        // kubeadm's ConfigMaps, kube-public's cluster-info, the controllers' ServiceAccounts.
        self.config_map("kube-system", "kubeadm-config", Value::Null, json!({"ClusterConfiguration": "apiServer: {}\napiVersion: kubeadm.k8s.io/v1beta4\ncaCertificateValidityPeriod: 87600h0m0s\ncertificateValidityPeriod: 8760h0m0s\ncertificatesDir: /etc/kubernetes/pki\nclusterName: kubernetes\ncontrollerManager: {}\ndns: {}\nencryptionAlgorithm: RSA-2048\netcd:\n  local:\n    dataDir: /var/lib/etcd\nimageRepository: registry.k8s.io\nkind: ClusterConfiguration\nkubernetesVersion: v1.31.4\nnetworking:\n  dnsDomain: cluster.local\n  podSubnet: 10.244.0.0/16\n  serviceSubnet: 10.96.0.0/12\nproxy: {}\nscheduler: {}\n"}), "kubeadm");
        self.config_map("kube-system", "kubelet-config", Value::Null, json!({"kubelet": "apiVersion: kubelet.config.k8s.io/v1beta1\nauthentication:\n  anonymous:\n    enabled: false\n  webhook:\n    cacheTTL: 0s\n    enabled: true\n  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\nauthorization:\n  mode: Webhook\ncgroupDriver: systemd\nclusterDNS:\n- 10.96.0.10\nclusterDomain: cluster.local\nkind: KubeletConfiguration\nrotateCertificates: true\nstaticPodPath: /etc/kubernetes/manifests\n"}), "kubeadm");
        self.config_map("kube-system", "extension-apiserver-authentication", Value::Null, json!({"client-ca-file": self.ca_bundle, "requestheader-allowed-names": "[\"front-proxy-client\"]", "requestheader-client-ca-file": self.ca_bundle, "requestheader-extra-headers-prefix": "[\"X-Remote-Extra-\"]", "requestheader-group-headers": "[\"X-Remote-Group\"]", "requestheader-username-headers": "[\"X-Remote-User\"]"}), "kube-apiserver");
        let authority = self.rng.hex(120);
        self.config_map("kube-public", "cluster-info", Value::Null, json!({"kubeconfig": format!("apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {authority}\n    server: https://10.0.0.4:6443\n  name: \"\"\nkind: Config\n")}), "kubeadm");
        for controller in CONTROLLERS {
            self.service_account("kube-system", controller, Value::Null, None);
        }
        // Roles of kube-system and kube-public.
        let rule = |groups: &[&str], resources: &[&str], verbs: &[&str]| json!({"apiGroups": groups, "resources": resources, "verbs": verbs});
        self.role(Some("kube-system"), "extension-apiserver-authentication-reader", json!([{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["extension-apiserver-authentication"], "verbs": ["get", "list", "watch"]}]), json!({"kubernetes.io/bootstrapping": "rbac-defaults"}), "kube-apiserver");
        self.role(Some("kube-system"), "kube-proxy", json!([{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["kube-proxy"], "verbs": ["get"]}]), Value::Null, "kubeadm");
        self.role(Some("kube-system"), "kubeadm:kubelet-config", json!([{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["kubelet-config"], "verbs": ["get"]}]), Value::Null, "kubeadm");
        self.role(Some("kube-system"), "kubeadm:nodes-kubeadm-config", json!([{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["kubeadm-config"], "verbs": ["get"]}]), Value::Null, "kubeadm");
        self.role(Some("kube-system"), "system::leader-locking-kube-controller-manager", json!([rule(&["coordination.k8s.io"], &["leases"], &["watch"]), {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": ["kube-controller-manager"], "verbs": ["get", "update"]}]), json!({"kubernetes.io/bootstrapping": "rbac-defaults"}), "kube-apiserver");
        self.role(Some("kube-system"), "system::leader-locking-kube-scheduler", json!([rule(&["coordination.k8s.io"], &["leases"], &["watch"]), {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": ["kube-scheduler"], "verbs": ["get", "update"]}]), json!({"kubernetes.io/bootstrapping": "rbac-defaults"}), "kube-apiserver");
        self.role(Some("kube-system"), "system:controller:bootstrap-signer", json!([rule(&[""], &["secrets"], &["get", "list", "watch"])]), json!({"kubernetes.io/bootstrapping": "rbac-defaults"}), "kube-apiserver");
        self.role(Some("kube-system"), "system:controller:token-cleaner", json!([rule(&[""], &["secrets"], &["delete", "get", "list", "watch"]), rule(&["", "events.k8s.io"], &["events"], &["create", "patch", "update"])]), json!({"kubernetes.io/bootstrapping": "rbac-defaults"}), "kube-apiserver");
        self.role(Some("kube-public"), "kubeadm:bootstrap-signer-clusterinfo", json!([{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cluster-info"], "verbs": ["get"]}]), Value::Null, "kubeadm");
        self.role(Some("kube-public"), "system:controller:bootstrap-signer", json!([rule(&[""], &["configmaps"], &["get", "list", "watch"]), {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cluster-info"], "verbs": ["update"]}]), json!({"kubernetes.io/bootstrapping": "rbac-defaults"}), "kube-apiserver");
        let group = |name: &str| json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": name}]);
        let user = |name: &str| json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name}]);
        let sa = |namespace: &str, name: &str| json!([{"kind": "ServiceAccount", "name": name, "namespace": namespace}]);
        self.binding(Some("kube-system"), "kube-proxy", ("Role", "kube-proxy"), group("system:bootstrappers:kubeadm:default-node-token"), "kubeadm");
        self.binding(Some("kube-system"), "kubeadm:kubelet-config", ("Role", "kubeadm:kubelet-config"), json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:nodes"}, {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:bootstrappers:kubeadm:default-node-token"}]), "kubeadm");
        self.binding(Some("kube-system"), "kubeadm:nodes-kubeadm-config", ("Role", "kubeadm:nodes-kubeadm-config"), json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:bootstrappers:kubeadm:default-node-token"}, {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:nodes"}]), "kubeadm");
        self.binding(Some("kube-system"), "system::extension-apiserver-authentication-reader", ("Role", "extension-apiserver-authentication-reader"), json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:kube-controller-manager"}, {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:kube-scheduler"}]), "kube-apiserver");
        self.binding(Some("kube-system"), "system::leader-locking-kube-controller-manager", ("Role", "system::leader-locking-kube-controller-manager"), json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:kube-controller-manager"}, {"kind": "ServiceAccount", "name": "kube-controller-manager", "namespace": "kube-system"}]), "kube-apiserver");
        self.binding(Some("kube-system"), "system::leader-locking-kube-scheduler", ("Role", "system::leader-locking-kube-scheduler"), json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:kube-scheduler"}, {"kind": "ServiceAccount", "name": "kube-scheduler", "namespace": "kube-system"}]), "kube-apiserver");
        self.binding(Some("kube-system"), "system:controller:bootstrap-signer", ("Role", "system:controller:bootstrap-signer"), sa("kube-system", "bootstrap-signer"), "kube-apiserver");
        self.binding(Some("kube-system"), "system:controller:token-cleaner", ("Role", "system:controller:token-cleaner"), sa("kube-system", "token-cleaner"), "kube-apiserver");
        self.binding(Some("kube-public"), "kubeadm:bootstrap-signer-clusterinfo", ("Role", "kubeadm:bootstrap-signer-clusterinfo"), user("system:anonymous"), "kubeadm");
        self.binding(Some("kube-public"), "system:controller:bootstrap-signer", ("Role", "system:controller:bootstrap-signer"), sa("kube-system", "bootstrap-signer"), "kube-apiserver");

        // The default ClusterRoles and their bindings.
        let defaults = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
        let everything = json!([rule(&["*"], &["*"], &["*"]), {"nonResourceURLs": ["*"], "verbs": ["*"]}]);
        self.role(None, "cluster-admin", everything, defaults.clone(), "kube-apiserver");
        let read = ["get", "list", "watch"];
        let write = ["create", "delete", "deletecollection", "patch", "update"];
        let all: Vec<&str> = read.iter().chain(&write).copied().collect();
        let workloads = ["deployments", "daemonsets", "replicasets", "statefulsets", "deployments/scale", "replicasets/scale", "statefulsets/scale"];
        self.role(None, "admin", json!([rule(&[""], &["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], &read),
            rule(&[""], &["serviceaccounts"], &["impersonate"]), rule(&[""], &["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], &all),
            rule(&[""], &["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "secrets", "serviceaccounts", "services"], &all),
            rule(&["apps"], &workloads, &all), rule(&["batch"], &["cronjobs", "jobs"], &all), rule(&["networking.k8s.io"], &["ingresses", "networkpolicies"], &all),
            rule(&["rbac.authorization.k8s.io"], &["rolebindings", "roles"], &all), rule(&["authorization.k8s.io"], &["localsubjectaccessreviews"], &["create"])]),
            json!({"kubernetes.io/bootstrapping": "rbac-defaults", "rbac.authorization.k8s.io/aggregate-to-edit": "true"}), "kube-apiserver");
        self.role(None, "edit", json!([rule(&[""], &["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], &read),
            rule(&[""], &["serviceaccounts"], &["impersonate"]), rule(&[""], &["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], &all),
            rule(&[""], &["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "secrets", "serviceaccounts", "services"], &all),
            rule(&["apps"], &workloads, &all), rule(&["batch"], &["cronjobs", "jobs"], &all), rule(&["networking.k8s.io"], &["ingresses", "networkpolicies"], &all)]),
            json!({"kubernetes.io/bootstrapping": "rbac-defaults", "rbac.authorization.k8s.io/aggregate-to-admin": "true"}), "kube-apiserver");
        self.role(None, "view", json!([rule(&[""], &["configmaps", "endpoints", "persistentvolumeclaims", "pods", "replicationcontrollers", "serviceaccounts", "services"], &read),
            rule(&[""], &["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status", "resourcequotas"], &read),
            rule(&["apps"], &workloads, &read), rule(&["batch"], &["cronjobs", "jobs"], &read), rule(&["networking.k8s.io"], &["ingresses", "networkpolicies"], &read)]),
            json!({"kubernetes.io/bootstrapping": "rbac-defaults", "rbac.authorization.k8s.io/aggregate-to-edit": "true"}), "kube-apiserver");
        for (name, rules) in [
            ("system:basic-user", json!([rule(&["authorization.k8s.io"], &["selfsubjectaccessreviews", "selfsubjectrulesreviews"], &["create"])])),
            ("system:discovery", json!([{"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"], "verbs": ["get"]}])),
            ("system:public-info-viewer", json!([{"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"], "verbs": ["get"]}])),
            ("system:monitoring", json!([{"nonResourceURLs": ["/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis", "/readyz", "/readyz/*"], "verbs": ["get"]}])),
            ("system:node", json!([rule(&[""], &["nodes"], &["create", "get", "list", "watch", "patch", "update"]), rule(&[""], &["pods"], &["get", "list", "watch", "create", "delete"]),
                rule(&[""], &["configmaps", "secrets"], &["get", "list", "watch"]), rule(&["certificates.k8s.io"], &["certificatesigningrequests"], &["create", "get", "list", "watch"])])),
            ("system:node-proxier", json!([rule(&[""], &["endpoints", "services"], &read), rule(&[""], &["nodes"], &read), rule(&["discovery.k8s.io"], &["endpointslices"], &read)])),
            ("system:node-bootstrapper", json!([rule(&["certificates.k8s.io"], &["certificatesigningrequests"], &["create", "get", "list", "watch"])])),
            ("system:kube-dns", json!([rule(&[""], &["endpoints", "services"], &["list", "watch"])])),
            ("system:coredns", json!([rule(&[""], &["endpoints", "services", "pods", "namespaces"], &["list", "watch"]), rule(&["discovery.k8s.io"], &["endpointslices"], &["list", "watch"])])),
            ("system:kube-scheduler", json!([rule(&[""], &["pods", "nodes", "persistentvolumeclaims", "persistentvolumes"], &read), rule(&[""], &["bindings", "pods/binding"], &["create"]), rule(&["coordination.k8s.io"], &["leases"], &["create", "get", "update"])])),
            ("system:kube-controller-manager", json!([rule(&[""], &["secrets", "serviceaccounts"], &["create", "get", "list", "watch", "update"]), rule(&[""], &["serviceaccounts/token"], &["create"]), rule(&["*"], &["*"], &["list", "watch"])])),
            ("system:volume-scheduler", json!([rule(&[""], &["persistentvolumes"], &["get", "list", "patch", "update", "watch"]), rule(&["storage.k8s.io"], &["storageclasses"], &read)])),
            ("system:certificates.k8s.io:certificatesigningrequests:nodeclient", json!([rule(&["certificates.k8s.io"], &["certificatesigningrequests/nodeclient"], &["create"])])),
            ("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", json!([rule(&["certificates.k8s.io"], &["certificatesigningrequests/selfnodeclient"], &["create"])])),
            ("system:certificates.k8s.io:kube-apiserver-client-kubelet-approver", json!([{"apiGroups": ["certificates.k8s.io"], "resources": ["signers"], "resourceNames": ["kubernetes.io/kube-apiserver-client-kubelet"], "verbs": ["approve"]}])),
            ("system:service-account-issuer-discovery", json!([{"nonResourceURLs": ["/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/"], "verbs": ["get"]}])),
            ("system:auth-delegator", json!([rule(&["authentication.k8s.io"], &["tokenreviews"], &["create"]), rule(&["authorization.k8s.io"], &["subjectaccessreviews"], &["create"])])),
            ("system:heapster", json!([rule(&[""], &["events", "namespaces", "nodes", "pods"], &read), rule(&["extensions"], &["deployments"], &read)])),
            ("system:kubelet-api-admin", json!([rule(&[""], &["nodes"], &["get", "list", "watch", "proxy"]), rule(&[""], &["nodes/log", "nodes/metrics", "nodes/proxy", "nodes/stats"], &["*"])])),
            ("system:aggregate-to-view", json!([rule(&[""], &["configmaps", "endpoints", "persistentvolumeclaims", "pods", "services"], &read)])),
            ("system:aggregate-to-edit", json!([rule(&[""], &["pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], &all)])),
            ("system:aggregate-to-admin", json!([rule(&["authorization.k8s.io"], &["localsubjectaccessreviews"], &["create"]), rule(&["rbac.authorization.k8s.io"], &["rolebindings", "roles"], &all)])),
            ("kubeadm:get-nodes", json!([rule(&[""], &["nodes"], &["get"])])),
        ] {
            let manager = if name.starts_with("kubeadm:") { "kubeadm" } else { "kube-apiserver" };
            self.role(None, name, rules, defaults.clone(), manager);
        }
        for controller in CONTROLLERS.iter().filter(|c| !matches!(**c, "bootstrap-signer" | "token-cleaner")) {
            let rules = match *controller {
                "clusterrole-aggregation-controller" => json!([rule(&["rbac.authorization.k8s.io"], &["clusterroles"], &["escalate", "get", "list", "patch", "update", "watch"])]),
                "generic-garbage-collector" => json!([rule(&["*"], &["*"], &["delete", "get", "list", "patch", "update", "watch"])]),
                "namespace-controller" => json!([rule(&[""], &["namespaces"], &["delete", "get", "list", "watch"]), rule(&["*"], &["*"], &["delete", "deletecollection", "get", "list"])]),
                "resourcequota-controller" => json!([rule(&["*"], &["*"], &["list", "watch"]), rule(&[""], &["resourcequotas/status"], &["update"])]),
                "horizontal-pod-autoscaler" => json!([rule(&["*"], &["*/scale"], &["get", "update"]), rule(&["autoscaling"], &["horizontalpodautoscalers"], &read)]),
                "persistent-volume-binder" => json!([rule(&[""], &["persistentvolumes"], &["create", "delete", "get", "list", "update", "watch"]), rule(&[""], &["pods"], &["create", "delete", "get", "list", "watch"])]),
                "certificate-controller" => json!([rule(&["certificates.k8s.io"], &["certificatesigningrequests/approval", "certificatesigningrequests/status"], &["update"]), {"apiGroups": ["certificates.k8s.io"], "resources": ["signers"], "resourceNames": ["kubernetes.io/kube-apiserver-client-kubelet"], "verbs": ["approve"]}]),
                "daemon-set-controller" | "replicaset-controller" | "statefulset-controller" | "job-controller" | "replication-controller" => {
                    json!([rule(&["apps", "batch"], &["*"], &read), rule(&[""], &["pods"], &["create", "delete", "list", "patch", "watch"]), rule(&[""], &["pods/binding"], &["create"])])
                }
                "service-account-controller" => json!([rule(&[""], &["serviceaccounts"], &["create"])]),
                "root-ca-cert-publisher" => json!([rule(&[""], &["configmaps"], &["create", "update"])]),
                _ => json!([rule(&[""], &["events"], &["create", "patch", "update"]), rule(&[""], &["endpoints", "services", "pods", "nodes"], &read)]),
            };
            self.role(None, &format!("system:controller:{controller}"), rules, defaults.clone(), "kube-apiserver");
        }
        self.binding(None, "cluster-admin", ("ClusterRole", "cluster-admin"), group("system:masters"), "kube-apiserver");
        self.binding(None, "kubeadm:cluster-admins", ("ClusterRole", "cluster-admin"), group("kubeadm:cluster-admins"), "kubeadm");
        self.binding(None, "kubeadm:get-nodes", ("ClusterRole", "kubeadm:get-nodes"), group("system:bootstrappers:kubeadm:default-node-token"), "kubeadm");
        self.binding(None, "kubeadm:kubelet-bootstrap", ("ClusterRole", "system:node-bootstrapper"), group("system:bootstrappers:kubeadm:default-node-token"), "kubeadm");
        self.binding(None, "kubeadm:node-autoapprove-bootstrap", ("ClusterRole", "system:certificates.k8s.io:certificatesigningrequests:nodeclient"), group("system:bootstrappers:kubeadm:default-node-token"), "kubeadm");
        self.binding(None, "kubeadm:node-autoapprove-certificate-rotation", ("ClusterRole", "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"), group("system:nodes"), "kubeadm");
        self.binding(None, "kubeadm:node-proxier", ("ClusterRole", "system:node-proxier"), sa("kube-system", "kube-proxy"), "kubeadm");
        self.binding(None, "system:basic-user", ("ClusterRole", "system:basic-user"), group("system:authenticated"), "kube-apiserver");
        self.binding(None, "system:discovery", ("ClusterRole", "system:discovery"), group("system:authenticated"), "kube-apiserver");
        self.binding(None, "system:public-info-viewer", ("ClusterRole", "system:public-info-viewer"), json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}, {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:unauthenticated"}]), "kube-apiserver");
        self.binding(None, "system:monitoring", ("ClusterRole", "system:monitoring"), group("system:monitoring"), "kube-apiserver");
        self.binding(None, "system:coredns", ("ClusterRole", "system:coredns"), sa("kube-system", "coredns"), "kubeadm");
        self.binding(None, "system:kube-controller-manager", ("ClusterRole", "system:kube-controller-manager"), user("system:kube-controller-manager"), "kube-apiserver");
        self.binding(None, "system:kube-scheduler", ("ClusterRole", "system:kube-scheduler"), user("system:kube-scheduler"), "kube-apiserver");
        self.binding(None, "system:kube-dns", ("ClusterRole", "system:kube-dns"), sa("kube-system", "kube-dns"), "kube-apiserver");
        self.binding(None, "system:node-proxier", ("ClusterRole", "system:node-proxier"), user("system:kube-proxy"), "kube-apiserver");
        self.binding(None, "system:service-account-issuer-discovery", ("ClusterRole", "system:service-account-issuer-discovery"), group("system:serviceaccounts"), "kube-apiserver");
        self.binding(None, "system:volume-scheduler", ("ClusterRole", "system:volume-scheduler"), user("system:kube-scheduler"), "kube-apiserver");
        for controller in CONTROLLERS.iter().filter(|c| !matches!(**c, "bootstrap-signer" | "token-cleaner")) {
            let name = format!("system:controller:{controller}");
            self.binding(None, &name, ("ClusterRole", &name), sa("kube-system", controller), "kube-apiserver");
        }

        // The CNI: flannel, a DaemonSet with host networking and NET_ADMIN.
        self.namespace("kube-flannel", json!({"pod-security.kubernetes.io/enforce": "privileged"}));
        self.service_account("kube-flannel", "flannel", Value::Null, None);
        self.config_map("kube-flannel", "kube-flannel-cfg", json!({"app": "flannel", "tier": "node"}), json!({"cni-conf.json": "{\n  \"name\": \"cbr0\",\n  \"cniVersion\": \"0.3.1\",\n  \"plugins\": [\n    {\n      \"type\": \"flannel\",\n      \"delegate\": {\n        \"hairpinMode\": true,\n        \"isDefaultGateway\": true\n      }\n    },\n    {\n      \"type\": \"portmap\",\n      \"capabilities\": {\n        \"portMappings\": true\n      }\n    }\n  ]\n}\n", "net-conf.json": "{\n  \"Network\": \"10.244.0.0/16\",\n  \"EnableNFTables\": false,\n  \"Backend\": {\n    \"Type\": \"vxlan\"\n  }\n}\n"}), "kubectl-client-side-apply");
        self.role(None, "flannel", json!([rule(&[""], &["pods"], &["get"]), rule(&[""], &["nodes"], &["get", "list", "watch"]), rule(&[""], &["nodes/status"], &["patch"])]), json!({"k8s-app": "flannel"}), "kubectl-client-side-apply");
        self.binding(None, "flannel", ("ClusterRole", "flannel"), sa("kube-flannel", "flannel"), "kubectl-client-side-apply");
        let flannel = self.container("kube-flannel", "ghcr.io/flannel-io/flannel:v0.26.1",
            json!({"privileged": false, "capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}}),
            json!({"requests": {"cpu": "100m", "memory": "50Mi"}}), false, None,
            vec![json!({"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}), json!({"name": "EVENT_QUEUE_DEPTH", "value": "5000"})],
            vec![json!({"name": "run", "mountPath": "/run/flannel"}), json!({"name": "flannel-cfg", "mountPath": "/etc/kube-flannel/"}), json!({"name": "xtables-lock", "mountPath": "/run/xtables.lock"})]);
        let flannel_template = json!({"volumes": [{"name": "run", "hostPath": {"path": "/run/flannel", "type": ""}}, {"name": "cni-plugin", "hostPath": {"path": "/opt/cni/bin", "type": ""}},
                {"name": "cni", "hostPath": {"path": "/etc/cni/net.d", "type": ""}}, {"name": "flannel-cfg", "configMap": {"name": "kube-flannel-cfg", "defaultMode": 420}},
                {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}}],
            "containers": [flannel], "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst", "serviceAccountName": "flannel",
            "serviceAccount": "flannel", "hostNetwork": true, "securityContext": {}, "schedulerName": "default-scheduler", "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
            "priorityClassName": "system-node-critical", "priority": 2000001000});
        self.daemon_set("kube-flannel", "kube-flannel-ds", json!({"app": "flannel", "k8s-app": "flannel", "tier": "node"}), flannel_template, "kubectl-client-side-apply");

        // Monitoring: node-exporter on every node (host namespaces and paths), Prometheus.
        self.namespace("monitoring", json!({"pod-security.kubernetes.io/enforce": "privileged"}));
        self.service_account("monitoring", "node-exporter", Value::Null, Some(false));
        self.service_account("monitoring", "prometheus", Value::Null, None);
        let exporter = self.container("node-exporter", "quay.io/prometheus/node-exporter:v1.8.2",
            json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": true}),
            json!({"limits": {"cpu": "250m", "memory": "180Mi"}, "requests": {"cpu": "102m", "memory": "180Mi"}}), false, Some(9100), Vec::new(),
            vec![json!({"name": "proc", "mountPath": "/host/proc", "readOnly": true}), json!({"name": "sys", "mountPath": "/host/sys", "readOnly": true}), json!({"name": "root", "mountPath": "/host/root", "readOnly": true, "mountPropagation": "HostToContainer"})]);
        let exporter_template = json!({"volumes": [{"name": "proc", "hostPath": {"path": "/proc", "type": ""}}, {"name": "sys", "hostPath": {"path": "/sys", "type": ""}}, {"name": "root", "hostPath": {"path": "/", "type": ""}}],
            "containers": [exporter], "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst", "nodeSelector": {"kubernetes.io/os": "linux"},
            "serviceAccountName": "node-exporter", "serviceAccount": "node-exporter", "automountServiceAccountToken": false, "hostNetwork": true, "hostPID": true,
            "securityContext": {"runAsNonRoot": true, "runAsUser": 65534, "runAsGroup": 65534}, "schedulerName": "default-scheduler", "tolerations": [{"operator": "Exists"}],
            "priorityClassName": "system-node-critical", "priority": 2000001000});
        self.daemon_set("monitoring", "node-exporter", json!({"app.kubernetes.io/name": "node-exporter", "app.kubernetes.io/part-of": "kube-prometheus"}), exporter_template, "kubectl-client-side-apply");
        self.role(None, "prometheus", json!([rule(&[""], &["nodes", "nodes/metrics", "services", "endpoints", "pods"], &read), rule(&["discovery.k8s.io"], &["endpointslices"], &read), {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]), Value::Null, "kubectl-client-side-apply");
        self.binding(None, "prometheus", ("ClusterRole", "prometheus"), sa("monitoring", "prometheus"), "kubectl-client-side-apply");
        let mut prometheus_template = self.pod_template(Profile::Hardened, "monitoring", "prometheus", "Always", None);
        prometheus_template["containers"][0]["image"] = json!("quay.io/prometheus/prometheus:v2.54.1");
        let pods = self.stateful_set("monitoring", "prometheus", json!({"app.kubernetes.io/name": "prometheus"}), prometheus_template, if self.nodes.len() > 10 { 2 } else { 1 });
        self.service("monitoring", "prometheus", json!({"app.kubernetes.io/name": "prometheus"}), json!({"app.kubernetes.io/name": "prometheus"}), "ClusterIP", false, &pods);

        // The ingress controller: a LoadBalancer Service and its admission webhook.
        self.namespace("ingress-nginx", json!({"app.kubernetes.io/name": "ingress-nginx"}));
        self.service_account("ingress-nginx", "ingress-nginx", json!({"app.kubernetes.io/name": "ingress-nginx"}), Some(true));
        self.config_map("ingress-nginx", "ingress-nginx-controller", json!({"app.kubernetes.io/name": "ingress-nginx"}), json!({"allow-snippet-annotations": "false", "use-forwarded-headers": "true"}), "helm");
        self.role(None, "ingress-nginx", json!([rule(&[""], &["configmaps", "endpoints", "nodes", "pods", "secrets", "namespaces"], &["list", "watch"]), rule(&["networking.k8s.io"], &["ingresses", "ingressclasses"], &read), rule(&["networking.k8s.io"], &["ingresses/status"], &["update"])]), json!({"app.kubernetes.io/name": "ingress-nginx"}), "helm");
        self.binding(None, "ingress-nginx", ("ClusterRole", "ingress-nginx"), sa("ingress-nginx", "ingress-nginx"), "helm");
        let mut controller = self.container("controller", "registry.k8s.io/ingress-nginx/controller:v1.11.3@sha256:d56f135b6462cfc476447cfe564b83a45e8bb7da2774963b00d12161112270b7",
            json!({"allowPrivilegeEscalation": false, "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}, "readOnlyRootFilesystem": false, "runAsNonRoot": true, "runAsUser": 101, "seccompProfile": {"type": "RuntimeDefault"}}),
            json!({"requests": {"cpu": "100m", "memory": "90Mi"}}), true, Some(80), vec![json!({"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}})], Vec::new());
        controller["args"] = json!(["/nginx-ingress-controller", "--publish-service=$(POD_NAMESPACE)/ingress-nginx-controller", "--election-id=ingress-nginx-leader", "--controller-class=k8s.io/ingress-nginx", "--validating-webhook=:8443"]);
        let controller_template = json!({"containers": [controller], "restartPolicy": "Always", "terminationGracePeriodSeconds": 300, "dnsPolicy": "ClusterFirst",
            "nodeSelector": {"kubernetes.io/os": "linux"}, "serviceAccountName": "ingress-nginx", "serviceAccount": "ingress-nginx", "securityContext": {}, "schedulerName": "default-scheduler"});
        let pods = self.deployment("ingress-nginx", "ingress-nginx-controller", json!({"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}), controller_template, 2, true);
        self.service("ingress-nginx", "ingress-nginx-controller", json!({"app.kubernetes.io/name": "ingress-nginx"}), json!({"app.kubernetes.io/name": "ingress-nginx-controller"}), "LoadBalancer", false, &pods);
        let meta = self.meta(None, "ingress-nginx-admission", json!({"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "admission-webhook"}), Value::Null);
        let webhook = json!([{"name": "validate.nginx.ingress.kubernetes.io", "clientConfig": {"service": {"namespace": "ingress-nginx", "name": "ingress-nginx-controller-admission", "path": "/networking/v1/ingresses", "port": 443}, "caBundle": self.rng.hex(200)},
            "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": ["networking.k8s.io"], "apiVersions": ["v1"], "resources": ["ingresses"], "scope": "*"}],
            "failurePolicy": "Fail", "matchPolicy": "Equivalent", "namespaceSelector": {}, "objectSelector": {}, "sideEffects": "None", "timeoutSeconds": 10, "admissionReviewVersions": ["v1"]}]);
        self.add("ValidatingWebhookConfiguration", meta, vec![("webhooks", webhook)], "helm", None);
    }

    /// The ServiceAccount a pod template names, unless it is `default` or made already.
    fn ensure_service_account(&mut self, namespace: &str, template: &Value, made: &mut Vec<String>, profile: Profile) {
        let name = template["serviceAccountName"].as_str().unwrap().to_owned();
        if name != "default" && !made.contains(&name) {
            self.service_account(namespace, &name, json!({"app.kubernetes.io/name": name}), (profile == Profile::Hardened).then_some(false));
            made.push(name);
        }
    }

    /// An application namespace: its profile, workloads, services, configuration, RBAC and
    /// network policies. Returns its name.
    fn app_namespace(&mut self, index: usize) -> String {
        let team = TEAMS[index % TEAMS.len()];
        let environment = ENVIRONMENTS[index / TEAMS.len() % ENVIRONMENTS.len()];
        let round = index / (TEAMS.len() * ENVIRONMENTS.len());
        let namespace = if round == 0 { format!("{team}-{environment}") } else { format!("{team}-{environment}-{round}") };
        let roll = self.rng.range(0, 99);
        let profile = if roll < 35 {
            Profile::Hardened
        } else if roll < 85 {
            Profile::Typical
        } else {
            Profile::Risky
        };
        let mut labels = json!({"team": team, "environment": environment});
        match profile {
            Profile::Hardened => {
                labels["pod-security.kubernetes.io/enforce"] = json!("restricted");
                labels["pod-security.kubernetes.io/enforce-version"] = json!("latest");
            }
            Profile::Typical if self.rng.chance(0.5) => {
                labels["pod-security.kubernetes.io/enforce"] = json!("baseline");
                labels["pod-security.kubernetes.io/warn"] = json!("restricted");
            }
            _ => {}
        }
        self.namespace(&namespace, labels);
        let helm = self.rng.chance(0.4);
        let apps = self.rng.range(1, 8) as usize;
        let start = self.rng.range(0, APPS.len() as u64 - 1) as usize;
        let mut web_apps = Vec::new();
        let mut service_accounts = Vec::new();
        for n in 0..apps {
            let app = APPS[(start + n) % APPS.len()];
            let labels = json!({"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": team, "app.kubernetes.io/managed-by": if helm { "Helm" } else { "kubectl" }});
            let config = self.rng.chance(0.7).then(|| format!("{app}-config"));
            if let Some(config) = &config {
                let mut data = json!({"application.yaml": format!("server:\n  port: 8080\n  shutdown: graceful\nlogging:\n  level: info\nfeatures:\n  cache: {}\n  tracing: true\nupstream:\n  url: http://{}.{namespace}.svc.cluster.local\n  timeout: 5s\n", self.rng.chance(0.5), APPS[(start + n + 1) % APPS.len()])});
                if profile == Profile::Risky && self.rng.chance(0.5) {
                    data["DB_PASSWORD"] = json!("Summer2024!prod");
                    data["AWS_SECRET_ACCESS_KEY"] = json!("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
                }
                self.config_map(&namespace, config, labels.clone(), data, if helm { "helm" } else { "kubectl-client-side-apply" });
            }
            let template = self.pod_template(profile, team, app, "Always", config.as_deref());
            self.ensure_service_account(&namespace, &template, &mut service_accounts, profile);
            let replicas = match environment {
                "prod" => self.rng.range(2, 4),
                _ => self.rng.range(1, 2),
            };
            let pods = self.deployment(&namespace, app, labels.clone(), template, replicas, helm);
            let service_type = match (profile, self.rng.range(0, 9)) {
                (Profile::Risky, 0..=2) => "NodePort",
                (Profile::Risky | Profile::Typical, 3) => "LoadBalancer",
                _ => "ClusterIP",
            };
            self.service(&namespace, app, labels.clone(), json!({"app.kubernetes.io/name": app, "app.kubernetes.io/instance": app}), service_type, false, &pods);
            if replicas > 1 && self.rng.chance(0.6) {
                let mut meta = self.meta(Some(&namespace), app, labels.clone(), Value::Null);
                meta.insert("generation".into(), json!(1));
                let spec = json!({"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": app}}});
                let status = json!({"observedGeneration": 1, "disruptionsAllowed": replicas - 1, "currentHealthy": replicas, "desiredHealthy": 1, "expectedPods": replicas,
                    "conditions": [{"type": "DisruptionAllowed", "status": "True", "reason": "SufficientPods", "message": "", "observedGeneration": 1, "lastTransitionTime": timestamp(self.clock)}]});
                self.add("PodDisruptionBudget", meta, vec![("spec", spec), ("status", status)], "kubectl-client-side-apply", Some("kube-controller-manager"));
            }
            if matches!(app, "web" | "frontend" | "api" | "gateway" | "graphql" | "webhooks" | "admin") {
                web_apps.push(app);
            }
        }
        for app in &web_apps {
            if !self.rng.chance(0.7) {
                continue;
            }
            let host = format!("{app}.{namespace}.example.com");
            let mut meta = self.meta(Some(&namespace), app, Value::Null, json!({"cert-manager.io/cluster-issuer": "letsencrypt"}));
            meta.insert("generation".into(), json!(1));
            let mut spec = json!({"ingressClassName": "nginx", "rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": app, "port": {"name": "http"}}}}]}}]});
            if profile != Profile::Risky && self.rng.chance(0.8) {
                spec["tls"] = json!([{"hosts": [host], "secretName": format!("{app}-tls")}]);
            }
            let status = json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}});
            self.add("Ingress", meta, vec![("spec", spec), ("status", status)], "kubectl-client-side-apply", Some("nginx-ingress-controller"));
        }
        if self.rng.chance(0.3) {
            let name = if self.rng.chance(0.5) { "postgres" } else { "redis" };
            let mut template = self.pod_template(profile, team, name, "Always", None);
            self.ensure_service_account(&namespace, &template, &mut service_accounts, profile);
            let image = if name == "postgres" { "postgres:16.4" } else { "redis:7.2.5" };
            template["containers"][0]["image"] = json!(image);
            let labels = json!({"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": team});
            let pods = self.stateful_set(&namespace, name, labels.clone(), template, if environment == "prod" { 3 } else { 1 });
            self.service(&namespace, name, labels, json!({"app.kubernetes.io/name": name}), "ClusterIP", true, &pods);
        }
        if self.rng.chance(0.35) {
            let name = *self.rng.pick(&["nightly-report", "cleanup", "backup", "sync-catalog"]);
            let template = self.pod_template(profile, team, name, "OnFailure", None);
            self.ensure_service_account(&namespace, &template, &mut service_accounts, profile);
            self.cron_job(&namespace, name, json!({"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": team}), template);
        }
        // Network policies.
        match profile {
            Profile::Hardened => {
                self.network_policy(&namespace, "default-deny", json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}));
                self.network_policy(&namespace, "allow-dns", json!({"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}], "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}));
                for app in &web_apps {
                    self.network_policy(&namespace, &format!("allow-ingress-{app}"), json!({"podSelector": {"matchLabels": {"app.kubernetes.io/name": app}}, "policyTypes": ["Ingress"],
                        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}], "ports": [{"protocol": "TCP", "port": 8080}]}]}));
                }
            }
            Profile::Typical if self.rng.chance(0.5) => {
                self.network_policy(&namespace, "allow-same-namespace", json!({"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {}}]}]}));
            }
            Profile::Risky if self.rng.chance(0.5) => {
                self.network_policy(&namespace, "allow-all", json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [{}], "egress": [{}]}));
            }
            _ => {}
        }
        // RBAC.
        let rule = |groups: &[&str], resources: &[&str], verbs: &[&str]| json!({"apiGroups": groups, "resources": resources, "verbs": verbs});
        for account in service_accounts.clone() {
            if self.rng.chance(0.5) {
                let role = format!("{account}-config-reader");
                self.role(Some(&namespace), &role, json!([rule(&[""], &["configmaps"], &["get", "list", "watch"])]), Value::Null, "kubectl-client-side-apply");
                self.binding(Some(&namespace), &role, ("Role", &role), json!([{"kind": "ServiceAccount", "name": account, "namespace": namespace}]), "kubectl-client-side-apply");
            }
        }
        let developers = json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": format!("{team}-developers")}]);
        match profile {
            Profile::Hardened => self.binding(Some(&namespace), "developers-view", ("ClusterRole", "view"), developers, "kubectl-client-side-apply"),
            Profile::Typical => self.binding(Some(&namespace), "developers-edit", ("ClusterRole", "edit"), developers, "kubectl-client-side-apply"),
            Profile::Risky => {
                self.role(Some(&namespace), "ops", json!([rule(&["*"], &["*"], &["*"])]), Value::Null, "kubectl-client-side-apply");
                self.binding(Some(&namespace), "ops", ("Role", "ops"), developers, "kubectl-client-side-apply");
                self.role(Some(&namespace), "secret-reader", json!([rule(&[""], &["secrets"], &["get", "list", "watch"])]), Value::Null, "kubectl-client-side-apply");
                self.binding(Some(&namespace), "ci-secrets", ("Role", "secret-reader"), json!([{"kind": "ServiceAccount", "name": "default", "namespace": namespace}]), "kubectl-client-side-apply");
            }
        }
        namespace
    }
}

/// The kube-controller-manager's controllers, each with a ServiceAccount in kube-system and
/// (but for the two with Roles) a `system:controller:` ClusterRole and binding.
const CONTROLLERS: &[&str] = &[
    "attachdetach-controller", "bootstrap-signer", "certificate-controller", "clusterrole-aggregation-controller", "cronjob-controller",
    "daemon-set-controller", "deployment-controller", "disruption-controller", "endpoint-controller", "endpointslice-controller",
    "endpointslicemirroring-controller", "ephemeral-volume-controller", "expand-controller", "generic-garbage-collector",
    "horizontal-pod-autoscaler", "job-controller", "legacy-service-account-token-cleaner", "namespace-controller", "node-controller",
    "persistent-volume-binder", "pod-garbage-collector", "pv-protection-controller", "pvc-protection-controller", "replicaset-controller",
    "replication-controller", "resourcequota-controller", "root-ca-cert-publisher", "service-account-controller", "service-cidrs-controller",
    "statefulset-controller", "token-cleaner", "ttl-after-finished-controller", "ttl-controller", "validatingadmissionpolicy-status-controller",
];
