//! Load test of `palisade serve admission` on loopback, with the full Pod Security restricted
//! catalog, the workload rules and an OperationPolicy.
//!
//! ```sh
//! cargo build --release -p palisade
//! cargo bench -p palisade-admission --bench load -- [--rates 500,1000,2000,4000] [--seconds 10]
//! ```
//!
//! The release binary runs as its own process (2 async workers), as in a cluster; this program
//! drives it from one thread over keep-alive TLS connections and reports:
//! - **fixed rates** (open loop): request i is due at `start + i / rate`; a request that waited
//!   for the server's previous answer on its connection is measured from its due time, so a
//!   stalled server is charged for the requests queued behind it (no coordinated omission);
//! - **saturation** (closed loop): as many requests as 16 connections complete back to back.
//!
//! Each request is a realistic AdmissionReview (a Deployment of about 2.5 KB: labels,
//! annotations, env, volumes, probes, resources) that PSS restricted denies for one field
//! and the workload rules warn about, so every response carries a denial message and warnings.

// The request document below is one `json!` literal, deeper than the macro's default budget.
#![recursion_limit = "256"]

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::pki_types::pem::PemObject;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

const CONNECTIONS: usize = 16;

const POLICY: &str = "apiVersion: deckhouse.io/v1alpha1
kind: OperationPolicy
metadata:
  name: common
spec:
  policies:
    allowedRepos: [registry.example.com]
    requiredResources:
      limits: [memory]
      requests: [cpu, memory]
    disallowedImageTags: [latest]
    requiredProbes: [livenessProbe, readinessProbe]
    maxRevisionHistoryLimit: 5
    imagePullPolicy: IfNotPresent
    priorityClassNames: [production-high]
    checkHostNetworkDNSPolicy: true
    checkContainerDuplicates: true
";

fn review() -> String {
    let env: Vec<_> = (0..8).map(|i| serde_json::json!({"name": format!("SETTING_{i}"), "value": format!("value-{i}")})).collect();
    serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "6f1c9c52-6a4c-4c8b-9d0e-5c3b1f0e8a11",
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "namespace": "shop",
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:ci:deployer", "groups": ["system:serviceaccounts"]},
            "dryRun": false,
            "object": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": "storefront",
                    "labels": {"app.kubernetes.io/name": "storefront", "app.kubernetes.io/part-of": "shop", "team": "web"},
                    "annotations": {"deployment.kubernetes.io/revision": "7", "owner": "web-team@example.com"}
                },
                "spec": {
                    "replicas": 3,
                    "revisionHistoryLimit": 5,
                    "selector": {"matchLabels": {"app.kubernetes.io/name": "storefront"}},
                    "template": {
                        "metadata": {"labels": {"app.kubernetes.io/name": "storefront", "team": "web"}},
                        "spec": {
                            "serviceAccountName": "storefront",
                            "automountServiceAccountToken": false,
                            "priorityClassName": "production-high",
                            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
                            "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"}],
                            "containers": [{
                                "name": "web",
                                "image": "registry.example.com/shop/storefront:2.4.1",
                                "imagePullPolicy": "IfNotPresent",
                                "ports": [{"name": "http", "containerPort": 8080}],
                                "env": env,
                                "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
                                "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
                                "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5},
                                "securityContext": {
                                    "allowPrivilegeEscalation": true,
                                    "readOnlyRootFilesystem": true,
                                    "capabilities": {"drop": ["ALL"]}
                                },
                                "volumeMounts": [{"name": "cache", "mountPath": "/cache"}, {"name": "config", "mountPath": "/etc/storefront"}]
                            }],
                            "volumes": [{"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}}, {"name": "config", "configMap": {"name": "storefront"}}]
                        }
                    }
                }
            }
        }
    })
    .to_string()
}

struct Connection {
    stream: TlsStream<TcpStream>,
    buffer: Vec<u8>,
}

impl Connection {
    async fn open(port: u16, connector: &TlsConnector) -> Connection {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        tcp.set_nodelay(true).unwrap();
        let stream = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await.expect("TLS handshake");
        Connection { stream, buffer: Vec::with_capacity(16 * 1024) }
    }

    /// Sends one request and reads one response; returns whether it was a 200.
    async fn exchange(&mut self, request: &[u8]) -> bool {
        self.stream.write_all(request).await.expect("write");
        self.buffer.clear();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let read = self.stream.read(&mut chunk).await.expect("read");
            assert!(read > 0, "the server closed the connection");
            self.buffer.extend_from_slice(&chunk[..read]);
            let Some(head_end) = self.buffer.windows(4).position(|window| window == b"\r\n\r\n") else { continue };
            let head = std::str::from_utf8(&self.buffer[..head_end]).expect("UTF-8 head");
            let length: usize = head
                .lines()
                .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                .expect("content-length");
            if self.buffer.len() >= head_end + 4 + length {
                return head.starts_with("HTTP/1.1 200");
            }
        }
    }
}

fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

fn report(label: &str, latencies: &mut [Duration], errors: usize, elapsed: Duration) {
    latencies.sort_unstable();
    println!(
        "{label:>12}  {:>8.0} req/s  p50 {:>6.3} ms  p90 {:>6.3} ms  p99 {:>6.3} ms  p99.9 {:>6.3} ms  max {:>7.3} ms  errors {errors}",
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(latencies, 0.50),
        percentile(latencies, 0.90),
        percentile(latencies, 0.99),
        percentile(latencies, 0.999),
        latencies.last().map_or(0.0, |max| max.as_secs_f64() * 1000.0),
    );
}

async fn fixed_rate(port: u16, connector: &TlsConnector, request: Arc<Vec<u8>>, rate: u64, seconds: u64) {
    let total = (rate * seconds) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let mut tasks = Vec::new();
    let start = tokio::time::Instant::now() + Duration::from_millis(100);
    for lane in 0..CONNECTIONS {
        let mut connection = Connection::open(port, connector).await;
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(total / CONNECTIONS + 1);
            let mut errors = 0;
            for index in (lane..total).step_by(CONNECTIONS) {
                let due = start + interval * index as u32;
                // A request the server's previous answer held up is charged from its due time
                // (no coordinated omission); otherwise from when it was sent, so the timer's
                // millisecond granularity on this side is not charged to the server.
                let sent = if tokio::time::Instant::now() < due {
                    tokio::time::sleep_until(due).await;
                    tokio::time::Instant::now()
                } else {
                    due
                };
                if !connection.exchange(&request).await {
                    errors += 1;
                }
                latencies.push(sent.elapsed());
            }
            (latencies, errors)
        }));
    }
    let (mut latencies, mut errors) = (Vec::with_capacity(total), 0);
    for task in tasks {
        let (lane, lane_errors) = task.await.unwrap();
        latencies.extend(lane);
        errors += lane_errors;
    }
    let elapsed = start.elapsed();
    report(&format!("{rate} req/s"), &mut latencies, errors, elapsed);
}

async fn saturation(port: u16, connector: &TlsConnector, request: Arc<Vec<u8>>, seconds: u64) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let mut connection = Connection::open(port, connector).await;
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0);
            while Instant::now() < deadline {
                let sent = Instant::now();
                if !connection.exchange(&request).await {
                    errors += 1;
                }
                latencies.push(sent.elapsed());
            }
            (latencies, errors)
        }));
    }
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (lane, lane_errors) = task.await.unwrap();
        latencies.extend(lane);
        errors += lane_errors;
    }
    report("saturation", &mut latencies, errors, started.elapsed());
}

fn main() {
    let mut rates = vec![500, 1000, 2000, 4000];
    let mut seconds = 10;
    let mut binary = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/palisade");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rates" => rates = args.next().unwrap().split(',').map(|rate| rate.parse().unwrap()).collect(),
            "--seconds" => seconds = args.next().unwrap().parse().unwrap(),
            "--binary" => binary = args.next().unwrap().into(),
            "--bench" => {}
            other => panic!("unknown argument {other} (expected --rates, --seconds, --binary)"),
        }
    }
    assert!(binary.is_file(), "{} is missing: cargo build --release -p palisade", binary.display());

    let dir = tempfile::tempdir().unwrap();
    let (issued, tls) = support::webhook_certificate(dir.path());
    std::fs::write(dir.path().join("policy.yaml"), POLICY).unwrap();
    let mut server = std::process::Command::new(&binary)
        .args(["serve", "admission", "--listen", "127.0.0.1:0", "--no-kube", "--policy"])
        .arg(dir.path().join("policy.yaml"))
        .arg("--tls-cert")
        .arg(&tls.cert)
        .arg("--tls-key")
        .arg(&tls.key)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the server");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(server.stderr.take().unwrap()), &mut line).unwrap();
    let started: serde_json::Value = serde_json::from_str(&line).expect("the server's first log line");
    let port: u16 = started["addr"].as_str().unwrap().rsplit(':').next().unwrap().parse().unwrap();

    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(issued.ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = TlsConnector::from(Arc::new(config));
    let body = review();
    let request = Arc::new(
        format!("POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len())
            .into_bytes(),
    );
    println!(
        "palisade serve admission ({} rules + OperationPolicy, PSS restricted), {}-byte AdmissionReview, {CONNECTIONS} TLS connections, {seconds} s per step",
        started["rules"], body.len()
    );

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        // Warm-up: connections, allocator, branch predictors.
        saturation(port, &connector, request.clone(), 1).await;
        for rate in rates {
            fixed_rate(port, &connector, request.clone(), rate, seconds).await;
        }
        saturation(port, &connector, request.clone(), seconds).await;
    });
    server.kill().unwrap();
    server.wait().unwrap();
}
