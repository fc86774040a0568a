//! Observed traffic for `netpol suggest`, in two formats (see `docs/netpol.md`):
//!
//! - **Hubble's flow export**, `hubble observe -o json`: one flow per line, with or without the
//!   `{"flow": ...}` envelope of newer Hubble versions. Only the traffic a connection's initiator
//!   sent counts: replies, flows Cilium dropped and flows without a port (ICMP) are counted and
//!   left out, as are lines that are not flows (lost-event notices, agent events).
//! - **A table** of source, destination, port and protocol, for flows from other sources: CSV
//!   (an optional header line, `#` comments) or JSON records (an array, or one object per line)
//!   with the keys `source`, `destination`, `port` and `protocol`. Ends are named as
//!   `netpol reach` names them (`NAMESPACE/WORKLOAD`, an IP, an entity, `fqdn:NAME`); the protocol
//!   defaults to TCP.
//!
//! A line that cannot be read is an error naming its line, and reading goes on.

use std::net::IpAddr;

use palisade_core::Labels;
use serde_json::Value;

use crate::model::Entity;
use crate::ports::Protocol;

/// One connection as observed: who opened it, to whom, on which port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// 1-based line of the input (for a JSON array, the 1-based position of the record).
    pub line: usize,
    pub source: FlowEnd,
    pub destination: FlowEnd,
    pub protocol: Protocol,
    pub port: u16,
}

/// One end of an observed flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowEnd {
    /// A pod as Hubble saw it: its namespace and its Kubernetes labels (Cilium's `k8s:` source
    /// taken off), with the workload and pod Hubble names when it does.
    Pod { namespace: String, labels: Labels, workload: Option<String>, pod: Option<String> },
    /// A part of the cluster that is not a pod (a node, the API server), with its address.
    Entity { entity: Entity, ip: Option<IpAddr> },
    /// An address outside the cluster, with the DNS names Hubble knows it by.
    External { ip: Option<IpAddr>, names: Vec<String> },
    /// An end the table names as `netpol reach` does; resolved against the workloads.
    Named(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowError {
    pub line: usize,
    pub message: String,
}

/// What was read and what was left out, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flows {
    pub flows: Vec<Flow>,
    pub errors: Vec<FlowError>,
    /// Hubble's flows that answer a connection rather than open one.
    pub replies: usize,
    /// Hubble's flows with a verdict other than forwarded (dropped, error): traffic a policy
    /// already refused is not learnt.
    pub not_forwarded: usize,
    /// Hubble's flows without a TCP, UDP or SCTP port (ICMP, or an L7 record without L4).
    pub without_port: usize,
    /// Lines that are not flows (lost-event notices, agent and debug events).
    pub not_flows: usize,
}

/// Reads flows in either format, told apart by their first line.
pub fn read(text: &str) -> Flows {
    let mut flows = Flows::default();
    let first = text.lines().map(str::trim).find(|line| !line.is_empty() && !line.starts_with('#'));
    match first {
        None => {}
        Some(line) if line.starts_with('[') => read_json_array(text, &mut flows),
        Some(line) if line.starts_with('{') => {
            for (index, line) in text.lines().enumerate() {
                let line_number = index + 1;
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(line) {
                    Ok(value) => read_json_record(&value, line_number, &mut flows),
                    Err(error) => flows.errors.push(FlowError { line: line_number, message: format!("not JSON: {error}") }),
                }
            }
        }
        Some(_) => read_csv(text, &mut flows),
    }
    flows
}

fn read_json_array(text: &str, flows: &mut Flows) {
    match serde_json::from_str::<Vec<Value>>(text) {
        Ok(records) => {
            for (index, record) in records.iter().enumerate() {
                read_json_record(record, index + 1, flows);
            }
        }
        Err(error) => flows.errors.push(FlowError { line: error.line(), message: format!("not a JSON array of flows: {error}") }),
    }
}

/// A JSON record: a Hubble flow (an object under `source`) or a table row (a string there).
fn read_json_record(value: &Value, line: usize, flows: &mut Flows) {
    let is_row = value.get("source").is_some_and(Value::is_string);
    let result = if is_row { row_from_json(value, line).map(Some) } else { hubble_flow(value, line, flows) };
    match result {
        Ok(Some(flow)) => flows.flows.push(flow),
        Ok(None) => {}
        Err(message) => flows.errors.push(FlowError { line, message }),
    }
}

fn row_from_json(value: &Value, line: usize) -> Result<Flow, String> {
    let text = |key: &str| match value.get(key) {
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(Value::Number(number)) => Ok(Some(number.to_string())),
        None | Some(Value::Null) => Ok(None),
        Some(_) => Err(format!("`{key}` must be a string")),
    };
    let port = text("port")?.ok_or("a flow needs `port`")?;
    row(line, text("source")?.as_deref().unwrap_or_default(), text("destination")?.as_deref().unwrap_or_default(), &port, text("protocol")?.as_deref())
}

fn read_csv(text: &str, flows: &mut Flows) {
    let mut header_seen = false;
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(|field| field.trim().trim_matches('"').trim()).collect();
        if !header_seen && fields.first().is_some_and(|first| first.eq_ignore_ascii_case("source")) {
            header_seen = true;
            continue;
        }
        header_seen = true;
        let result = match fields.as_slice() {
            [source, destination, port] => row(line_number, source, destination, port, None),
            [source, destination, port, protocol] => row(line_number, source, destination, port, Some(*protocol).filter(|p| !p.is_empty())),
            _ => Err(format!("expected source,destination,port[,protocol], found {} fields", fields.len())),
        };
        match result {
            Ok(flow) => flows.flows.push(flow),
            Err(message) => flows.errors.push(FlowError { line: line_number, message }),
        }
    }
}

fn row(line: usize, source: &str, destination: &str, port: &str, protocol: Option<&str>) -> Result<Flow, String> {
    if source.is_empty() || destination.is_empty() {
        return Err("a flow needs a source and a destination".to_owned());
    }
    let port = port.parse::<u16>().ok().filter(|port| *port > 0).ok_or_else(|| format!("`{port}` is not a port between 1 and 65535"))?;
    let protocol = match protocol {
        None => Protocol::Tcp,
        Some(text) => Protocol::parse(text).ok_or_else(|| format!("unknown protocol `{text}` (expected TCP, UDP or SCTP)"))?,
    };
    Ok(Flow { line, source: FlowEnd::Named(source.to_owned()), destination: FlowEnd::Named(destination.to_owned()), protocol, port })
}

/// The verdicts of traffic that went through: forwarded, forwarded to a proxy, or let through
/// by a policy in audit mode (the traffic audit mode exists to learn).
const PASSED: [&str; 3] = ["FORWARDED", "REDIRECTED", "AUDIT"];

/// A Hubble flow, `None` when it is counted as left out.
fn hubble_flow(value: &Value, line: usize, flows: &mut Flows) -> Result<Option<Flow>, String> {
    let flow = value.get("flow").unwrap_or(value);
    let (Some(source), Some(destination)) = (flow.get("source"), flow.get("destination")) else {
        flows.not_flows += 1;
        return Ok(None);
    };
    let verdict = flow.get("verdict").and_then(Value::as_str).unwrap_or("VERDICT_UNKNOWN");
    if !PASSED.contains(&verdict) {
        flows.not_forwarded += 1;
        return Ok(None);
    }
    let l4 = flow.get("l4");
    let transport = [("TCP", Protocol::Tcp), ("UDP", Protocol::Udp), ("SCTP", Protocol::Sctp)]
        .into_iter()
        .find_map(|(key, protocol)| l4.and_then(|l4| l4.get(key)).map(|fields| (protocol, fields)));
    let Some((protocol, fields)) = transport else {
        flows.without_port += 1;
        return Ok(None);
    };
    let flag = |name: &str| fields.get("flags").and_then(|flags| flags.get(name)).and_then(Value::as_bool) == Some(true);
    let reply = match flow.get("is_reply").or_else(|| flow.get("reply")).and_then(Value::as_bool) {
        Some(reply) => reply,
        // Older exports say nothing: a SYN-ACK answers a connection.
        None => flag("SYN") && flag("ACK"),
    };
    if reply {
        flows.replies += 1;
        return Ok(None);
    }
    let port = fields.get("destination_port").and_then(Value::as_u64).and_then(|port| u16::try_from(port).ok()).filter(|port| *port > 0);
    let Some(port) = port else { return Err(format!("a {protocol} flow without a destination_port")) };
    let ip = |key: &str| flow.get("IP").and_then(|ip| ip.get(key)).and_then(Value::as_str).and_then(|ip| ip.parse().ok());
    let names = |key: &str| flow.get(key).and_then(Value::as_array).map(|names| names.iter().filter_map(Value::as_str).map(dns_name).collect()).unwrap_or_default();
    Ok(Some(Flow {
        line,
        source: hubble_end(source, ip("source"), names("source_names"))?,
        destination: hubble_end(destination, ip("destination"), names("destination_names"))?,
        protocol,
        port,
    }))
}

/// Cilium's reserved identities, most specific first: the API server's node carries `host` too.
const RESERVED: [(&str, Entity); 8] = [
    ("reserved:kube-apiserver", Entity::KubeApiserver),
    ("reserved:host", Entity::Host),
    ("reserved:remote-node", Entity::RemoteNode),
    ("reserved:health", Entity::Health),
    ("reserved:ingress", Entity::Ingress),
    ("reserved:init", Entity::Init),
    ("reserved:unmanaged", Entity::Unmanaged),
    ("reserved:world", Entity::World),
];

fn hubble_end(end: &Value, ip: Option<IpAddr>, names: Vec<String>) -> Result<FlowEnd, String> {
    let labels: Vec<&str> = end.get("labels").and_then(Value::as_array).map(|labels| labels.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let namespace = end.get("namespace").and_then(Value::as_str).filter(|namespace| !namespace.is_empty());
    let world = labels.iter().any(|label| label.starts_with("reserved:world") || label.starts_with("cidr:") || label.starts_with("fqdn:"));
    if let Some(namespace) = namespace {
        let labels = labels.iter().filter_map(|label| label.strip_prefix("k8s:")).filter_map(|label| label.split_once('=')).map(|(key, value)| (key.to_owned(), value.to_owned())).collect();
        let text = |value: Option<&Value>| value.and_then(Value::as_str).filter(|text| !text.is_empty()).map(str::to_owned);
        let workload = text(end.get("workloads").and_then(|workloads| workloads.get(0)).and_then(|workload| workload.get("name")));
        return Ok(FlowEnd::Pod { namespace: namespace.to_owned(), labels, workload, pod: text(end.get("pod_name")) });
    }
    if world {
        return Ok(FlowEnd::External { ip, names });
    }
    if let Some((_, entity)) = RESERVED.iter().find(|(label, _)| labels.contains(label)) {
        return Ok(FlowEnd::Entity { entity: *entity, ip });
    }
    match ip {
        // An address Cilium gave no identity: outside the cluster.
        Some(ip) if labels.is_empty() => Ok(FlowEnd::External { ip: Some(ip), names }),
        _ => Err(format!("an endpoint that is neither a pod, a reserved identity nor an address: labels {labels:?}")),
    }
}

/// A DNS name as policies write it: lower case, without the final dot.
fn dns_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hubble(line: &str) -> Flows {
        read(line)
    }

    #[test]
    fn a_hubble_flow_with_its_envelope_reads_as_pods_port_and_protocol() {
        let flows = hubble(r#"{"flow":{"verdict":"FORWARDED","IP":{"source":"10.0.1.5","destination":"10.0.2.9"},"l4":{"TCP":{"source_port":41234,"destination_port":8080,"flags":{"SYN":true}}},"source":{"namespace":"shop","labels":["k8s:app=web","k8s:io.kubernetes.pod.namespace=shop"],"pod_name":"web-7d9f-abcde","workloads":[{"name":"web","kind":"Deployment"}]},"destination":{"namespace":"shop","labels":["k8s:app=api"],"pod_name":"api-0"},"is_reply":false},"node_name":"n1"}"#);
        assert_eq!(flows.errors, []);
        let flow = &flows.flows[0];
        assert_eq!((flow.protocol, flow.port, flow.line), (Protocol::Tcp, 8080, 1));
        let FlowEnd::Pod { namespace, labels, workload, pod } = &flow.source else { panic!("{flow:?}") };
        assert_eq!((namespace.as_str(), workload.as_deref(), pod.as_deref()), ("shop", Some("web"), Some("web-7d9f-abcde")));
        assert_eq!(labels.get("app").map(String::as_str), Some("web"));
    }

    #[test]
    fn replies_drops_icmp_and_non_flows_are_counted_and_left_out() {
        let text = [
            r#"{"flow":{"verdict":"FORWARDED","l4":{"TCP":{"destination_port":41234,"flags":{"SYN":true,"ACK":true}}},"source":{"namespace":"a"},"destination":{"namespace":"b"}}}"#,
            r#"{"flow":{"verdict":"FORWARDED","is_reply":true,"l4":{"UDP":{"destination_port":5353}},"source":{"namespace":"a"},"destination":{"namespace":"b"}}}"#,
            r#"{"flow":{"verdict":"DROPPED","l4":{"TCP":{"destination_port":22}},"source":{"namespace":"a"},"destination":{"namespace":"b"}}}"#,
            r#"{"flow":{"verdict":"FORWARDED","l4":{"ICMPv4":{"type":8}},"source":{"namespace":"a"},"destination":{"namespace":"b"}}}"#,
            r#"{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":3}}"#,
            r#"{"flow":{"verdict":"AUDIT","l4":{"SCTP":{"destination_port":9999}},"source":{"namespace":"a"},"destination":{"namespace":"b"}}}"#,
        ]
        .join("\n");
        let flows = hubble(&text);
        assert_eq!((flows.replies, flows.not_forwarded, flows.without_port, flows.not_flows), (2, 1, 1, 1));
        assert_eq!(flows.flows.len(), 1);
        assert_eq!((flows.flows[0].protocol, flows.flows[0].port, flows.flows[0].line), (Protocol::Sctp, 9999, 6));
    }

    #[test]
    fn reserved_identities_become_entities_and_world_keeps_its_names() {
        let text = r#"{"verdict":"FORWARDED","IP":{"source":"10.0.0.7","destination":"3.18.12.63"},"l4":{"TCP":{"destination_port":443}},"source":{"identity":1,"labels":["reserved:host","reserved:kube-apiserver"]},"destination":{"identity":2,"labels":["reserved:world"]},"destination_names":["API.Stripe.com."]}"#;
        let flows = hubble(text);
        let flow = &flows.flows[0];
        assert_eq!(flow.source, FlowEnd::Entity { entity: Entity::KubeApiserver, ip: Some("10.0.0.7".parse().unwrap()) });
        assert_eq!(flow.destination, FlowEnd::External { ip: Some("3.18.12.63".parse().unwrap()), names: vec!["api.stripe.com".to_owned()] });
    }

    #[test]
    fn bad_lines_are_errors_with_their_line_and_the_rest_is_read() {
        let text = "{\"flow\":{\"verdict\":\"FORWARDED\",\"l4\":{\"TCP\":{}},\"source\":{\"namespace\":\"a\"},\"destination\":{\"namespace\":\"b\"}}}\n{not json\n\n{\"flow\":{\"verdict\":\"FORWARDED\",\"l4\":{\"UDP\":{\"destination_port\":53}},\"source\":{\"namespace\":\"a\"},\"destination\":{\"namespace\":\"kube-system\"}}}";
        let flows = hubble(text);
        assert_eq!(flows.errors.iter().map(|e| e.line).collect::<Vec<_>>(), [1, 2]);
        assert!(flows.errors[0].message.contains("destination_port"), "{:?}", flows.errors);
        assert_eq!(flows.flows.len(), 1);
        assert_eq!(flows.flows[0].line, 4);
    }

    #[test]
    fn csv_with_and_without_header_and_protocol() {
        let flows = read("# observed by the mesh\nsource,destination,port,protocol\nshop/web,shop/api,8080,TCP\nshop/api,kube-system/coredns,53,udp\nshop/api,fqdn:db.example.com,5432\nshop/web,shop/api,http,TCP\nshop/web,shop/api\n");
        assert_eq!(flows.flows.len(), 3);
        assert_eq!(flows.flows[1].protocol, Protocol::Udp);
        assert_eq!(flows.flows[2].protocol, Protocol::Tcp);
        assert_eq!(flows.flows[2].destination, FlowEnd::Named("fqdn:db.example.com".to_owned()));
        assert_eq!(flows.errors.iter().map(|e| e.line).collect::<Vec<_>>(), [6, 7]);
        let headerless = read("shop/web,shop/api,8080\n");
        assert_eq!((headerless.flows.len(), headerless.errors.len()), (1, 0));
    }

    #[test]
    fn json_records_as_an_array_or_one_per_line() {
        let array = read(r#"[{"source":"shop/web","destination":"10.9.8.7","port":443},{"source":"shop/web","destination":"world","port":"80","protocol":"TCP"},{"source":"shop/web","port":1}]"#);
        assert_eq!(array.flows.len(), 2);
        assert_eq!(array.errors, [FlowError { line: 3, message: "a flow needs a source and a destination".to_owned() }]);
        let lines = read("{\"source\":\"shop/web\",\"destination\":\"shop/api\",\"port\":8080,\"protocol\":\"SCTP\"}\n");
        assert_eq!(lines.flows[0].protocol, Protocol::Sctp);
    }
}
