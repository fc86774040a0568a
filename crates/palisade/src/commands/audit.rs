//! `palisade audit`: Falco rules over Kubernetes audit events from files, standard input or a
//! followed log; `palisade audit policy`: the audit Policy those rules need.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use palisade_audit::delivery::{Delivery, DeliveryMetrics, DeliveryOptions, SpoolOptions};
use palisade_audit::engine::{Engine, Matching, Priority};
use palisade_audit::runner::Runner;
use palisade_audit::sinks::{Format, HttpPost, Lines, PAGERDUTY_URL, Sink};

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: Option<AuditCommand>,

    #[command(flatten)]
    pub engine: EngineArgs,

    /// Files of audit events: Event or EventList objects, or JSON lines (`-` reads standard input).
    #[arg(value_name = "EVENTS")]
    pub events: Vec<PathBuf>,

    /// Keep reading the (single) EVENTS file as it grows, like `tail -f`, across log rotation.
    #[arg(long)]
    pub follow: bool,

    /// Where --follow records its position so a restart neither loses nor repeats events
    /// [default: .<file>.palisade-checkpoint beside the log].
    #[arg(long, value_name = "FILE", requires = "follow")]
    pub checkpoint: Option<PathBuf>,

    #[command(flatten)]
    pub sinks: SinkArgs,

    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

#[derive(clap::Subcommand, Debug)]
pub enum AuditCommand {
    /// Print the kube-apiserver audit Policy that Falco's k8s audit rules need.
    Policy,
}

/// Rules and matching, shared by `audit` and `serve audit`.
#[derive(clap::Args, Clone, Debug)]
pub struct EngineArgs {
    /// Falco rules file (repeatable; later files append to and override earlier ones), e.g.
    /// Falco's k8s_audit_rules.yaml.
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,

    /// Stop at the first matching rule per event (Falco's default) or raise every match.
    #[arg(long, value_enum, default_value = "first")]
    pub rule_matching: RuleMatching,

    /// Ignore rules below this priority (emergency, alert, critical, error, warning, notice,
    /// informational, debug).
    #[arg(long, value_name = "PRIORITY", value_parser = parse_priority)]
    pub min_priority: Option<Priority>,

    /// The hostname written in alerts [default: this machine's].
    #[arg(long)]
    pub hostname: Option<String>,

    /// Also load Deckhouse's FalcoAuditRules objects from the cluster, found as kubectl finds it
    /// (KUBECONFIG, ~/.kube/config, then the pod's service account), after the --rules files.
    /// `serve audit` reloads them when they change.
    #[arg(long)]
    pub cluster_rules: bool,

    /// The kubeconfig to read FalcoAuditRules with (implies --cluster-rules).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to read FalcoAuditRules with.
    #[arg(long, value_name = "NAME", requires = "kubeconfig")]
    pub context: Option<String>,
}

/// A cluster FalcoAuditRules are read from.
pub struct ClusterRules {
    cluster: palisade_cluster::Cluster,
    /// Where messages about the objects say they come from.
    pub source: String,
}

impl ClusterRules {
    /// The FalcoAuditRules objects, by name.
    pub fn read(&self) -> anyhow::Result<Vec<palisade_core::Node>> {
        let objects = self.cluster.falco_audit_rules(&palisade_cluster::ListOptions::default()).map_err(|e| anyhow::anyhow!("reading FalcoAuditRules from {}: {e}", self.source))?;
        Ok(objects.into_iter().map(|object| object.root).collect())
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum RuleMatching {
    First,
    All,
}

/// Where alerts go, shared by `audit` and `serve audit`.
#[derive(clap::Args, Debug)]
pub struct SinkArgs {
    /// Do not print alerts on standard output.
    #[arg(long)]
    pub no_stdout: bool,

    /// Append alerts (JSON lines) to this file.
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,

    /// POST each alert as JSON to this URL.
    #[arg(long, value_name = "URL")]
    pub webhook: Vec<String>,

    /// Post each alert to this Slack incoming-webhook URL.
    #[arg(long, value_name = "URL")]
    pub slack_webhook: Option<String>,

    /// Trigger a PagerDuty incident (Events API v2) with this routing key for each alert.
    #[arg(long, value_name = "KEY")]
    pub pagerduty_routing_key: Option<String>,

    /// The PagerDuty Events API v2 endpoint.
    #[arg(long, value_name = "URL", default_value = PAGERDUTY_URL)]
    pub pagerduty_url: String,
}

/// How alerts reach the sinks, shared by `audit` and `serve audit`.
#[derive(clap::Args, Debug)]
pub struct DeliveryArgs {
    /// Alerts that may wait per sink; beyond it they are spooled (or dropped and counted).
    #[arg(long, value_name = "ALERTS", default_value_t = 10_000)]
    pub sink_queue: usize,

    /// Attempts per alert before it is spooled (exponential back-off from 250 ms).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub sink_attempts: u32,

    /// How long a sink's circuit breaker stays open after 3 consecutive undelivered alerts.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub breaker_cooldown: u64,

    /// Keep alerts a sink could not take in this directory (one subdirectory per sink) and
    /// redeliver them; without it they are dropped and counted.
    #[arg(long, value_name = "DIR")]
    pub spool_dir: Option<PathBuf>,

    /// Bytes each sink's spool may hold.
    #[arg(long, value_name = "BYTES", default_value_t = 256 << 20, requires = "spool_dir")]
    pub spool_limit: u64,
}

impl DeliveryArgs {
    pub fn options(&self) -> DeliveryOptions {
        DeliveryOptions {
            queue: self.sink_queue,
            attempts: self.sink_attempts,
            breaker_cooldown: Duration::from_secs(self.breaker_cooldown),
            spool: self.spool_dir.clone().map(|dir| SpoolOptions { dir, limit: self.spool_limit }),
            ..DeliveryOptions::default()
        }
    }
}

fn parse_priority(text: &str) -> Result<Priority, String> {
    Priority::parse(text).ok_or_else(|| format!("unknown priority '{text}'"))
}

impl EngineArgs {
    /// The engine of the rules files and, with --cluster-rules, the cluster's FalcoAuditRules.
    pub fn build(&self) -> anyhow::Result<Engine> {
        match self.cluster()? {
            Some(cluster) => self.build_with(&cluster.source, &cluster.read()?),
            None => self.build_with("", &[]),
        }
    }

    /// The cluster to read FalcoAuditRules from, when asked for.
    pub fn cluster(&self) -> anyhow::Result<Option<ClusterRules>> {
        if !self.cluster_rules && self.kubeconfig.is_none() {
            return Ok(None);
        }
        let options = palisade_cluster::ConnectOptions { kubeconfig: self.kubeconfig.clone(), context: self.context.clone() };
        let cluster = palisade_cluster::Cluster::connect(&options)?;
        let source = format!("cluster {}", cluster.context());
        Ok(Some(ClusterRules { cluster, source }))
    }

    /// The engine of the rules files and these FalcoAuditRules objects from `source`.
    pub fn build_with(&self, source: &str, objects: &[palisade_core::Node]) -> anyhow::Result<Engine> {
        if self.rules.is_empty() && !self.cluster_rules && self.kubeconfig.is_none() {
            bail!("no rules: pass --rules FILE (for example Falco's k8s_audit_rules.yaml) or --cluster-rules");
        }
        let mut files = Vec::new();
        for path in &self.rules {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading rules file {}", path.display()))?;
            files.push((path.display().to_string(), text));
        }
        let set = palisade_audit::rules::load_with_objects(&files, source, objects).map_err(|e| anyhow::anyhow!("rules did not load:\n{e}"))?;
        for warning in &set.warnings {
            eprintln!("warning: {warning}");
        }
        let matching = match self.rule_matching {
            RuleMatching::First => Matching::First,
            RuleMatching::All => Matching::All,
        };
        let hostname = self.hostname.clone().unwrap_or_else(hostname);
        Ok(Engine::new(set, matching, hostname).with_min_priority(self.min_priority.unwrap_or(Priority::Debug)))
    }
}

impl SinkArgs {
    /// The sinks that write regular files, for `--follow` to commit with its checkpoint: the
    /// alert file, and standard output when it is redirected to a file (a pipe or a terminal
    /// cannot be taken back).
    pub fn alert_files(&self) -> anyhow::Result<Vec<palisade_audit::follow::Output>> {
        let mut outputs = Vec::new();
        if !self.no_stdout {
            use std::os::fd::AsFd;
            let stdout = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned().context("standard output")?);
            if stdout.metadata().is_ok_and(|meta| meta.is_file()) {
                outputs.push(palisade_audit::follow::Output { name: "stdout".into(), file: stdout });
            }
        }
        if let Some(path) = &self.output_file {
            let file = std::fs::OpenOptions::new().write(true).open(path).with_context(|| format!("opening alert file {}", path.display()))?;
            outputs.push(palisade_audit::follow::Output { name: path.display().to_string(), file });
        }
        Ok(outputs)
    }

    /// The configured sinks, each named uniquely (metrics label and spool directory).
    pub fn build(&self) -> anyhow::Result<Vec<Sink>> {
        let mut sinks = Vec::new();
        if !self.no_stdout {
            sinks.push(Sink { name: "stdout".into(), format: Format::Falco, transport: Box::new(Lines(std::io::stdout())) });
        }
        if let Some(path) = &self.output_file {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening alert file {}", path.display()))?;
            sinks.push(Sink { name: "file".into(), format: Format::Falco, transport: Box::new(Lines(file)) });
        }
        for (index, url) in self.webhook.iter().enumerate() {
            let name = if index == 0 { "webhook".to_string() } else { format!("webhook-{}", index + 1) };
            sinks.push(Sink { name, format: Format::Falco, transport: Box::new(HttpPost::new(url.clone())) });
        }
        if let Some(url) = &self.slack_webhook {
            sinks.push(Sink { name: "slack".into(), format: Format::Slack, transport: Box::new(HttpPost::new(url.clone())) });
        }
        if let Some(key) = &self.pagerduty_routing_key {
            let format = Format::PagerDuty { routing_key: key.clone() };
            sinks.push(Sink { name: "pagerduty".into(), format, transport: Box::new(HttpPost::new(self.pagerduty_url.clone())) });
        }
        Ok(sinks)
    }
}

/// This machine's hostname, as Falco puts it in alerts.
pub fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_string()))
        .unwrap_or_else(|| "localhost".to_string())
}

pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    if let Some(AuditCommand::Policy) = args.command {
        std::io::stdout().write_all(palisade_audit::policy::RECOMMENDED_POLICY.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let engine = args.engine.build()?;
    // The one-shot command exports no metrics; delivery counts into a registry nobody reads
    // and the summary reports the losses.
    let metrics = Arc::new(DeliveryMetrics::register(&palisade_server::metrics::Registry::new(), false));
    let delivery = Delivery::start(args.sinks.build()?, &args.delivery.options(), metrics).context("starting alert delivery")?;
    let mut runner = Runner::new(engine, delivery);
    let mut unreadable = false;

    if args.follow {
        let [path] = args.events.as_slice() else { bail!("--follow takes exactly one EVENTS file") };
        if path == Path::new("-") {
            bail!("--follow needs a file, not standard input");
        }
        let checkpoint = args.checkpoint.clone().unwrap_or_else(|| palisade_audit::follow::default_checkpoint(path));
        let stop = AtomicBool::new(false);
        let outputs = args.sinks.alert_files()?;
        runner.follow(path, Some(&checkpoint), &stop, Duration::from_millis(200), &outputs).map_err(anyhow::Error::msg)?;
        return Ok(ExitCode::SUCCESS);
    }

    let inputs = if args.events.is_empty() { vec![PathBuf::from("-")] } else { args.events.clone() };
    for path in &inputs {
        let result = if path == Path::new("-") {
            runner.process_reader("<stdin>", std::io::stdin().lock())
        } else {
            std::fs::File::open(path)
                .map_err(|e| format!("{}: {e}", path.display()))
                .and_then(|file| runner.process_reader(&path.display().to_string(), file))
        };
        if let Err(e) = result {
            eprintln!("error: {e}");
            unreadable = true;
        }
    }
    let (events, alerts, bad_inputs) = (runner.events, runner.alerts, runner.bad_inputs);
    // Retries and back-off of a failing sink are bounded by this.
    let lost = runner.finish(Instant::now() + Duration::from_secs(60));
    let mut notes = String::new();
    if bad_inputs > 0 {
        notes.push_str(&format!(", {bad_inputs} unreadable inputs"));
    }
    if lost > 0 {
        notes.push_str(&format!(", {lost} alert deliveries failed"));
    }
    eprintln!("palisade audit: {events} events, {alerts} alerts{notes}");
    Ok(if unreadable || bad_inputs > 0 || lost > 0 {
        ExitCode::from(2)
    } else if alerts > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
