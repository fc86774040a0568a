//! `palisade serve audit`: flags for [`palisade_audit::receiver`], the HTTPS endpoint the API
//! server's audit webhook backend posts to.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use palisade_audit::engine::CurrentEngine;
use palisade_audit::queue::Limits;
use palisade_audit::receiver::ReceiverOptions;
use palisade_server::{ClientAuth, ServerOptions, TlsFiles, TokenFile};

use super::audit::{ClusterRules, DeliveryArgs, EngineArgs, SinkArgs};

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

    /// CA bundle (PEM) that signs client certificates: a client presenting one it signed may
    /// post (see --client-name). The API server presents its client certificate from the
    /// audit webhook kubeconfig.
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,

    /// Common name a client certificate must carry (repeatable) [default: any the client CA
    /// signed].
    #[arg(long, value_name = "NAME", requires = "client_ca")]
    pub client_name: Vec<String>,

    /// Bearer tokens that may post, in the Kubernetes static token format (`token,user` per
    /// line); re-read when it changes.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// Require the same authentication on /metrics.
    #[arg(long)]
    pub metrics_auth: bool,

    /// Accept posts from anyone (without --client-ca or --token-file); only for a receiver no
    /// one else can reach.
    #[arg(long, conflicts_with_all = ["client_ca", "token_file"])]
    pub allow_unauthenticated: bool,

    /// Events that may wait for matching; a batch beyond this is refused with 429.
    #[arg(long, value_name = "EVENTS", default_value_t = 20_000)]
    pub queue: usize,

    /// Bytes of event text that may wait for matching; a batch beyond this is refused with 429.
    /// 16 MiB is about 17,000 ordinary events, a tenth of a second of matching.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
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

    /// Seconds the server keeps accepting after SIGTERM with /readyz failing (then open
    /// connections get up to 5 s); part of --drain-timeout.
    #[arg(long, value_name = "SECONDS", default_value_t = 2)]
    pub shutdown_grace: u64,

    /// With --cluster-rules: how often the cluster's FalcoAuditRules are read again; a change
    /// loads the rules anew, and rules that do not load leave the previous ones in place.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub rules_refresh: u64,

    /// Also count alerts as falcosidekick's `falco_events{hostname,rule,priority,source,
    /// k8s_ns_name,k8s_pod_name}`, so that dashboards and alert rules written for Falco with
    /// falcosidekick keep working.
    #[arg(long)]
    pub falcosidekick_metrics: bool,

    #[command(flatten)]
    pub engine: EngineArgs,

    #[command(flatten)]
    pub sinks: SinkArgs,

    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

/// What open connections get to finish once the server stops accepting: a batch upload is
/// quick, and the API server retries what did not finish.
const CONNECTION_DRAIN: Duration = Duration::from_secs(5);

pub fn run(args: ServeAuditArgs) -> anyhow::Result<ExitCode> {
    // The receiver's memory is part of its contract (docs/audit.md, "Bounds"): mimalloc's
    // delay kept about 10 MiB of freed memory resident under a steady stream of batches.
    super::release_freed_memory_at_once();
    let auth = match (&args.client_ca, &args.token_file) {
        (None, None) if !args.allow_unauthenticated => bail!(
            "/k8s-audit needs client authentication: pass --client-ca FILE and/or --token-file FILE \
             (or --allow-unauthenticated for a receiver no one else can reach)"
        ),
        (None, None) => None,
        (_, tokens) => {
            let tokens = match tokens {
                Some(path) => Some(Arc::new(TokenFile::load(path)?)),
                None => None,
            };
            Some(ClientAuth { allowed_names: args.client_name.clone(), tokens })
        }
    };
    let engine = match args.engine.cluster()? {
        Some(cluster) => {
            let objects = cluster.read()?;
            let current = Arc::new(CurrentEngine::new(args.engine.build_with(&cluster.source, &objects)?));
            reload_cluster_rules(cluster, args.engine.clone(), objects, current.clone(), Duration::from_secs(args.rules_refresh));
            current
        }
        None => Arc::new(CurrentEngine::new(args.engine.build()?)),
    };
    let sinks = args.sinks.build()?;
    let options = ReceiverOptions {
        listen: args.listen,
        tls: TlsFiles { cert: args.tls_cert, key: args.tls_key },
        queue: Limits { events: args.queue, bytes: args.queue_bytes, client_share: f64::from(args.client_share) / 100.0 },
        body_limit: args.body_limit,
        readers: args.readers,
        drain_timeout: Duration::from_secs(args.drain_timeout),
        delivery: args.delivery.options(),
        auth: auth.clone(),
        falco_events_metric: args.falcosidekick_metrics,
    };
    if args.shutdown_grace + CONNECTION_DRAIN.as_secs() >= args.drain_timeout {
        bail!(
            "--drain-timeout ({} s) must exceed --shutdown-grace ({} s) plus the {} s connection drain, or events accepted last would be dropped",
            args.drain_timeout,
            args.shutdown_grace,
            CONNECTION_DRAIN.as_secs()
        );
    }
    let server = ServerOptions {
        body_limit: args.body_limit,
        shutdown_grace: Duration::from_secs(args.shutdown_grace),
        drain_timeout: CONNECTION_DRAIN,
        client_ca: args.client_ca,
        metrics_auth: if args.metrics_auth { auth } else { None },
        ..ServerOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    let served =
        runtime.block_on(palisade_audit::receiver::serve(options, server, engine, sinks, palisade_server::termination_signal()));
    // Dropping the runtime would wait for every blocking task; none may hold the exit up.
    runtime.shutdown_timeout(Duration::from_secs(1));
    // Log lines go out through a background writer: give it a moment to write the last ones.
    palisade_server::log::flush(Duration::from_secs(2));
    served.map_err(anyhow::Error::msg)?;
    Ok(ExitCode::SUCCESS)
}

/// Reads the cluster's FalcoAuditRules every `period` on a thread of its own; when they changed,
/// loads the rules anew and swaps the engine (batches matched meanwhile keep the one they
/// started with). Failures are logged and leave the running rules in place.
fn reload_cluster_rules(cluster: ClusterRules, engine_args: EngineArgs, mut loaded: Vec<palisade_core::Node>, current: Arc<CurrentEngine>, period: Duration) {
    std::thread::Builder::new()
        .name("rules reload".into())
        .spawn(move || {
            loop {
                std::thread::sleep(period);
                let objects = match cluster.read() {
                    Ok(objects) => objects,
                    Err(error) => {
                        palisade_server::log::event("warn", "FalcoAuditRules not read; the rules in use stay", serde_json::json!({"error": format!("{error:#}")}));
                        continue;
                    }
                };
                if objects == loaded {
                    continue;
                }
                match engine_args.build_with(&cluster.source, &objects) {
                    Ok(engine) => {
                        current.replace(engine);
                        palisade_server::log::event("info", "rules reloaded", serde_json::json!({"falco_audit_rules": objects.len()}));
                        loaded = objects;
                    }
                    Err(error) => {
                        palisade_server::log::event("error", "FalcoAuditRules do not load; the rules in use stay", serde_json::json!({"error": format!("{error:#}")}));
                        loaded = objects;
                    }
                }
            }
        })
        .expect("spawning the rules reload thread");
}
