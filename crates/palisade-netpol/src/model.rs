//! The NetworkPolicy model: namespaces, workloads (anything with a pod template) and policies,
//! read from objects with the API's defaults applied.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use palisade_core::{Node, Object, PodView};
use rayon::prelude::*;

use crate::ports::Protocol;
use palisade_core::{LabelSelector, Labels, Problem, labels_of, project};

/// The label the API server puts on every namespace (Kubernetes 1.22+), so policies can select
/// a namespace by name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Where objects without `metadata.namespace` land when applied without `-n`.
pub const DEFAULT_NAMESPACE: &str = "default";

#[derive(Clone, Debug)]
pub struct Workload<'a> {
    pub object: &'a Object,
    pub namespace: String,
    pub kind: String,
    pub name: String,
    /// The pod template's labels: what policy selectors see.
    pub labels: Labels,
    /// Ports declared by the regular containers; named ports resolve against these.
    pub ports: Vec<ContainerPort>,
    /// `serviceAccountName` of the pod template (`default` when unset).
    pub service_account: String,
    /// The labels Cilium gives the pods: the template's, plus their namespace, service account,
    /// cluster and namespace labels (see [`cilium::labels`]). Set once namespaces are known.
    pub cilium_labels: Labels,
    /// The pods' IP addresses, where the input has them (`status.podIP`/`podIPs` of Pods in a
    /// cluster scan or dump; a controller carries the addresses of the pods it owns).
    pub ips: Vec<IpAddr>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
}

#[derive(Clone, Debug)]
pub struct Policy<'a> {
    /// `None` for policies Palisade adds itself (the default-deny what-if).
    pub object: Option<&'a Object>,
    pub namespace: String,
    pub name: String,
    pub flavor: Flavor,
    /// `podSelector`, or Cilium's `endpointSelector`. `None` when the selector is invalid (or a
    /// Cilium `nodeSelector`, as nodes are not modelled): the policy then selects nothing.
    pub pod_selector: Option<LabelSelector>,
    /// The allow rules for ingress, `Some` when the policy has an ingress section (for a
    /// NetworkPolicy: when it isolates selected pods for ingress).
    pub ingress: Option<Vec<NetRule>>,
    pub egress: Option<Vec<NetRule>>,
    /// Cilium's `ingressDeny` and `egressDeny`: what they match is dropped whatever allows it.
    pub ingress_deny: Vec<NetRule>,
    pub egress_deny: Vec<NetRule>,
    /// Whether the policy puts the pods it selects in default deny, per direction.
    pub default_deny: DefaultDeny,
}

/// Which API a policy comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    NetworkPolicy,
    /// `CiliumNetworkPolicy`: selects endpoints of its own namespace.
    Cilium,
    /// `CiliumClusterwideNetworkPolicy`: selects endpoints of every namespace.
    CiliumClusterwide,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DefaultDeny {
    pub ingress: bool,
    pub egress: bool,
}

/// One ingress or egress rule: traffic matches when it matches any peer (or `peers` is empty)
/// and any port (or `ports` is empty).
#[derive(Clone, Debug)]
pub struct NetRule {
    /// Pointer to the rule inside the policy, e.g. `/spec/ingress/0`.
    pub pointer: String,
    pub peers: Vec<Peer>,
    pub ports: Vec<PortRule>,
    /// Cilium's layer-7 rules (HTTP, DNS, Kafka), described: the rule allows only these
    /// requests on its ports. Empty for layer 3/4 rules.
    pub l7: Vec<String>,
}

#[derive(Clone, Debug)]
pub enum Peer {
    /// `podSelector` and/or `namespaceSelector`; both given means both must match.
    Pods { namespaces: Option<LabelSelector>, pods: Option<LabelSelector> },
    /// An `ipBlock`, or a Cilium CIDR rule: addresses outside the cluster.
    Block(IpBlock),
    /// Cilium's `fromEndpoints`/`toEndpoints`: the selector matches Cilium's labels of a pod;
    /// `namespace` is the one a namespaced policy's selector is confined to (absent when the
    /// selector names `io.kubernetes.pod.namespace`, or the policy is clusterwide).
    Endpoints { selector: LabelSelector, namespace: Option<String> },
    /// Cilium's `fromEntities`/`toEntities`.
    Entity(Entity),
    /// Cilium's `toFQDNs`: `matchName` or `matchPattern`, lower-cased.
    Fqdn(FqdnMatch),
    /// Cilium's `toServices`: the endpoint addresses of the services without a selector that
    /// it names.
    Service(ServiceRef),
    /// A Cilium rule with neither peers nor ports: it matches no traffic.
    Nobody,
    /// A peer the API server would reject (no field, bad selector, bad CIDR): matches nothing.
    Invalid,
}

/// Cilium's entities: groups of endpoints a rule can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Entity {
    /// Everything outside the cluster.
    World,
    /// Every endpoint of the local cluster: pods, the nodes, the API server, health and init.
    Cluster,
    /// The local node.
    Host,
    /// The other nodes of the cluster.
    RemoteNode,
    KubeApiserver,
    Health,
    Init,
    Ingress,
    Unmanaged,
    All,
}

/// A `toFQDNs` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FqdnMatch {
    Name(String),
    /// `*` stands for any characters but dots; `*` alone for every name.
    Pattern(String),
}

/// A `toServices` entry: `k8sService` (by name) or `k8sServiceSelector` (by the service's
/// labels), in one namespace or, without one, in any.
#[derive(Clone, Debug)]
pub struct ServiceRef {
    pub namespace: Option<String>,
    pub target: ServiceTarget,
}

#[derive(Clone, Debug)]
pub enum ServiceTarget {
    Name(String),
    Labels(LabelSelector),
}

impl ServiceRef {
    pub fn matches(&self, service: &Service) -> bool {
        self.namespace.as_ref().is_none_or(|namespace| *namespace == service.namespace)
            && match &self.target {
                ServiceTarget::Name(name) => *name == service.name,
                ServiceTarget::Labels(selector) => selector.matches(&service.labels),
            }
    }
}

/// A Service as Cilium's `toServices` sees it: its labels, whether it selects pods, and the
/// addresses of its ready endpoints (from its Endpoints and EndpointSlices).
#[derive(Clone, Debug)]
pub struct Service {
    pub namespace: String,
    pub name: String,
    pub labels: Labels,
    pub selects_pods: bool,
    pub addresses: Vec<IpAddr>,
}

#[derive(Clone, Debug)]
pub struct IpBlock {
    pub cidr: Cidr,
    pub except: Vec<Cidr>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortRule {
    pub protocol: Protocol,
    pub port: Option<PortRef>,
    /// With a numeric `port`, the last port of the range.
    pub end_port: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

/// Every namespace, workload and policy of the input.
#[derive(Clone, Debug, Default)]
pub struct Network<'a> {
    /// Every namespace named by a Namespace object, a workload or a policy, with its labels.
    pub namespaces: BTreeMap<String, Labels>,
    /// The Namespace objects present in the input.
    pub namespace_objects: BTreeMap<String, &'a Object>,
    pub workloads: Vec<Workload<'a>>,
    pub policies: Vec<Policy<'a>>,
    /// Services with their endpoint addresses, for Cilium's `toServices`.
    pub services: Vec<Service>,
    pub problems: Vec<Problem<'a>>,
    /// Whether the input holds Cilium policies: Cilium then enforces the NetworkPolicies too,
    /// and their selectors see the labels Cilium gives pods.
    pub cilium: bool,
}

impl Cidr {
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = text.split_once('/')?;
        let addr: IpAddr = addr.parse().ok()?;
        let prefix: u8 = prefix.parse().ok()?;
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= bits).then_some(Self { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_matches(u128::from(u32::from(net)) << 96, u128::from(u32::from(ip)) << 96, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_matches(u128::from(net), u128::from(ip), self.prefix),
            _ => false,
        }
    }
}

fn prefix_matches(net: u128, ip: u128, prefix: u8) -> bool {
    let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix)) };
    net & mask == ip & mask
}

impl IpBlock {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.cidr.contains(ip) && !self.except.iter().any(|except| except.contains(ip))
    }
}

impl Policy<'_> {
    /// Whether the policy selects `workload`; `cilium` says whether Cilium enforces it (its
    /// selectors then see the labels Cilium adds).
    pub fn selects(&self, workload: &Workload<'_>, cilium: bool) -> bool {
        let labels = if cilium { &workload.cilium_labels } else { &workload.labels };
        (self.flavor == Flavor::CiliumClusterwide || self.namespace == workload.namespace)
            && self.pod_selector.as_ref().is_some_and(|selector| selector.matches(labels))
    }

    /// Whether the pods the policy selects are in default deny for `direction`.
    pub fn isolates(&self, direction: Direction) -> bool {
        match direction {
            Direction::Ingress => self.default_deny.ingress,
            Direction::Egress => self.default_deny.egress,
        }
    }

    /// The deny rules for one direction (only Cilium policies have any).
    pub fn deny_rules(&self, direction: Direction) -> &[NetRule] {
        match direction {
            Direction::Ingress => &self.ingress_deny,
            Direction::Egress => &self.egress_deny,
        }
    }

    /// Every peer of its allow and deny rules, both directions.
    pub fn peers(&self) -> impl Iterator<Item = &Peer> {
        Direction::BOTH
            .into_iter()
            .flat_map(move |direction| self.rules(direction).unwrap_or_default().iter().chain(self.deny_rules(direction)))
            .flat_map(|rule| &rule.peers)
    }

    /// The rules for one direction, when the policy isolates that direction.
    pub fn rules(&self, direction: Direction) -> Option<&[NetRule]> {
        match direction {
            Direction::Ingress => self.ingress.as_deref(),
            Direction::Egress => self.egress.as_deref(),
        }
    }

    /// A policy made by Palisade that isolates every pod of `namespace` in both directions
    /// and allows nothing: what a default-deny would add.
    pub fn default_deny(namespace: &str) -> Self {
        Policy {
            object: None,
            namespace: namespace.to_owned(),
            name: "palisade-default-deny".to_owned(),
            flavor: Flavor::NetworkPolicy,
            pod_selector: Some(LabelSelector::everything()),
            ingress: Some(Vec::new()),
            egress: Some(Vec::new()),
            ingress_deny: Vec::new(),
            egress_deny: Vec::new(),
            default_deny: DefaultDeny { ingress: true, egress: true },
        }
    }
}

impl NetRule {
    /// Whether this rule admits every peer on every port.
    pub fn allows_everything(&self) -> bool {
        (self.peers.is_empty() || self.peers.iter().any(|peer| matches!(peer, Peer::Entity(Entity::All)))) && self.ports.is_empty() && self.l7.is_empty()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub const BOTH: [Direction; 2] = [Self::Ingress, Self::Egress];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ingress => "ingress",
            Self::Egress => "egress",
        }
    }
}

/// The part of an object the network model reads, positions kept, or `None` when it reads
/// nothing of it.
pub fn retain(object: &Object) -> Option<Object> {
    const IDENTITY: [&[&str]; 4] = [&["apiVersion"], &["kind"], &["metadata", "name"], &["metadata", "namespace"]];
    if object.is(&[""], "Namespace") {
        let mut paths = IDENTITY.to_vec();
        paths.push(&["metadata", "labels"]);
        return Some(project(object, &paths));
    }
    if object.is(&["networking.k8s.io"], "NetworkPolicy") {
        let mut paths = IDENTITY.to_vec();
        paths.push(&["spec"]);
        return Some(project(object, &paths));
    }
    if crate::cilium::is_policy(object) {
        let mut paths = IDENTITY.to_vec();
        paths.extend([&["spec"][..], &["specs"]]);
        return Some(project(object, &paths));
    }
    if object.is(&[""], "Service") || object.is(&[""], "Endpoints") || object.is(&["discovery.k8s.io"], "EndpointSlice") {
        let mut paths = IDENTITY.to_vec();
        paths.extend([&["metadata", "labels"][..], &["spec", "selector"], &["subsets"], &["endpoints"]]);
        return Some(project(object, &paths));
    }
    let pod = PodView::of(object).filter(|_| object.kind() != "PodTemplate")?;
    let metadata: Vec<&str> = pointer_keys(pod.metadata_pointer);
    let containers: Vec<&str> = pointer_keys(pod.spec_pointer).into_iter().chain(["containers", "*"]).collect();
    let labels = [metadata.as_slice(), &["labels"]].concat();
    let names = [containers.as_slice(), &["name"]].concat();
    let ports = [containers.as_slice(), &["ports"]].concat();
    let service_account = [pointer_keys(pod.spec_pointer).as_slice(), &["serviceAccountName"]].concat();
    let mut paths = IDENTITY.to_vec();
    paths.extend([&["metadata", "ownerReferences"][..], &labels, &names, &ports, &service_account, &["status", "podIP"], &["status", "podIPs"]]);
    Some(project(object, &paths))
}

/// `/spec/template/metadata` → `["spec", "template", "metadata"]` (pod pointers never need
/// escaping).
fn pointer_keys(pointer: &'static str) -> Vec<&'static str> {
    pointer.split('/').skip(1).collect()
}

impl<'a> Network<'a> {
    pub fn from_objects(objects: &'a [Object]) -> Self {
        // Each object is read on its own, on every core; the model is then put together in
        // input order, so problems and policies keep the order of the input.
        let read: Vec<(Item<'a>, Vec<Problem<'a>>)> = objects
            .par_iter()
            .map(|object| {
                let mut reader = Reader::default();
                let item = reader.item(object);
                (item, reader.problems)
            })
            .collect();
        let mut network = Network::default();
        let mut candidates = Vec::new();
        let mut endpoints = Vec::new();
        for (item, mut problems) in read {
            network.problems.append(&mut problems);
            match item {
                Item::Namespace { object, labels } => {
                    network.namespaces.insert(object.name().to_owned(), labels);
                    network.namespace_objects.insert(object.name().to_owned(), object);
                }
                Item::Policy(policy) => network.policies.push(policy),
                Item::CiliumPolicies(mut policies) => {
                    network.cilium = true;
                    network.policies.append(&mut policies);
                }
                Item::Workload(workload) => candidates.push(workload),
                Item::Service(service) => network.services.push(service),
                Item::Endpoints { namespace, service, addresses } => endpoints.push((namespace, service, addresses)),
                Item::Other => {}
            }
        }
        for (namespace, name, addresses) in endpoints {
            if let Some(service) = network.services.iter_mut().find(|service| service.namespace == namespace && service.name == name) {
                service.addresses.extend(addresses);
                service.addresses.sort();
                service.addresses.dedup();
            }
        }
        network.workloads = without_owned(candidates);
        let implied: BTreeSet<String> = network
            .workloads
            .iter()
            .map(|workload| workload.namespace.clone())
            .chain(network.policies.iter().map(|policy| policy.namespace.clone()))
            .collect();
        for name in implied {
            network.namespaces.entry(name).or_default();
        }
        for (name, labels) in &mut network.namespaces {
            labels.insert(NAMESPACE_NAME_LABEL.to_owned(), name.clone());
        }
        for workload in &mut network.workloads {
            let namespace_labels = network.namespaces.get(&workload.namespace).cloned().unwrap_or_default();
            workload.cilium_labels = crate::cilium::labels(workload, &namespace_labels);
        }
        network
    }

    /// The labels of `namespace` (empty if it is unknown).
    pub fn namespace_labels(&self, namespace: &str) -> Option<&Labels> {
        self.namespaces.get(namespace)
    }

    /// The policies that select `workload`, with their indices.
    pub fn selecting(&self, workload: &Workload<'_>) -> impl Iterator<Item = (usize, &Policy<'a>)> {
        let cilium = self.cilium;
        self.policies.iter().enumerate().filter(move |(_, policy)| policy.selects(workload, cilium))
    }

    /// The policy that isolates every pod of `namespace` for `direction` without allowing
    /// everything back: a default-deny, or a namespace-wide allow-list that works as one.
    pub fn default_deny(&self, namespace: &str, direction: Direction) -> Option<&Policy<'a>> {
        self.policies.iter().find(|policy| {
            self.selects_whole_namespace(policy, namespace)
                && policy.isolates(direction)
                && !policy.rules(direction).unwrap_or_default().iter().any(NetRule::allows_everything)
        })
    }

    /// Whether `policy` selects every pod of `namespace`: an empty selector in the namespace,
    /// or (Cilium) a selector on namespace-wide labels only that the namespace's pods carry, such
    /// as a clusterwide policy for every namespace but `kube-system`.
    fn selects_whole_namespace(&self, policy: &Policy<'a>, namespace: &str) -> bool {
        let Some(selector) = &policy.pod_selector else { return false };
        match policy.flavor {
            Flavor::NetworkPolicy => policy.namespace == namespace && selector.is_everything(),
            Flavor::Cilium | Flavor::CiliumClusterwide => {
                let namespace_wide = |key: &str| {
                    key == crate::cilium::NAMESPACE_LABEL || key == crate::cilium::CLUSTER_LABEL || key.starts_with(crate::cilium::NAMESPACE_LABELS_PREFIX)
                };
                (policy.flavor == Flavor::CiliumClusterwide || policy.namespace == namespace)
                    && selector.keys().all(namespace_wide)
                    && selector.matches(&crate::cilium::namespace_wide_labels(namespace, self.namespaces.get(namespace).unwrap_or(&Labels::default())))
            }
        }
    }

    /// Finds a workload from `NS/NAME` or `NS/KIND/NAME` (kind case-insensitive).
    pub fn find(&self, spec: &str) -> Result<&Workload<'a>, String> {
        let mut parts = spec.splitn(3, '/');
        let (namespace, first, second) = (parts.next(), parts.next(), parts.next());
        let (Some(namespace), Some(first)) = (namespace, first) else {
            return Err(format!("`{spec}` is not NAMESPACE/WORKLOAD or NAMESPACE/KIND/NAME"));
        };
        let (kind, name) = match second {
            Some(name) => (Some(first), name),
            None => (None, first),
        };
        let found: Vec<&Workload<'a>> = self
            .workloads
            .iter()
            .filter(|w| w.namespace == namespace && w.name == name)
            .filter(|w| kind.is_none_or(|kind| w.kind.eq_ignore_ascii_case(kind)))
            .collect();
        match found.as_slice() {
            [one] => Ok(one),
            [] => Err(format!("no workload `{spec}` in the input")),
            many => Err(format!(
                "`{spec}` is ambiguous: {}; name it as NAMESPACE/KIND/NAME",
                many.iter().map(|w| w.label()).collect::<Vec<_>>().join(", ")
            )),
        }
    }
}

/// One object as the model reads it.
enum Item<'a> {
    Namespace { object: &'a Object, labels: Labels },
    Policy(Policy<'a>),
    /// A Cilium policy's rules (`spec` and each of `specs`).
    CiliumPolicies(Vec<Policy<'a>>),
    Workload(Workload<'a>),
    Service(Service),
    /// An Endpoints or EndpointSlice object: the ready addresses of a service.
    Endpoints { namespace: String, service: String, addresses: Vec<IpAddr> },
    Other,
}

/// Reads objects into the model, keeping what the API server would reject as problems.
#[derive(Default)]
pub(crate) struct Reader<'a> {
    problems: Vec<Problem<'a>>,
}

impl<'a> Reader<'a> {
    fn item(&mut self, object: &'a Object) -> Item<'a> {
        if object.is(&[""], "Namespace") {
            Item::Namespace { object, labels: labels_of(object.metadata().and_then(|meta| meta.get("labels"))) }
        } else if object.is(&["networking.k8s.io"], "NetworkPolicy") {
            Item::Policy(self.parse_policy(object))
        } else if crate::cilium::is_policy(object) {
            Item::CiliumPolicies(self.cilium_policies(object))
        } else if object.is(&[""], "Service") {
            let selector = object.root.get("spec").and_then(|spec| spec.get("selector"));
            Item::Service(Service {
                namespace: object.namespace().unwrap_or(DEFAULT_NAMESPACE).to_owned(),
                name: object.name().to_owned(),
                labels: labels_of(object.metadata().and_then(|meta| meta.get("labels"))),
                selects_pods: !labels_of(selector).is_empty(),
                addresses: Vec::new(),
            })
        } else if let Some((service, addresses)) = service_endpoints(object) {
            Item::Endpoints { namespace: object.namespace().unwrap_or(DEFAULT_NAMESPACE).to_owned(), service, addresses }
        } else {
            self.parse_workload(object).map_or(Item::Other, Item::Workload)
        }
    }

    fn parse_workload(&mut self, object: &'a Object) -> Option<Workload<'a>> {
        if object.kind() == "PodTemplate" {
            return None;
        }
        let pod = PodView::of(object)?;
        let mut ports = Vec::new();
        let containers = pod.spec_field("containers").map(Node::as_seq).unwrap_or_default();
        for (container_index, container) in containers.iter().enumerate() {
            let declared = container.get("ports").map(Node::as_seq).unwrap_or_default();
            for (port_index, port) in declared.iter().enumerate() {
                let pointer = pod.spec_pointer_to(&["containers", &container_index.to_string(), "ports", &port_index.to_string()]);
                let number = port.get("containerPort").and_then(Node::as_i64).and_then(|n| u16::try_from(n).ok());
                let protocol = self.protocol(object, port, &pointer);
                match (number, protocol) {
                    (Some(number), Some(protocol)) if number > 0 => ports.push(ContainerPort {
                        name: port.get("name").and_then(Node::as_str).map(str::to_owned),
                        port: number,
                        protocol,
                    }),
                    _ => self.problem(object, pointer, "a container port needs a containerPort between 1 and 65535".to_owned()),
                }
            }
        }
        Some(Workload {
            object,
            namespace: object.namespace().unwrap_or(DEFAULT_NAMESPACE).to_owned(),
            kind: object.kind().to_owned(),
            name: object.name().to_owned(),
            labels: labels_of(pod.metadata.and_then(|meta| meta.get("labels"))),
            ports,
            service_account: pod.spec_field("serviceAccountName").and_then(Node::as_str).filter(|name| !name.is_empty()).unwrap_or("default").to_owned(),
            cilium_labels: Labels::default(),
            ips: pod_ips(object),
        })
    }

    fn parse_policy(&mut self, object: &'a Object) -> Policy<'a> {
        let spec = object.root.get("spec");
        let field = |key: &str| spec.and_then(|spec| spec.get(key));
        // podSelector is required; an absent one reads as `{}` in the typed API (a zero struct).
        let pod_selector = match field("podSelector") {
            Some(node) => self.selector(object, node, "/spec/podSelector"),
            None => Some(LabelSelector::everything()),
        };
        let ingress = self.rules(object, field("ingress"), Direction::Ingress);
        let egress = self.rules(object, field("egress"), Direction::Egress);
        let declared: Vec<&str> = field("policyTypes").map(Node::as_seq).unwrap_or_default().iter().filter_map(Node::as_str).collect();
        // Without policyTypes, every policy affects ingress, and egress only when it has
        // egress rules (SetDefaults_NetworkPolicy).
        let (isolates_ingress, isolates_egress) = if declared.is_empty() {
            (true, !egress.is_empty())
        } else {
            (declared.contains(&"Ingress"), declared.contains(&"Egress"))
        };
        Policy {
            object: Some(object),
            namespace: object.namespace().unwrap_or(DEFAULT_NAMESPACE).to_owned(),
            name: object.name().to_owned(),
            flavor: Flavor::NetworkPolicy,
            pod_selector,
            ingress: isolates_ingress.then_some(ingress),
            egress: isolates_egress.then_some(egress),
            ingress_deny: Vec::new(),
            egress_deny: Vec::new(),
            default_deny: DefaultDeny { ingress: isolates_ingress, egress: isolates_egress },
        }
    }

    fn rules(&mut self, object: &'a Object, node: Option<&Node>, direction: Direction) -> Vec<NetRule> {
        let peers_key = match direction {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        };
        let rules = node.map(Node::as_seq).unwrap_or_default();
        rules
            .iter()
            .enumerate()
            .map(|(index, rule)| {
                let pointer = format!("/spec/{}/{index}", direction.as_str());
                let peers = rule.get(peers_key).map(Node::as_seq).unwrap_or_default();
                let peers = peers
                    .iter()
                    .enumerate()
                    .map(|(i, peer)| self.peer(object, peer, &format!("{pointer}/{peers_key}/{i}")))
                    .collect();
                let ports = rule.get("ports").map(Node::as_seq).unwrap_or_default();
                let ports = ports
                    .iter()
                    .enumerate()
                    .filter_map(|(i, port)| self.port_rule(object, port, &format!("{pointer}/ports/{i}")))
                    .collect();
                NetRule { pointer, peers, ports, l7: Vec::new() }
            })
            .collect()
    }

    fn peer(&mut self, object: &'a Object, node: &Node, pointer: &str) -> Peer {
        if let Some(block) = node.get("ipBlock") {
            return match self.ip_block(object, block, &format!("{pointer}/ipBlock")) {
                Some(block) if node.get("podSelector").is_none() && node.get("namespaceSelector").is_none() => Peer::Block(block),
                Some(_) => {
                    self.problem(object, pointer.to_owned(), "ipBlock cannot be combined with a pod or namespace selector".to_owned());
                    Peer::Invalid
                }
                None => Peer::Invalid,
            };
        }
        let namespaces = node.get("namespaceSelector").map(|n| self.selector(object, n, &format!("{pointer}/namespaceSelector")));
        let pods = node.get("podSelector").map(|n| self.selector(object, n, &format!("{pointer}/podSelector")));
        match (namespaces, pods) {
            (None, None) => {
                self.problem(object, pointer.to_owned(), "a peer needs podSelector, namespaceSelector or ipBlock".to_owned());
                Peer::Invalid
            }
            (Some(None), _) | (_, Some(None)) => Peer::Invalid,
            (namespaces, pods) => Peer::Pods { namespaces: namespaces.flatten(), pods: pods.flatten() },
        }
    }

    pub(crate) fn ip_block(&mut self, object: &'a Object, node: &Node, pointer: &str) -> Option<IpBlock> {
        let text = node.get("cidr").and_then(Node::as_str).unwrap_or_default();
        let Some(cidr) = Cidr::parse(text) else {
            self.problem(object, format!("{pointer}/cidr"), format!("`{text}` is not a CIDR"));
            return None;
        };
        let mut except = Vec::new();
        for (index, item) in node.get("except").map(Node::as_seq).unwrap_or_default().iter().enumerate() {
            let text = item.as_str().unwrap_or_default();
            match Cidr::parse(text) {
                Some(parsed) => except.push(parsed),
                None => self.problem(object, format!("{pointer}/except/{index}"), format!("`{text}` is not a CIDR")),
            }
        }
        Some(IpBlock { cidr, except })
    }

    fn port_rule(&mut self, object: &'a Object, node: &Node, pointer: &str) -> Option<PortRule> {
        let protocol = self.protocol(object, node, pointer)?;
        let port = match node.get("port") {
            None => None,
            Some(value) => match (value.as_i64(), value.as_str()) {
                (Some(number), _) if (1..=65535).contains(&number) => Some(PortRef::Number(number as u16)),
                (_, Some(name)) if !name.is_empty() => Some(PortRef::Name(name.to_owned())),
                _ => {
                    self.problem(object, format!("{pointer}/port"), "a port is a number between 1 and 65535 or a port name".to_owned());
                    return None;
                }
            },
        };
        let end_port = node.get("endPort").and_then(Node::as_i64).and_then(|n| u16::try_from(n).ok());
        if end_port.is_some() && !matches!(port, Some(PortRef::Number(_))) {
            self.problem(object, format!("{pointer}/endPort"), "endPort needs a numeric port".to_owned());
            return None;
        }
        Some(PortRule { protocol, port, end_port })
    }

    /// The `protocol` field of a port, TCP when absent.
    fn protocol(&mut self, object: &'a Object, node: &Node, pointer: &str) -> Option<Protocol> {
        let Some(text) = node.get("protocol").and_then(Node::as_str) else { return Some(Protocol::Tcp) };
        let protocol = Protocol::ALL.into_iter().find(|protocol| protocol.as_str() == text);
        if protocol.is_none() {
            self.problem(object, format!("{pointer}/protocol"), format!("unknown protocol `{text}` (expected TCP, UDP or SCTP)"));
        }
        protocol
    }

    pub(crate) fn selector(&mut self, object: &'a Object, node: &Node, pointer: &str) -> Option<LabelSelector> {
        LabelSelector::parse(node)
            .map_err(|error| self.problem(object, format!("{pointer}{}", error.pointer), error.message))
            .ok()
    }

    pub(crate) fn problem(&mut self, object: &'a Object, pointer: String, message: String) {
        self.problems.push(Problem { object, pointer, message });
    }
}

impl Workload<'_> {
    /// `namespace/Kind/name`, the way reports name workloads unambiguously.
    pub fn label(&self) -> String {
        format!("{}/{}/{}", self.namespace, self.kind, self.name)
    }
}

/// The addresses of a Pod (`status.podIPs`, else `status.podIP`); none for other kinds.
fn pod_ips(object: &Object) -> Vec<IpAddr> {
    if object.kind() != "Pod" {
        return Vec::new();
    }
    let status = object.root.get("status");
    let listed: Vec<IpAddr> = status
        .and_then(|status| status.get("podIPs"))
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|entry| entry.get("ip").and_then(Node::as_str)?.parse().ok())
        .collect();
    if !listed.is_empty() {
        return listed;
    }
    status.and_then(|status| status.get("podIP")).and_then(Node::as_str).and_then(|ip| ip.parse().ok()).into_iter().collect()
}

/// The service and ready addresses of an Endpoints object (`subsets[].addresses`) or an
/// EndpointSlice (`endpoints[].addresses` not marked unready, for the service its
/// `kubernetes.io/service-name` label names).
fn service_endpoints(object: &Object) -> Option<(String, Vec<IpAddr>)> {
    let text = |node: &Node| node.as_str().and_then(|ip| ip.parse::<IpAddr>().ok());
    if object.is(&[""], "Endpoints") {
        let subsets = object.root.get("subsets").map(Node::as_seq).unwrap_or_default();
        let addresses = subsets
            .iter()
            .flat_map(|subset| subset.get("addresses").map(Node::as_seq).unwrap_or_default())
            .filter_map(|address| address.get("ip").and_then(text))
            .collect();
        return Some((object.name().to_owned(), addresses));
    }
    if object.is(&["discovery.k8s.io"], "EndpointSlice") {
        let labels = labels_of(object.metadata().and_then(|meta| meta.get("labels")));
        let service = labels.get("kubernetes.io/service-name")?.clone();
        let endpoints = object.root.get("endpoints").map(Node::as_seq).unwrap_or_default();
        let addresses = endpoints
            .iter()
            .filter(|endpoint| endpoint.get("conditions").and_then(|conditions| conditions.get("ready")).and_then(Node::as_bool) != Some(false))
            .flat_map(|endpoint| endpoint.get("addresses").map(Node::as_seq).unwrap_or_default())
            .filter_map(|address| text(address))
            .collect();
        return Some((service, addresses));
    }
    None
}

/// Drops workloads whose controller (by ownerReference) is also in the input: a live cluster
/// lists a Deployment, its ReplicaSets and their Pods, and the Deployment stands for all,
/// carrying their pods' addresses.
fn without_owned(mut workloads: Vec<Workload<'_>>) -> Vec<Workload<'_>> {
    let present: HashMap<(&str, &str, &str), usize> =
        workloads.iter().enumerate().map(|(index, w)| ((w.namespace.as_str(), w.kind.as_str(), w.name.as_str()), index)).collect();
    let owners: Vec<Option<usize>> = workloads
        .par_iter()
        .map(|workload| {
            let owners = workload.object.metadata().and_then(|meta| meta.get("ownerReferences"));
            owners.map(Node::as_seq).unwrap_or_default().iter().find_map(|owner| {
                let field = |key: &str| owner.get(key).and_then(Node::as_str).unwrap_or_default();
                (owner.get("controller").and_then(Node::as_bool) == Some(true))
                    .then(|| present.get(&(workload.namespace.as_str(), field("kind"), field("name"))).copied())
                    .flatten()
            })
        })
        .collect();
    drop(present);
    // Each owned workload's addresses go to its topmost controller in the input (a cycle of
    // owners, which Kubernetes never makes, stops after as many steps as there are workloads).
    for index in 0..workloads.len() {
        if workloads[index].ips.is_empty() || owners[index].is_none() {
            continue;
        }
        let mut top = index;
        for _ in 0..workloads.len() {
            match owners[top] {
                Some(owner) if owner != index => top = owner,
                _ => break,
            }
        }
        let ips = workloads[index].ips.clone();
        workloads[top].ips.extend(ips);
    }
    workloads.into_iter().zip(owners).filter(|(_, owner)| owner.is_none()).map(|(workload, _)| workload).collect()
}
