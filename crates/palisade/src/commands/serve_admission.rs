//! `palisade serve admission`: the validating admission webhook over HTTPS. Wiring only: the
//! rule catalog and policies come from `palisade_policy::RuleSet`, as for `palisade scan`, the webhook lives in
//! palisade-admission and the HTTPS server in palisade-server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use palisade_admission::{ImagePolicy, ImageScanner, ImageVerdict, NamespaceStore, Settings, Webhook};
use palisade_policy::{Config, RuleSet};
use palisade_scan::Engine;
use palisade_server::{ClientAuth, Server, ServerOptions, TlsFiles, TokenFile};

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

    /// Policies to enforce, besides those the configuration lists: a file or directory of
    /// OperationPolicy objects, Gatekeeper ConstraintTemplates and Constraints (repeatable).
    #[arg(long, value_name = "FILE|DIR")]
    pub policy: Vec<PathBuf>,

    /// Largest AdmissionReview accepted, in bytes (the API server sends at most 3 MiB; the
    /// default adds 256 KiB for the review's envelope).
    #[arg(long, value_name = "BYTES", default_value_t = palisade_server::DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,

    /// Seconds a request may take before it is answered 503 (keep it below the
    /// ValidatingWebhookConfiguration's timeoutSeconds).
    #[arg(long, value_name = "SECONDS", default_value_t = 8)]
    pub request_timeout: u64,

    /// Reviews evaluated at once; by default as many maximal reviews as fit in the memory
    /// limit (the cgroup's, else --memory-limit).
    #[arg(long, value_name = "N")]
    pub max_concurrent_reviews: Option<usize>,

    /// Memory the process may use, in bytes, when no cgroup limit is found; sizes the number
    /// of concurrent reviews.
    #[arg(long, value_name = "BYTES")]
    pub memory_limit: Option<u64>,

    /// CA bundle (PEM) that client certificates are verified against; a client holding one
    /// it signed may read /metrics.
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,

    /// Bearer tokens allowed to read /metrics (Kubernetes static token format, reloaded on
    /// change). With this or --client-ca, /metrics answers 401 to anyone else.
    #[arg(long, value_name = "FILE")]
    pub metrics_token_file: Option<PathBuf>,

    /// Seconds to keep serving after SIGTERM with /readyz failing, before the listener closes.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub shutdown_grace: u64,

    /// Seconds open connections get to finish after the listener closed.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub drain_timeout: u64,

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

    /// The vulnerability database the image policy (`admission.imagePolicy`) matches against.
    #[command(flatten)]
    pub db: super::db::DbLocation,

    /// Registry hosts the image policy reaches over plain HTTP (`localhost:5000`); repeatable.
    /// For test registries only.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub insecure_registry: Vec<String>,
}

/// The image policy's scanner: the image read from its registry (credentials from
/// `~/.docker/config.json`, layers cached), its packages matched against the database.
struct RegistryScanner {
    matcher: super::vuln::ImageMatcher,
    read_options: palisade_catalog::source::ReadOptions,
}

impl ImageScanner for RegistryScanner {
    // Reading stops at the source's own timeouts; the policy stops waiting at `deadline`.
    fn scan(&self, image: &str, _deadline: std::time::Instant) -> Result<ImageVerdict, String> {
        let inventory = palisade_catalog::source::read(&format!("registry:{image}"), &self.read_options, &|_| {}).map_err(|error| error.to_string())?;
        let digest = match &inventory.source {
            palisade_pkg::SourceDescription::Image(description) if !description.manifest_digest.is_empty() => Some(description.manifest_digest.clone()),
            _ => None,
        };
        Ok(ImageVerdict::from_findings(digest, &self.matcher.findings(image, &inventory)))
    }
}

pub fn run(args: ServeAdmissionArgs) -> anyhow::Result<ExitCode> {
    let (config, mut settings) = match &args.config {
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
    let RuleSet { rules, evaluated, enforcement_actions, .. } = rule_set;
    for (id, action) in &enforcement_actions {
        let mode = match action.as_str() {
            "deny" => palisade_admission::Mode::Enforce,
            "warn" => palisade_admission::Mode::Warn,
            _ => palisade_admission::Mode::Audit,
        };
        settings.default_mode(id, mode);
    }
    let rule_count = rules.len();

    let tokens = match &args.metrics_token_file {
        Some(path) => Some(Arc::new(TokenFile::load(path)?)),
        None => None,
    };
    let metrics_auth = (args.client_ca.is_some() || tokens.is_some()).then(|| ClientAuth { allowed_names: Vec::new(), tokens });
    let server_options = ServerOptions {
        client_ca: args.client_ca.clone(),
        metrics_auth,
        body_limit: args.body_limit,
        request_timeout: Duration::from_secs(args.request_timeout),
        shutdown_grace: Duration::from_secs(args.shutdown_grace),
        drain_timeout: Duration::from_secs(args.drain_timeout),
        ..ServerOptions::default()
    };
    let memory_limit = palisade_server::memory::cgroup_memory_limit().or(args.memory_limit);
    let review_slots = args.max_concurrent_reviews.unwrap_or_else(|| match memory_limit {
        Some(limit) => palisade_admission::capacity::review_slots(limit, args.body_limit),
        None => palisade_admission::capacity::DEFAULT_REVIEW_SLOTS,
    });
    let namespaces = Arc::new(NamespaceStore::new());
    // Queued, never blocking: a stalled stdout drops (and counts) lines, not requests.
    let log: palisade_admission::DecisionLog = Box::new(|line: &str| palisade_server::log::stdout().write(line.to_owned()));
    let exceptions = config.exceptions.clone();
    let image_policy = settings.image_policy.clone();
    let mut webhook = Webhook::new(Engine::new(rules, Vec::new()), settings, namespaces.clone(), &server_options.metrics, log)
        .with_filter(Box::new(move |mut findings| {
            evaluated.adjust(&mut findings);
            let today = palisade_policy::exceptions::today();
            // Notes about unused exceptions mean nothing for one request; none are asked for.
            palisade_policy::apply(findings, &exceptions, &[], None, today, &Default::default()).kept
        }))
        .with_review_slots(review_slots);
    if image_policy.enabled {
        let matcher = super::vuln::ImageMatcher::open(&args.db, palisade_vuln::MatchOptions::default())?;
        if let Some(message) = super::db::stale(&matcher.status(), super::db::MAX_AGE) {
            palisade_server::log::event("warn", &message, serde_json::Value::Null);
        }
        let read_options = palisade_catalog::source::ReadOptions { insecure_hosts: args.insecure_registry.clone(), cache: true, ..Default::default() };
        let scanner = Arc::new(RegistryScanner { matcher, read_options });
        webhook = webhook.with_image_policy(ImagePolicy::start(image_policy, scanner, &server_options.metrics));
    }
    let tls = TlsFiles { cert: args.tls_cert, key: args.tls_key };
    let readiness = server_options.readiness.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    let served = runtime.block_on(async move {
        let server = Server::bind(args.listen, &tls, server_options).await?;
        palisade_server::log::event(
            "info",
            "palisade admission webhook listening",
            serde_json::json!({
                "addr": server.local_addr().to_string(),
                "rules": rule_count,
                "reviewSlots": review_slots,
                "memoryLimit": memory_limit,
            }),
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
        Ok::<_, anyhow::Error>(())
    });
    // Reviews still running past the drain (on the blocking pool) are not waited for.
    runtime.shutdown_timeout(Duration::from_secs(1));
    palisade_server::log::flush(Duration::from_secs(2));
    served?;
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
