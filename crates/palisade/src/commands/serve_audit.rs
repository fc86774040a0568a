//! `palisade serve audit`: the HTTPS endpoint the API server's audit webhook backend posts
//! EventList batches to (`/k8s-audit`, Falco's path), evaluated with Falco's rules.
//!
//! Requests are parsed off the async threads and queued for one matching thread. The queue is
//! bounded in events: a batch that does not fit is refused with 429 and `Retry-After`, so the
//! API server's webhook backend backs off and retries it, and the refusal is counted in
//! `palisade_audit_events_rejected_total`; nothing is dropped silently. On SIGTERM the server
//! stops accepting, and the queue is drained through the sinks before the process exits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use palisade_audit::engine::{Alert, Engine};
use palisade_audit::fields::Event;
use palisade_audit::json::Json;
use palisade_audit::sinks::{Counters, Dispatcher};
use palisade_audit::source::{EventReader, into_owned};
use palisade_server::metrics::{Counter, Registry};
use palisade_server::{Server, ServerOptions, TlsFiles};

use super::audit::{EngineArgs, SinkArgs};

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

    /// Events that may wait for matching; a batch beyond this is refused with 429. Queued
    /// events hold a few kilobytes each: the default (50 batches of the webhook backend's
    /// default 400) stays near 100 MB.
    #[arg(long, value_name = "EVENTS", default_value_t = 20_000)]
    pub queue: usize,

    /// Largest request body accepted, in bytes (the webhook backend batches up to 400 events
    /// by default, which fits well within this).
    #[arg(long, value_name = "BYTES", default_value_t = 32 << 20)]
    pub body_limit: usize,

    #[command(flatten)]
    pub engine: EngineArgs,

    #[command(flatten)]
    pub sinks: SinkArgs,
}

pub fn run(args: ServeAuditArgs) -> anyhow::Result<ExitCode> {
    let engine = args.engine.build()?;
    let sinks = args.sinks.build()?;
    let endpoint = Endpoint {
        listen: args.listen,
        tls: TlsFiles { cert: args.tls_cert, key: args.tls_key },
        queue: args.queue,
        body_limit: args.body_limit,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(serve(endpoint, engine, sinks, palisade_server::termination_signal()))?;
    Ok(ExitCode::SUCCESS)
}

/// Where and how the endpoint listens.
struct Endpoint {
    listen: SocketAddr,
    tls: TlsFiles,
    queue: usize,
    body_limit: usize,
}

/// Audit counters in the server's registry.
struct AuditMetrics {
    alerts: Arc<Counter>,
    sink_failures: Arc<Counter>,
    events: Arc<Counter>,
    event_errors: Arc<Counter>,
    rejected: Arc<Counter>,
}

impl AuditMetrics {
    fn register(registry: &Registry) -> Self {
        Self {
            alerts: registry.counter("palisade_audit_alerts_total", "Alerts raised, by rule and priority.", &[
                "rule", "priority",
            ]),
            sink_failures: registry.counter(
                "palisade_audit_sink_failures_total",
                "Alerts a sink could not deliver after retries, by sink.",
                &["sink"],
            ),
            events: registry.counter("palisade_audit_events_total", "Audit events matched against the rules.", &[]),
            event_errors: registry.counter(
                "palisade_audit_event_errors_total",
                "Posted values that were not valid audit events.",
                &[],
            ),
            rejected: registry.counter(
                "palisade_audit_events_rejected_total",
                "Events refused with 429 because the queue was full (the API server retries them).",
                &[],
            ),
        }
    }
}

impl Counters for AuditMetrics {
    fn alert(&self, alert: &Alert) {
        self.alerts.inc(&[&alert.rule, alert.priority]);
    }
    fn sink_failure(&self, sink: &str) {
        self.sink_failures.inc(&[sink]);
    }
}

struct Receiver {
    queue: mpsc::Sender<Vec<Json<'static>>>,
    queued: Arc<AtomicUsize>,
    capacity: usize,
    metrics: Arc<AuditMetrics>,
}

/// Serves until `shutdown` completes, then drains the queue through the sinks.
async fn serve(
    args: Endpoint,
    engine: Engine,
    sinks: Vec<Box<dyn palisade_audit::sinks::Sink>>,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let options = ServerOptions { body_limit: args.body_limit, ..ServerOptions::default() };
    let metrics = Arc::new(AuditMetrics::register(&options.metrics));
    let readiness = options.readiness.clone();
    let server = Server::bind(args.listen, &args.tls, options).await?;
    eprintln!("palisade serve audit: listening on https://{}/k8s-audit", server.local_addr());

    let (queue, batches) = mpsc::channel::<Vec<Json<'static>>>();
    let queued = Arc::new(AtomicUsize::new(0));
    let worker = {
        let (queued, metrics) = (queued.clone(), metrics.clone());
        let mut dispatcher = Dispatcher::new(sinks, metrics.clone());
        std::thread::spawn(move || {
            let mut number = 0u64;
            let mut alerts = Vec::new();
            // Ends when the receiver is dropped at shutdown and the queue is empty.
            for batch in batches {
                let size = batch.len();
                for json in batch {
                    number += 1;
                    engine.process(&Event::new(json, number), &mut alerts);
                    for alert in alerts.drain(..) {
                        dispatcher.dispatch(&alert);
                    }
                }
                if let Err(e) = dispatcher.flush() {
                    eprintln!("palisade: {e}");
                }
                metrics.events.add(&[], size as u64);
                queued.fetch_sub(size, Ordering::AcqRel);
            }
        })
    };
    let receiver = Arc::new(Receiver { queue, queued, capacity: args.queue, metrics });
    let app = Router::new().route("/k8s-audit", post(receive)).with_state(receiver);
    readiness.set(true);
    let served = server.run(app, shutdown).await;
    // The router (and with it the last queue sender) is gone: the worker drains and stops.
    worker.join().map_err(|_| anyhow::anyhow!("the matching thread panicked"))?;
    served?;
    Ok(())
}

async fn receive(State(receiver): State<Arc<Receiver>>, body: Bytes) -> Response {
    // Parsing a large batch is CPU work: keep it off the threads that accept connections.
    let parsed = tokio::task::spawn_blocking(move || {
        let text = std::str::from_utf8(&body).map_err(|e| format!("request body is not UTF-8: {e}"))?;
        let mut events = Vec::new();
        let mut errors = Vec::new();
        for item in EventReader::new(text) {
            match item {
                Ok(json) => events.push(into_owned(json)),
                Err(e) => errors.push(e.to_string()),
            }
        }
        Ok::<_, String>((events, errors))
    })
    .await;
    let (events, errors) = match parsed {
        Ok(Ok(parsed)) => parsed,
        Ok(Err(message)) => return (StatusCode::BAD_REQUEST, message).into_response(),
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "parsing failed").into_response(),
    };
    receiver.metrics.event_errors.add(&[], errors.len() as u64);
    if events.is_empty() && !errors.is_empty() {
        return (StatusCode::BAD_REQUEST, format!("no valid audit event: {}", errors.join("; "))).into_response();
    }
    let size = events.len();
    let before = receiver.queued.fetch_add(size, Ordering::AcqRel);
    if before + size > receiver.capacity && size > 0 {
        receiver.queued.fetch_sub(size, Ordering::AcqRel);
        receiver.metrics.rejected.add(&[], size as u64);
        return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")], "queue full, retry later\n").into_response();
    }
    if receiver.queue.send(events).is_err() {
        receiver.queued.fetch_sub(size, Ordering::AcqRel);
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    // Invalid values inside an otherwise valid batch are counted and reported, but the batch
    // is accepted: refusing it would make the API server resend the valid events.
    if errors.is_empty() {
        (StatusCode::OK, format!("accepted {size} events\n")).into_response()
    } else {
        (StatusCode::OK, format!("accepted {size} events; skipped: {}\n", errors.join("; "))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_audit::engine::Matching;
    use palisade_audit::sinks::LineSink;

    const RULES: &str = "- rule: Secret read\n  desc: d\n  condition: ka.target.resource=secrets and ka.verb=get\n  \
                         output: secret %ka.target.name read by %ka.user.name\n  priority: WARNING\n  source: k8s_audit\n";

    fn event(i: usize) -> String {
        format!(
            r#"{{"auditID":"{i}","stage":"ResponseComplete","verb":"get","user":{{"username":"u{i}"}},"objectRef":{{"resource":"secrets","name":"s{i}"}},"stageTimestamp":"2026-01-01T00:00:00Z"}}"#
        )
    }

    fn batch(range: std::ops::Range<usize>) -> String {
        let items: Vec<String> = range.map(event).collect();
        format!(r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{}]}}"#, items.join(","))
    }

    /// A writer the test can read after the server has stopped.
    #[derive(Clone, Default)]
    struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn webhook_batches_are_matched_backpressure_is_429_and_shutdown_drains() {
        let dir = tempfile::tempdir().unwrap();
        let issued = palisade_server::certs::CertRequest {
            service: "palisade".into(),
            namespace: "test".into(),
            extra_names: vec!["localhost".into()],
            validity: std::time::Duration::from_secs(3600),
        }
        .issue()
        .unwrap();
        std::fs::write(dir.path().join("tls.crt"), &issued.cert_pem).unwrap();
        std::fs::write(dir.path().join("tls.key"), &issued.key_pem).unwrap();
        // Find a free port first, so the client knows where to connect.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let args = Endpoint {
            listen: format!("127.0.0.1:{port}").parse().unwrap(),
            tls: TlsFiles { cert: dir.path().join("tls.crt"), key: dir.path().join("tls.key") },
            queue: 3,
            body_limit: 1 << 20,
        };
        let set = palisade_audit::rules::load(&[("r.yaml", RULES)]).unwrap();
        let engine = Engine::new(set, Matching::First, "h".into());
        let out = Shared::default();
        let sinks: Vec<Box<dyn palisade_audit::sinks::Sink>> = vec![Box::new(LineSink::new("memory", out.clone()))];
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
            runtime.block_on(serve(args, engine, sinks, async {
                let _ = stopped.await;
            }))
        });

        use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
        let ca = ureq::tls::parse_pem(issued.ca_pem.as_bytes())
            .find_map(|item| match item {
                Ok(PemItem::Certificate(cert)) => Some(cert),
                _ => None,
            })
            .unwrap();
        let roots = RootCerts::Specific(Arc::new(vec![Certificate::to_owned(&ca)]));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .http_status_as_error(false)
            .build()
            .into();
        let url = format!("https://localhost:{port}/k8s-audit");
        let post = |body: String| {
            for _ in 0..100 {
                match agent.post(&url).send(&body) {
                    Ok(mut response) => return (response.status().as_u16(), response.body_mut().read_to_string().unwrap()),
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
                }
            }
            panic!("server did not come up");
        };
        assert_eq!(post(batch(0..2)), (200, "accepted 2 events\n".to_string()));
        // Larger than the whole queue: refused, to be retried by the API server.
        assert_eq!(post(batch(10..14)).0, 429);
        assert_eq!(post("not json".into()).0, 400);
        let (status, body) = post(format!("{}\n42\n", event(3)));
        assert_eq!(status, 200);
        assert!(body.contains("accepted 1 events; skipped"), "{body}");
        let metrics = agent.get(format!("https://localhost:{port}/metrics")).call().unwrap().body_mut().read_to_string().unwrap();
        assert!(metrics.contains("palisade_audit_events_rejected_total 4"), "{metrics}");
        stop.send(()).unwrap();
        server.join().unwrap().unwrap();
        let alerts = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let rules: Vec<&str> = alerts.lines().collect();
        assert_eq!(rules.len(), 3, "{alerts}");
        assert!(rules[0].contains("secret s0 read by u0"));
    }
}
