//! `palisade netpol`: what can reach what under the NetworkPolicies of the input.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use palisade_netpol::{Direction, Endpoint, MatrixFormat, Network, PortSet, Protocol, Reach, Side, render_matrix};
use serde_json::{Value, json};

use super::rbac::{Format, exit_code, load, location, pretty, source};

#[derive(clap::Args, Debug)]
pub struct NetpolArgs {
    #[command(subcommand)]
    pub command: NetpolCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum NetpolCommand {
    /// Whether one workload (or address) can reach another, on which ports, and which
    /// policies decide. Exits 1 when nothing (or not the asked port) is allowed.
    Reach {
        /// `NAMESPACE/WORKLOAD`, `NAMESPACE/KIND/NAME`, or an IP address outside the cluster.
        #[arg(long)]
        from: String,
        /// Same forms as --from.
        #[arg(long)]
        to: String,
        /// `PORT[/PROTOCOL]` (`443`, `53/UDP`) or a named port of the destination (`http`).
        #[arg(long)]
        port: Option<String>,
        #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Files or directories with workloads, Namespaces and NetworkPolicies; `-` is stdin.
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
    },
    /// The ports every workload can reach on every workload.
    Matrix {
        #[arg(long, short = 'f', value_enum, default_value_t = MatrixOutput::Text)]
        format: MatrixOutput,
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
    },
    /// What a default-deny policy (ingress and egress) would cut: the connections allowed now
    /// only because no policy isolates one end.
    DefaultDeny {
        /// Namespaces to add the default-deny to (repeatable); by default, every namespace
        /// that lacks one in either direction.
        #[arg(short = 'n', long)]
        namespace: Vec<String>,
        #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
        format: Format,
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MatrixOutput {
    Text,
    Json,
    Dot,
    Mermaid,
}

pub fn run(args: NetpolArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        NetpolCommand::Reach { from, to, port, format, paths } => {
            let (objects, input_errors) = load(&paths, palisade_netpol::retain);
            let network = Network::from_objects(&objects);
            report_problems(&network);
            let from = endpoint(&network, &from)?;
            let to = endpoint(&network, &to)?;
            let reach = network.reach(&from, &to);
            let asked = port.as_deref().map(|port| asked_ports(port, &to)).transpose()?;
            let allowed = match &asked {
                Some(asked) => !asked.is_empty() && asked.minus(&reach.ports).is_empty(),
                None => !reach.ports.is_empty(),
            };
            let out = match format {
                Format::Text => reach_text(&network, &from, &to, &reach, asked.as_ref(), allowed),
                Format::Json => pretty(&reach_json(&network, &from, &to, &reach, asked.as_ref(), allowed)),
            };
            print!("{out}");
            Ok(if input_errors > 0 { exit_code(input_errors) } else if allowed { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        NetpolCommand::Matrix { format, paths } => {
            let (objects, input_errors) = load(&paths, palisade_netpol::retain);
            let network = Network::from_objects(&objects);
            report_problems(&network);
            let format = match format {
                MatrixOutput::Text => MatrixFormat::Text,
                MatrixOutput::Json => MatrixFormat::Json,
                MatrixOutput::Dot => MatrixFormat::Dot,
                MatrixOutput::Mermaid => MatrixFormat::Mermaid,
            };
            print!("{}", render_matrix(&network, &network.matrix(), format));
            Ok(exit_code(input_errors))
        }
        NetpolCommand::DefaultDeny { namespace, format, paths } => {
            let (objects, input_errors) = load(&paths, palisade_netpol::retain);
            let network = Network::from_objects(&objects);
            report_problems(&network);
            let namespaces = if namespace.is_empty() {
                network
                    .namespaces
                    .keys()
                    .filter(|ns| Direction::BOTH.iter().any(|&d| network.default_deny(ns, d).is_none()))
                    .cloned()
                    .collect()
            } else {
                namespace
            };
            let broken = network.default_deny_impact(&namespaces);
            let label = |index: usize| network.workloads[index].label();
            let out = match format {
                Format::Text => {
                    let mut out = format!("A default-deny (ingress and egress) in {} would cut:\n", list_or_none(&namespaces));
                    for b in &broken {
                        let _ = writeln!(out, "  {} → {}: {}", label(b.from), label(b.to), b.lost);
                    }
                    if broken.is_empty() {
                        out.push_str("  nothing: every allowed connection is allowed by a policy\n");
                    }
                    out
                }
                Format::Json => pretty(&json!({
                    "namespaces": namespaces,
                    "broken": broken.iter().map(|b| json!({"from": label(b.from), "to": label(b.to),
                        "allPorts": b.lost.is_all(), "ports": b.lost})).collect::<Vec<_>>(),
                })),
            };
            print!("{out}");
            Ok(exit_code(input_errors))
        }
    }
}

fn list_or_none(namespaces: &[String]) -> String {
    if namespaces.is_empty() { "no namespace".to_owned() } else { namespaces.join(", ") }
}

fn endpoint<'n, 'a>(network: &'n Network<'a>, spec: &str) -> anyhow::Result<Endpoint<'n, 'a>> {
    if let Ok(ip) = spec.parse::<IpAddr>() {
        return Ok(Endpoint::External(ip));
    }
    network.find(spec).map(Endpoint::Workload).map_err(anyhow::Error::msg)
}

/// The ports `--port` names: a number with an optional protocol, or a port name the
/// destination's containers declare (every protocol it is declared for).
fn asked_ports(text: &str, to: &Endpoint<'_, '_>) -> anyhow::Result<PortSet> {
    let (port, protocol) = match text.split_once('/') {
        Some((port, protocol)) => match Protocol::parse(protocol) {
            Some(protocol) => (port, protocol),
            None => bail!("unknown protocol `{protocol}` in --port (expected TCP, UDP or SCTP)"),
        },
        None => (text, Protocol::Tcp),
    };
    if let Ok(number) = port.parse::<u16>() {
        return Ok(PortSet::single(protocol, number));
    }
    let Endpoint::Workload(workload) = to else { bail!("a named port (`{port}`) needs a workload destination") };
    let mut set = PortSet::none();
    for declared in workload.ports.iter().filter(|p| p.name.as_deref() == Some(port)) {
        set.add(declared.protocol, declared.port, declared.port);
    }
    if set.is_empty() {
        bail!("{} declares no port named `{port}`", workload.label());
    }
    Ok(set)
}

fn side_text(network: &Network<'_>, out: &mut String, title: &str, side: &Side, direction: Direction) {
    if side.isolated_by.is_empty() {
        let _ = writeln!(out, "  {title}: not isolated, all ports");
        return;
    }
    let isolating: Vec<String> = side.isolated_by.iter().map(|&i| policy_name(network, i)).collect();
    let _ = writeln!(out, "  {title}: isolated by {}; allows {}", isolating.join(", "), side.ports);
    for &(policy, rule) in &side.allowed_by {
        let pointer = rule_pointer(network, policy, rule, direction).unwrap_or_default();
        let _ = writeln!(out, "    allowed by {} {pointer}", policy_name(network, policy));
    }
}

fn policy_name(network: &Network<'_>, index: usize) -> String {
    let policy = &network.policies[index];
    let place = policy.object.map(|object| format!(" [{}]", location(object))).unwrap_or_default();
    format!("{}/{}{place}", policy.namespace, policy.name)
}

/// The pointer of rule `rule` of policy `policy` for `direction` (`/spec/ingress/0`).
fn rule_pointer(network: &Network<'_>, policy: usize, rule: usize, direction: Direction) -> Option<String> {
    network.policies[policy].rules(direction).and_then(|rules| rules.get(rule)).map(|r| r.pointer.clone())
}

fn reach_text(network: &Network<'_>, from: &Endpoint<'_, '_>, to: &Endpoint<'_, '_>, reach: &Reach, asked: Option<&PortSet>, allowed: bool) -> String {
    let mut out = format!("{} → {}\n", from.label(), to.label());
    side_text(network, &mut out, &format!("egress of {}", from.label()), &reach.egress, Direction::Egress);
    side_text(network, &mut out, &format!("ingress of {}", to.label()), &reach.ingress, Direction::Ingress);
    let _ = writeln!(out, "  allowed: {}", reach.ports);
    if let Some(asked) = asked {
        let _ = writeln!(out, "  {asked}: {}", if allowed { "allowed" } else { "denied" });
    }
    out
}

fn side_json(network: &Network<'_>, side: &Side, direction: Direction) -> Value {
    let policy = |index: usize| {
        let p = &network.policies[index];
        json!({"namespace": p.namespace, "name": p.name, "source": p.object.map(source)})
    };
    json!({
        "isolated": !side.isolated_by.is_empty(),
        "isolatedBy": side.isolated_by.iter().map(|&i| policy(i)).collect::<Vec<_>>(),
        "allowedBy": side.allowed_by.iter()
            .map(|&(p, r)| json!({"policy": policy(p), "rule": rule_pointer(network, p, r, direction)}))
            .collect::<Vec<_>>(),
        "allPorts": side.ports.is_all(),
        "ports": side.ports,
    })
}

fn reach_json(network: &Network<'_>, from: &Endpoint<'_, '_>, to: &Endpoint<'_, '_>, reach: &Reach, asked: Option<&PortSet>, allowed: bool) -> Value {
    json!({
        "from": from.label(),
        "to": to.label(),
        "egress": side_json(network, &reach.egress, Direction::Egress),
        "ingress": side_json(network, &reach.ingress, Direction::Ingress),
        "allPorts": reach.ports.is_all(),
        "ports": reach.ports,
        "askedPorts": asked,
        "allowed": allowed,
    })
}

/// Policies the API server would reject are ignored; say so on standard error.
fn report_problems(network: &Network<'_>) {
    for problem in &network.problems {
        eprintln!("note: {} {} {}: {}", location(problem.object), problem.object.reference(), problem.pointer, problem.message);
    }
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
";

    #[test]
    fn asked_ports_accept_numbers_protocols_and_names() {
        let loaded = palisade_load::load_str(INPUT, "dns.yaml");
        let network = Network::from_objects(&loaded.objects);
        let dns = endpoint(&network, "kube-system/dns").unwrap();
        assert_eq!(asked_ports("53/udp", &dns).unwrap(), PortSet::single(Protocol::Udp, 53));
        assert_eq!(asked_ports("443", &dns).unwrap(), PortSet::single(Protocol::Tcp, 443));
        assert_eq!(asked_ports("dns", &dns).unwrap(), PortSet::single(Protocol::Udp, 53));
        assert!(asked_ports("http", &dns).unwrap_err().to_string().contains("no port named `http`"));
        let outside = endpoint(&network, "192.0.2.1").unwrap();
        assert!(asked_ports("dns", &outside).is_err());
    }
}
