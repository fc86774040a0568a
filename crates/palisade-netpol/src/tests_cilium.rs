//! One case per semantic rule of Cilium's policies (cilium.io/v2), through the whole pipeline,
//! with the cast of `tests.rs`: `web` and `db` in `shop`, `client` in `other` (labelled
//! team=a), `ops` in `tools`.

use std::net::IpAddr;

use serde_json::{Value, json};

use crate::tests::{network_with, tcp};
use crate::{Endpoint, Entity, Network, PortSet, Protocol};

fn cnp(namespace: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": name, "namespace": namespace}, "spec": spec})
}

fn ccnp(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": name}, "spec": spec})
}

fn netpol(namespace: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace}, "spec": spec})
}

fn endpoint<'n, 'a>(network: &'n Network<'a>, spec: &'n str) -> Endpoint<'n, 'a> {
    if let Ok(ip) = spec.parse::<IpAddr>() {
        return Endpoint::External(ip);
    }
    if let Some(name) = spec.strip_prefix("fqdn:") {
        return Endpoint::Fqdn(name);
    }
    if let Some(entity) = Entity::parse(spec) {
        return Endpoint::Entity(entity);
    }
    Endpoint::Workload(network.find(spec).unwrap())
}

/// The ports `from` may use toward `to` under `policies`.
fn reach(policies: &[Value], from: &str, to: &str) -> PortSet {
    let objects = network_with(policies);
    let network = Network::from_objects(&objects);
    assert!(network.problems.is_empty(), "{:?}", network.problems.iter().map(|problem| &problem.message).collect::<Vec<_>>());
    network.reach(&endpoint(&network, from), &endpoint(&network, to)).ports
}

fn all_protocols(port: u16) -> PortSet {
    let mut ports = PortSet::none();
    for protocol in Protocol::ALL {
        ports.add(protocol, port, port);
    }
    ports
}


fn select(labels: Value) -> Value {
    json!({"matchLabels": labels})
}

#[test]
fn a_namespaced_policy_selects_endpoints_of_its_own_namespace_only() {
    let policies = [cnp("shop", "p", json!({"endpointSelector": {}, "ingress": [{"fromEndpoints": [select(json!({"app": "nobody"}))]}]}))];
    assert!(reach(&policies, "other/client", "shop/web").is_empty());
    assert!(reach(&policies, "shop/web", "other/client").is_all(), "egress stays open, and `other` is not selected");
    assert!(reach(&policies, "shop/web", "tools/ops").is_all());
}

#[test]
fn a_clusterwide_policy_selects_endpoints_of_every_namespace() {
    let policies = [ccnp("p", json!({"endpointSelector": select(json!({"app": "client"})), "ingress": [{"fromEndpoints": [select(json!({"app": "nobody"}))]}]}))];
    assert!(reach(&policies, "shop/web", "other/client").is_empty());
    assert!(reach(&policies, "shop/web", "tools/ops").is_empty(), "ops is labelled app=client too");
    assert!(reach(&policies, "other/client", "shop/web").is_all());
}

#[test]
fn an_empty_rule_puts_the_endpoint_in_default_deny_and_allows_nothing() {
    let policies = [cnp("shop", "p", json!({"endpointSelector": {}, "ingress": [{}]}))];
    assert!(reach(&policies, "shop/db", "shop/web").is_empty());
    assert!(reach(&policies, "other/client", "shop/web").is_empty());
}

#[test]
fn an_empty_rule_list_does_not_apply() {
    let policies = [cnp("shop", "p", json!({"endpointSelector": {}, "ingress": []}))];
    assert!(reach(&policies, "other/client", "shop/web").is_all());
}

#[test]
fn an_empty_endpoint_selector_in_a_namespaced_policy_means_its_namespace() {
    let policies = [cnp("shop", "p", json!({"endpointSelector": select(json!({"app": "web"})), "ingress": [{"fromEndpoints": [json!({})]}]}))];
    assert!(reach(&policies, "shop/db", "shop/web").is_all());
    assert!(reach(&policies, "other/client", "shop/web").is_empty());
}

#[test]
fn an_empty_endpoint_selector_in_a_clusterwide_policy_means_every_namespace() {
    let policies = [ccnp("p", json!({"endpointSelector": select(json!({"app": "web"})), "ingress": [{"fromEndpoints": [json!({})]}]}))];
    assert!(reach(&policies, "shop/db", "shop/web").is_all());
    assert!(reach(&policies, "other/client", "shop/web").is_all());
    assert!(reach(&policies, "8.8.8.8", "shop/web").is_empty(), "the outside is not an endpoint");
}

#[test]
fn the_namespace_label_reaches_other_namespaces_with_or_without_the_k8s_prefix() {
    for key in ["io.kubernetes.pod.namespace", "k8s:io.kubernetes.pod.namespace"] {
        let policies = [cnp("shop", "p", json!({"endpointSelector": {}, "ingress": [{"fromEndpoints": [select(json!({key: "other", "k8s:app": "client"}))]}]}))];
        assert!(reach(&policies, "other/client", "shop/web").is_all(), "{key}");
        assert!(reach(&policies, "tools/ops", "shop/web").is_empty(), "{key}: ops is app=client in another namespace");
        assert!(reach(&policies, "shop/db", "shop/web").is_empty(), "{key}: the policy's own namespace is no longer implied");
    }
}

#[test]
fn selectors_see_the_service_account_cluster_and_namespace_labels_cilium_adds() {
    let by_account = [cnp("shop", "p", json!({"endpointSelector": {}, "ingress": [{"fromEndpoints": [select(json!({"io.cilium.k8s.policy.serviceaccount": "default", "io.cilium.k8s.policy.cluster": "default"}))]}]}))];
    assert!(reach(&by_account, "shop/db", "shop/web").is_all());
    let by_namespace_label = [ccnp("p", json!({"endpointSelector": select(json!({"app": "web"})), "ingress": [{"fromEndpoints": [select(json!({"io.cilium.k8s.namespace.labels.team": "a"}))]}]}))];
    assert!(reach(&by_namespace_label, "other/client", "shop/web").is_all());
    assert!(reach(&by_namespace_label, "tools/ops", "shop/web").is_empty());
}

#[test]
fn network_policy_selectors_see_ciliums_labels_once_cilium_enforces_them() {
    let netpol_by_namespace_label = netpol("shop", "np", json!({"podSelector": select(json!({"io.kubernetes.pod.namespace": "shop"})), "policyTypes": ["Ingress"]}));
    // Without Cilium policies the label is not there: the NetworkPolicy selects nothing.
    assert!(reach(std::slice::from_ref(&netpol_by_namespace_label), "other/client", "shop/web").is_all());
    let unrelated = cnp("tools", "c", json!({"endpointSelector": {}, "ingress": [{}]}));
    assert!(reach(&[netpol_by_namespace_label, unrelated], "other/client", "shop/web").is_empty());
}

#[test]
fn entities_name_the_outside_the_cluster_and_its_nodes() {
    let world = [cnp("shop", "p", json!({"endpointSelector": {}, "egress": [{"toEntities": ["world"]}]}))];
    assert!(reach(&world, "shop/web", "1.2.3.4").is_all());
    assert!(reach(&world, "shop/web", "fqdn:api.example.com").is_all());
    assert!(reach(&world, "shop/web", "other/client").is_empty());
    assert!(reach(&world, "shop/web", "kube-apiserver").is_empty());
    let cluster = [cnp("shop", "p", json!({"endpointSelector": {}, "egress": [{"toEntities": ["cluster"]}]}))];
    assert!(reach(&cluster, "shop/web", "other/client").is_all());
    assert!(reach(&cluster, "shop/web", "kube-apiserver").is_all());
    assert!(reach(&cluster, "shop/web", "remote-node").is_all());
    assert!(reach(&cluster, "shop/web", "1.2.3.4").is_empty());
    let apiserver = [cnp("shop", "p", json!({"endpointSelector": {}, "egress": [{"toEntities": ["kube-apiserver"]}]}))];
    assert!(reach(&apiserver, "shop/web", "kube-apiserver").is_all());
    assert!(reach(&apiserver, "shop/web", "host").is_empty());
    let all = [cnp("shop", "p", json!({"endpointSelector": {}, "ingress": [{"fromEntities": ["all"]}]}))];
    assert!(reach(&all, "9.9.9.9", "shop/web").is_all());
    assert!(reach(&all, "host", "shop/web").is_all());
}

#[test]
fn cidr_rules_match_outside_addresses_never_pods_with_their_exceptions() {
    let policies = [cnp("shop", "p", json!({"endpointSelector": {}, "egress": [
        {"toCIDR": ["192.0.2.0/24"]},
        {"toCIDRSet": [{"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}]}]}))];
    assert!(reach(&policies, "shop/web", "192.0.2.7").is_all());
    assert!(reach(&policies, "shop/web", "10.2.3.4").is_all());
    assert!(reach(&policies, "shop/web", "10.1.2.3").is_empty());
    assert!(reach(&policies, "shop/web", "198.51.100.1").is_empty());
    assert!(reach(&policies, "shop/web", "other/client").is_empty(), "a CIDR rule never selects a pod");
}

#[test]
fn fqdn_rules_match_names_and_patterns_whose_star_stops_at_dots() {
    let policies = [cnp("shop", "p", json!({"endpointSelector": {}, "egress": [{"toFQDNs": [{"matchName": "API.example.com."}, {"matchPattern": "*.cdn.example.net"}]}]}))];
    assert!(reach(&policies, "shop/web", "fqdn:api.example.com").is_all());
    assert!(reach(&policies, "shop/web", "fqdn:img.cdn.example.net").is_all());
    assert!(reach(&policies, "shop/web", "fqdn:a.b.cdn.example.net").is_empty());
    assert!(reach(&policies, "shop/web", "fqdn:www.example.com").is_empty());
    let any = [cnp("shop", "p", json!({"endpointSelector": {}, "egress": [{"toFQDNs": [{"matchPattern": "*"}]}]}))];
    assert!(reach(&any, "shop/web", "fqdn:a.b.c.example.org").is_all());
    // Many stars against a long label: matched label by label without backtracking blow-up.
    let stars = format!("{}b.example.com", "*a".repeat(40));
    let hostile = [cnp("shop", "p", json!({"endpointSelector": {}, "egress": [{"toFQDNs": [{"matchPattern": stars}]}]}))];
    assert!(reach(&hostile, "shop/web", &format!("fqdn:{}.example.com", "a".repeat(60))).is_empty());
    assert!(reach(&hostile, "shop/web", &format!("fqdn:{}b.example.com", "a".repeat(60))).is_all());
}

#[test]
fn a_match_pattern_with_characters_dns_names_cannot_hold_is_a_problem_and_matches_nothing() {
    let objects = network_with(&[cnp("shop", "p", json!({"endpointSelector": {}, "egress": [{"toFQDNs": [{"matchPattern": "api?.example.com"}]}]}))]);
    let network = Network::from_objects(&objects);
    assert_eq!(network.problems.len(), 1);
    assert_eq!(network.problems[0].pointer, "/spec/egress/0/toFQDNs/0/matchPattern");
    let web = endpoint(&network, "shop/web");
    assert!(network.reach(&web, &endpoint(&network, "fqdn:api1.example.com")).ports.is_empty());
}

#[test]
fn ports_without_a_protocol_are_tcp_udp_and_sctp_and_ranges_named_ports_and_zero_work() {
    let rule = |ports: Value| [cnp("shop", "p", json!({"endpointSelector": {}, "ingress": [{"fromEntities": ["all"], "toPorts": [{"ports": ports}]}]}))];
    assert_eq!(reach(&rule(json!([{"port": "80"}])), "other/client", "shop/web"), all_protocols(80));
    assert_eq!(reach(&rule(json!([{"port": "80", "protocol": "ANY"}])), "other/client", "shop/web"), all_protocols(80));
    let mut range = PortSet::none();
    range.add(Protocol::Tcp, 8000, 8010);
    assert_eq!(reach(&rule(json!([{"port": "8000", "endPort": 8010, "protocol": "TCP"}])), "other/client", "shop/web"), range);
    assert_eq!(reach(&rule(json!([{"port": "http", "protocol": "TCP"}])), "other/client", "shop/web"), tcp(8080));
    assert_eq!(reach(&rule(json!([{"port": "0", "protocol": "UDP"}])), "other/client", "shop/web"), PortSet::protocol(Protocol::Udp));
}

#[test]
fn a_rule_with_ports_and_no_peers_matches_every_peer_the_outside_included() {
    let policies = [cnp("shop", "p", json!({"endpointSelector": {}, "ingress": [{"toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]}]}))];
    assert_eq!(reach(&policies, "other/client", "shop/web"), tcp(443));
    assert_eq!(reach(&policies, "203.0.113.9", "shop/web"), tcp(443));
}

#[test]
fn deny_rules_win_over_every_allow_networkpolicies_included() {
    let policies = [
        netpol("shop", "allow-all", json!({"podSelector": {}, "ingress": [{}]})),
        cnp("shop", "deny-80", json!({"endpointSelector": {}, "ingressDeny": [{"fromEndpoints": [select(json!({"io.kubernetes.pod.namespace": "other"}))], "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]}]})),
    ];
    let allowed = reach(&policies, "other/client", "shop/web");
    assert!(!allowed.contains(Protocol::Tcp, 80));
    assert!(allowed.contains(Protocol::Tcp, 81) && allowed.contains(Protocol::Udp, 80));
    assert!(reach(&policies, "tools/ops", "shop/web").is_all());
}

#[test]
fn a_deny_only_policy_still_puts_the_endpoint_in_default_deny() {
    let policies = [cnp("shop", "deny", json!({"endpointSelector": {}, "ingressDeny": [{"fromEntities": ["world"]}]}))];
    assert!(reach(&policies, "1.2.3.4", "shop/web").is_empty());
    assert!(reach(&policies, "other/client", "shop/web").is_empty(), "default deny: nothing allows it");
}

#[test]
fn enable_default_deny_false_lets_a_policy_add_rules_without_isolating() {
    let policies = [cnp("shop", "p", json!({"endpointSelector": {}, "enableDefaultDeny": {"ingress": false},
        "ingress": [{"fromEndpoints": [select(json!({"app": "db"}))]}],
        "ingressDeny": [{"fromEntities": ["world"]}]}))];
    assert!(reach(&policies, "other/client", "shop/web").is_all());
    assert!(reach(&policies, "1.2.3.4", "shop/web").is_empty(), "its deny rules still apply");
}

#[test]
fn network_policies_and_cilium_policies_allow_together() {
    let policies = [
        netpol("shop", "np", json!({"podSelector": select(json!({"app": "web"})), "ingress": [{"from": [{"namespaceSelector": select(json!({"team": "a"}))}], "ports": [{"port": 8080}]}]})),
        cnp("shop", "c", json!({"endpointSelector": select(json!({"app": "web"})), "ingress": [{"fromEndpoints": [select(json!({"app": "db"}))], "toPorts": [{"ports": [{"port": "5432", "protocol": "TCP"}]}]}]})),
    ];
    assert_eq!(reach(&policies, "other/client", "shop/web"), tcp(8080));
    assert_eq!(reach(&policies, "shop/db", "shop/web"), tcp(5432));
    assert!(reach(&policies, "tools/ops", "shop/web").is_empty());
}

#[test]
fn layer_7_rules_allow_their_requests_only_and_say_which() {
    let policies = [cnp("shop", "p", json!({"endpointSelector": select(json!({"app": "web"})), "ingress": [{"fromEndpoints": [json!({})],
        "toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}], "rules": {"http": [{"method": "GET", "path": "/api/.*"}]}}]}]}))];
    let objects = network_with(&policies);
    let network = Network::from_objects(&objects);
    let reach = network.reach(&endpoint(&network, "shop/db"), &endpoint(&network, "shop/web"));
    assert_eq!(reach.ports, tcp(8080));
    assert_eq!(reach.ingress.l7, ["HTTP GET /api/.*"]);
}

#[test]
fn each_of_specs_is_a_rule_of_its_own() {
    let policy = json!({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "two", "namespace": "shop"}, "specs": [
        {"endpointSelector": select(json!({"app": "web"})), "ingress": [{"fromEndpoints": [select(json!({"app": "db"}))]}]},
        {"endpointSelector": select(json!({"app": "db"})), "egress": [{"toEndpoints": [select(json!({"app": "web"}))]}]}]});
    let policies = [policy];
    assert!(reach(&policies, "shop/db", "shop/web").is_all());
    assert!(reach(&policies, "other/client", "shop/web").is_empty());
    assert!(reach(&policies, "shop/db", "other/client").is_empty());
    assert!(reach(&policies, "shop/web", "other/client").is_all(), "web's egress is not selected");
}

#[test]
fn malformed_rules_are_problems_with_their_pointer_and_never_allow() {
    let policies = [cnp("shop", "bad", json!({"endpointSelector": {}, "ingress": [
        {"fromEntities": ["everyone"]},
        {"fromCIDR": ["10.0.0.0/33"]},
        {"fromEndpoints": [{"matchExpressions": [{"key": "app", "operator": "Sometimes"}]}]}]}))];
    let objects = network_with(&policies);
    let network = Network::from_objects(&objects);
    let problems: Vec<(String, String)> = network.problems.iter().map(|problem| (problem.pointer.clone(), problem.message.clone())).collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert_eq!(problems[0], ("/spec/ingress/0/fromEntities/0".to_owned(), "unknown entity `everyone`".to_owned()));
    assert_eq!(problems[1].0, "/spec/ingress/1/fromCIDR/0/cidr");
    assert!(problems[2].0.starts_with("/spec/ingress/2/fromEndpoints/0/matchExpressions/0"), "{problems:?}");
    for from in ["other/client", "1.2.3.4", "shop/db"] {
        assert!(network.reach(&endpoint(&network, from), &endpoint(&network, "shop/web")).ports.is_empty(), "{from}");
    }
}

#[test]
fn a_clusterwide_default_deny_of_every_namespace_but_one_is_each_namespaces_default_deny() {
    let default_deny = ccnp("default-deny", json!({
        "endpointSelector": {"matchExpressions": [{"key": "io.kubernetes.pod.namespace", "operator": "NotIn", "values": ["kube-system"]}]},
        "egress": [{"toEndpoints": [select(json!({"io.kubernetes.pod.namespace": "kube-system", "k8s-app": "kube-dns"}))],
                    "toPorts": [{"ports": [{"port": "53", "protocol": "UDP"}], "rules": {"dns": [{"matchPattern": "*"}]}}]}]}));
    let only_web = cnp("shop", "web", json!({"endpointSelector": select(json!({"app": "web"})), "ingress": [{}]}));
    let objects = network_with(&[default_deny, only_web]);
    let network = Network::from_objects(&objects);
    assert!(network.default_deny("shop", crate::Direction::Egress).is_some_and(|policy| policy.name == "default-deny"));
    assert!(network.default_deny("tools", crate::Direction::Egress).is_some());
    assert!(network.default_deny("kube-system", crate::Direction::Egress).is_none());
    assert!(network.default_deny("shop", crate::Direction::Ingress).is_none(), "the web-only policy does not cover the namespace");
    assert!(network.reach(&endpoint(&network, "shop/web"), &endpoint(&network, "other/client")).ports.is_empty());
}

#[test]
fn the_matrix_by_classes_equals_every_pair_reached_one_by_one() {
    let mut items = Vec::new();
    for namespace in 0..4 {
        items.push(crate::tests::namespace(&format!("n{namespace}"), json!({"team": format!("t{}", namespace % 2)})));
        for workload in 0..12 {
            let tier = ["web", "api", "db"][workload % 3];
            let labels = json!({"app": format!("a{workload}"), "tier": tier});
            items.push(crate::tests::deployment(&format!("n{namespace}"), &format!("w{workload}"), labels));
        }
        items.push(netpol(&format!("n{namespace}"), "db", json!({"podSelector": select(json!({"tier": "db"})),
            "ingress": [{"from": [{"podSelector": select(json!({"tier": "api"}))}, {"namespaceSelector": select(json!({"team": "t1"}))}], "ports": [{"port": "http"}]}]})));
        items.push(cnp(&format!("n{namespace}"), "api", json!({"endpointSelector": select(json!({"tier": "api"})),
            "ingress": [{"fromEndpoints": [select(json!({"tier": "web"})), select(json!({"io.kubernetes.pod.namespace": "n0", "app": "a3"}))]}],
            "egressDeny": [{"toEndpoints": [select(json!({"app": "a5"}))]}], "egress": [{"toEntities": ["cluster"]}]})));
    }
    items.push(ccnp("web", json!({"endpointSelector": select(json!({"tier": "web"})), "ingressDeny": [{"fromEndpoints": [select(json!({"app": "a1"}))], "toPorts": [{"ports": [{"port": "8080"}]}]}]})));
    let objects = crate::tests::objects(&items);
    let network = Network::from_objects(&objects);
    assert!(network.problems.is_empty());
    let matrix = network.matrix();
    assert_eq!(matrix.len(), 48);
    assert!(matrix.classes() < 48, "alike workloads share a class: {} classes", matrix.classes());
    for (from, source) in network.workloads.iter().enumerate() {
        for (to, destination) in network.workloads.iter().enumerate() {
            let one = network.reach(&Endpoint::Workload(source), &Endpoint::Workload(destination)).ports;
            assert_eq!(matrix.get(from, to), &one, "{} → {}", source.label(), destination.label());
        }
    }
}

#[test]
fn a_selector_on_namespace_labels_is_not_confined_to_the_policy_namespace() {
    let policies = [cnp("shop", "p", json!({"endpointSelector": select(json!({"app": "web"})), "ingress": [{"fromEndpoints": [select(json!({"k8s:io.cilium.k8s.namespace.labels.team": "a"}))]}]}))];
    assert!(reach(&policies, "other/client", "shop/web").is_all());
    assert!(reach(&policies, "tools/ops", "shop/web").is_empty());
    assert!(reach(&policies, "shop/db", "shop/web").is_empty());
}

fn service(name: &str, labels: Value, selector: Option<Value>) -> Value {
    let mut spec = json!({"ports": [{"port": 5432}]});
    if let Some(selector) = selector {
        spec["selector"] = selector;
    }
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "shop", "labels": labels}, "spec": spec})
}

/// Services for `toServices`: `external-db` and `mirror` without a selector (their backends
/// outside the cluster, by an Endpoints object and by an EndpointSlice with an unready
/// address), `web-svc` with one.
fn services() -> Vec<Value> {
    vec![
        service("external-db", json!({"tier": "data"}), None),
        json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "external-db", "namespace": "shop"}, "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "ports": [{"port": 5432}]}]}),
        service("mirror", json!({"mirror": "true"}), None),
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {"name": "mirror-x1", "namespace": "shop", "labels": {"kubernetes.io/service-name": "mirror"}},
            "addressType": "IPv4", "endpoints": [{"addresses": ["192.0.2.20"], "conditions": {"ready": true}}, {"addresses": ["192.0.2.21"], "conditions": {"ready": false}}]}),
        service("web-svc", json!({}), Some(json!({"app": "web"}))),
        json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web-svc", "namespace": "shop"}, "subsets": [{"addresses": [{"ip": "192.0.2.30"}]}]}),
    ]
}

#[test]
fn to_services_allows_the_ready_endpoints_of_services_without_a_selector() {
    let mut policies = services();
    policies.push(cnp("other", "p", json!({"endpointSelector": select(json!({"app": "client"})), "egress": [
        // No namespace: any namespace.
        {"toServices": [{"k8sService": {"serviceName": "external-db"}}]},
        {"toServices": [{"k8sServiceSelector": {"selector": select(json!({"mirror": "true"})), "namespace": "shop"}}]},
        // A service with a selector: Cilium leaves it to endpoint rules.
        {"toServices": [{"k8sService": {"serviceName": "web-svc", "namespace": "shop"}}]},
        // The wrong namespace.
        {"toServices": [{"k8sServiceSelector": {"selector": select(json!({"tier": "data"})), "namespace": "other"}}]},
    ]})));
    assert!(reach(&policies, "other/client", "192.0.2.10").is_all());
    assert!(reach(&policies, "other/client", "192.0.2.20").is_all());
    assert!(reach(&policies, "other/client", "192.0.2.21").is_empty(), "unready");
    assert!(reach(&policies, "other/client", "192.0.2.30").is_empty(), "web-svc selects pods");
    assert!(reach(&policies, "other/client", "shop/web").is_empty(), "toServices never selects pods");
    assert!(reach(&policies, "other/client", "192.0.2.99").is_empty());
}

#[test]
fn to_services_with_to_ports_or_without_a_target_is_rejected_and_matches_nothing() {
    let mut items = services();
    items.push(cnp("other", "p", json!({"endpointSelector": select(json!({"app": "client"})), "egress": [
        {"toServices": [{"k8sService": {"serviceName": "external-db", "namespace": "shop"}}], "toPorts": [{"ports": [{"port": "5432"}]}]},
        {"toServices": [{"k8sService": {"namespace": "shop"}}, {}]},
    ]})));
    let objects = network_with(&items);
    let network = Network::from_objects(&objects);
    let problems: Vec<&str> = network.problems.iter().map(|problem| problem.pointer.as_str()).collect();
    assert_eq!(problems, ["/spec/egress/0/toServices", "/spec/egress/1/toServices/0/k8sService/serviceName", "/spec/egress/1/toServices/1"]);
    let client = Endpoint::Workload(network.find("other/client").unwrap());
    assert!(network.reach(&client, &Endpoint::External("192.0.2.10".parse().unwrap())).ports.is_empty());
}

#[test]
fn the_matrix_shows_the_world_and_the_entities_and_names_the_policies_name() {
    let policies = [
        cnp("shop", "web-out", json!({"endpointSelector": select(json!({"app": "web"})), "egress": [
            {"toFQDNs": [{"matchName": "API.example.com."}, {"matchPattern": "*.example.org"}], "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]},
            {"toEntities": ["kube-apiserver", "cluster"]},
        ]})),
        netpol("other", "client-out", json!({"podSelector": {}, "policyTypes": ["Egress"], "egress": [
            {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]},
            {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}], "ports": [{"port": 80}]},
        ]})),
    ];
    let objects = network_with(&policies);
    let network = Network::from_objects(&objects);
    let matrix = network.matrix();
    let outside: Vec<String> = matrix.outside().iter().map(crate::Outside::label).collect();
    assert_eq!(outside, ["world", "kube-apiserver", "fqdn:api.example.com"]);
    let node = |label: &str| (0..matrix.nodes()).find(|&i| crate::node_label(&network, matrix.outside(), i) == label).unwrap();
    let web = node("shop/Deployment/web");
    assert_eq!(matrix.get(web, node("fqdn:api.example.com")), &tcp(443));
    assert!(matrix.get(web, node("kube-apiserver")).is_all());
    assert!(matrix.get(web, node("world")).is_empty());
    // 0.0.0.0/0 is the whole world; with an exception it is not.
    assert_eq!(matrix.get(node("other/Deployment/client"), node("world")), &tcp(443));
    // Nothing isolates db: it reaches and is reached by everything outside.
    assert!(matrix.get(node("shop/Deployment/db"), node("world")).is_all());
    assert!(matrix.get(node("world"), node("shop/Deployment/db")).is_all());
    assert!(matrix.get(node("world"), node("kube-apiserver")).is_empty());
    // One by one, as the matrix says.
    for peer in matrix.outside() {
        let to = node(&peer.label());
        assert_eq!(matrix.get(web, to), &network.reach(&Endpoint::Workload(&network.workloads[web]), &peer.endpoint()).ports, "{}", peer.label());
    }
}
