//! One case per semantic rule of the NetworkPolicy API reference (networking/v1), run through
//! the whole pipeline: objects → model → reachability.

use std::net::IpAddr;

use palisade_core::{Node, Object, Origin};
use serde_json::{Value, json};

use crate::{Endpoint, MatrixFormat, Network, PortSet, Protocol, write_matrix};

pub(crate) fn objects(items: &[Value]) -> Vec<Object> {
    items
        .iter()
        .enumerate()
        .map(|(document, item)| {
            Object::new(Node::from_json(item), Origin { file: "t.yaml".into(), document: document as u32, item: None })
        })
        .collect()
}

pub(crate) fn namespace(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
}

pub(crate) fn deployment(namespace: &str, name: &str, labels: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
           "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [
               {"name": "main", "ports": [
                   {"name": "http", "containerPort": 8080},
                   {"name": "dns", "containerPort": 5353, "protocol": "UDP"}]}]}}}})
}

fn policy(namespace: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
           "metadata": {"name": name, "namespace": namespace}, "spec": spec})
}

/// The usual cast: `web` and `db` in `shop`, `client` in `other` (labelled team=a), and `ops`
/// in `tools` (unlabelled), plus whatever policies the case adds.
pub(crate) fn network_with(policies: &[Value]) -> Vec<Object> {
    let mut items = vec![
        namespace("shop", json!({})),
        namespace("other", json!({"team": "a"})),
        namespace("tools", json!({})),
        deployment("shop", "web", json!({"app": "web"})),
        deployment("shop", "db", json!({"app": "db"})),
        deployment("other", "client", json!({"app": "client"})),
        deployment("tools", "ops", json!({"app": "client"})),
    ];
    items.extend_from_slice(policies);
    objects(&items)
}

fn ports(objects: &[Object], from: &str, to: &str) -> PortSet {
    let network = Network::from_objects(objects);
    assert!(network.problems.is_empty(), "{:?}", network.problems);
    let from = endpoint(&network, from);
    let to = endpoint(&network, to);
    network.reach(&from, &to).ports
}

fn endpoint<'n, 'a>(network: &'n Network<'a>, spec: &str) -> Endpoint<'n, 'a> {
    match spec.parse::<IpAddr>() {
        Ok(ip) => Endpoint::External(ip),
        Err(_) => Endpoint::Workload(network.find(spec).unwrap()),
    }
}

pub(crate) fn tcp(port: u16) -> PortSet {
    PortSet::single(Protocol::Tcp, port)
}

#[test]
fn pods_selected_by_no_policy_are_not_isolated() {
    let objects = network_with(&[]);
    assert!(ports(&objects, "other/client", "shop/web").is_all());
}

#[test]
fn empty_pod_selector_selects_every_pod_of_the_namespace() {
    let objects = network_with(&[policy("shop", "deny", json!({"podSelector": {}, "policyTypes": ["Ingress"]}))]);
    assert!(ports(&objects, "other/client", "shop/web").is_empty());
    assert!(ports(&objects, "other/client", "shop/db").is_empty());
}

#[test]
fn a_policy_selects_only_pods_of_its_own_namespace() {
    let objects = network_with(&[policy("tools", "deny", json!({"podSelector": {}, "policyTypes": ["Ingress"]}))]);
    assert!(ports(&objects, "other/client", "shop/web").is_all());
}

#[test]
fn pod_selector_narrows_the_selected_pods() {
    let objects = network_with(&[policy("shop", "deny-db", json!({"podSelector": {"matchLabels": {"app": "db"}}}))]);
    assert!(ports(&objects, "other/client", "shop/db").is_empty());
    assert!(ports(&objects, "other/client", "shop/web").is_all());
}

#[test]
fn without_policy_types_a_policy_affects_ingress_only_when_it_has_no_egress_rules() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}}))]);
    assert!(ports(&objects, "shop/web", "other/client").is_all(), "egress stays open");
    assert!(ports(&objects, "other/client", "shop/web").is_empty(), "ingress is isolated");
}

#[test]
fn without_policy_types_egress_rules_make_the_policy_affect_egress_too() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]}))]);
    assert_eq!(ports(&objects, "shop/web", "other/client"), PortSet::single(Protocol::Udp, 53));
    assert!(ports(&objects, "other/client", "shop/web").is_empty(), "ingress is still implied");
}

#[test]
fn egress_only_policy_types_leave_ingress_open() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "policyTypes": ["Egress"]}))]);
    assert!(ports(&objects, "other/client", "shop/web").is_all());
    assert!(ports(&objects, "shop/web", "other/client").is_empty());
}

#[test]
fn an_empty_rule_allows_every_peer_on_every_port() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "ingress": [{}]}))]);
    assert!(ports(&objects, "tools/ops", "shop/web").is_all());
    assert!(ports(&objects, "203.0.113.9", "shop/web").is_all());
}

#[test]
fn a_rule_without_from_admits_every_source_on_its_ports() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "ingress": [{"ports": [{"port": 8080}]}]}))]);
    assert_eq!(ports(&objects, "tools/ops", "shop/web"), tcp(8080));
}

#[test]
fn a_rule_without_ports_admits_its_peers_on_every_port() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]}))]);
    assert!(ports(&objects, "shop/web", "shop/db").is_all());
    assert!(ports(&objects, "shop/db", "shop/web").is_empty());
}

#[test]
fn peers_of_one_rule_are_ored() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "ingress": [{"from": [
        {"podSelector": {"matchLabels": {"app": "web"}}},
        {"namespaceSelector": {"matchLabels": {"team": "a"}}}]}]}))]);
    assert!(ports(&objects, "shop/web", "shop/db").is_all());
    assert!(ports(&objects, "other/client", "shop/db").is_all());
    assert!(ports(&objects, "tools/ops", "shop/db").is_empty());
}

#[test]
fn a_pod_selector_peer_alone_means_the_policy_namespace() {
    // `ops` in tools carries app=client too, but it is not in the policy's namespace.
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "ingress": [{"from": [
        {"podSelector": {"matchLabels": {"app": "client"}}}]}]}))]);
    assert!(ports(&objects, "tools/ops", "shop/web").is_empty());
    assert!(ports(&objects, "other/client", "shop/web").is_empty());
}

#[test]
fn a_namespace_selector_peer_alone_admits_every_pod_of_the_selected_namespaces() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "ingress": [{"from": [
        {"namespaceSelector": {"matchLabels": {"team": "a"}}}]}]}))]);
    assert!(ports(&objects, "other/client", "shop/web").is_all());
    assert!(ports(&objects, "shop/db", "shop/web").is_empty(), "the policy's own namespace is not labelled team=a");
}

#[test]
fn namespace_and_pod_selectors_in_one_peer_are_anded() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "ingress": [{"from": [
        {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "client"}}}]}]}))]);
    // Empty namespaceSelector: every namespace; podSelector then narrows to app=client.
    assert!(ports(&objects, "other/client", "shop/web").is_all());
    assert!(ports(&objects, "tools/ops", "shop/web").is_all());
    assert!(ports(&objects, "shop/db", "shop/web").is_empty());
}

#[test]
fn namespaces_can_be_selected_by_their_automatic_name_label() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "ingress": [{"from": [
        {"namespaceSelector": {"matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["tools"]}]}}]}]}))]);
    assert!(ports(&objects, "tools/ops", "shop/web").is_all());
    assert!(ports(&objects, "other/client", "shop/web").is_empty());
}

#[test]
fn ip_block_admits_its_cidr_minus_the_exceptions() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "ingress": [{"from": [
        {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}]}))]);
    assert!(ports(&objects, "10.2.3.4", "shop/web").is_all());
    assert!(ports(&objects, "10.1.3.4", "shop/web").is_empty());
    assert!(ports(&objects, "192.0.2.1", "shop/web").is_empty());
}

#[test]
fn ip_block_handles_ipv6_and_never_matches_the_other_family() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [
        {"ipBlock": {"cidr": "2001:db8::/32"}}]}]}))]);
    assert!(ports(&objects, "shop/web", "2001:db8::1").is_all());
    assert!(ports(&objects, "shop/web", "2001:db9::1").is_empty());
    assert!(ports(&objects, "shop/web", "32.1.13.184").is_empty());
}

#[test]
fn ip_block_does_not_match_pods() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "ingress": [{"from": [
        {"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}))]);
    assert!(ports(&objects, "other/client", "shop/web").is_empty());
}

#[test]
fn port_protocol_defaults_to_tcp() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "ingress": [{"ports": [{"port": 53}]}]}))]);
    let allowed = ports(&objects, "other/client", "shop/web");
    assert!(allowed.contains(Protocol::Tcp, 53) && !allowed.contains(Protocol::Udp, 53));
}

#[test]
fn a_port_entry_without_a_port_admits_every_port_of_its_protocol() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "ingress": [{"ports": [{"protocol": "UDP"}]}]}))]);
    assert_eq!(ports(&objects, "other/client", "shop/web"), PortSet::protocol(Protocol::Udp));
}

#[test]
fn end_port_makes_an_inclusive_range() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "ingress": [{"ports": [{"port": 32000, "endPort": 32768}]}]}))]);
    assert_eq!(ports(&objects, "other/client", "shop/web").to_string(), "TCP 32000-32768");
}

#[test]
fn named_ports_resolve_against_the_destination_pods_ports_and_protocol() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "ingress": [{"ports": [
        {"port": "http"}, {"port": "dns", "protocol": "UDP"}, {"port": "dns"}]}]}))]);
    // `dns` over TCP names nothing: the container declares it for UDP only.
    assert_eq!(ports(&objects, "other/client", "shop/web").to_string(), "TCP 8080; UDP 5353");
}

#[test]
fn named_egress_ports_resolve_against_the_destination_and_open_nothing_to_an_address() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "policyTypes": ["Egress"],
        "egress": [{"ports": [{"port": "http"}]}]}))]);
    assert_eq!(ports(&objects, "shop/web", "other/client"), tcp(8080));
    assert!(ports(&objects, "shop/web", "198.51.100.7").is_empty());
}

#[test]
fn rules_of_one_policy_are_ored() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "ingress": [
        {"ports": [{"port": 80}]}, {"ports": [{"port": 443}]}]}))]);
    assert_eq!(ports(&objects, "other/client", "shop/web").to_string(), "TCP 80,443");
}

#[test]
fn policies_are_additive() {
    let objects = network_with(&[
        policy("shop", "deny", json!({"podSelector": {}, "policyTypes": ["Ingress"]})),
        policy("shop", "allow-web", json!({"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"ports": [{"port": 80}]}]})),
    ]);
    assert_eq!(ports(&objects, "other/client", "shop/web"), tcp(80));
    assert!(ports(&objects, "other/client", "shop/db").is_empty());
}

#[test]
fn a_connection_needs_both_the_sources_egress_and_the_destinations_ingress() {
    let objects = network_with(&[
        policy("other", "egress", json!({"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 80}, {"port": 443}]}]})),
        policy("shop", "ingress", json!({"podSelector": {}, "ingress": [{"ports": [{"port": 443}, {"port": 8443}]}]})),
    ]);
    assert_eq!(ports(&objects, "other/client", "shop/web"), tcp(443));
    let network = Network::from_objects(&objects);
    let reach = network.reach(&endpoint(&network, "other/client"), &endpoint(&network, "shop/web"));
    assert_eq!((reach.egress.isolated_by.len(), reach.ingress.allowed_by.len()), (1, 1));
}

#[test]
fn invalid_selectors_select_nothing_and_are_reported() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {"matchExpressions": [{"key": "app", "operator": "Equals"}]},
        "policyTypes": ["Ingress"]}))]);
    let network = Network::from_objects(&objects);
    assert_eq!(network.problems[0].pointer, "/spec/podSelector/matchExpressions/0/operator");
    let (from, to) = (endpoint(&network, "other/client"), endpoint(&network, "shop/web"));
    assert!(network.reach(&from, &to).ports.is_all());
}

#[test]
fn a_peer_without_any_selector_matches_nothing_and_is_reported() {
    let objects = network_with(&[policy("shop", "p", json!({"podSelector": {}, "ingress": [{"from": [{}]}]}))]);
    let network = Network::from_objects(&objects);
    assert_eq!(network.problems[0].pointer, "/spec/ingress/0/from/0");
    let (from, to) = (endpoint(&network, "other/client"), endpoint(&network, "shop/web"));
    assert!(network.reach(&from, &to).ports.is_empty());
}

#[test]
fn workloads_owned_by_a_controller_in_the_input_are_represented_by_it() {
    let mut pod = deployment("shop", "web-123", json!({"app": "web"}));
    pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-123", "namespace": "shop",
        "ownerReferences": [{"kind": "Deployment", "name": "web", "controller": true}]},
        "spec": pod["spec"]["template"]["spec"].clone()});
    let objects = objects(&[deployment("shop", "web", json!({"app": "web"})), pod]);
    let network = Network::from_objects(&objects);
    assert_eq!(network.workloads.len(), 1);
    assert_eq!(network.find("shop/web").unwrap().kind, "Deployment");
}

#[test]
fn default_deny_impact_lists_only_connections_no_policy_allows() {
    let objects = network_with(&[policy("shop", "allow-web", json!({"podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "a"}}}], "ports": [{"port": 8080}]}]}))]);
    let network = Network::from_objects(&objects);
    let broken = network.default_deny_impact(&["shop".to_owned()]);
    let index = |spec: &str| network.workloads.iter().position(|w| w.label() == spec).unwrap();
    let lost = |from: &str, to: &str| broken.iter().find(|b| b.from == index(from) && b.to == index(to)).map(|b| &b.lost);
    // web already admits only 8080 from client, and allow-web keeps that: nothing is cut.
    assert_eq!(lost("other/Deployment/client", "shop/Deployment/web"), None);
    // db is open today; a default-deny closes it, and web's egress, entirely.
    assert!(lost("other/Deployment/client", "shop/Deployment/db").is_some_and(PortSet::is_all));
    assert!(lost("shop/Deployment/web", "other/Deployment/client").is_some_and(PortSet::is_all));
    // Traffic between namespaces that do not get the default-deny is unaffected.
    assert_eq!(lost("other/Deployment/client", "tools/Deployment/ops"), None);
}

#[test]
fn matrix_renders_in_every_format() {
    let objects = objects(&[
        deployment("shop", "web", json!({"app": "web"})),
        deployment("shop", "db", json!({"app": "db"})),
        policy("shop", "db", json!({"podSelector": {"matchLabels": {"app": "db"}},
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 5432}]}]})),
    ]);
    let network = Network::from_objects(&objects);
    let matrix = network.matrix();
    let render_matrix = |network: &Network<'_>, matrix: &crate::Matrix, format: MatrixFormat| {
        let mut out = Vec::new();
        write_matrix(&mut out, network, matrix, format).unwrap();
        String::from_utf8(out).unwrap()
    };
    assert_eq!(
        render_matrix(&network, &matrix, MatrixFormat::Text),
        "from \\ to                [1]  [2]       [3]\n[1] shop/Deployment/web  all  TCP 5432  all\n[2] shop/Deployment/db   all  -         all\n[3] world                all  -\n"
    );
    let json: Value = serde_json::from_str(&render_matrix(&network, &matrix, MatrixFormat::Json)).unwrap();
    assert_eq!((&json["workloads"][1], &json["outside"]), (&json!("shop/Deployment/db"), &json!(["world"])));
    assert_eq!(json["edges"][1], json!({"from": "shop/Deployment/web", "to": "shop/Deployment/db", "allPorts": false,
        "ports": [{"protocol": "TCP", "from": 5432, "to": 5432}]}));
    let dot = render_matrix(&network, &matrix, MatrixFormat::Dot);
    assert!(dot.contains("label=\"shop\"") && dot.contains("n0 -> n1 [label=\"TCP 5432\"];"), "{dot}");
    assert!(dot.contains("subgraph cluster_outside {\n    label=\"outside\";\n    n2 [label=\"world\", shape=ellipse];") && dot.contains("n2 -> n0;"), "{dot}");
    let mermaid = render_matrix(&network, &matrix, MatrixFormat::Mermaid);
    assert!(mermaid.starts_with("flowchart LR\n  n0[\"shop/Deployment/web\"]") && mermaid.contains("n0 -->|\"TCP 5432\"| n1"), "{mermaid}");
    assert!(mermaid.contains("  n2([\"world\"])\n") && mermaid.contains("n1 --> n2"), "{mermaid}");
}

#[test]
fn default_deny_needs_every_pod_isolated_without_an_allow_all_rule() {
    use crate::Direction;
    let objects = network_with(&[
        policy("shop", "deny-in", json!({"podSelector": {}, "policyTypes": ["Ingress"]})),
        policy("other", "same-ns-only", json!({"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]})),
        policy("tools", "allow-all", json!({"podSelector": {}, "ingress": [{}]})),
    ]);
    let network = Network::from_objects(&objects);
    assert_eq!(network.default_deny("shop", Direction::Ingress).map(|p| p.name.as_str()), Some("deny-in"));
    assert!(network.default_deny("shop", Direction::Egress).is_none());
    assert!(network.default_deny("other", Direction::Ingress).is_some());
    assert!(network.default_deny("tools", Direction::Ingress).is_none());
}

#[test]
fn the_policy_index_finds_exactly_the_policies_that_select_each_workload() {
    let selectors = [
        json!({}),
        json!({"matchLabels": {"app": "web"}}),
        json!({"matchLabels": {"app": "web", "tier": "front"}}),
        json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["db", "web"]}]}),
        json!({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}),
        json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]}),
        json!({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}),
        json!({"matchExpressions": [{"key": "app", "operator": "Bogus"}]}),
    ];
    let mut items = vec![
        deployment("shop", "web", json!({"app": "web", "tier": "front"})),
        deployment("shop", "db", json!({"app": "db"})),
        deployment("shop", "bare", json!({})),
        deployment("other", "web", json!({"app": "web"})),
    ];
    for (index, selector) in selectors.iter().enumerate() {
        items.push(policy("shop", &format!("p{index}"), json!({"podSelector": selector})));
        items.push(policy("other", &format!("q{index}"), json!({"podSelector": selector})));
    }
    let objects = objects(&items);
    let network = Network::from_objects(&objects);
    let index = crate::PolicyIndex::new(&network);
    let mut selections = 0;
    for workload in &network.workloads {
        let expected: Vec<usize> =
            (0..network.policies.len()).filter(|&position| network.policies[position].selects(workload, network.cilium)).collect();
        assert_eq!(index.selecting(workload), expected, "{}", workload.label());
        selections += expected.len();
    }
    assert_eq!(selections, 15, "the cases above select some and not others");
}

#[test]
fn ip_block_selects_pods_by_the_addresses_a_cluster_scan_gives_them() {
    let owned = |kind: &str, name: &str, owner_kind: &str, owner: &str| json!({"kind": owner_kind, "name": owner, "controller": true, "apiVersion": "apps/v1", "uid": format!("{kind}-{name}")});
    let items = vec![
        namespace("shop", json!({})),
        deployment("shop", "web", json!({"app": "web"})),
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web-1", "namespace": "shop", "ownerReferences": [owned("ReplicaSet", "web-1", "Deployment", "web")]},
               "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "main"}]}}}}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1-a", "namespace": "shop", "labels": {"app": "web"}, "ownerReferences": [owned("Pod", "web-1-a", "ReplicaSet", "web-1")]},
               "spec": {"containers": [{"name": "main"}]}, "status": {"podIP": "10.0.1.5", "podIPs": [{"ip": "10.0.1.5"}, {"ip": "fd00::5"}]}}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db", "namespace": "shop", "labels": {"app": "db"}},
               "spec": {"containers": [{"name": "main"}]}, "status": {"podIP": "10.0.2.7"}}),
        deployment("shop", "ops", json!({"app": "ops"})),
        policy("shop", "db", json!({"podSelector": {"matchLabels": {"app": "db"}}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.1.0/24"}}]}]})),
    ];
    let objects = objects(&items);
    let network = Network::from_objects(&objects);
    let web = network.find("shop/Deployment/web").unwrap();
    assert_eq!(web.ips, ["10.0.1.5".parse::<IpAddr>().unwrap(), "fd00::5".parse().unwrap()], "the Deployment carries its pods' addresses");
    assert_eq!(network.workloads.len(), 3, "the ReplicaSet and its Pod are represented by the Deployment");
    assert!(ports(&objects, "shop/web", "shop/db").is_all());
    assert!(ports(&objects, "shop/ops", "shop/db").is_empty(), "no address, no match");
    // Where Cilium enforces the NetworkPolicy, the block is a CIDR rule: it never selects pods.
    let mut with_cilium = items.clone();
    with_cilium.push(json!({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "c", "namespace": "tools"}, "spec": {"endpointSelector": {}, "ingress": [{}]}}));
    assert!(ports(&crate::tests::objects(&with_cilium), "shop/web", "shop/db").is_empty());
}
