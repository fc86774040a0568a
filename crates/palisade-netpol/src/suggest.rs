//! `netpol suggest`: least-privilege policies learnt from observed flows.
//!
//! Pods are grouped by their workload's labels (never by pod name): a flow's pod belongs to the
//! workload of the input whose pod-template labels it carries, or, without one, to the group of
//! pods with the same labels, volatile ones (`pod-template-hash`, ...) and Cilium's own left
//! out. For every namespace written, the policies are:
//!
//! - `default-deny`: every pod isolated for ingress and egress;
//! - `allow-dns`: every pod may query the cluster's DNS service on port 53 (for Cilium, through
//!   its DNS proxy, which `toFQDNs` rules need), and, in the DNS service's own namespace,
//!   `allow-dns-queries` lets every pod of the cluster query it;
//! - `allow-<group>`: for each group with observed traffic, the ingress and egress it was seen
//!   using, peer by peer and port by port. A peer in another namespace is named with its
//!   namespace; an outside address as a /32 (or /128) block; for Cilium, nodes and the API
//!   server as entities and outside destinations by the DNS names Hubble saw.
//!
//! A selector that would also pick another workload of its namespace (whose labels include all
//! of the group's) excludes it with `DoesNotExist` on a label only that workload carries.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use palisade_core::Labels;
use serde_json::{Map, Value, json};

use crate::cilium::NAMESPACE_LABEL;
use crate::flows::{Flow, FlowEnd, FlowError};
use crate::model::{Entity, NAMESPACE_NAME_LABEL, Network, Workload};
use crate::ports::Protocol;
use crate::reach::Endpoint;

/// The API the suggested policies are written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Cilium,
    NetworkPolicy,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub kind: Kind,
    /// The namespaces to write policies for; empty means every namespace with an observed pod.
    pub namespaces: Vec<String>,
    pub dns: DnsService,
}

/// The pods of the cluster's DNS service, which every pod may query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsService {
    pub namespace: String,
    pub labels: Labels,
}

impl Default for DnsService {
    /// CoreDNS and kube-dns as kubeadm and most distributions deploy them.
    fn default() -> Self {
        DnsService { namespace: "kube-system".to_owned(), labels: Labels::from([("k8s-app".to_owned(), "kube-dns".to_owned())]) }
    }
}

impl DnsService {
    /// `NAMESPACE/KEY=VALUE[,KEY=VALUE...]`, e.g. `kube-system/k8s-app=kube-dns`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let wrong = || format!("`{text}` is not NAMESPACE/KEY=VALUE[,KEY=VALUE...]");
        let (namespace, labels) = text.split_once('/').ok_or_else(wrong)?;
        let labels: Option<Labels> =
            labels.split(',').map(|pair| pair.split_once('=').filter(|(key, _)| !key.is_empty()).map(|(key, value)| (key.to_owned(), value.to_owned()))).collect();
        match labels {
            Some(labels) if !namespace.is_empty() && !labels.is_empty() => Ok(DnsService { namespace: namespace.to_owned(), labels }),
            _ => Err(wrong()),
        }
    }
}

/// The suggested policies, in the order they are written, with what could not be expressed.
#[derive(Clone, Debug, Default)]
pub struct Suggestion {
    pub policies: Vec<Value>,
    /// Observed peers the asked kind cannot name, one line each.
    pub notes: Vec<String>,
    /// Flows whose ends are not in the input.
    pub errors: Vec<FlowError>,
}

pub fn suggest(network: &Network<'_>, flows: &[Flow], options: &Options) -> Suggestion {
    let mut resolver = Resolver { network, kind: options.kind, groups: Vec::new(), index: HashMap::new(), notes: BTreeSet::new() };
    let mut observed: BTreeSet<(Party, Party, Protocol, u16)> = BTreeSet::new();
    let mut errors = Vec::new();
    for flow in flows {
        let ends = resolver.parties(&flow.source, false).and_then(|sources| Ok((sources, resolver.parties(&flow.destination, true)?)));
        match ends {
            Ok((sources, destinations)) => {
                for source in &sources {
                    for destination in &destinations {
                        observed.insert((source.clone(), destination.clone(), flow.protocol, flow.port));
                    }
                }
            }
            Err(message) => errors.push(FlowError { line: flow.line, message }),
        }
    }
    let namespaces: BTreeSet<String> = if options.namespaces.is_empty() {
        observed.iter().flat_map(|(from, to, ..)| [from, to]).filter_map(|party| resolver.group(party)).map(|group| group.namespace.clone()).collect()
    } else {
        options.namespaces.iter().cloned().collect()
    };
    let writer = Writer { groups: &resolver.groups, kind: options.kind, dns: &options.dns, absent: resolver.absent_keys() };
    let mut rules: BTreeMap<usize, Sides> = BTreeMap::new();
    for (from, to, protocol, port) in &observed {
        if writer.is_dns_query(to, *protocol, *port) {
            continue;
        }
        for (direction, subject, peer) in [(Side::Egress, from, to), (Side::Ingress, to, from)] {
            if let Party::Group(index) = subject
                && namespaces.contains(&resolver.groups[*index].namespace)
            {
                let sides = rules.entry(*index).or_default();
                let peers = match direction {
                    Side::Ingress => &mut sides.ingress,
                    Side::Egress => &mut sides.egress,
                };
                peers.entry(peer.clone()).or_default().insert((*protocol, *port));
            }
        }
    }
    let mut policies = Vec::new();
    for namespace in &namespaces {
        policies.extend(writer.namespace_policies(namespace));
        let mut groups: Vec<(&String, &Sides, usize)> =
            rules.iter().filter(|(index, _)| resolver.groups[**index].namespace == *namespace).map(|(index, sides)| (&resolver.groups[*index].name, sides, *index)).collect();
        groups.sort_by_key(|(name, _, index)| (*name, *index));
        policies.extend(groups.into_iter().map(|(_, sides, index)| writer.group_policy(index, sides)));
    }
    Suggestion { policies, notes: resolver.notes.into_iter().collect(), errors }
}

/// An end of a connection as the suggested policies name it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Party {
    Group(usize),
    Entity(Entity),
    Address(IpAddr),
    Name(String),
}

#[derive(Clone, Copy)]
enum Side {
    Ingress,
    Egress,
}

/// What one group was seen receiving and sending, peer by peer.
#[derive(Default)]
struct Sides {
    ingress: BTreeMap<Party, BTreeSet<(Protocol, u16)>>,
    egress: BTreeMap<Party, BTreeSet<(Protocol, u16)>>,
}

/// Pods alike: one namespace, one set of (stable) labels.
struct Group {
    namespace: String,
    name: String,
    labels: Labels,
}

/// Labels that differ between the pods of one workload, or that Cilium adds: a selector on them
/// would match one pod, one revision, or nothing.
const VOLATILE_LABELS: [&str; 9] = [
    "pod-template-hash",
    "controller-revision-hash",
    "pod-template-generation",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "controller-uid",
    "batch.kubernetes.io/controller-uid",
    "job-name",
    "batch.kubernetes.io/job-name",
];

fn stable(labels: &Labels) -> Labels {
    labels
        .iter()
        .filter(|(key, _)| !VOLATILE_LABELS.contains(&key.as_str()) && key.as_str() != NAMESPACE_LABEL && !key.starts_with("io.cilium."))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

struct Resolver<'n, 'a> {
    network: &'n Network<'a>,
    kind: Kind,
    groups: Vec<Group>,
    index: HashMap<(String, Labels), usize>,
    notes: BTreeSet<String>,
}

impl Resolver<'_, '_> {
    fn group(&self, party: &Party) -> Option<&Group> {
        match party {
            Party::Group(index) => Some(&self.groups[*index]),
            _ => None,
        }
    }

    /// The parties an observed end stands for (none when the asked kind cannot name it).
    fn parties(&mut self, end: &FlowEnd, destination: bool) -> Result<Vec<Party>, String> {
        Ok(match end {
            FlowEnd::Pod { namespace, labels, workload, pod } => vec![self.pod_group(namespace, labels, workload.as_deref(), pod.as_deref())],
            FlowEnd::Entity { entity, ip } => self.entity(*entity, *ip),
            FlowEnd::External { ip, names } => self.external(*ip, names, destination),
            FlowEnd::Named(spec) => match crate::explain::endpoint(self.network, spec)? {
                Endpoint::Workload(workload) => vec![self.workload_group(workload)],
                Endpoint::External(ip) => self.external(Some(ip), &[], destination),
                Endpoint::Entity(Entity::World) => self.external(None, &[], destination),
                Endpoint::Entity(entity) => self.entity(entity, None),
                Endpoint::Fqdn(name) => self.external(None, &[name.trim_end_matches('.').to_ascii_lowercase()], destination),
            },
        })
    }

    fn entity(&mut self, entity: Entity, ip: Option<IpAddr>) -> Vec<Party> {
        match (self.kind, ip) {
            (Kind::Cilium, _) => vec![Party::Entity(entity)],
            (Kind::NetworkPolicy, Some(ip)) => vec![Party::Address(ip)],
            (Kind::NetworkPolicy, None) => {
                self.notes.insert(format!("`{}` has no address in the flows, and a NetworkPolicy can name it only by address: use --kind cilium", entity.as_str()));
                Vec::new()
            }
        }
    }

    /// An outside peer: for Cilium, a destination by its DNS names when Hubble knows them; else
    /// by address.
    fn external(&mut self, ip: Option<IpAddr>, names: &[String], destination: bool) -> Vec<Party> {
        if self.kind == Kind::Cilium && destination && !names.is_empty() {
            return names.iter().map(|name| Party::Name(name.clone())).collect();
        }
        match ip {
            Some(ip) => vec![Party::Address(ip)],
            None if names.is_empty() => {
                self.notes.insert("traffic with the whole outside world (`world`) is not suggested: name its addresses or DNS names".to_owned());
                Vec::new()
            }
            None => {
                let why = if self.kind == Kind::Cilium { "a DNS name cannot be a source" } else { "a NetworkPolicy cannot name DNS names: use --kind cilium" };
                self.notes.insert(format!("{} without an address: {why}", names.join(", ")));
                Vec::new()
            }
        }
    }

    fn workload_group(&mut self, workload: &Workload<'_>) -> Party {
        self.group_for(&workload.namespace, stable(&workload.labels), &workload.name)
    }

    /// A pod seen by Hubble: its workload in the input when one's pod-template labels are all
    /// on the pod (the one Hubble names, else the most specific), else the pods with its labels.
    fn pod_group(&mut self, namespace: &str, labels: &Labels, workload: Option<&str>, pod: Option<&str>) -> Party {
        let network = self.network;
        let carries = |candidate: &&Workload<'_>| {
            candidate.namespace == namespace && !candidate.labels.is_empty() && candidate.labels.iter().all(|(key, value)| labels.get(key) == Some(value))
        };
        let found = network
            .workloads
            .iter()
            .filter(carries)
            .max_by_key(|candidate| (Some(candidate.name.as_str()) == workload, candidate.labels.len(), std::cmp::Reverse(candidate.label())));
        if let Some(found) = found {
            return self.workload_group(found);
        }
        let labels = stable(labels);
        let name = workload
            .map(str::to_owned)
            .or_else(|| ["app.kubernetes.io/name", "app", "k8s-app", "name"].iter().find_map(|key| labels.get(*key).cloned()))
            .or_else(|| pod.map(str::to_owned))
            .unwrap_or_else(|| "pods".to_owned());
        self.group_for(namespace, labels, &name)
    }

    fn group_for(&mut self, namespace: &str, labels: Labels, name: &str) -> Party {
        let key = (namespace.to_owned(), labels);
        if let Some(index) = self.index.get(&key) {
            return Party::Group(*index);
        }
        if key.1.is_empty() {
            self.notes.insert(format!("the pods of {namespace}/{name} carry no labels: their policy selects every pod of {namespace}"));
        }
        let base = policy_name(name);
        let mut name = base.clone();
        for suffix in 2.. {
            if !self.groups.iter().any(|group| group.namespace == namespace && group.name == name) {
                break;
            }
            name = format!("{base}-{suffix}");
        }
        self.groups.push(Group { namespace: key.0.clone(), name, labels: key.1.clone() });
        self.index.insert(key, self.groups.len() - 1);
        Party::Group(self.groups.len() - 1)
    }

    /// For each group, the labels whose absence tells its pods from the other workloads (and
    /// groups) of its namespace that carry all of its labels.
    fn absent_keys(&self) -> Vec<BTreeSet<String>> {
        let mut others: BTreeMap<&str, Vec<Labels>> = BTreeMap::new();
        for workload in &self.network.workloads {
            others.entry(&workload.namespace).or_default().push(stable(&workload.labels));
        }
        for group in &self.groups {
            others.entry(&group.namespace).or_default().push(group.labels.clone());
        }
        self.groups
            .iter()
            .map(|group| {
                let mut absent = BTreeSet::new();
                for other in others.get(group.namespace.as_str()).into_iter().flatten() {
                    let wider = other.len() > group.labels.len() && group.labels.iter().all(|(key, value)| other.get(key) == Some(value));
                    if wider && !other.keys().any(|key| absent.contains(key)) {
                        absent.extend(other.keys().find(|key| !group.labels.contains_key(*key)).cloned());
                    }
                }
                absent
            })
            .collect()
    }
}

/// `allow-` and a DNS label made of `name`.
fn policy_name(name: &str) -> String {
    let mut label: String = name.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    label.truncate(50);
    let label = label.trim_matches('-');
    format!("allow-{}", if label.is_empty() { "pods" } else { label })
}

struct Writer<'g> {
    groups: &'g [Group],
    kind: Kind,
    dns: &'g DnsService,
    absent: Vec<BTreeSet<String>>,
}

const DNS_PORT: u16 = 53;

impl Writer<'_> {
    /// Whether a connection is a DNS query to the cluster's DNS service, which `allow-dns` covers.
    fn is_dns_query(&self, to: &Party, protocol: Protocol, port: u16) -> bool {
        let Party::Group(index) = to else { return false };
        let group = &self.groups[*index];
        port == DNS_PORT
            && matches!(protocol, Protocol::Udp | Protocol::Tcp)
            && group.namespace == self.dns.namespace
            && self.dns.labels.iter().all(|(key, value)| group.labels.get(key) == Some(value))
    }

    fn object(&self, name: &str, namespace: &str, spec: Value) -> Value {
        let (api_version, kind) = match self.kind {
            Kind::Cilium => ("cilium.io/v2", "CiliumNetworkPolicy"),
            Kind::NetworkPolicy => ("networking.k8s.io/v1", "NetworkPolicy"),
        };
        json!({
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/managed-by": "palisade"}},
            "spec": spec,
        })
    }

    fn namespace_policies(&self, namespace: &str) -> Vec<Value> {
        let dns_labels = json!(self.dns.labels);
        let mut policies = match self.kind {
            Kind::NetworkPolicy => {
                let dns_ports = json!([{"protocol": "UDP", "port": DNS_PORT}, {"protocol": "TCP", "port": DNS_PORT}]);
                vec![
                    self.object("default-deny", namespace, json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})),
                    self.object("allow-dns", namespace, json!({
                        "podSelector": {},
                        "policyTypes": ["Egress"],
                        "egress": [{
                            "to": [{"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: self.dns.namespace}}, "podSelector": {"matchLabels": dns_labels}}],
                            "ports": dns_ports,
                        }],
                    })),
                ]
            }
            Kind::Cilium => {
                let mut server = self.dns.labels.iter().map(|(key, value)| (key.clone(), json!(value))).collect::<Map<String, Value>>();
                server.insert(format!("k8s:{NAMESPACE_LABEL}"), json!(self.dns.namespace));
                vec![
                    self.object("default-deny", namespace, json!({"endpointSelector": {}, "ingress": [{}], "egress": [{}]})),
                    self.object("allow-dns", namespace, json!({
                        "endpointSelector": {},
                        "egress": [{
                            "toEndpoints": [{"matchLabels": server}],
                            "toPorts": [{"ports": [{"port": DNS_PORT.to_string(), "protocol": "ANY"}], "rules": {"dns": [{"matchPattern": "*"}]}}],
                        }],
                    })),
                ]
            }
        };
        if namespace == self.dns.namespace {
            let spec = match self.kind {
                Kind::NetworkPolicy => json!({
                    "podSelector": {"matchLabels": dns_labels},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": [{"namespaceSelector": {}}], "ports": [{"protocol": "UDP", "port": DNS_PORT}, {"protocol": "TCP", "port": DNS_PORT}]}],
                }),
                Kind::Cilium => json!({
                    "endpointSelector": {"matchLabels": dns_labels},
                    "ingress": [{"fromEntities": ["cluster"], "toPorts": [{"ports": [{"port": DNS_PORT.to_string(), "protocol": "ANY"}]}]}],
                }),
            };
            policies.push(self.object("allow-dns-queries", namespace, spec));
        }
        policies
    }

    fn group_policy(&self, index: usize, sides: &Sides) -> Value {
        let group = &self.groups[index];
        let mut spec = Map::new();
        match self.kind {
            Kind::NetworkPolicy => {
                spec.insert("podSelector".to_owned(), self.selector(index, None));
                let types: Vec<&str> = [("Ingress", &sides.ingress), ("Egress", &sides.egress)].iter().filter(|(_, peers)| !peers.is_empty()).map(|(name, _)| *name).collect();
                spec.insert("policyTypes".to_owned(), json!(types));
                for (key, peers, side) in [("ingress", &sides.ingress, "from"), ("egress", &sides.egress, "to")] {
                    if !peers.is_empty() {
                        let rules: Vec<Value> = peers
                            .iter()
                            .filter_map(|(peer, ports)| Some(json!({side: [self.network_policy_peer(peer, &group.namespace)?], "ports": network_policy_ports(ports)})))
                            .collect();
                        spec.insert(key.to_owned(), json!(rules));
                    }
                }
            }
            Kind::Cilium => {
                spec.insert("endpointSelector".to_owned(), self.selector(index, None));
                for (key, peers, side) in [("ingress", &sides.ingress, "from"), ("egress", &sides.egress, "to")] {
                    if !peers.is_empty() {
                        let rules: Vec<Value> = peers.iter().map(|(peer, ports)| self.cilium_rule(peer, ports, side, &group.namespace)).collect();
                        spec.insert(key.to_owned(), json!(rules));
                    }
                }
            }
        }
        self.object(&group.name, &group.namespace, Value::Object(spec))
    }

    /// The selector of a group's pods; `namespace_key` adds the namespace as Cilium's label.
    fn selector(&self, index: usize, namespace_key: Option<&str>) -> Value {
        let group = &self.groups[index];
        let mut labels: Map<String, Value> = group.labels.iter().map(|(key, value)| (key.clone(), json!(value))).collect();
        if let Some(key) = namespace_key {
            labels.insert(key.to_owned(), json!(group.namespace));
        }
        let mut selector = Map::new();
        if !labels.is_empty() {
            selector.insert("matchLabels".to_owned(), Value::Object(labels));
        }
        if !self.absent[index].is_empty() {
            let expressions: Vec<Value> = self.absent[index].iter().map(|key| json!({"key": key, "operator": "DoesNotExist"})).collect();
            selector.insert("matchExpressions".to_owned(), json!(expressions));
        }
        Value::Object(selector)
    }

    /// A NetworkPolicy peer; entities and DNS names have none (resolution gives a NetworkPolicy
    /// only groups and addresses).
    fn network_policy_peer(&self, peer: &Party, namespace: &str) -> Option<Value> {
        Some(match peer {
            Party::Group(index) if self.groups[*index].namespace == namespace => json!({"podSelector": self.selector(*index, None)}),
            Party::Group(index) => json!({
                "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: self.groups[*index].namespace}},
                "podSelector": self.selector(*index, None),
            }),
            Party::Address(ip) => json!({"ipBlock": {"cidr": host_cidr(*ip)}}),
            Party::Entity(_) | Party::Name(_) => return None,
        })
    }

    fn cilium_rule(&self, peer: &Party, ports: &BTreeSet<(Protocol, u16)>, side: &str, namespace: &str) -> Value {
        let (key, peers) = match peer {
            Party::Group(index) => {
                let namespace_key = (self.groups[*index].namespace != namespace).then_some(format!("k8s:{NAMESPACE_LABEL}"));
                ("Endpoints", json!([self.selector(*index, namespace_key.as_deref())]))
            }
            Party::Entity(entity) => ("Entities", json!([entity.as_str()])),
            Party::Address(ip) => ("CIDR", json!([host_cidr(*ip)])),
            Party::Name(name) => ("FQDNs", json!([{"matchName": name}])),
        };
        let ports: Vec<Value> = ports.iter().map(|(protocol, port)| json!({"port": port.to_string(), "protocol": protocol.as_str()})).collect();
        json!({format!("{side}{key}"): peers, "toPorts": [{"ports": ports}]})
    }
}

fn network_policy_ports(ports: &BTreeSet<(Protocol, u16)>) -> Value {
    json!(ports.iter().map(|(protocol, port)| json!({"protocol": protocol.as_str(), "port": port})).collect::<Vec<_>>())
}

/// The block of exactly one address.
fn host_cidr(ip: IpAddr) -> String {
    let bits = if ip.is_ipv4() { 32 } else { 128 };
    format!("{ip}/{bits}")
}
