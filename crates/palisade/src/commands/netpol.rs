//! `palisade netpol`: what can reach what under the NetworkPolicies and Cilium policies of the
//! input. The views are `palisade_netpol::explain`'s; this only wires them to the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use palisade_netpol::suggest::{DnsService, Kind, Options};
use palisade_netpol::{MatrixFormat, Network, explain, flows, suggest, write_matrix};

use super::rbac::{Format, exit_code, load, pretty};

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
        /// `NAMESPACE/WORKLOAD`, `NAMESPACE/KIND/NAME`, an IP address outside the cluster
        /// (`world:IP` too), a Cilium entity (`world`, `host`, `remote-node`, `kube-apiserver`,
        /// ...) or a DNS name (`fqdn:api.example.com`).
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
        /// Files or directories with workloads, Namespaces, NetworkPolicies and Cilium policies;
        /// `-` is stdin.
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
    /// Least-privilege policies from observed traffic: a default deny per namespace, DNS, and
    /// for each workload exactly the connections it was seen making and receiving.
    Suggest {
        /// Observed flows: Hubble's export (`hubble observe -o json`), or CSV or JSON records
        /// of source, destination, port and protocol.
        #[arg(long)]
        flows: PathBuf,
        /// The policy API to write; by default Cilium's for Hubble flows, else NetworkPolicy.
        #[arg(long, value_enum)]
        kind: Option<SuggestKind>,
        /// Namespaces to write policies for (repeatable); by default every namespace with an
        /// observed pod.
        #[arg(short = 'n', long)]
        namespace: Vec<String>,
        /// The cluster's DNS service pods, as NAMESPACE/KEY=VALUE[,KEY=VALUE...].
        #[arg(long, default_value = "kube-system/k8s-app=kube-dns")]
        dns: String,
        #[arg(long, short = 'f', value_enum, default_value_t = SuggestOutput::Yaml)]
        format: SuggestOutput,
        /// Files or directories with the workloads (and Namespaces) the flows name; needed for
        /// flows that name workloads, optional for Hubble's, whose pods carry their labels.
        paths: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SuggestKind {
    Cilium,
    Networkpolicy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SuggestOutput {
    /// A YAML stream for `kubectl apply -f -`.
    Yaml,
    /// One `v1` `List`.
    Json,
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
            let from = explain::endpoint(&network, &from).map_err(anyhow::Error::msg)?;
            let to = explain::endpoint(&network, &to).map_err(anyhow::Error::msg)?;
            let reach = network.reach(&from, &to);
            let asked = port.as_deref().map(|port| explain::asked_ports(port, &to)).transpose().map_err(anyhow::Error::msg)?;
            let out = match format {
                Format::Text => explain::reach_text(&network, &from, &to, &reach, asked.as_ref()),
                Format::Json => pretty(&explain::reach_json(&network, &from, &to, &reach, asked.as_ref())),
            };
            print!("{out}");
            let allowed = explain::allows(&reach, asked.as_ref());
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
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            write_matrix(&mut out, &network, &network.matrix(), format).and_then(|()| std::io::Write::flush(&mut out))?;
            Ok(exit_code(input_errors))
        }
        NetpolCommand::DefaultDeny { namespace, format, paths } => {
            let (objects, input_errors) = load(&paths, palisade_netpol::retain);
            let network = Network::from_objects(&objects);
            report_problems(&network);
            let namespaces = if namespace.is_empty() { explain::namespaces_without_default_deny(&network) } else { namespace };
            let broken = network.default_deny_impact(&namespaces);
            let out = match format {
                Format::Text => explain::default_deny_text(&network, &namespaces, &broken),
                Format::Json => pretty(&explain::default_deny_json(&network, &namespaces, &broken)),
            };
            print!("{out}");
            Ok(exit_code(input_errors))
        }
        NetpolCommand::Suggest { flows: flows_path, kind, namespace, dns, format, paths } => {
            let dns = DnsService::parse(&dns).map_err(|error| anyhow::anyhow!("--dns: {error}"))?;
            let text = std::fs::read(&flows_path).map_err(|error| anyhow::anyhow!("{}: {error}", flows_path.display()))?;
            let observed = flows::read(&String::from_utf8_lossy(&text));
            let (objects, input_errors) = if paths.is_empty() { (Vec::new(), 0) } else { load(&paths, palisade_netpol::retain) };
            let network = Network::from_objects(&objects);
            let hubble = observed.flows.iter().any(|flow| !matches!(flow.source, flows::FlowEnd::Named(_)));
            let kind = match kind {
                Some(SuggestKind::Cilium) => Kind::Cilium,
                Some(SuggestKind::Networkpolicy) => Kind::NetworkPolicy,
                None if hubble => Kind::Cilium,
                None => Kind::NetworkPolicy,
            };
            let suggestion = suggest::suggest(&network, &observed.flows, &Options { kind, namespaces: namespace, dns });
            let file = flows_path.display();
            for error in observed.errors.iter().chain(&suggestion.errors) {
                eprintln!("error: {file}:{}: {}", error.line, error.message);
            }
            for note in &suggestion.notes {
                eprintln!("note: {note}");
            }
            eprintln!(
                "{} flows read from {file} ({} replies, {} not forwarded, {} without a port, {} other events left out); {} policies",
                observed.flows.len(),
                observed.replies,
                observed.not_forwarded,
                observed.without_port,
                observed.not_flows,
                suggestion.policies.len()
            );
            let out = match format {
                SuggestOutput::Yaml => suggestion.policies.iter().map(palisade_core::yaml_text::document).collect(),
                SuggestOutput::Json => pretty(&serde_json::json!({"apiVersion": "v1", "kind": "List", "items": suggestion.policies})),
            };
            print!("{out}");
            Ok(exit_code(input_errors + observed.errors.len() + suggestion.errors.len()))
        }
    }
}

/// Policies the API server would reject are ignored; say so on standard error.
fn report_problems(network: &Network<'_>) {
    for problem in &network.problems {
        eprintln!("note: {} {} {}: {}", problem.object.file_line(), problem.object.reference(), problem.pointer, problem.message);
    }
}
