//! `palisade serve admission`: the validating admission webhook over HTTPS. Wiring only: the
//! rule catalog and policies come from `palisade_policy::RuleSet`, as for `palisade scan`, the webhook lives in
//! palisade-admission and the HTTPS server in palisade-server.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use palisade_admission::{NamespaceStore, Settings, Webhook};
use palisade_policy::{Config, RuleSet};
use palisade_scan::Engine;
use palisade_server::{Server, ServerOptions, TlsFiles};

#[derive(clap::Args, Debug)]
pub struct ServeAdmissionArgs {
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,

    /// Serving certificate chain (PEM); reloaded when the file changes.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: PathBuf,

    /// Private key of the serving certificate (PEM); reloaded with it.
    #[arg(long, value_name = "FILE")]
    pub tls_key: PathBuf,

    /// Configuration (`.palisade.yaml`): `rules`, `policies` and `exceptions` as for `scan`, and
    /// the `admission` section (Pod Security defaults, namespace levels, exemptions, modes).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// OperationPolicy file to enforce (repeatable), besides those the configuration lists.
    #[arg(long, value_name = "FILE")]
    pub policy: Vec<PathBuf>,

    /// Largest AdmissionReview accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 7 << 20)]
    pub body_limit: usize,

    /// Seconds a request may take before it is answered 503 (keep it below the
    /// ValidatingWebhookConfiguration's timeoutSeconds).
    #[arg(long, value_name = "SECONDS", default_value_t = 8)]
    pub request_timeout: u64,

    /// Kubeconfig for the Namespace watch; without it kube-rs's discovery applies
    /// (`KUBECONFIG`, `~/.kube/config`, then the in-cluster service account).
    #[arg(long, value_name = "FILE", conflicts_with = "no_kube")]
    pub kubeconfig: Option<PathBuf>,

    /// Do not watch Namespaces: levels come from the configuration file only.
    #[arg(long)]
    pub no_kube: bool,

    /// Seconds to wait for the first Namespace listing before reporting ready anyway (until it
    /// arrives, the configured levels apply).
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub sync_timeout: u64,
}

pub fn run(args: ServeAdmissionArgs) -> anyhow::Result<ExitCode> {
    let (config, settings) = match &args.config {
        Some(path) => {
            let config = Config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            let settings = Settings::parse(&text, path).map_err(|e| anyhow::anyhow!("{e}"))?;
            (config, settings)
        }
        None => (Config::default(), Settings::default()),
    };
    let selection = palisade_policy::Selection { policy_files: args.policy.clone(), ..Default::default() };
    let rule_set = RuleSet::build(&config, settings.defaults, &selection).map_err(|e| anyhow::anyhow!("{e}"))?;
    for warning in &rule_set.warnings {
        eprintln!("warning: {warning}");
    }
    let RuleSet { rules, evaluated, .. } = rule_set;
    let rule_count = rules.len();

    let server_options = ServerOptions {
        body_limit: args.body_limit,
        request_timeout: Duration::from_secs(args.request_timeout),
        ..ServerOptions::default()
    };
    let namespaces = Arc::new(NamespaceStore::new());
    let log: palisade_admission::DecisionLog = Box::new(|line: &str| {
        // A closed stdout loses the line, never the request.
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    });
    let exceptions = config.exceptions.clone();
    let webhook = Webhook::new(Engine::new(rules, Vec::new()), settings, namespaces.clone(), &server_options.metrics, log)
        .with_filter(Box::new(move |mut findings| {
            evaluated.adjust(&mut findings);
            let today = palisade_policy::exceptions::today();
            // Notes about unused exceptions mean nothing for one request; none are asked for.
            palisade_policy::apply(findings, &exceptions, &[], None, today, &Default::default()).kept
        }));
    let tls = TlsFiles { cert: args.tls_cert, key: args.tls_key };
    let readiness = server_options.readiness.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    runtime.block_on(async move {
        let server = Server::bind(args.listen, &tls, server_options).await?;
        palisade_server::log::event(
            "info",
            "palisade admission webhook listening",
            serde_json::json!({"addr": server.local_addr().to_string(), "rules": rule_count}),
        );
        if !args.no_kube {
            match palisade_admission::kube::client(args.kubeconfig.as_deref()).await {
                Ok(Some(client)) => {
                    tokio::spawn(palisade_admission::kube::watch_namespaces(client, namespaces.clone()));
                    wait_for_sync(&namespaces, Duration::from_secs(args.sync_timeout)).await;
                }
                Ok(None) => palisade_server::log::event(
                    "info",
                    "no Kubernetes API configuration found; namespace levels come from the configuration file",
                    serde_json::Value::Null,
                ),
                Err(error) => anyhow::bail!("cannot set up the Kubernetes client: {error}"),
            }
        }
        readiness.set(true);
        server.run(Arc::new(webhook).router(), palisade_server::termination_signal()).await?;
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Waits (bounded) for the first Namespace listing, so that the first requests see the
/// cluster's levels rather than the configured fallback.
async fn wait_for_sync(namespaces: &NamespaceStore, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while !namespaces.is_synced() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !namespaces.is_synced() {
        palisade_server::log::event(
            "warn",
            "namespaces not listed yet; serving with the configured levels until they are",
            serde_json::Value::Null,
        );
    }
}
