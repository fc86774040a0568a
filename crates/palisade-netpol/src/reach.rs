//! The reachability engine: which ports a connection may use, with the policies that decide.
//!
//! Traffic from A to B is allowed on a port when A's egress allows it (or no policy isolates A
//! for egress) AND B's ingress allows it (or no policy isolates B for ingress), and no deny rule
//! of a policy selecting A (egress) or B (ingress) matches it. Allows are additive: a direction
//! allows the union of the matching rules of every policy that selects the pod, NetworkPolicies
//! and Cilium policies alike; denies win over every allow.

use std::net::IpAddr;

use crate::model::{Direction, Entity, Flavor, NetRule, Network, Peer, Policy, PortRef, Workload};
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

impl<'a> Network<'a> {
    pub fn reach(&self, from: &Endpoint<'_, 'a>, to: &Endpoint<'_, 'a>) -> Reach {
        let egress = match from {
            Endpoint::Workload(source) => self.side(source, Direction::Egress, to, to),
            _ => Side::open(),
        };
        let ingress = match to {
            Endpoint::Workload(destination) => self.side(destination, Direction::Ingress, from, to),
            _ => Side::open(),
        };
        let ports = egress.ports.intersect(&ingress.ports);
        Reach { egress, ingress, ports }
    }

    /// What `direction` of `subject` allows toward or from `peer`; named ports resolve
    /// against `destination`, the pod that receives the traffic.
    fn side(&self, subject: &Workload<'a>, direction: Direction, peer: &Endpoint<'_, 'a>, destination: &Endpoint<'_, 'a>) -> Side {
        let mut side = Side { isolated_by: Vec::new(), allowed_by: Vec::new(), denied_by: Vec::new(), ports: PortSet::none(), l7: Vec::new() };
        let mut denied = PortSet::none();
        for (policy_index, policy) in self.selecting(subject) {
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
            // A NetworkPolicy's ipBlock selects pods by their addresses, as most CNIs enforce it
            // and the Kubernetes e2e suite expects, where the input has them (a cluster scan).
            // Cilium's CIDR rules, and NetworkPolicies that Cilium enforces (translated to CIDR
            // rules), never select cluster endpoints.
            (Peer::Block(block), Endpoint::Workload(workload)) => {
                policy.flavor == Flavor::NetworkPolicy && !self.cilium && workload.ips.iter().any(|ip| block.contains(*ip))
            }
            (Peer::Fqdn(pattern), Endpoint::Fqdn(name)) => pattern.matches(name),
            // Selectors never match an IP address. A DNS name is matched by name only: its
            // addresses are not known.
            _ => false,
        }
    }

    /// Ports reachable from every workload to every workload, row = source.
    pub fn matrix(&self) -> Vec<Vec<PortSet>> {
        self.workloads
            .iter()
            .map(|from| {
                self.workloads
                    .iter()
                    .map(|to| self.reach(&Endpoint::Workload(from), &Endpoint::Workload(to)).ports)
                    .collect()
            })
            .collect()
    }

    /// The connections a default-deny policy in each of `namespaces` would cut: for each
    /// (source, destination) workload index pair, the ports that are allowed now and would not
    /// be then. Namespaces that already isolate every pod both ways lose nothing.
    pub fn default_deny_impact(&self, namespaces: &[String]) -> Vec<Breakage> {
        let mut after = self.clone();
        after.policies.extend(namespaces.iter().map(|namespace| Policy::default_deny(namespace)));
        let before = self.matrix();
        let later = after.matrix();
        let mut broken = Vec::new();
        for (from, row) in before.iter().enumerate() {
            for (to, ports) in row.iter().enumerate() {
                let lost = ports.minus(&later[from][to]);
                if !lost.is_empty() {
                    broken.push(Breakage { from, to, lost });
                }
            }
        }
        broken
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
