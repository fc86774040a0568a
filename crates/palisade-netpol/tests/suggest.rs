//! `netpol suggest` round trip on the shop fixture (`tests/fixtures/shop`): the policies
//! suggested from its flows, read back with the workloads by the reachability engine, allow every
//! observed flow, and nothing else between its workloads and the outside peers it talks to, but
//! DNS queries to the cluster's DNS service.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use palisade_core::Object;
use palisade_netpol::flows::{self, FlowEnd};
use palisade_netpol::suggest::{DnsService, Kind, Options, suggest};
use palisade_netpol::{Endpoint, Network, PortSet, Protocol, explain};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shop").join(name)).unwrap()
}

fn cluster() -> Vec<Object> {
    let loaded = palisade_load::load_str(&fixture("cluster.yaml"), "cluster.yaml");
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.objects
}

/// The cluster's objects followed by the suggested policies, read back from their YAML.
fn with_suggested(kind: Kind, flows_file: &str, namespaces: &[&str]) -> (Vec<Object>, Vec<String>) {
    let cluster = cluster();
    let observed = flows::read(&fixture(flows_file));
    assert_eq!(observed.errors, []);
    let network = Network::from_objects(&cluster);
    let options = Options { kind, namespaces: namespaces.iter().map(|ns| ns.to_string()).collect(), dns: DnsService::default() };
    let suggestion = suggest(&network, &observed.flows, &options);
    assert_eq!(suggestion.errors, []);
    let yaml: String = suggestion.policies.iter().map(palisade_core::yaml_text::document).collect();
    let policies = palisade_load::load_str(&yaml, "suggested.yaml");
    assert!(policies.errors.is_empty(), "{:?}\n{yaml}", policies.errors);
    let names = policies.objects.iter().map(|policy| format!("{}/{}", policy.namespace().unwrap_or_default(), policy.name())).collect();
    let mut objects = cluster.clone();
    objects.extend(policies.objects);
    (objects, names)
}

/// Where the engine sees a flow's end: the workload Hubble names, the entity (Cilium) or address
/// (NetworkPolicy) of a node or the API server, the DNS name (Cilium) or address of an outside peer.
fn endpoint<'n, 'a>(network: &'n Network<'a>, end: &'n FlowEnd, kind: Kind, destination: bool) -> Endpoint<'n, 'a> {
    match end {
        FlowEnd::Pod { namespace, workload, .. } => Endpoint::Workload(network.find(&format!("{namespace}/{}", workload.as_deref().unwrap())).unwrap()),
        FlowEnd::Entity { entity, ip } => match kind {
            Kind::Cilium => Endpoint::Entity(*entity),
            Kind::NetworkPolicy => Endpoint::External(ip.unwrap()),
        },
        FlowEnd::External { names, .. } if kind == Kind::Cilium && destination && !names.is_empty() => Endpoint::Fqdn(&names[0]),
        FlowEnd::External { ip, .. } => Endpoint::External(ip.unwrap()),
        FlowEnd::Named(spec) => explain::endpoint(network, spec).unwrap(),
    }
}

fn round_trip(kind: Kind, flows_file: &str) {
    let (objects, names) = with_suggested(kind, flows_file, &[]);
    let network = Network::from_objects(&objects);
    assert!(network.problems.is_empty(), "{:?}", network.problems.iter().map(|p| &p.message).collect::<Vec<_>>());
    let observed = flows::read(&fixture(flows_file));

    // Every observed flow is allowed.
    let mut seen: BTreeMap<(String, String), PortSet> = BTreeMap::new();
    let mut peers: BTreeMap<String, Endpoint<'_, '_>> = BTreeMap::new();
    for flow in &observed.flows {
        let from = endpoint(&network, &flow.source, kind, false);
        let to = endpoint(&network, &flow.destination, kind, true);
        let reach = network.reach(&from, &to);
        assert!(reach.ports.contains(flow.protocol, flow.port), "line {}: {} -> {} {}/{} not allowed", flow.line, from.label(), to.label(), flow.port, flow.protocol);
        seen.entry((from.label(), to.label())).or_insert_with(PortSet::none).add(flow.protocol, flow.port, flow.port);
        peers.insert(from.label(), from);
        peers.insert(to.label(), to);
    }

    // Nothing else is, between the workloads and the peers seen, where one end is in a namespace
    // the policies were written for (every namespace with an observed pod: all but staging).
    for workload in &network.workloads {
        peers.insert(workload.label(), Endpoint::Workload(workload));
    }
    let written = |endpoint: &Endpoint<'_, '_>| matches!(endpoint, Endpoint::Workload(w) if w.namespace != "staging");
    let dns_protocols: &[Protocol] = if kind == Kind::Cilium { &Protocol::ALL } else { &[Protocol::Udp, Protocol::Tcp] };
    let mut checked = 0;
    for (from_label, from) in &peers {
        for (to_label, to) in &peers {
            if !written(from) && !written(to) {
                continue;
            }
            let mut expected = seen.get(&(from_label.clone(), to_label.clone())).cloned().unwrap_or_else(PortSet::none);
            if to_label == "kube-system/Deployment/coredns" {
                for protocol in dns_protocols {
                    expected.add(*protocol, 53, 53);
                }
            }
            let extra = network.reach(from, to).ports.minus(&expected);
            assert!(extra.is_empty(), "{from_label} -> {to_label}: {:?} allowed but never observed", extra.ranges().collect::<Vec<_>>());
            checked += 1;
        }
    }
    assert!(checked > 150, "{checked} pairs checked");

    // The layout: a default deny and DNS for each namespace written, the DNS service open to the
    // cluster, one policy per workload with traffic.
    for namespace in ["storefront", "checkout", "payments", "data", "monitoring", "kube-system"] {
        for name in ["default-deny", "allow-dns"] {
            assert!(names.contains(&format!("{namespace}/{name}")), "{namespace}/{name} in {names:?}");
        }
    }
    assert!(names.contains(&"kube-system/allow-dns-queries".to_owned()));
    assert!(!names.iter().any(|name| name.starts_with("staging/")), "{names:?}");
    let expected: BTreeSet<&str> =
        ["storefront/allow-web", "storefront/allow-web-canary", "checkout/allow-api", "checkout/allow-worker", "payments/allow-payments", "data/allow-postgres", "data/allow-redis", "monitoring/allow-prometheus", "kube-system/allow-coredns"].into();
    let written: BTreeSet<&str> = names.iter().map(String::as_str).filter(|name| name.contains("/allow-") && !name.contains("/allow-dns")).collect();
    assert_eq!(written, expected);
}

#[test]
fn cilium_policies_from_hubble_flows_allow_exactly_the_observed_traffic() {
    round_trip(Kind::Cilium, "flows.jsonl");
}

#[test]
fn network_policies_from_hubble_flows_allow_exactly_the_observed_traffic() {
    round_trip(Kind::NetworkPolicy, "flows.jsonl");
}

#[test]
fn network_policies_from_a_flow_table_allow_exactly_the_observed_traffic() {
    round_trip(Kind::NetworkPolicy, "flows.csv");
}

#[test]
fn hubble_pods_group_by_their_labels_without_the_workloads() {
    // No manifests: the pods' own labels, volatile ones and Cilium's left out, select them.
    let observed = flows::read(&fixture("flows.jsonl"));
    let empty: Vec<Object> = Vec::new();
    let network = Network::from_objects(&empty);
    let options = Options { kind: Kind::Cilium, namespaces: vec!["data".to_owned()], dns: DnsService::default() };
    let suggestion = suggest(&network, &observed.flows, &options);
    let postgres = suggestion.policies.iter().find(|policy| policy["metadata"]["name"] == "allow-postgres").unwrap();
    assert_eq!(postgres["spec"]["endpointSelector"], serde_json::json!({"matchLabels": {"app": "postgres"}}));
    assert_eq!(postgres["spec"]["ingress"][0]["fromEndpoints"][0]["matchLabels"], serde_json::json!({"app": "checkout-api", "app.kubernetes.io/part-of": "shop", "k8s:io.kubernetes.pod.namespace": "checkout"}));
    assert!(suggestion.policies.iter().all(|policy| policy["metadata"]["namespace"] == "data"));
}

#[test]
fn only_the_asked_namespaces_are_written_and_their_peers_stay_open() {
    let (objects, names) = with_suggested(Kind::NetworkPolicy, "flows.jsonl", &["payments"]);
    assert_eq!(names, ["payments/default-deny", "payments/allow-dns", "payments/allow-payments"]);
    let network = Network::from_objects(&objects);
    let find = |spec: &str| Endpoint::Workload(network.find(spec).unwrap());
    // checkout is not written: its api reaches postgres still; payments only takes its callers.
    assert!(!network.reach(&find("checkout/api"), &find("data/postgres")).ports.is_empty());
    assert!(network.reach(&find("checkout/worker"), &find("payments/payments")).ports.is_empty());
    assert!(network.reach(&find("checkout/api"), &find("payments/payments")).ports.contains(Protocol::Tcp, 9000));
}
