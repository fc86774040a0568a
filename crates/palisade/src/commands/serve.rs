//! `palisade serve`: the long-running doors, one subcommand each, over palisade-server.

use std::process::ExitCode;

use super::{serve_admission, serve_audit};

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    #[command(subcommand)]
    pub command: ServeCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum ServeCommand {
    /// Validating admission webhook (POST /validate): the verdicts of `palisade scan` (Pod
    /// Security per namespace, workload rules, OperationPolicy) on every CREATE and UPDATE.
    Admission(serve_admission::ServeAdmissionArgs),
    /// Audit webhook receiver (POST /k8s-audit): the API server's audit events matched with
    /// Falco's rules, alerts to the configured sinks.
    Audit(serve_audit::ServeAuditArgs),
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        ServeCommand::Admission(args) => serve_admission::run(args),
        ServeCommand::Audit(args) => serve_audit::run(args),
    }
}
