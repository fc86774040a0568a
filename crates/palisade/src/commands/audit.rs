//! `palisade audit`: Falco rules over Kubernetes audit events from files, standard input or a
//! followed log; `palisade audit policy`: the audit Policy those rules need.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context, bail};
use palisade_audit::engine::{Engine, Matching, Priority};
use palisade_audit::fields::Event;
use palisade_audit::sinks::{Dispatcher, HttpKind, HttpSink, LineSink, PAGERDUTY_URL, Sink};
use palisade_audit::source::EventReader;

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
}

#[derive(clap::Subcommand, Debug)]
pub enum AuditCommand {
    /// Print the kube-apiserver audit Policy that Falco's k8s audit rules need.
    Policy,
}

/// Rules and matching, shared by `audit` and `serve audit`.
#[derive(clap::Args, Debug)]
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

fn parse_priority(text: &str) -> Result<Priority, String> {
    Priority::parse(text).ok_or_else(|| format!("unknown priority '{text}'"))
}

impl EngineArgs {
    pub fn build(&self) -> anyhow::Result<Engine> {
        if self.rules.is_empty() {
            bail!("no rules: pass --rules FILE (for example Falco's k8s_audit_rules.yaml)");
        }
        let mut files = Vec::new();
        for path in &self.rules {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading rules file {}", path.display()))?;
            files.push((path.display().to_string(), text));
        }
        let set = palisade_audit::rules::load(&files).map_err(|e| anyhow::anyhow!("rules did not load:\n{e}"))?;
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
    pub fn build(&self) -> anyhow::Result<Vec<Box<dyn Sink>>> {
        let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
        if !self.no_stdout {
            sinks.push(Box::new(LineSink::new("stdout", std::io::stdout())));
        }
        if let Some(path) = &self.output_file {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening alert file {}", path.display()))?;
            sinks.push(Box::new(LineSink::new(format!("file {}", path.display()), std::io::BufWriter::new(file))));
        }
        for url in &self.webhook {
            sinks.push(Box::new(HttpSink::new(HttpKind::Webhook, url.clone())));
        }
        if let Some(url) = &self.slack_webhook {
            sinks.push(Box::new(HttpSink::new(HttpKind::Slack, url.clone())));
        }
        if let Some(key) = &self.pagerduty_routing_key {
            let kind = HttpKind::PagerDuty { routing_key: key.clone() };
            sinks.push(Box::new(HttpSink::new(kind, self.pagerduty_url.clone())));
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

/// Inputs up to this size are read whole (they may be pretty-printed Events or EventLists);
/// larger ones are read as JSON lines in batches, so a huge log never has to fit in memory.
const WHOLE_INPUT: usize = 256 << 20;

/// Matches events and hands alerts to the sinks; counts what it saw.
struct Runner {
    /// Inputs up to this size are read whole ([`WHOLE_INPUT`]; smaller in tests).
    whole_input: usize,
    engine: Engine,
    dispatcher: Dispatcher,
    events: u64,
    alerts: u64,
    bad_inputs: u64,
}

impl Runner {
    fn process_text(&mut self, name: &str, text: &str, first_line: u64) {
        let mut alerts = Vec::new();
        for item in EventReader::new(text) {
            match item {
                Ok(json) => {
                    self.events += 1;
                    let event = Event::new(json, self.events);
                    self.engine.process(&event, &mut alerts);
                    for alert in alerts.drain(..) {
                        self.alerts += 1;
                        self.dispatcher.dispatch(&alert);
                    }
                }
                Err(e) => {
                    self.bad_inputs += 1;
                    eprintln!("{name}:{}:{}: {}", u64::from(e.line) + first_line, e.column, e.message);
                }
            }
        }
    }

    fn process_reader(&mut self, name: &str, mut reader: impl Read) -> anyhow::Result<()> {
        let mut buffer = Vec::new();
        let mut lines_before = 0u64;
        loop {
            let read = (&mut reader).take(self.whole_input as u64).read_to_end(&mut buffer)?;
            let at_end = read == 0 || buffer.len() < self.whole_input;
            let cut = if at_end { buffer.len() } else { buffer.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) };
            if cut == 0 && !at_end {
                bail!("{name}: a line longer than {} bytes", self.whole_input);
            }
            let text = String::from_utf8_lossy(&buffer[..cut]);
            self.process_text(name, &text, lines_before);
            lines_before += buffer[..cut].iter().filter(|&&b| b == b'\n').count() as u64;
            buffer.drain(..cut);
            if at_end {
                return Ok(());
            }
        }
    }
}

pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    if let Some(AuditCommand::Policy) = args.command {
        std::io::stdout().write_all(palisade_audit::policy::RECOMMENDED_POLICY.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let engine = args.engine.build()?;
    let dispatcher = Dispatcher::new(args.sinks.build()?, Arc::new(()));
    let mut runner = Runner { whole_input: WHOLE_INPUT, engine, dispatcher, events: 0, alerts: 0, bad_inputs: 0 };
    let mut unreadable = false;

    if args.follow {
        let [path] = args.events.as_slice() else { bail!("--follow takes exactly one EVENTS file") };
        if path == Path::new("-") {
            bail!("--follow needs a file, not standard input");
        }
        let checkpoint = args.checkpoint.clone().unwrap_or_else(|| palisade_audit::follow::default_checkpoint(path));
        let stop = AtomicBool::new(false);
        palisade_audit::follow::follow(path, Some(&checkpoint), &stop, Duration::from_millis(200), |text, offset| {
            // Line numbers restart at each batch; the batch's byte offset locates it in the log.
            runner.process_text(&format!("{} (batch at byte {offset})", path.display()), text, 0);
            runner.dispatcher.flush()
        })
        .map_err(anyhow::Error::msg)?;
        return Ok(ExitCode::SUCCESS);
    }

    let inputs = if args.events.is_empty() { vec![PathBuf::from("-")] } else { args.events.clone() };
    for path in &inputs {
        let result = if path == Path::new("-") {
            runner.process_reader("<stdin>", std::io::stdin().lock())
        } else {
            std::fs::File::open(path)
                .with_context(|| format!("{}", path.display()))
                .and_then(|file| runner.process_reader(&path.display().to_string(), file))
        };
        if let Err(e) = result {
            eprintln!("error: {e:#}");
            unreadable = true;
        }
        runner.dispatcher.flush().map_err(anyhow::Error::msg)?;
    }
    eprintln!(
        "palisade audit: {} events, {} alerts{}",
        runner.events,
        runner.alerts,
        if runner.bad_inputs > 0 { format!(", {} unreadable inputs", runner.bad_inputs) } else { String::new() }
    );
    Ok(if unreadable || runner.bad_inputs > 0 {
        ExitCode::from(2)
    } else if runner.alerts > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runner(whole_input: usize) -> Runner {
        let rules = "- rule: R\n  desc: d\n  condition: ka.verb=get\n  output: o\n  priority: INFO\n  source: k8s_audit\n";
        let set = palisade_audit::rules::load(&[("r.yaml", rules)]).unwrap();
        let engine = Engine::new(set, Matching::All, "h".into());
        let dispatcher = Dispatcher::new(Vec::new(), Arc::new(()));
        Runner { whole_input, engine, dispatcher, events: 0, alerts: 0, bad_inputs: 0 }
    }

    #[test]
    fn large_inputs_are_read_in_line_batches() {
        let mut text = String::new();
        for i in 0..50 {
            if i == 37 {
                text.push_str("{broken\n");
            }
            text.push_str(&format!("{{\"auditID\":\"{i}\",\"verb\":\"{}\"}}\n", if i % 2 == 0 { "get" } else { "list" }));
        }
        let mut small = runner(100);
        small.process_reader("big.log", text.as_bytes()).unwrap();
        let mut whole = runner(WHOLE_INPUT);
        whole.process_reader("big.log", text.as_bytes()).unwrap();
        assert_eq!((small.events, small.alerts, small.bad_inputs), (50, 25, 1));
        assert_eq!((whole.events, whole.alerts, whole.bad_inputs), (50, 25, 1));
        let mut tiny = runner(10);
        assert!(tiny.process_reader("big.log", text.as_bytes()).unwrap_err().to_string().contains("longer than 10 bytes"));
    }
}
