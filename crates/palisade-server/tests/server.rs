//! The server foundation over real TLS on 127.0.0.1: probes, body limit, request timeout,
//! metrics and certificate hot reload.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::routing::{get, post};
use palisade_server::certs::CertRequest;
use palisade_server::{Server, ServerOptions, TlsFiles};

/// Issues a fresh CA and a `localhost` certificate into `dir`; returns the CA's PEM.
fn write_cert(dir: &std::path::Path) -> String {
    let request = CertRequest {
        service: "test".into(),
        namespace: "default".into(),
        extra_names: vec!["localhost".into()],
        validity: Duration::from_secs(3600),
    };
    let issued = request.issue().unwrap();
    issued.write_to(dir).unwrap();
    issued.ca_pem
}

fn agent(ca_pem: &str) -> ureq::Agent {
    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let ca = Certificate::from_pem(ca_pem.as_bytes()).unwrap().to_owned();
    ureq::Agent::config_builder()
        .tls_config(TlsConfig::builder().root_certs(RootCerts::Specific(Arc::new(vec![ca]))).build())
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into()
}

fn start(dir: &std::path::Path, options: ServerOptions) -> (String, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let tls = TlsFiles { cert: dir.join("tls.crt"), key: dir.join("tls.key") };
    let server = runtime.block_on(Server::bind("127.0.0.1:0".parse().unwrap(), &tls, options)).unwrap();
    let port = server.local_addr().port();
    let app = Router::new()
        .route("/echo", post(|body: Bytes| async move { body }))
        .route("/slow", get(|| async { tokio::time::sleep(Duration::from_secs(30)).await }));
    runtime.spawn(server.run(app, std::future::pending()));
    (format!("https://localhost:{port}"), runtime)
}

#[test]
fn probes_limits_timeouts_and_metrics_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let ca = write_cert(dir.path());
    let options = ServerOptions {
        body_limit: 1024,
        request_timeout: Duration::from_millis(300),
        ..ServerOptions::default()
    };
    let readiness = options.readiness.clone();
    let app_counter = options.metrics.counter("app_things_total", "Things.", &[]);
    app_counter.add(&[], 7);
    let (base, _runtime) = start(dir.path(), options);
    let agent = agent(&ca);

    let mut response = agent.get(format!("{base}/healthz")).call().unwrap();
    assert_eq!((response.status().as_u16(), response.body_mut().read_to_string().unwrap()), (200, "ok".into()));
    assert_eq!(agent.get(format!("{base}/readyz")).call().unwrap().status(), 503);
    readiness.set(true);
    assert_eq!(agent.get(format!("{base}/readyz")).call().unwrap().status(), 200);

    let mut response = agent.post(format!("{base}/echo")).send("hello").unwrap();
    assert_eq!(response.body_mut().read_to_string().unwrap(), "hello");
    assert_eq!(agent.post(format!("{base}/echo")).send(&vec![b'x'; 4096][..]).unwrap().status(), 413);
    assert_eq!(agent.get(format!("{base}/slow")).call().unwrap().status(), 503);

    let text = agent.get(format!("{base}/metrics")).call().unwrap().body_mut().read_to_string().unwrap();
    for line in [
        "palisade_http_requests_total{route=\"/echo\",status=\"413\"} 1",
        "palisade_http_requests_total{route=\"/echo\",status=\"200\"} 1",
        "palisade_http_requests_total{route=\"/slow\",status=\"503\"} 1",
        "palisade_http_request_duration_seconds_count{route=\"/echo\"} 2",
        "app_things_total 7",
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
}

#[test]
fn certificates_reload_when_the_files_change_and_broken_updates_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let first = write_cert(dir.path());
    let options = ServerOptions { reload_interval: Duration::from_millis(100), ..ServerOptions::default() };
    let (base, _runtime) = start(dir.path(), options);
    assert_eq!(agent(&first).get(format!("{base}/healthz")).call().unwrap().status(), 200);

    let second = write_cert(dir.path());
    // The files are polled every 100 ms; bounded wait for the swap.
    let reloaded = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        agent(&second).get(format!("{base}/healthz")).call().is_ok()
    });
    assert!(reloaded, "the new certificate was never served");
    assert!(agent(&first).get(format!("{base}/healthz")).call().is_err(), "the old certificate is still served");

    std::fs::write(dir.path().join("tls.key"), "garbage").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(agent(&second).get(format!("{base}/healthz")).call().unwrap().status(), 200);
}

#[test]
fn certificates_reload_when_only_the_content_changes() {
    let dir = tempfile::tempdir().unwrap();
    let first = write_cert(dir.path());
    let (cert, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    let sizes = |dir: &std::path::Path| {
        (std::fs::metadata(dir.join("tls.crt")).unwrap().len(), std::fs::metadata(dir.join("tls.key")).unwrap().len())
    };
    let stamps = (std::fs::metadata(&cert).unwrap().modified().unwrap(), std::fs::metadata(&key).unwrap().modified().unwrap());
    let options = ServerOptions { reload_interval: Duration::from_millis(100), ..ServerOptions::default() };
    let (base, _runtime) = start(dir.path(), options);
    assert_eq!(agent(&first).get(format!("{base}/healthz")).call().unwrap().status(), 200);

    // A new pair of exactly the same sizes, written back with the old modification times: only
    // the content tells them apart. Signature lengths vary by a byte; a few tries find a match.
    let other = tempfile::tempdir().unwrap();
    let second = (0..100)
        .map(|_| write_cert(other.path()))
        .find(|_| sizes(other.path()) == sizes(dir.path()))
        .expect("a same-size certificate in 100 tries");
    for (name, modified) in [("tls.crt", stamps.0), ("tls.key", stamps.1)] {
        std::fs::write(dir.path().join(name), std::fs::read(other.path().join(name)).unwrap()).unwrap();
        std::fs::File::options().write(true).open(dir.path().join(name)).unwrap().set_modified(modified).unwrap();
    }
    let reloaded = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        agent(&second).get(format!("{base}/healthz")).call().is_ok()
    });
    assert!(reloaded, "a same-size, same-mtime certificate was never served");
}
