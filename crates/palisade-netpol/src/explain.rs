//! What `palisade netpol reach` and `default-deny` say, as text and JSON: endpoints named on
//! the command line, the ports asked about, and each side's verdict with the policies and rules
//! that isolate, allow and deny.

use std::fmt::Write as _;
use std::net::IpAddr;

use serde_json::{Value, json};

use crate::model::{Direction, Entity, Flavor, Network};
use crate::ports::{PortSet, Protocol};
use crate::reach::{Breakage, Endpoint, Reach, Side, node_label};

/// An endpoint as the command line names it: `NAMESPACE/WORKLOAD`, `NAMESPACE/KIND/NAME`, an IP
/// address outside the cluster (or `world:IP`), an entity (`world`, `host`, `remote-node`,
/// `kube-apiserver`, ...) or a DNS name (`fqdn:api.example.com`).
pub fn endpoint<'n, 'a>(network: &'n Network<'a>, spec: &'n str) -> Result<Endpoint<'n, 'a>, String> {
    let address = spec.strip_prefix("world:").unwrap_or(spec);
    if let Ok(ip) = address.parse::<IpAddr>() {
        return Ok(Endpoint::External(ip));
    }
    if let Some(name) = spec.strip_prefix("fqdn:") {
        return if name.is_empty() { Err("`fqdn:` needs a DNS name".to_owned()) } else { Ok(Endpoint::Fqdn(name)) };
    }
    if let Some(entity) = Entity::parse(spec) {
        return Ok(Endpoint::Entity(entity));
    }
    network.find(spec).map(Endpoint::Workload)
}

/// The ports `--port` names: a number with an optional protocol, or a port name the
/// destination's containers declare (every protocol it is declared for).
pub fn asked_ports(text: &str, to: &Endpoint<'_, '_>) -> Result<PortSet, String> {
    let (port, protocol) = match text.split_once('/') {
        Some((port, protocol)) => match Protocol::parse(protocol) {
            Some(protocol) => (port, protocol),
            None => return Err(format!("unknown protocol `{protocol}` in --port (expected TCP, UDP or SCTP)")),
        },
        None => (text, Protocol::Tcp),
    };
    if let Ok(number) = port.parse::<u16>() {
        return Ok(PortSet::single(protocol, number));
    }
    let Endpoint::Workload(workload) = to else { return Err(format!("a named port (`{port}`) needs a workload destination")) };
    let mut set = PortSet::none();
    for declared in workload.ports.iter().filter(|p| p.name.as_deref() == Some(port)) {
        set.add(declared.protocol, declared.port, declared.port);
    }
    if set.is_empty() {
        return Err(format!("{} declares no port named `{port}`", workload.label()));
    }
    Ok(set)
}

/// Whether `reach` allows what was asked: every asked port, or anything at all.
pub fn allows(reach: &Reach, asked: Option<&PortSet>) -> bool {
    match asked {
        Some(asked) => !asked.is_empty() && asked.minus(&reach.ports).is_empty(),
        None => !reach.ports.is_empty(),
    }
}

pub fn reach_text(network: &Network<'_>, from: &Endpoint<'_, '_>, to: &Endpoint<'_, '_>, reach: &Reach, asked: Option<&PortSet>) -> String {
    let mut out = format!("{} → {}\n", from.label(), to.label());
    side_text(network, &mut out, &format!("egress of {}", from.label()), &reach.egress, Direction::Egress);
    side_text(network, &mut out, &format!("ingress of {}", to.label()), &reach.ingress, Direction::Ingress);
    let _ = writeln!(out, "  allowed: {}", reach.ports);
    if let Some(asked) = asked {
        let _ = writeln!(out, "  {asked}: {}", if allows(reach, Some(asked)) { "allowed" } else { "denied" });
    }
    out
}

fn side_text(network: &Network<'_>, out: &mut String, title: &str, side: &Side, direction: Direction) {
    if side.isolated_by.is_empty() {
        if side.denied_by.is_empty() {
            let _ = writeln!(out, "  {title}: not isolated, all ports");
            return;
        }
        let _ = writeln!(out, "  {title}: not isolated; allows {}", side.ports);
    } else {
        let isolating: Vec<String> = side.isolated_by.iter().map(|&i| policy_name(network, i)).collect();
        let _ = writeln!(out, "  {title}: isolated by {}; allows {}", isolating.join(", "), side.ports);
    }
    for &(policy, rule) in &side.allowed_by {
        let _ = writeln!(out, "    allowed by {} {}", policy_name(network, policy), rule_pointer(network, policy, rule, direction, false).unwrap_or_default());
    }
    for &(policy, rule) in &side.denied_by {
        let _ = writeln!(out, "    denied by {} {}", policy_name(network, policy), rule_pointer(network, policy, rule, direction, true).unwrap_or_default());
    }
    if !side.l7.is_empty() {
        let _ = writeln!(out, "    for these requests only: {}", side.l7.join("; "));
    }
}

/// `namespace/name`, with the kind for Cilium's policies, and where the policy is.
fn policy_name(network: &Network<'_>, index: usize) -> String {
    let policy = &network.policies[index];
    let place = policy.object.map(|object| format!(" [{}]", object.file_line())).unwrap_or_default();
    match policy.flavor {
        Flavor::NetworkPolicy => format!("{}/{}{place}", policy.namespace, policy.name),
        Flavor::Cilium => format!("{}/{} (CiliumNetworkPolicy){place}", policy.namespace, policy.name),
        Flavor::CiliumClusterwide => format!("{} (CiliumClusterwideNetworkPolicy){place}", policy.name),
    }
}

/// The pointer of an allow (or deny) rule of a policy for `direction` (`/spec/ingress/0`).
fn rule_pointer(network: &Network<'_>, policy: usize, rule: usize, direction: Direction, deny: bool) -> Option<String> {
    let policy = &network.policies[policy];
    let rules = if deny { Some(policy.deny_rules(direction)) } else { policy.rules(direction) };
    rules.and_then(|rules| rules.get(rule)).map(|rule| rule.pointer.clone())
}

fn side_json(network: &Network<'_>, side: &Side, direction: Direction) -> Value {
    let policy = |index: usize| {
        let p = &network.policies[index];
        let kind = match p.flavor {
            Flavor::NetworkPolicy => "NetworkPolicy",
            Flavor::Cilium => "CiliumNetworkPolicy",
            Flavor::CiliumClusterwide => "CiliumClusterwideNetworkPolicy",
        };
        json!({"kind": kind, "namespace": p.namespace, "name": p.name, "source": p.object.map(|object| object.source_json())})
    };
    let rules = |pairs: &[(usize, usize)], deny: bool| {
        pairs.iter().map(|&(p, r)| json!({"policy": policy(p), "rule": rule_pointer(network, p, r, direction, deny)})).collect::<Vec<_>>()
    };
    json!({
        "isolated": !side.isolated_by.is_empty(),
        "isolatedBy": side.isolated_by.iter().map(|&i| policy(i)).collect::<Vec<_>>(),
        "allowedBy": rules(&side.allowed_by, false),
        "deniedBy": rules(&side.denied_by, true),
        "requests": side.l7,
        "allPorts": side.ports.is_all(),
        "ports": side.ports,
    })
}

pub fn reach_json(network: &Network<'_>, from: &Endpoint<'_, '_>, to: &Endpoint<'_, '_>, reach: &Reach, asked: Option<&PortSet>) -> Value {
    json!({
        "from": from.label(),
        "to": to.label(),
        "egress": side_json(network, &reach.egress, Direction::Egress),
        "ingress": side_json(network, &reach.ingress, Direction::Ingress),
        "allPorts": reach.ports.is_all(),
        "ports": reach.ports,
        "askedPorts": asked,
        "allowed": allows(reach, asked),
    })
}

/// The namespaces that lack a default deny in either direction.
pub fn namespaces_without_default_deny(network: &Network<'_>) -> Vec<String> {
    network.namespaces.keys().filter(|ns| Direction::BOTH.iter().any(|&d| network.default_deny(ns, d).is_none())).cloned().collect()
}

pub fn default_deny_text(network: &Network<'_>, namespaces: &[String], broken: &[Breakage]) -> String {
    let outside = network.outside_peers();
    let label = |index: usize| node_label(network, &outside, index);
    let listed = if namespaces.is_empty() { "no namespace".to_owned() } else { namespaces.join(", ") };
    let mut out = format!("A default-deny (ingress and egress) in {listed} would cut:\n");
    for b in broken {
        let _ = writeln!(out, "  {} → {}: {}", label(b.from), label(b.to), b.lost);
    }
    if broken.is_empty() {
        out.push_str("  nothing: every allowed connection is allowed by a policy\n");
    }
    out
}

pub fn default_deny_json(network: &Network<'_>, namespaces: &[String], broken: &[Breakage]) -> Value {
    let outside = network.outside_peers();
    let label = |index: usize| node_label(network, &outside, index);
    json!({
        "namespaces": namespaces,
        "broken": broken.iter().map(|b| json!({"from": label(b.from), "to": label(b.to), "allPorts": b.lost.is_all(), "ports": b.lost})).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INPUT: &str = "
apiVersion: v1
kind: Pod
metadata: {name: dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  containers:
  - name: coredns
    ports: [{name: dns, containerPort: 53, protocol: UDP}, {name: dns-tcp, containerPort: 53}]
---
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: dev, labels: {app: app}}
spec:
  containers: [{name: app}]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: dev-egress, namespace: dev}
spec:
  endpointSelector: {}
  egress:
  - toEndpoints:
    - matchLabels: {io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}
    toPorts:
    - ports: [{port: '53', protocol: UDP}]
      rules: {dns: [{matchPattern: '*'}]}
  - toEndpoints:
    - {}
  egressDeny:
  - toEntities: [kube-apiserver]
";

    #[test]
    fn asked_ports_accept_numbers_protocols_and_names() {
        let loaded = palisade_load::load_str(INPUT, "dns.yaml");
        let network = Network::from_objects(&loaded.objects);
        let dns = endpoint(&network, "kube-system/dns").unwrap();
        assert_eq!(asked_ports("53/udp", &dns).unwrap(), PortSet::single(Protocol::Udp, 53));
        assert_eq!(asked_ports("443", &dns).unwrap(), PortSet::single(Protocol::Tcp, 443));
        assert_eq!(asked_ports("dns", &dns).unwrap(), PortSet::single(Protocol::Udp, 53));
        assert!(asked_ports("http", &dns).unwrap_err().contains("no port named `http`"));
        let outside = endpoint(&network, "192.0.2.1").unwrap();
        assert!(asked_ports("dns", &outside).is_err());
    }

    #[test]
    fn endpoints_are_workloads_addresses_entities_and_dns_names() {
        let loaded = palisade_load::load_str(INPUT, "dns.yaml");
        let network = Network::from_objects(&loaded.objects);
        let labels: Vec<String> = ["dev/app", "world:192.0.2.1", "192.0.2.1", "kube-apiserver", "remote-node", "fqdn:api.example.com"]
            .iter()
            .map(|spec| endpoint(&network, spec).unwrap().label())
            .collect();
        assert_eq!(labels, ["dev/Pod/app", "192.0.2.1", "192.0.2.1", "kube-apiserver", "remote-node", "fqdn:api.example.com"]);
        assert!(endpoint(&network, "fqdn:").is_err());
        assert!(endpoint(&network, "dev/nothing").is_err());
    }

    #[test]
    fn the_explanation_names_the_rules_that_allow_deny_and_the_requests_allowed() {
        let loaded = palisade_load::load_str(INPUT, "dev.yaml");
        let network = Network::from_objects(&loaded.objects);
        assert!(network.problems.is_empty());
        let (app, dns) = (endpoint(&network, "dev/app").unwrap(), endpoint(&network, "kube-system/dns").unwrap());
        let reach = network.reach(&app, &dns);
        assert_eq!(
            reach_text(&network, &app, &dns, &reach, Some(&PortSet::single(Protocol::Udp, 53))),
            "dev/Pod/app → kube-system/Pod/dns
  egress of dev/Pod/app: isolated by dev/dev-egress (CiliumNetworkPolicy) [dev.yaml:16]; allows UDP 53
    allowed by dev/dev-egress (CiliumNetworkPolicy) [dev.yaml:16] /spec/egress/0
    for these requests only: DNS *
  ingress of kube-system/Pod/dns: not isolated, all ports
  allowed: UDP 53
  UDP 53: allowed
"
        );
        let apiserver = endpoint(&network, "kube-apiserver").unwrap();
        let reach = network.reach(&app, &apiserver);
        let json = reach_json(&network, &app, &apiserver, &reach, None);
        assert_eq!(json["allowed"], false);
        assert_eq!(json["egress"]["deniedBy"][0]["rule"], "/spec/egressDeny/0");
        assert_eq!(json["egress"]["deniedBy"][0]["policy"]["kind"], "CiliumNetworkPolicy");
        // The namespace's own endpoints: `{}` in a namespaced policy.
        let other = endpoint(&network, "world:198.51.100.7").unwrap();
        assert!(network.reach(&app, &other).ports.is_empty());
    }
}
