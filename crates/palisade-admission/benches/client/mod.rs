//! The load generator both benches drive the webhook with: a realistic AdmissionReview and
//! keep-alive TLS connections timed open-loop at fixed rates and closed-loop at saturation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::pki_types::pem::PemObject;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

pub const CONNECTIONS: usize = 16;

pub const POLICY: &str = "apiVersion: deckhouse.io/v1alpha1
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

pub fn review() -> String {
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

pub struct Connection {
    stream: TlsStream<TcpStream>,
    buffer: Vec<u8>,
}

impl Connection {
    pub async fn open(port: u16, connector: &TlsConnector) -> Connection {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        tcp.set_nodelay(true).unwrap();
        let stream = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await.expect("TLS handshake");
        Connection { stream, buffer: Vec::with_capacity(16 * 1024) }
    }

    /// Sends one request and reads one response; returns whether it was a 200.
    pub async fn exchange(&mut self, request: &[u8]) -> bool {
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

/// Prints one step's line; returns its p99 in milliseconds.
fn report(label: &str, latencies: &mut [Duration], errors: usize, elapsed: Duration) -> f64 {
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
    percentile(latencies, 0.99)
}

/// Returns the p99 in milliseconds.
pub async fn fixed_rate(label: &str, port: u16, connector: &TlsConnector, requests: Requests, rate: u64, seconds: u64) -> f64 {
    let total = (rate * seconds) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let mut tasks = Vec::new();
    let start = tokio::time::Instant::now() + Duration::from_millis(100);
    for lane in 0..CONNECTIONS {
        let mut connection = Connection::open(port, connector).await;
        let requests = requests.clone();
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
                if !connection.exchange(&requests[index % requests.len()]).await {
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
    report(&format!("{label}{rate} req/s"), &mut latencies, errors, elapsed)
}

/// Returns the p99 in milliseconds.
pub async fn saturation(label: &str, port: u16, connector: &TlsConnector, requests: Requests, seconds: u64) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for lane in 0..CONNECTIONS {
        let mut connection = Connection::open(port, connector).await;
        let requests = requests.clone();
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0);
            let mut index = lane;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let request = &requests[index % requests.len()];
                index += CONNECTIONS;
                if !connection.exchange(request).await {
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
    report(&format!("{label}saturation"), &mut latencies, errors, started.elapsed())
}

/// A TLS connector trusting only `ca_pem`.
pub fn connector(ca_pem: &str) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// Requests sent in turn: each connection's n-th request is `requests[n * CONNECTIONS + lane]`
/// modulo their number.
pub type Requests = Arc<Vec<Vec<u8>>>;

/// Each body as one HTTP/1.1 `POST /validate`.
pub fn http_requests(bodies: &[String]) -> Requests {
    Arc::new(
        bodies
            .iter()
            .map(|body| format!("POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes())
            .collect(),
    )
}
