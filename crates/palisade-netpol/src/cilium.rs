//! Cilium's policies (`cilium.io/v2` CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy)
//! read into the same model as NetworkPolicies, with Cilium's semantics:
//!
//! - each of `spec` and `specs` is a rule of its own, selecting endpoints by `endpointSelector`
//!   (in the policy's namespace, or every namespace for a clusterwide policy);
//! - selectors see the labels Cilium gives every pod ([`labels`]), and `k8s:`/`any:` prefixes
//!   are taken off their keys;
//! - a namespaced policy's `fromEndpoints`/`toEndpoints` selectors are confined to its namespace
//!   unless they name `io.kubernetes.pod.namespace` or namespace labels
//!   (`io.cilium.k8s.namespace.labels.*`);
//! - a rule's peers are its endpoints, entities, CIDRs and DNS names together; a rule with ports
//!   and no peers matches every peer, the outside world included, and a rule with neither
//!   (`ingress: [{}]`) matches nothing;
//! - an omitted or `ANY` protocol means TCP, UDP and SCTP; layer-7 rules are kept as the
//!   requests the rule allows;
//! - a direction with allow or deny rules puts the selected endpoints in default deny, unless
//!   `enableDefaultDeny` says otherwise, and deny rules win over every allow.

use palisade_core::{LabelSelector, Labels, Node, Object};

use crate::model::{
    DefaultDeny, Direction, Entity, Flavor, FqdnMatch, NetRule, Peer, Policy, PortRef, PortRule, Reader, ServiceRef, ServiceTarget, Workload, DEFAULT_NAMESPACE,
};
use crate::ports::Protocol;

pub const GROUP: &str = "cilium.io";

/// The label Cilium gives every pod with its namespace.
pub const NAMESPACE_LABEL: &str = "io.kubernetes.pod.namespace";
/// The label Cilium gives every pod with its service account.
pub const SERVICE_ACCOUNT_LABEL: &str = "io.cilium.k8s.policy.serviceaccount";
/// The label Cilium gives every pod with its cluster's name.
pub const CLUSTER_LABEL: &str = "io.cilium.k8s.policy.cluster";
/// The prefix of the labels that carry the pod's namespace's labels.
pub const NAMESPACE_LABELS_PREFIX: &str = "io.cilium.k8s.namespace.labels.";
/// Cilium's cluster name when none is configured.
pub const DEFAULT_CLUSTER: &str = "default";

/// Whether `object` is a CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy.
pub fn is_policy(object: &Object) -> bool {
    object.is(&[GROUP], "CiliumNetworkPolicy") || object.is(&[GROUP], "CiliumClusterwideNetworkPolicy")
}

/// The labels Cilium's selectors see on a pod of `workload`: its own, plus its namespace,
/// service account and cluster, and its namespace's labels.
pub fn labels(workload: &Workload<'_>, namespace_labels: &Labels) -> Labels {
    let mut labels = workload.labels.clone();
    labels.extend(namespace_wide_labels(&workload.namespace, namespace_labels));
    labels.insert(SERVICE_ACCOUNT_LABEL.to_owned(), workload.service_account.clone());
    labels
}

/// The labels Cilium gives every pod of `namespace` alike: the namespace, the cluster and the
/// namespace's labels.
pub fn namespace_wide_labels(namespace: &str, namespace_labels: &Labels) -> Labels {
    let mut labels = Labels::default();
    labels.insert(NAMESPACE_LABEL.to_owned(), namespace.to_owned());
    labels.insert(CLUSTER_LABEL.to_owned(), DEFAULT_CLUSTER.to_owned());
    for (key, value) in namespace_labels {
        labels.insert(format!("{NAMESPACE_LABELS_PREFIX}{key}"), value.clone());
    }
    labels
}

/// A selector key without Cilium's `k8s:` or `any:` source prefix.
fn without_source(key: &str) -> String {
    key.strip_prefix("k8s:").or_else(|| key.strip_prefix("any:")).unwrap_or(key).to_owned()
}

impl Entity {
    pub fn parse(text: &str) -> Option<Entity> {
        Some(match text {
            "world" | "world-ipv4" | "world-ipv6" => Entity::World,
            "cluster" => Entity::Cluster,
            "host" => Entity::Host,
            "remote-node" => Entity::RemoteNode,
            "kube-apiserver" => Entity::KubeApiserver,
            "health" => Entity::Health,
            "init" => Entity::Init,
            "ingress" => Entity::Ingress,
            "unmanaged" => Entity::Unmanaged,
            "all" => Entity::All,
            _ => return None,
        })
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Entity::World => "world",
            Entity::Cluster => "cluster",
            Entity::Host => "host",
            Entity::RemoteNode => "remote-node",
            Entity::KubeApiserver => "kube-apiserver",
            Entity::Health => "health",
            Entity::Init => "init",
            Entity::Ingress => "ingress",
            Entity::Unmanaged => "unmanaged",
            Entity::All => "all",
        }
    }

    /// Whether a rule naming `self` matches the endpoint `other` (itself an entity: a pod is
    /// part of `cluster`, an outside address or DNS name of `world`). `cluster` is every
    /// endpoint of the cluster (pods, nodes, init, health, unmanaged, and the API server where
    /// it runs on the nodes); `host` and `remote-node` name the nodes, not the API server, whose
    /// node Palisade does not know.
    pub fn covers(self, other: Entity) -> bool {
        self == other || self == Entity::All || (self == Entity::Cluster && !matches!(other, Entity::World | Entity::All))
    }
}

impl FqdnMatch {
    /// Whether `name` (a DNS name, any case, with or without the final dot) matches. A
    /// pattern's `*` never crosses a dot, so pattern and name match label by label.
    pub fn matches(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        match self {
            FqdnMatch::Name(wanted) => *wanted == name,
            FqdnMatch::Pattern(pattern) if pattern == "*" => true,
            FqdnMatch::Pattern(pattern) => {
                pattern.split('.').count() == name.split('.').count()
                    && pattern.split('.').zip(name.split('.')).all(|(pattern, label)| palisade_core::wildcard::matches(pattern, label))
            }
        }
    }
}

/// Whether `pattern` is one Cilium accepts in `matchPattern`: DNS characters and `*`.
fn valid_fqdn_pattern(pattern: &str) -> bool {
    !pattern.is_empty() && pattern.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'*' | b'.'))
}

impl<'a> Reader<'a> {
    /// The rules of a Cilium policy: `spec` and each of `specs`, one policy each.
    pub(crate) fn cilium_policies(&mut self, object: &'a Object) -> Vec<Policy<'a>> {
        let flavor = if object.kind() == "CiliumClusterwideNetworkPolicy" { Flavor::CiliumClusterwide } else { Flavor::Cilium };
        let mut rules: Vec<(String, &Node)> = Vec::new();
        if let Some(spec) = object.root.get("spec") {
            rules.push(("/spec".to_owned(), spec));
        }
        for (index, spec) in object.root.get("specs").map(Node::as_seq).unwrap_or_default().iter().enumerate() {
            rules.push((format!("/specs/{index}"), spec));
        }
        if rules.is_empty() {
            self.problem(object, String::new(), "a Cilium policy needs `spec` or `specs`".to_owned());
        }
        rules.into_iter().map(|(pointer, spec)| self.cilium_rule(object, flavor, spec, &pointer)).collect()
    }

    fn cilium_rule(&mut self, object: &'a Object, flavor: Flavor, spec: &Node, pointer: &str) -> Policy<'a> {
        let namespace = match flavor {
            Flavor::CiliumClusterwide => String::new(),
            _ => object.namespace().unwrap_or(DEFAULT_NAMESPACE).to_owned(),
        };
        let pod_selector = match (spec.get("endpointSelector"), spec.get("nodeSelector")) {
            (Some(selector), None) => self.cilium_selector(object, selector, &format!("{pointer}/endpointSelector")),
            // Nodes are not part of the model: a host policy selects no workload.
            (None, Some(_)) => None,
            _ => {
                self.problem(object, pointer.to_owned(), "a Cilium rule needs exactly one of endpointSelector and nodeSelector".to_owned());
                None
            }
        };
        let confine = (flavor == Flavor::Cilium).then_some(namespace.as_str());
        let ingress = self.cilium_rules(object, spec.get("ingress"), &format!("{pointer}/ingress"), Direction::Ingress, confine, true);
        let egress = self.cilium_rules(object, spec.get("egress"), &format!("{pointer}/egress"), Direction::Egress, confine, true);
        let ingress_deny = self.cilium_rules(object, spec.get("ingressDeny"), &format!("{pointer}/ingressDeny"), Direction::Ingress, confine, false);
        let egress_deny = self.cilium_rules(object, spec.get("egressDeny"), &format!("{pointer}/egressDeny"), Direction::Egress, confine, false);
        // Default deny follows the directions that have rules, unless enableDefaultDeny says
        // otherwise.
        let enable = |key: &str| spec.get("enableDefaultDeny").and_then(|node| node.get(key)).and_then(Node::as_bool);
        let default_deny = DefaultDeny {
            ingress: enable("ingress").unwrap_or(!ingress.is_empty() || !ingress_deny.is_empty()),
            egress: enable("egress").unwrap_or(!egress.is_empty() || !egress_deny.is_empty()),
        };
        Policy {
            object: Some(object),
            namespace,
            name: object.name().to_owned(),
            flavor,
            pod_selector,
            ingress: (!ingress.is_empty()).then_some(ingress),
            egress: (!egress.is_empty()).then_some(egress),
            ingress_deny,
            egress_deny,
            default_deny,
        }
    }

    fn cilium_selector(&mut self, object: &'a Object, node: &Node, pointer: &str) -> Option<LabelSelector> {
        self.selector(object, node, pointer).map(|selector| selector.with_keys_renamed(without_source))
    }

    /// The rules of one section (`ingress`, `egressDeny`, ...). `confine` is the namespace a
    /// namespaced policy's endpoint selectors are confined to; deny rules carry no layer 7.
    fn cilium_rules(&mut self, object: &'a Object, node: Option<&Node>, pointer: &str, direction: Direction, confine: Option<&str>, allow: bool) -> Vec<NetRule> {
        let side = match direction {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        };
        let mut rules = Vec::new();
        for (index, rule) in node.map(Node::as_seq).unwrap_or_default().iter().enumerate() {
            let pointer = format!("{pointer}/{index}");
            let mut peers = Vec::new();
            for (i, selector) in rule.get(&format!("{side}Endpoints")).map(Node::as_seq).unwrap_or_default().iter().enumerate() {
                let selector = self.cilium_selector(object, selector, &format!("{pointer}/{side}Endpoints/{i}"));
                peers.push(match selector {
                    Some(selector) => {
                        // Cilium confines the selector to the policy's namespace unless it names
                        // a namespace, or namespaces by their labels.
                        let names_namespaces = selector.mentions(NAMESPACE_LABEL) || selector.keys().any(|key| key.starts_with(NAMESPACE_LABELS_PREFIX));
                        let namespace = confine.filter(|_| !names_namespaces).map(str::to_owned);
                        Peer::Endpoints { selector, namespace }
                    }
                    None => Peer::Invalid,
                });
            }
            for (i, entity) in rule.get(&format!("{side}Entities")).map(Node::as_seq).unwrap_or_default().iter().enumerate() {
                let text = entity.as_str().unwrap_or_default();
                peers.push(match Entity::parse(text) {
                    Some(entity) => Peer::Entity(entity),
                    // An entity that exists to select nothing.
                    None if text == "none" => Peer::Nobody,
                    None => {
                        self.problem(object, format!("{pointer}/{side}Entities/{i}"), format!("unknown entity `{text}`"));
                        Peer::Invalid
                    }
                });
            }
            for (i, cidr) in rule.get(&format!("{side}CIDR")).map(Node::as_seq).unwrap_or_default().iter().enumerate() {
                let block = Node::from_json(&serde_json::json!({"cidr": cidr.as_str().unwrap_or_default()}));
                peers.push(self.ip_block(object, &block, &format!("{pointer}/{side}CIDR/{i}")).map_or(Peer::Invalid, Peer::Block));
            }
            for (i, set) in rule.get(&format!("{side}CIDRSet")).map(Node::as_seq).unwrap_or_default().iter().enumerate() {
                let at = format!("{pointer}/{side}CIDRSet/{i}");
                if set.get("cidrGroupRef").is_some() || set.get("cidrGroupSelector").is_some() {
                    self.problem(object, at, "CIDR groups are not evaluated: the rule matches nothing here".to_owned());
                    peers.push(Peer::Invalid);
                    continue;
                }
                peers.push(self.ip_block(object, set, &at).map_or(Peer::Invalid, Peer::Block));
            }
            if direction == Direction::Egress {
                for (i, fqdn) in rule.get("toFQDNs").map(Node::as_seq).unwrap_or_default().iter().enumerate() {
                    let text = |key: &str| fqdn.get(key).and_then(Node::as_str).map(|text| text.trim_end_matches('.').to_ascii_lowercase());
                    peers.push(match (text("matchName"), text("matchPattern")) {
                        (Some(name), None) => Peer::Fqdn(FqdnMatch::Name(name)),
                        (None, Some(pattern)) if valid_fqdn_pattern(&pattern) => Peer::Fqdn(FqdnMatch::Pattern(pattern)),
                        (None, Some(pattern)) => {
                            self.problem(object, format!("{pointer}/toFQDNs/{i}/matchPattern"), format!("`{pattern}` is not a DNS pattern (letters, digits, `-`, `_`, `.` and `*`)"));
                            Peer::Invalid
                        }
                        _ => {
                            self.problem(object, format!("{pointer}/toFQDNs/{i}"), "a toFQDNs entry needs one of matchName and matchPattern".to_owned());
                            Peer::Invalid
                        }
                    });
                }
                for (i, service) in rule.get("toServices").map(Node::as_seq).unwrap_or_default().iter().enumerate() {
                    peers.push(self.service_ref(object, service, &format!("{pointer}/toServices/{i}")));
                }
            }
            for key in ["fromRequires", "toRequires", "fromNodes", "toNodes", "fromGroups", "toGroups"] {
                if rule.get(key).is_some() {
                    self.problem(object, format!("{pointer}/{key}"), format!("{key} is not evaluated: the rule matches nothing here"));
                    peers.push(Peer::Invalid);
                }
            }
            let (ports, l7) = self.cilium_ports(object, rule.get("toPorts"), &format!("{pointer}/toPorts"), allow);
            if rule.get("toServices").is_some() && rule.get("toPorts").is_some() {
                self.problem(object, format!("{pointer}/toServices"), "toServices cannot be combined with toPorts: Cilium rejects the rule, which matches nothing here".to_owned());
                peers = vec![Peer::Invalid];
            }
            if peers.is_empty() && ports.is_empty() {
                peers.push(Peer::Nobody);
            }
            rules.push(NetRule { pointer, peers, ports, l7 });
        }
        rules
    }

    /// A `toServices` entry: `k8sService` (`serviceName`, `namespace`) or `k8sServiceSelector`
    /// (`selector`, `namespace`); an omitted namespace is any namespace, as Cilium reads it.
    fn service_ref(&mut self, object: &'a Object, node: &Node, pointer: &str) -> Peer {
        let namespace = |node: &Node| node.get("namespace").and_then(Node::as_str).filter(|namespace| !namespace.is_empty()).map(str::to_owned);
        match (node.get("k8sService"), node.get("k8sServiceSelector")) {
            (Some(by_name), None) => match by_name.get("serviceName").and_then(Node::as_str).filter(|name| !name.is_empty()) {
                Some(name) => Peer::Service(ServiceRef { namespace: namespace(by_name), target: ServiceTarget::Name(name.to_owned()) }),
                None => {
                    self.problem(object, format!("{pointer}/k8sService/serviceName"), "k8sService needs serviceName".to_owned());
                    Peer::Invalid
                }
            },
            (None, Some(by_labels)) => match by_labels.get("selector") {
                Some(selector) => match self.cilium_selector(object, selector, &format!("{pointer}/k8sServiceSelector/selector")) {
                    Some(selector) => Peer::Service(ServiceRef { namespace: namespace(by_labels), target: ServiceTarget::Labels(selector) }),
                    None => Peer::Invalid,
                },
                None => {
                    self.problem(object, format!("{pointer}/k8sServiceSelector/selector"), "k8sServiceSelector needs selector".to_owned());
                    Peer::Invalid
                }
            },
            _ => {
                self.problem(object, pointer.to_owned(), "a toServices entry needs one of k8sService and k8sServiceSelector".to_owned());
                Peer::Invalid
            }
        }
    }

    /// The ports of `toPorts` (an omitted or `ANY` protocol is TCP, UDP and SCTP; port `0` or
    /// none is every port), with the layer-7 rules described.
    fn cilium_ports(&mut self, object: &'a Object, node: Option<&Node>, pointer: &str, allow: bool) -> (Vec<PortRule>, Vec<String>) {
        let mut ports = Vec::new();
        let mut l7 = Vec::new();
        for (index, entry) in node.map(Node::as_seq).unwrap_or_default().iter().enumerate() {
            for (i, port) in entry.get("ports").map(Node::as_seq).unwrap_or_default().iter().enumerate() {
                let at = format!("{pointer}/{index}/ports/{i}");
                let protocols = match port.get("protocol").and_then(Node::as_str).unwrap_or("ANY") {
                    "ANY" => Protocol::ALL.to_vec(),
                    text => match Protocol::ALL.into_iter().find(|protocol| protocol.as_str() == text) {
                        Some(protocol) => vec![protocol],
                        None => {
                            self.problem(object, format!("{at}/protocol"), format!("unknown protocol `{text}` (expected TCP, UDP, SCTP or ANY)"));
                            continue;
                        }
                    },
                };
                let number = port.get("port").and_then(|value| value.as_i64().or_else(|| value.as_str().and_then(|text| text.parse().ok())));
                let port_ref = match (number, port.get("port").and_then(Node::as_str)) {
                    (Some(0), _) | (None, None) => None,
                    (Some(number), _) if (1..=65535).contains(&number) => Some(PortRef::Number(number as u16)),
                    (None, Some(name)) if !name.is_empty() => Some(PortRef::Name(name.to_owned())),
                    _ => {
                        self.problem(object, format!("{at}/port"), "a port is a number between 0 and 65535 or a port name".to_owned());
                        continue;
                    }
                };
                let end_port = port.get("endPort").and_then(Node::as_i64).and_then(|n| u16::try_from(n).ok());
                ports.extend(protocols.into_iter().map(|protocol| PortRule { protocol, port: port_ref.clone(), end_port }));
            }
            if let Some(rules) = entry.get("rules") {
                if !allow {
                    self.problem(object, format!("{pointer}/{index}/rules"), "deny rules cannot have layer-7 rules".to_owned());
                }
                l7.extend(describe_l7(rules));
            }
        }
        (ports, l7)
    }
}

/// What the layer-7 rules of a port entry allow, one line each.
fn describe_l7(rules: &Node) -> Vec<String> {
    let mut described = Vec::new();
    for http in rules.get("http").map(Node::as_seq).unwrap_or_default() {
        let text = |key: &str| http.get(key).and_then(Node::as_str).unwrap_or("*");
        described.push(format!("HTTP {} {}{}", text("method"), text("path"), http.get("host").and_then(Node::as_str).map(|host| format!(" host {host}")).unwrap_or_default()));
    }
    for dns in rules.get("dns").map(Node::as_seq).unwrap_or_default() {
        let name = dns.get("matchName").or_else(|| dns.get("matchPattern")).and_then(Node::as_str).unwrap_or("*");
        described.push(format!("DNS {name}"));
    }
    for kafka in rules.get("kafka").map(Node::as_seq).unwrap_or_default() {
        let text = |key: &str| kafka.get(key).and_then(Node::as_str).unwrap_or("*");
        described.push(format!("Kafka {} topic {}", kafka.get("role").and_then(Node::as_str).unwrap_or_else(|| text("apiKey")), text("topic")));
    }
    if described.is_empty() {
        described.push("layer-7 rules".to_owned());
    }
    described
}
