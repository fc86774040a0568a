//! `palisade serve audit`: flags for [`palisade_audit::receiver`], the HTTPS endpoint the API
//! server's audit webhook backend posts to.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use palisade_audit::queue::Limits;
use palisade_audit::receiver::ReceiverOptions;
use palisade_server::{ServerOptions, TlsFiles};

use super::audit::{DeliveryArgs, EngineArgs, SinkArgs};

#[derive(clap::Args, Debug)]
pub struct ServeAuditArgs {
    /// Address to listen on (Falco's k8s audit endpoint uses port 8765).
    #[arg(long, default_value = "0.0.0.0:8765")]
    pub listen: SocketAddr,

    /// Serving certificate (PEM); reloaded when the file changes.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: PathBuf,

    /// Private key of the serving certificate (PEM).
    #[arg(long, value_name = "FILE")]
    pub tls_key: PathBuf,

    /// Events that may wait for matching; a batch beyond this is refused with 429.
    #[arg(long, value_name = "EVENTS", default_value_t = 20_000)]
    pub queue: usize,

    /// Bytes of event text that may wait for matching; a batch beyond this is refused with 429.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub queue_bytes: usize,

    /// Percentage of the queue (events and bytes) one client may hold, so one client cannot
    /// fill it.
    #[arg(long, value_name = "PERCENT", default_value_t = 50, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub client_share: u8,

    /// Largest request body accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    pub body_limit: usize,

    /// Request bodies read and parsed at once; memory for them is this times about twice the
    /// body limit.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub readers: usize,

    /// Seconds from SIGTERM until matching and delivery stop; keep it below the pod's
    /// terminationGracePeriodSeconds. Events still queued then are counted as dropped.
    #[arg(long, value_name = "SECONDS", default_value_t = 20)]
    pub drain_timeout: u64,

    #[command(flatten)]
    pub engine: EngineArgs,

    #[command(flatten)]
    pub sinks: SinkArgs,

    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

pub fn run(args: ServeAuditArgs) -> anyhow::Result<ExitCode> {
    let engine = args.engine.build()?;
    let sinks = args.sinks.build()?;
    let options = ReceiverOptions {
        listen: args.listen,
        tls: TlsFiles { cert: args.tls_cert, key: args.tls_key },
        queue: Limits { events: args.queue, bytes: args.queue_bytes, client_share: f64::from(args.client_share) / 100.0 },
        body_limit: args.body_limit,
        readers: args.readers,
        drain_timeout: Duration::from_secs(args.drain_timeout),
        delivery: args.delivery.options(),
    };
    let server = ServerOptions { body_limit: args.body_limit, ..ServerOptions::default() };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime
        .block_on(palisade_audit::receiver::serve(options, server, engine, sinks, palisade_server::termination_signal()))
        .map_err(anyhow::Error::msg)?;
    Ok(ExitCode::SUCCESS)
}
