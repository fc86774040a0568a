//! The webhook under attack, on 127.0.0.1, each case of issue 10 with its bound: a pathological
//! object answers in time, slow reviews get 503 at the deadline while probes stay green, sockets
//! that never handshake and clients that never read cannot starve good requests, an oversized
//! declared body is refused before it is sent, shutdown fails readiness first and finishes
//! within its deadline with a stuck client. Loops are bounded; the heavier variants (peak memory
//! of maximal reviews, floods) are in bench/attack/admission.py.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_admission::{NamespaceStore, Settings, Webhook};
use palisade_checks::CatalogOptions;
use palisade_core::{FindingSink, Object, Rule, RuleMeta, Severity};
use palisade_scan::Engine;
use palisade_server::{Server, ServerOptions};
use rustls::pki_types::ServerName;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// The API server's webhook timeout: the bound every answer must beat.
const API_SERVER_TIMEOUT: Duration = Duration::from_secs(10);

static SLOW: RuleMeta =
    RuleMeta { id: "test/slow", title: "slow", severity: Severity::Low, doc: "", remediation: "", controls: &[] };

/// A rule that takes `delay` on objects named `slow`: a review that outlives the deadline.
struct Slow(Duration);

impl Rule for Slow {
    fn meta(&self) -> &'static RuleMeta {
        &SLOW
    }

    fn check(&self, object: &Object, _sink: &mut FindingSink<'_>) {
        if object.name() == "slow" {
            std::thread::sleep(self.0);
        }
    }
}

struct Running {
    addr: std::net::SocketAddr,
    connector: TlsConnector,
    shutdown: Option<oneshot::Sender<()>>,
    stopped: Option<oneshot::Receiver<Instant>>,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

fn start(options: ServerOptions, slots: usize) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let (issued, tls) = support::webhook_certificate(dir.path());
    let mut rules = palisade_checks::builtin_rules(&CatalogOptions::default());
    rules.push(Box::new(Slow(Duration::from_secs(3))));
    let webhook = Webhook::new(
        Engine::new(rules, Vec::new()),
        Settings::default(),
        Arc::new(NamespaceStore::new()),
        &options.metrics,
        Box::new(|_: &str| {}),
    )
    .with_review_slots(slots);
    options.readiness.set(true);
    // Two workers, as on the 2-core machines the issue measured.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let server = runtime.block_on(Server::bind("127.0.0.1:0".parse().unwrap(), &tls, options)).unwrap();
    let addr = server.local_addr();
    let (shutdown, signal) = oneshot::channel();
    let (report, stopped) = oneshot::channel();
    runtime.spawn(async move {
        server
            .run(Arc::new(webhook).router(), async {
                let _ = signal.await;
            })
            .await
            .unwrap();
        let _ = report.send(Instant::now());
    });

    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls::pki_types::CertificateDer::pem_slice_iter(issued.ca_pem.as_bytes()) {
        roots.add(certificate.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = TlsConnector::from(Arc::new(config));
    Running { addr, connector, shutdown: Some(shutdown), stopped: Some(stopped), runtime, _dir: dir }
}

use rustls::pki_types::pem::PemObject;

impl Running {
    async fn connect(&self) -> std::io::Result<TlsStream<TcpStream>> {
        let tcp = TcpStream::connect(self.addr).await?;
        self.connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await
    }

    /// One request on a fresh connection (`Connection: close`); the status and the body.
    async fn send(&self, head: &str, body: &[u8]) -> std::io::Result<(u16, String)> {
        let mut stream = self.connect().await?;
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text.get(9..12).and_then(|code| code.parse().ok()).unwrap_or(0);
        let body = text.split_once("\r\n\r\n").map_or("", |(_, body)| body).to_owned();
        Ok((status, body))
    }

    async fn get(&self, path: &str) -> std::io::Result<u16> {
        Ok(self.send(&format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"), b"").await?.0)
    }

    async fn validate(&self, body: &[u8]) -> std::io::Result<(u16, String)> {
        self.send(&post_head(body.len(), true), body).await
    }
}

fn post_head(length: usize, close: bool) -> String {
    let connection = if close { "Connection: close\r\n" } else { "" };
    format!("POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n{connection}\r\n")
}

fn review(name: &str, spec: Value) -> Vec<u8> {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": format!("uid-{name}"),
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "operation": "CREATE",
            "namespace": "default",
            "userInfo": {"username": "attacker"},
            "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec},
        },
    })
    .to_string()
    .into_bytes()
}

fn privileged(name: &str) -> Vec<u8> {
    review(name, json!({"containers": [{"name": "c", "image": "nginx", "securityContext": {"privileged": true}}]}))
}

#[test]
fn a_pathological_object_is_denied_in_time_with_a_bounded_answer() {
    let running = start(ServerOptions::default(), 2);
    // 100,000 env vars of one name in a privileged pod: 2.9 MB, under the API server's 3 MiB.
    let env: Vec<Value> = (0..100_000).map(|index| json!({"name": "X", "value": index.to_string()})).collect();
    let body = review("padded", json!({"containers": [{"name": "c", "image": "nginx", "env": env, "securityContext": {"privileged": true}}]}));
    assert!(body.len() < 3 << 20);
    let started = Instant::now();
    let (status, answer) = running.runtime.block_on(running.validate(&body)).unwrap();
    assert!(started.elapsed() < API_SERVER_TIMEOUT, "answered after {:?}", started.elapsed());
    assert_eq!(status, 200, "{answer}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["response"]["uid"], "uid-padded");
    assert_eq!(answer["response"]["allowed"], false);
    assert!(answer["response"]["status"]["message"].as_str().unwrap().contains("pss/privileged"));
    // 99,999 duplicate-env-var warnings, listed 20 and counted: the answer stays small.
    let warnings = answer["response"]["warnings"].as_array().unwrap();
    assert!(warnings.len() <= 21, "{} warnings", warnings.len());
    assert!(warnings.last().unwrap().as_str().unwrap().starts_with("and 99"), "{warnings:?}");
    assert!(answer.to_string().len() < 32 * 1024, "{} bytes", answer.to_string().len());
}

#[test]
fn slow_reviews_get_503_at_the_deadline_while_probes_and_other_reviews_go_on() {
    let options = ServerOptions { request_timeout: Duration::from_secs(1), ..ServerOptions::default() };
    let running = Arc::new(start(options, 2));
    let flood: Vec<_> = (0..6)
        .map(|_| {
            let running = running.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                let (status, _) = running.runtime.block_on(running.validate(&review("slow", json!({"containers": [{"name": "c", "image": "nginx"}]})))).unwrap();
                (status, started.elapsed())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // Both review slots are busy for 3 s each: probes never wait for them.
    for _ in 0..5 {
        let started = Instant::now();
        assert_eq!(running.runtime.block_on(running.get("/healthz")).unwrap(), 200);
        assert_eq!(running.runtime.block_on(running.get("/readyz")).unwrap(), 200);
        assert!(started.elapsed() < Duration::from_secs(1), "probes took {:?}", started.elapsed());
        std::thread::sleep(Duration::from_millis(100));
    }
    for handle in flood {
        let (status, elapsed) = handle.join().unwrap();
        assert_eq!(status, 503);
        // The deadline is 1 s; a loaded machine gets generous slack, far below the 3 s review.
        assert!(elapsed < Duration::from_millis(2500), "503 after {elapsed:?}");
    }
}

#[test]
fn sockets_that_never_handshake_do_not_starve_good_requests() {
    let options = ServerOptions { max_connections: 8, max_connections_per_peer: 10_000, ..ServerOptions::default() };
    let running = start(options, 2);
    running.runtime.block_on(async {
        let mut idle = Vec::new();
        for _ in 0..300 {
            idle.push(TcpStream::connect(running.addr).await.unwrap());
        }
        for _ in 0..5 {
            let started = Instant::now();
            let (status, _) = running.validate(&privileged("good")).await.unwrap();
            assert_eq!(status, 200);
            assert!(started.elapsed() < Duration::from_secs(2), "answered after {:?}", started.elapsed());
        }
        drop(idle);
    });
}

#[test]
fn a_client_that_pipelines_and_never_reads_loses_its_connection() {
    // One connection slot: the good request waits for the bad client's (up to the handshake
    // deadline), which the write deadline frees.
    let options = ServerOptions {
        max_connections: 1,
        max_connections_per_peer: 10_000,
        write_timeout: Duration::from_secs(1),
        handshake_timeout: Duration::from_secs(15),
        ..ServerOptions::default()
    };
    let running = start(options, 2);
    running.runtime.block_on(async {
        let mut bad = running.connect().await.unwrap();
        // Requests whose answers (the metrics page, kilobytes each) outgrow the socket buffers.
        let burst = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n".repeat(5_000);
        let _ = tokio::time::timeout(Duration::from_secs(3), bad.write_all(burst.as_bytes())).await;
        let started = Instant::now();
        let (status, _) = running.validate(&privileged("good")).await.unwrap();
        assert_eq!(status, 200);
        assert!(started.elapsed() < API_SERVER_TIMEOUT, "answered after {:?}", started.elapsed());
        // The bad connection was closed: reading its answers ends.
        let mut sink = vec![0; 1 << 16];
        let closed = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match bad.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "the non-reading client kept its connection");
    });
}

#[test]
fn an_oversized_declared_body_is_refused_before_it_is_sent() {
    let running = start(ServerOptions::default(), 2);
    running.runtime.block_on(async {
        let mut stream = running.connect().await.unwrap();
        stream.write_all(post_head(64 << 20, false).as_bytes()).await.unwrap();
        let mut answer = vec![0; 1024];
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer)).await.expect("no answer before the body").unwrap();
        assert!(answer[..read].starts_with(b"HTTP/1.1 413"), "{}", String::from_utf8_lossy(&answer[..read]));
    });
}

#[test]
fn shutdown_fails_readiness_first_serves_the_grace_period_and_drains_within_its_deadline() {
    let options = ServerOptions {
        shutdown_grace: Duration::from_secs(1),
        drain_timeout: Duration::from_secs(2),
        write_timeout: Duration::from_secs(60),
        max_connections_per_peer: 10_000,
        ..ServerOptions::default()
    };
    let mut running = start(options, 2);
    let stopped = running.stopped.take().unwrap();
    let shutdown = running.shutdown.take().unwrap();
    running.runtime.block_on(async {
        // A stuck client: requests pipelined, answers (kilobytes each) never read, its write
        // deadline far away: only the drain deadline ends it.
        let mut stuck = running.connect().await.unwrap();
        let burst = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n".repeat(5_000);
        let _ = tokio::time::timeout(Duration::from_secs(2), stuck.write_all(burst.as_bytes())).await;

        let signalled = Instant::now();
        shutdown.send(()).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Not ready any more, but still alive and serving during the grace period.
        assert_eq!(running.get("/readyz").await.unwrap(), 503);
        assert_eq!(running.get("/healthz").await.unwrap(), 200);
        assert_eq!(running.validate(&privileged("late")).await.unwrap().0, 200);
        let stopped_at = tokio::time::timeout(Duration::from_secs(10), stopped).await.expect("shutdown waited on the stuck client").unwrap();
        let took = stopped_at - signalled;
        // Grace 1 s, then the drain waits its full 2 s for the stuck client, and no longer
        // (slack for a loaded machine).
        assert!(took >= Duration::from_millis(2900) && took < Duration::from_secs(6), "stopped after {took:?}");
        assert!(running.connect().await.is_err(), "still accepting after shutdown");
        drop(stuck);
    });
}
