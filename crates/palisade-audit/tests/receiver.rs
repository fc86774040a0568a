//! `/k8s-audit` end to end on 127.0.0.1: batches matched, bounded answers, bounded queue,
//! shutdown that matches or counts every accepted event.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use palisade_audit::delivery::DeliveryOptions;
use palisade_audit::engine::{Engine, Matching};
use palisade_audit::queue::Limits;
use palisade_audit::receiver::{ReceiverOptions, serve};
use palisade_audit::sinks::{Format, Lines, Sink};
use palisade_server::metrics::Registry;
use palisade_server::{ClientAuth, ServerOptions, TlsFiles, TokenFile};

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
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A receiver on 127.0.0.1 with one in-memory sink.
/// Attempts per request: a refused request leaves one closed connection in the client's pool.
const CLIENT_POOL_RETRIES: usize = 10;

struct Running {
    url: String,
    agent: ureq::Agent,
    registry: Arc<Registry>,
    alerts: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
    _dir: tempfile::TempDir,
}

impl Running {
    fn start(queue: Limits, body_limit: usize, drain_timeout: Duration) -> Self {
        Self::start_with(queue, body_limit, drain_timeout, None)
    }

    /// With bearer tokens (`token,user` lines) required on /k8s-audit.
    fn start_with(queue: Limits, body_limit: usize, drain_timeout: Duration, tokens: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let issued = palisade_server::certs::CertRequest {
            service: "palisade".into(),
            namespace: "test".into(),
            extra_names: vec!["localhost".into()],
            validity: Duration::from_secs(3600),
        }
        .issue()
        .unwrap();
        std::fs::write(dir.path().join("tls.crt"), &issued.cert_pem).unwrap();
        std::fs::write(dir.path().join("tls.key"), &issued.key_pem).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let options = ReceiverOptions {
            listen: format!("127.0.0.1:{port}").parse().unwrap(),
            tls: TlsFiles { cert: dir.path().join("tls.crt"), key: dir.path().join("tls.key") },
            queue,
            body_limit,
            readers: 2,
            drain_timeout,
            delivery: DeliveryOptions::default(),
            auth: tokens.map(|tokens| {
                std::fs::write(dir.path().join("tokens"), tokens).unwrap();
                ClientAuth { allowed_names: Vec::new(), tokens: Some(Arc::new(TokenFile::load(&dir.path().join("tokens")).unwrap())) }
            }),
            falco_events_metric: true,
        };
        let server = ServerOptions {
            body_limit,
            shutdown_grace: Duration::ZERO,
            drain_timeout: Duration::from_secs(2),
            ..ServerOptions::default()
        };
        let registry = server.metrics.clone();
        let set = palisade_audit::rules::load(&[("r.yaml", RULES)]).unwrap();
        let engine = Engine::new(set, Matching::First, "h".into());
        let alerts = Shared::default();
        let sinks = vec![Sink { name: "memory".into(), format: Format::Falco, transport: Box::new(Lines(alerts.clone())) }];
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(serve(options, server, Arc::new(palisade_audit::engine::CurrentEngine::new(engine)), sinks, async {
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
        let running = Self {
            url: format!("https://localhost:{port}"),
            agent,
            registry,
            alerts,
            stop: Some(stop),
            thread: Some(thread),
            _dir: dir,
        };
        for _ in 0..100 {
            if running.agent.get(format!("{}/healthz", running.url)).call().is_ok() {
                return running;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server did not come up");
    }

    fn post(&self, body: &str) -> (u16, String) {
        self.send(None, body)
    }

    fn post_as(&self, token: &str, body: &str) -> (u16, String) {
        self.send(Some(token), body)
    }

    fn send(&self, token: Option<&str>, body: &str) -> (u16, String) {
        // A refusal answered before the body was read closes the connection; the pooled
        // connection then fails once on the client side, as with any HTTP/1.1 server. Threads
        // sharing the agent can leave one such connection each in its pool.
        for _ in 0..CLIENT_POOL_RETRIES {
            let mut request = self.agent.post(format!("{}/k8s-audit", self.url));
            if let Some(token) = token {
                request = request.header("Authorization", format!("Bearer {token}"));
            }
            if let Ok(mut response) = request.send(body) {
                return (response.status().as_u16(), response.body_mut().read_to_string().unwrap());
            }
        }
        panic!("{CLIENT_POOL_RETRIES} connections failed in a row");
    }

    fn stop(&mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        self.thread.take().unwrap().join().unwrap().unwrap();
    }

    fn alert_lines(&self) -> Vec<String> {
        String::from_utf8(self.alerts.0.lock().unwrap().clone()).unwrap().lines().map(str::to_string).collect()
    }

    /// The value of a metric line such as `palisade_audit_events_total`.
    fn metric(&self, series: &str) -> u64 {
        self.registry
            .render()
            .lines()
            .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).map(|v| v.parse().unwrap()))
            .unwrap_or(0)
    }

    /// The sum of every series whose line starts with `prefix`.
    fn metric_sum(&self, prefix: &str) -> u64 {
        let text = self.registry.render();
        text.lines().filter(|line| line.starts_with(prefix)).map(|line| line.rsplit(' ').next().unwrap().parse::<u64>().unwrap()).sum()
    }
}

const ROOMY: Limits = Limits { events: 100_000, bytes: 64 << 20, client_share: 1.0 };

#[test]
fn batches_are_matched_backpressure_is_429_and_shutdown_drains() {
    let mut server = Running::start(Limits { events: 3, bytes: 1 << 20, client_share: 1.0 }, 1 << 20, Duration::from_secs(10));
    assert_eq!(server.post(&batch(0..2)), (200, "accepted 2 events\n".to_string()));
    // Larger than the whole queue: refused, to be retried by the API server.
    assert_eq!(server.post(&batch(10..14)).0, 429);
    assert_eq!(server.post("not json").0, 400);
    let (status, body) = server.post(&format!("{}\n42\n", event(3)));
    assert_eq!(status, 200);
    assert!(body.starts_with("accepted 1 events; 1 invalid values: 2:1: "), "{body}");
    assert_eq!(server.metric("palisade_audit_batches_rejected_total{reason=\"queue_full\"}"), 1);
    server.stop();
    let alerts = server.alert_lines();
    assert_eq!(alerts.len(), 3, "{alerts:?}");
    assert!(alerts[0].contains("secret s0 read by u0"));
    assert_eq!(server.metric("palisade_audit_events_total"), 3);
    // As falcosidekick counts them, for alert rules written against it.
    let falco_events = r#"falco_events{hostname="h",rule="Secret read",priority="Warning",source="k8s_audit",k8s_ns_name="",k8s_pod_name=""}"#;
    assert_eq!(server.metric(falco_events), 3, "{}", server.registry.render());
    assert_eq!(server.metric(r#"palisade_audit_alerts_total{rule="Secret read",priority="Warning"}"#), 3);
}

#[test]
fn error_answers_stay_small_whatever_the_body() {
    let mut server = Running::start(ROOMY, 9 << 20, Duration::from_secs(10));
    // 8 MiB of `1\n`: four million invalid values.
    let (status, body) = server.post(&"1\n".repeat(4 << 20));
    assert_eq!(status, 400);
    assert!(body.len() < 2048, "{} bytes", body.len());
    assert!(body.contains("4194304 invalid values"), "{body}");
    assert!(body.trim_end().ends_with("(and 4194299 more)"), "{body}");
    // One invalid item does not cost the batch its valid events.
    let mixed = format!(r#"{{"kind":"EventList","items":[{},"oops",{}]}}"#, event(1), event(2));
    let (status, body) = server.post(&mixed);
    assert_eq!((status, body.lines().next().unwrap().starts_with("accepted 2 events; 1 invalid values")), (200, true), "{body}");
    server.stop();
    assert_eq!(server.alert_lines().len(), 2);
}

#[test]
fn the_queue_is_bounded_in_bytes() {
    let mut server = Running::start(Limits { events: 1000, bytes: 64 << 10, client_share: 1.0 }, 8 << 20, Duration::from_secs(10));
    // 25 events of 100 KiB each: few events, many bytes.
    let padding = "x".repeat(100 << 10);
    let fat: Vec<String> = (0..25).map(|i| format!(r#"{{"auditID":"{i}","verb":"get","pad":"{padding}"}}"#)).collect();
    let (status, _) = server.post(&format!(r#"{{"kind":"EventList","items":[{}]}}"#, fat.join(",")));
    assert_eq!(status, 429);
    assert_eq!(server.post(&batch(0..5)).0, 200);
    server.stop();
    assert_eq!(server.metric("palisade_audit_events_total"), 5);
}

#[test]
fn alerts_leave_in_the_order_of_their_events() {
    // Batches large enough to be matched slice by slice on every core.
    let mut server = Running::start(ROOMY, 8 << 20, Duration::from_secs(10));
    for round in 0..3 {
        assert_eq!(server.post(&batch(round * 1500..(round + 1) * 1500)).0, 200);
    }
    server.stop();
    let names: Vec<String> = server.alert_lines().iter().map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["output_fields"]["ka.target.name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, (0..4500).map(|n| format!("s{n}")).collect::<Vec<_>>());
}

#[test]
fn every_accepted_event_is_matched_or_counted_at_shutdown() {
    // No drain time at all: whatever is queued at the signal is counted, not lost silently.
    let mut server = Running::start(ROOMY, 8 << 20, Duration::ZERO);
    let mut accepted = 0;
    for round in 0..10 {
        let (status, body) = server.post(&batch(round * 2000..(round + 1) * 2000));
        assert_eq!(status, 200, "{body}");
        accepted += 2000;
    }
    server.stop();
    let matched = server.metric("palisade_audit_events_total");
    let dropped = server.metric("palisade_audit_events_dropped_total{reason=\"shutdown\"}");
    assert_eq!(matched + dropped, accepted, "matched {matched}, dropped {dropped}");
    let alerts = server.alert_lines().len() as u64;
    let lost = server.metric_sum("palisade_audit_alerts_dropped_total{sink=\"memory\"");
    assert_eq!(alerts + lost, matched);
}

#[test]
fn unauthenticated_posts_are_refused_and_counted() {
    let mut server = Running::start_with(ROOMY, 1 << 20, Duration::from_secs(10), Some("apiserver-token,kube-apiserver\n"));
    assert_eq!(server.post(&batch(0..2)).0, 401);
    assert_eq!(server.post_as("guessed-token", &batch(0..2)).0, 401);
    assert_eq!(server.post_as("apiserver-token", &batch(0..2)), (200, "accepted 2 events\n".to_string()));
    assert_eq!(server.metric("palisade_http_requests_total{route=\"/k8s-audit\",status=\"401\"}"), 2);
    server.stop();
    assert_eq!(server.alert_lines().len(), 2, "only the authenticated batch was matched");
}

#[test]
fn a_flooding_client_cannot_take_the_api_servers_share_of_the_queue() {
    let tokens = "apiserver-token,kube-apiserver\nleaked-token,compromised\n";
    let limits = Limits { events: 1000, bytes: 64 << 20, client_share: 0.5 };
    let mut server = Running::start_with(limits, 8 << 20, Duration::from_secs(10), Some(tokens));
    let server_ref = &server;
    let forged = batch(0..500);
    let real = batch(0..200);
    let refused_forgeries = std::thread::scope(|scope| {
        let flooders: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    (0..30)
                        .filter(|_| {
                            let (status, body) = server_ref.post_as("leaked-token", &forged);
                            // Its own share of the queue, or of the readers (it posts three at once).
                            let own = body.starts_with("client_share") || body.starts_with("client_busy");
                            assert!(status == 200 || own, "{status} {body}");
                            status == 429
                        })
                        .count()
                })
            })
            .collect();
        for _ in 0..20 {
            // The API server may exceed its own share (it retries, as the webhook backend
            // does), but the forger can never leave it without room: no `queue_full`.
            let accepted = (0..200).any(|_| {
                let (status, body) = server_ref.post_as("apiserver-token", &real);
                assert!(status == 200 || body.starts_with("client_share"), "{status} {body}");
                std::thread::sleep(Duration::from_millis(if status == 200 { 0 } else { 10 }));
                status == 200
            });
            assert!(accepted);
        }
        flooders.into_iter().map(|f| f.join().unwrap()).sum::<usize>()
    });
    server.stop();
    assert!(refused_forgeries > 0, "the flood never reached the forger's share");
    let charged = server.metric("palisade_audit_batches_rejected_total{reason=\"client_share\"}")
        + server.metric("palisade_audit_batches_rejected_total{reason=\"client_busy\"}");
    assert!(charged as usize >= refused_forgeries);
    assert_eq!(server.metric("palisade_audit_batches_rejected_total{reason=\"queue_full\"}"), 0);
}

/// A body that arrives after a pause, holding its reader permit meanwhile.
struct Slow {
    body: std::io::Cursor<Vec<u8>>,
    paused: bool,
}

impl std::io::Read for Slow {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.paused {
            self.paused = true;
            // Longer than a request waits for a reader (2 s).
            std::thread::sleep(Duration::from_millis(3000));
        }
        self.body.read(buf)
    }
}

#[test]
fn a_client_uploading_slowly_cannot_hold_every_reader() {
    let tokens = "apiserver-token,kube-apiserver\nleaked-token,compromised\n";
    let mut server = Running::start_with(ROOMY, 1 << 20, Duration::from_secs(10), Some(tokens));
    let server_ref = &server;
    std::thread::scope(|scope| {
        let slow: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    let request = server_ref
                        .agent
                        .post(format!("{}/k8s-audit", server_ref.url))
                        .header("Authorization", "Bearer leaked-token");
                    let mut reader = Slow { body: std::io::Cursor::new(batch(0..10).into_bytes()), paused: false };
                    // Refused before its body was read, the upload may also end in a broken pipe.
                    let _ = request.send(ureq::SendBody::from_reader(&mut reader));
                })
            })
            .collect();
        // While the slow uploads are (or wait to be) read, the API server always finds a reader.
        std::thread::sleep(Duration::from_millis(300));
        for round in 0..5 {
            let (status, body) = server_ref.post_as("apiserver-token", &batch(round * 10..(round + 1) * 10));
            assert_eq!(status, 200, "{body}");
        }
        for upload in slow {
            upload.join().unwrap();
        }
    });
    server.stop();
    assert!(
        server.metric("palisade_audit_batches_rejected_total{reason=\"client_busy\"}") >= 1,
        "the slow client was never held to its share of readers"
    );
    assert_eq!(server.metric("palisade_audit_batches_rejected_total{reason=\"busy\"}"), 0);
}
