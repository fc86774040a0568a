//! The reachability engine: which ports a connection may use, with the policies that decide.
//!
//! Traffic from A to B is allowed on a port when A's egress allows it (or no policy isolates A
//! for egress) AND B's ingress allows it (or no policy isolates B for ingress), and no deny rule
//! of a policy selecting A (egress) or B (ingress) matches it. Allows are additive: a direction
//! allows the union of the matching rules of every policy that selects the pod, NetworkPolicies
//! and Cilium policies alike; denies win over every allow.

use std::net::IpAddr;
use std::sync::Mutex;

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use crate::index::PolicyIndex;
use crate::model::{ContainerPort, Direction, Entity, Flavor, NetRule, Network, Peer, Policy, PortRef, Workload};
use crate::ports::PortSet;

/// One end of a connection. An external endpoint is an IP outside the cluster (Cilium's
/// `world`): it matches `ipBlock` and CIDR peers. An entity is a part of the cluster that is not
/// a workload (a node, the API server); a DNS name is an outside destination reached by name
/// (Cilium's `toFQDNs`). Palisade knows nothing of the policies of endpoints that are not
/// workloads.
#[derive(Clone, Copy, Debug)]
pub enum Endpoint<'n, 'a> {
    Workload(&'n Workload<'a>),
    External(IpAddr),
    Entity(Entity),
    Fqdn(&'n str),
}

/// What one side (the source's egress or the destination's ingress) allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Side {
    /// Indices of the policies that isolate this side; empty means not isolated.
    pub isolated_by: Vec<usize>,
    /// `(policy, rule)` index pairs whose rules match the connection.
    pub allowed_by: Vec<(usize, usize)>,
    /// `(policy, deny rule)` index pairs whose deny rules match the connection.
    pub denied_by: Vec<(usize, usize)>,
    pub ports: PortSet,
    /// The layer-7 rules of the allowing rules: when any is present, the connection is allowed
    /// for these requests only (on the ports of those rules).
    pub l7: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reach {
    pub egress: Side,
    pub ingress: Side,
    /// The ports both sides allow.
    pub ports: PortSet,
}

impl Side {
    fn open() -> Self {
        Side { isolated_by: Vec::new(), allowed_by: Vec::new(), denied_by: Vec::new(), ports: PortSet::all(), l7: Vec::new() }
    }
}

impl Endpoint<'_, '_> {
    /// `ns/Kind/name`, the IP address, the entity or `fqdn:NAME`.
    pub fn label(&self) -> String {
        match self {
            Endpoint::Workload(workload) => workload.label(),
            Endpoint::External(ip) => ip.to_string(),
            Endpoint::Entity(entity) => entity.as_str().to_owned(),
            Endpoint::Fqdn(name) => format!("fqdn:{name}"),
        }
    }

    /// The entity a Cilium rule naming entities sees this endpoint as.
    fn entity(&self) -> Entity {
        match self {
            Endpoint::Workload(_) => Entity::Cluster,
            Endpoint::External(_) | Endpoint::Fqdn(_) => Entity::World,
            Endpoint::Entity(entity) => *entity,
        }
    }
}

/// A peer the matrix and default-deny views show beside the workloads: the outside world, the
/// entities the policies name, and the DNS names of their `toFQDNs` rules.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outside {
    Entity(Entity),
    Fqdn(String),
}

impl Outside {
    pub fn label(&self) -> String {
        self.endpoint().label()
    }

    pub fn endpoint(&self) -> Endpoint<'_, 'static> {
        match self {
            Outside::Entity(entity) => Endpoint::Entity(*entity),
            Outside::Fqdn(name) => Endpoint::Fqdn(name),
        }
    }
}

/// The label of a node of the matrix: a workload (`index` below the number of workloads), else
/// an outside peer.
pub fn node_label(network: &Network<'_>, outside: &[Outside], index: usize) -> String {
    match network.workloads.get(index) {
        Some(workload) => workload.label(),
        None => outside[index - network.workloads.len()].label(),
    }
}

impl<'a> Network<'a> {
    /// The outside peers of the views: `world`, then each entity a rule names (but `all` and
    /// `cluster`, which are groups that hold the workloads), then each DNS name of a
    /// `toFQDNs` `matchName`.
    pub fn outside_peers(&self) -> Vec<Outside> {
        let mut entities = std::collections::BTreeSet::from([Entity::World]);
        let mut names = std::collections::BTreeSet::new();
        for peer in self.policies.iter().flat_map(Policy::peers) {
            match peer {
                Peer::Entity(entity) if !matches!(entity, Entity::All | Entity::Cluster) => {
                    entities.insert(*entity);
                }
                Peer::Fqdn(crate::model::FqdnMatch::Name(name)) => {
                    names.insert(name.clone());
                }
                _ => {}
            }
        }
        entities.into_iter().map(Outside::Entity).chain(names.into_iter().map(Outside::Fqdn)).collect()
    }

    pub fn reach(&self, from: &Endpoint<'_, 'a>, to: &Endpoint<'_, 'a>) -> Reach {
        let selecting = |endpoint: &Endpoint<'_, 'a>| match endpoint {
            Endpoint::Workload(workload) => self.selecting(workload).map(|(index, _)| index).collect(),
            _ => Vec::new(),
        };
        self.reach_selected(from, &selecting(from), to, &selecting(to))
    }

    /// [`Network::reach`], given the policies that select each end (none for an end that is
    /// not a workload).
    fn reach_selected(&self, from: &Endpoint<'_, 'a>, from_selected: &[usize], to: &Endpoint<'_, 'a>, to_selected: &[usize]) -> Reach {
        let egress = match from {
            Endpoint::Workload(_) => self.side(from_selected, Direction::Egress, to, to),
            _ => Side::open(),
        };
        let ingress = match to {
            Endpoint::Workload(_) => self.side(to_selected, Direction::Ingress, from, to),
            _ => Side::open(),
        };
        let ports = egress.ports.intersect(&ingress.ports);
        Reach { egress, ingress, ports }
    }

    /// What `direction` of the workload that the `selected` policies select allows toward or
    /// from `peer`; named ports resolve against `destination`, the pod that receives the
    /// traffic.
    fn side(&self, selected: &[usize], direction: Direction, peer: &Endpoint<'_, 'a>, destination: &Endpoint<'_, 'a>) -> Side {
        let mut side = Side { isolated_by: Vec::new(), allowed_by: Vec::new(), denied_by: Vec::new(), ports: PortSet::none(), l7: Vec::new() };
        let mut denied = PortSet::none();
        for &policy_index in selected {
            let policy = &self.policies[policy_index];
            if policy.isolates(direction) {
                side.isolated_by.push(policy_index);
            }
            for (rule_index, rule) in policy.rules(direction).unwrap_or_default().iter().enumerate() {
                if self.rule_admits(policy, rule, peer) {
                    side.allowed_by.push((policy_index, rule_index));
                    side.ports.union_with(&rule_ports(rule, destination));
                    side.l7.extend(rule.l7.iter().cloned());
                }
            }
            for (rule_index, rule) in policy.deny_rules(direction).iter().enumerate() {
                if self.rule_admits(policy, rule, peer) {
                    side.denied_by.push((policy_index, rule_index));
                    denied.union_with(&rule_ports(rule, destination));
                }
            }
        }
        if side.isolated_by.is_empty() {
            // Not in default deny: everything is allowed, and the allow rules add nothing.
            side.allowed_by.clear();
            side.l7.clear();
            side.ports = PortSet::all();
        }
        side.ports = side.ports.minus(&denied);
        side
    }

    /// Whether `rule` of `policy` admits `peer`: an empty peer list admits everyone, else
    /// any one peer must match.
    fn rule_admits(&self, policy: &Policy<'a>, rule: &NetRule, peer: &Endpoint<'_, 'a>) -> bool {
        rule.peers.is_empty() || rule.peers.iter().any(|candidate| self.peer_matches(policy, candidate, peer))
    }

    fn peer_matches(&self, policy: &Policy<'a>, peer: &Peer, endpoint: &Endpoint<'_, 'a>) -> bool {
        match (peer, endpoint) {
            (Peer::Pods { namespaces, pods }, Endpoint::Workload(workload)) => {
                // Without a namespaceSelector the peer means the policy's own namespace;
                // with one, every namespace it selects. podSelector then narrows within them.
                let namespace_ok = match namespaces {
                    None => workload.namespace == policy.namespace,
                    Some(selector) => self
                        .namespace_labels(&workload.namespace)
                        .is_some_and(|labels| selector.matches(labels)),
                };
                let labels = if self.cilium { &workload.cilium_labels } else { &workload.labels };
                namespace_ok && pods.as_ref().is_none_or(|selector| selector.matches(labels))
            }
            (Peer::Endpoints { selector, namespace }, Endpoint::Workload(workload)) => {
                namespace.as_ref().is_none_or(|namespace| *namespace == workload.namespace) && selector.matches(&workload.cilium_labels)
            }
            (Peer::Entity(entity), endpoint) => entity.covers(endpoint.entity()),
            (Peer::Block(block), Endpoint::External(ip)) => block.contains(*ip),
            // The whole outside world: a block of every address (Cilium: `world` is 0.0.0.0/0).
            (Peer::Block(block), Endpoint::Entity(Entity::World)) => block.cidr.prefix == 0 && block.except.is_empty(),
            // A NetworkPolicy's ipBlock selects pods by their addresses, as most CNIs enforce it
            // and the Kubernetes e2e suite expects, where the input has them (a cluster scan).
            // Cilium's CIDR rules, and NetworkPolicies that Cilium enforces (translated to CIDR
            // rules), never select cluster endpoints.
            (Peer::Block(block), Endpoint::Workload(workload)) => {
                policy.flavor == Flavor::NetworkPolicy && !self.cilium && workload.ips.iter().any(|ip| block.contains(*ip))
            }
            (Peer::Fqdn(pattern), Endpoint::Fqdn(name)) => pattern.matches(name),
            // Cilium turns `toServices` into CIDR rules for the endpoints of the services without
            // a selector it names: outside addresses, never pods.
            (Peer::Service(service), Endpoint::External(ip)) => {
                self.services.iter().any(|candidate| !candidate.selects_pods && service.matches(candidate) && candidate.addresses.contains(ip))
            }
            // Selectors never match an IP address. A DNS name is matched by name only: its
            // addresses are not known.
            _ => false,
        }
    }

    /// The ports every workload may use toward every workload. Workloads that every policy
    /// treats alike (the same policies select them, the same peers of every rule match them, the
    /// same container ports) share a class, and cells are computed once per pair of classes, on
    /// every core: thousands of workloads make far fewer classes.
    pub fn matrix(&self) -> Matrix {
        let index = PolicyIndex::new(self);
        // Every distinct peer that can match a workload, with a policy it belongs to (a peer
        // without a namespaceSelector reads the policy's namespace).
        let mut seen = HashSet::new();
        let mut peers: Vec<(&Policy<'a>, &Peer)> = Vec::new();
        for policy in &self.policies {
            for peer in policy.peers() {
                if matches!(peer, Peer::Pods { .. } | Peer::Endpoints { .. } | Peer::Block(_))
                    && seen.insert(format!("{peer:?} {} {:?}", policy.namespace, policy.flavor))
                {
                    peers.push((policy, peer));
                }
            }
        }
        let keys: Vec<ClassKey<'_>> = self
            .workloads
            .par_iter()
            .map(|workload| {
                let mut matched = vec![0_u64; peers.len().div_ceil(64)];
                for (position, (policy, peer)) in peers.iter().enumerate() {
                    if self.peer_matches(policy, peer, &Endpoint::Workload(workload)) {
                        matched[position / 64] |= 1 << (position % 64);
                    }
                }
                ClassKey { selected: index.selecting(workload), matched, ports: &workload.ports }
            })
            .collect();
        let mut class_by_key: HashMap<&ClassKey<'_>, usize> = HashMap::new();
        let mut representatives = Vec::new();
        let class_of = keys
            .iter()
            .enumerate()
            .map(|(workload, key)| {
                *class_by_key.entry(key).or_insert_with(|| {
                    representatives.push(workload);
                    representatives.len() - 1
                })
            })
            .collect();
        // Each row is interned as soon as it is computed, so the matrix never holds a port set
        // per cell: thousands of classes make millions of cells, and a handful of sets.
        let sets = Mutex::new(PortSets::default());
        let intern = |row: Vec<PortSet>| sets.lock().unwrap_or_else(|poison| poison.into_inner()).intern_row(row);
        let cells = representatives
            .par_iter()
            .map(|&from| {
                intern(
                    representatives
                        .iter()
                        .map(|&to| {
                            let (source, destination) = (Endpoint::Workload(&self.workloads[from]), Endpoint::Workload(&self.workloads[to]));
                            self.reach_selected(&source, &keys[from].selected, &destination, &keys[to].selected).ports
                        })
                        .collect(),
                )
            })
            .collect();
        let outside = self.outside_peers();
        let to_outside = representatives
            .par_iter()
            .map(|&from| intern(outside.iter().map(|peer| self.reach_selected(&Endpoint::Workload(&self.workloads[from]), &keys[from].selected, &peer.endpoint(), &[]).ports).collect()))
            .collect();
        let from_outside = outside
            .par_iter()
            .map(|peer| intern(representatives.iter().map(|&to| self.reach_selected(&peer.endpoint(), &[], &Endpoint::Workload(&self.workloads[to]), &keys[to].selected).ports).collect()))
            .collect();
        let sets = sets.into_inner().unwrap_or_else(|poison| poison.into_inner()).sets;
        Matrix { class_of, sets, cells, outside, to_outside, from_outside, nothing: PortSet::none() }
    }

    /// The connections a default-deny policy in each of `namespaces` would cut: for each
    /// (source, destination) pair of matrix nodes (workloads, then outside peers), the ports that are allowed now and would not
    /// be then. Namespaces that already isolate every pod both ways lose nothing.
    pub fn default_deny_impact(&self, namespaces: &[String]) -> Vec<Breakage> {
        let mut after = self.clone();
        after.policies.extend(namespaces.iter().map(|namespace| Policy::default_deny(namespace)));
        let before = self.matrix();
        let later = after.matrix();
        let mut broken = Vec::new();
        for from in 0..before.nodes() {
            for to in 0..before.nodes() {
                let lost = before.get(from, to).minus(later.get(from, to));
                if !lost.is_empty() {
                    broken.push(Breakage { from, to, lost });
                }
            }
        }
        broken
    }
}

/// What makes workloads alike for every policy: the policies selecting them, which peers of
/// every rule match them (a bit each), and their container ports (for named ports).
#[derive(PartialEq, Eq, Hash)]
struct ClassKey<'w> {
    selected: Vec<usize>,
    matched: Vec<u64>,
    ports: &'w [ContainerPort],
}

/// The ports every workload may use toward every workload and outside peer, and every outside
/// peer toward every workload (see [`Network::matrix`]). Nodes are numbered workloads first (as
/// in `Network::workloads`), then the outside peers.
#[derive(Clone, Debug)]
pub struct Matrix {
    /// Each workload's class.
    class_of: Vec<usize>,
    /// Every distinct port set of the matrix; cells hold their index.
    sets: Vec<PortSet>,
    /// The ports from each class to each class.
    cells: Vec<Vec<u32>>,
    outside: Vec<Outside>,
    /// The ports from each class to each outside peer.
    to_outside: Vec<Vec<u32>>,
    /// The ports from each outside peer to each class.
    from_outside: Vec<Vec<u32>>,
    /// Between two outside peers: not the policies' business.
    nothing: PortSet,
}

impl Matrix {
    /// The ports node `from` may use toward node `to`; nothing between two outside peers.
    pub fn get(&self, from: usize, to: usize) -> &PortSet {
        let workloads = self.class_of.len();
        match (self.class_of.get(from), self.class_of.get(to)) {
            (Some(&from), Some(&to)) => &self.sets[self.cells[from][to] as usize],
            (Some(&from), None) => &self.sets[self.to_outside[from][to - workloads] as usize],
            (None, Some(&to)) => &self.sets[self.from_outside[from - workloads][to] as usize],
            (None, None) => &self.nothing,
        }
    }

    /// The workloads and outside peers.
    pub fn nodes(&self) -> usize {
        self.class_of.len() + self.outside.len()
    }

    pub fn outside(&self) -> &[Outside] {
        &self.outside
    }

    /// The number of workloads.
    pub fn len(&self) -> usize {
        self.class_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.class_of.is_empty()
    }

    /// The number of classes of workloads that every policy treats alike.
    pub fn classes(&self) -> usize {
        self.cells.len()
    }
}

/// The distinct port sets of a matrix, each stored once.
#[derive(Default)]
struct PortSets {
    sets: Vec<PortSet>,
    index: HashMap<PortSet, u32>,
}

impl PortSets {
    fn intern_row(&mut self, row: Vec<PortSet>) -> Vec<u32> {
        row.into_iter()
            .map(|set| match self.index.get(&set) {
                Some(&known) => known,
                None => {
                    let id = u32::try_from(self.sets.len()).expect("fewer than 2^32 distinct port sets");
                    self.sets.push(set.clone());
                    self.index.insert(set, id);
                    id
                }
            })
            .collect()
    }
}

/// A connection a default-deny would cut.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breakage {
    pub from: usize,
    pub to: usize,
    pub lost: PortSet,
}

/// The ports a matching rule opens toward `destination`. A named port opens the port numbers
/// the destination's containers give that name with that protocol; it opens nothing toward an
/// external address.
fn rule_ports(rule: &NetRule, destination: &Endpoint<'_, '_>) -> PortSet {
    if rule.ports.is_empty() {
        return PortSet::all();
    }
    let mut set = PortSet::none();
    for port in &rule.ports {
        match &port.port {
            None => set.union_with(&PortSet::protocol(port.protocol)),
            Some(PortRef::Number(first)) => set.add(port.protocol, *first, port.end_port.unwrap_or(*first)),
            Some(PortRef::Name(name)) => {
                if let Endpoint::Workload(workload) = destination {
                    for declared in &workload.ports {
                        if declared.name.as_deref() == Some(name) && declared.protocol == port.protocol {
                            set.add(port.protocol, declared.port, declared.port);
                        }
                    }
                }
            }
        }
    }
    set
}
