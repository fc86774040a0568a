//! The server foundation over real TLS on 127.0.0.1: health routes, body limit, metrics and
//! certificate hot-reload.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use palisade_server::{Config, Server, TlsFiles};

/// Writes a fresh self-signed certificate for `localhost`; returns its DER.
fn write_cert(dir: &std::path::Path) -> Vec<u8> {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    std::fs::write(dir.join("tls.crt"), generated.cert.pem()).unwrap();
    std::fs::write(dir.join("tls.key"), generated.signing_key.serialize_pem()).unwrap();
    generated.cert.der().to_vec()
}

fn agent(der: &[u8]) -> ureq::Agent {
    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let roots = RootCerts::Specific(Arc::new(vec![Certificate::from_der(der).to_owned()]));
    ureq::Agent::config_builder()
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into()
}

fn start(dir: &std::path::Path) -> (String, tokio::runtime::Runtime, Arc<AtomicBool>) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let tls = TlsFiles { cert: dir.join("tls.crt"), key: dir.join("tls.key") };
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), Some(tls));
    config.body_limit = 1024;
    let server = runtime.block_on(Server::bind(config)).unwrap();
    let port = server.local_addr().port();
    let ready = Arc::new(AtomicBool::new(false));
    let app = Router::new().route("/echo", post(|body: Bytes| async move { body }));
    let metrics: palisade_server::MetricsRenderer = Arc::new(|out: &mut String| out.push_str("app_metric 7\n"));
    runtime.spawn(server.run(app, metrics, ready.clone(), std::future::pending()));
    (format!("https://localhost:{port}"), runtime, ready)
}

#[test]
fn health_limits_metrics_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let der = write_cert(dir.path());
    let (base, _runtime, ready) = start(dir.path());
    let agent = agent(&der);
    let mut r = agent.get(format!("{base}/healthz")).call().unwrap();
    assert_eq!((r.status().as_u16(), r.body_mut().read_to_string().unwrap()), (200, "ok\n".to_string()));
    assert_eq!(agent.get(format!("{base}/readyz")).call().unwrap().status(), 503);
    ready.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(agent.get(format!("{base}/readyz")).call().unwrap().status(), 200);
    let mut r = agent.post(format!("{base}/echo")).send("hello").unwrap();
    assert_eq!(r.body_mut().read_to_string().unwrap(), "hello");
    let r = agent.post(format!("{base}/echo")).send(&vec![b'x'; 4096][..]).unwrap();
    assert_eq!(r.status(), 413);
    let text = agent.get(format!("{base}/metrics")).call().unwrap().body_mut().read_to_string().unwrap();
    assert!(text.contains("palisade_http_requests_total{route=\"/echo\",status=\"413\"} 1"), "{text}");
    assert!(text.contains("app_metric 7"), "{text}");
}

#[test]
fn certificates_reload_when_files_change() {
    let dir = tempfile::tempdir().unwrap();
    let first = write_cert(dir.path());
    let (base, _runtime, _ready) = start(dir.path());
    assert_eq!(agent(&first).get(format!("{base}/healthz")).call().unwrap().status(), 200);
    std::thread::sleep(Duration::from_millis(1100));
    let second = write_cert(dir.path());
    // The reload is checked at most once a second, on a handshake; allow a few tries.
    let mut reloaded = false;
    for _ in 0..30 {
        if agent(&second).get(format!("{base}/healthz")).call().is_ok() {
            reloaded = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(reloaded, "the new certificate was never served");
    assert!(agent(&first).get(format!("{base}/healthz")).call().is_err(), "the old certificate is still served");
    // A broken key keeps the previous certificate.
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(dir.path().join("tls.key"), "garbage").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(agent(&second).get(format!("{base}/healthz")).call().unwrap().status(), 200);
}
