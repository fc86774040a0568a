//! `palisade serve admission` as shipped, under the attacks that need the real process: a
//! maximal review's peak memory, measured on the child (VmHWM), and a standard output nobody
//! reads, which must cost decision lines (counted), never requests or probes.

mod support;

use std::io::BufRead;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The Deployment's memory limit (deploy/admission/30-deployment.yaml).
const DEPLOY_MEMORY_LIMIT: u64 = 640 << 20;

struct Webhook {
    child: Child,
    base: String,
    agent: ureq::Agent,
    _dir: tempfile::TempDir,
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the webhook with its standard output piped and never read.
fn start() -> Webhook {
    let dir = tempfile::tempdir().unwrap();
    let certs = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["certs", "--name", "localhost", "-o"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(certs.status.success());
    let (child, mut stderr) = support::spawn_tls_server(
        ["serve", "admission", "--listen", "127.0.0.1:0", "--no-kube", "--memory-limit", "671088640"],
        dir.path(),
    );
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let started: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not a JSON line: {line}"));
    assert_eq!(started["reviewSlots"], 2, "{started}");
    let port = started["addr"].as_str().unwrap().rsplit(':').next().unwrap().to_owned();
    // Standard error keeps being read so that only standard output is stuck.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));

    let ca_pem = std::fs::read(dir.path().join("ca.crt")).unwrap();
    let agent = support::agent_trusting(&ca_pem, Duration::from_secs(20));
    Webhook { child, base: format!("https://localhost:{port}"), agent, _dir: dir }
}

impl Webhook {
    fn validate(&self, body: &[u8]) -> (u16, Value) {
        let mut response =
            self.agent.post(format!("{}/validate", self.base)).header("Content-Type", "application/json").send(body).unwrap();
        let status = response.status().as_u16();
        (status, serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap_or(Value::Null))
    }

    fn get(&self, path: &str) -> (u16, String) {
        let mut response = self.agent.get(format!("{}{path}", self.base)).call().unwrap();
        (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
    }

    /// Peak resident memory of the webhook process so far.
    fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: u64 = status.lines().find_map(|line| line.strip_prefix("VmHWM:")).unwrap().trim().trim_end_matches(" kB").trim().parse().unwrap();
        kib * 1024
    }
}

fn review(spec: Value) -> Vec<u8> {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "attack",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "operation": "CREATE",
            "namespace": "default",
            "userInfo": {"username": "attacker"},
            "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec},
        },
    })
    .to_string()
    .into_bytes()
}

#[cfg(target_os = "linux")]
#[test]
fn a_maximal_review_fits_in_the_deploy_memory_limit_and_answers_in_time() {
    let webhook = start();
    // 3 MiB of `0,`: the most JSON nodes a review under the API server's limit can carry.
    let elements = (3 << 20) / 2 - 1024;
    let body = review(json!({"containers": [{"name": "c", "image": "nginx", "securityContext": {"privileged": true}, "args": vec![0; elements]}]}));
    assert!(body.len() < palisade_server::DEFAULT_BODY_LIMIT);
    let started = Instant::now();
    let (status, answer) = webhook.validate(&body);
    let elapsed = started.elapsed();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["response"]["allowed"], false);
    assert!(elapsed < Duration::from_secs(10), "answered after {elapsed:?}");
    let peak = webhook.peak_rss();
    eprintln!("{elements} elements, {} bytes: answered in {elapsed:?}, peak RSS {} MiB", body.len(), peak >> 20);
    // One review slot's share of the limit, as the webhook sizes its concurrency.
    assert!(peak < DEPLOY_MEMORY_LIMIT / 2, "peak RSS {} MiB", peak >> 20);
}

#[test]
fn a_standard_output_nobody_reads_costs_log_lines_not_requests() {
    let webhook = start();
    // 40 privileged containers: a decision line listing 100 violations (about 20 KB); a
    // thousand of them fill the pipe and then the 8 MiB queue.
    let container = json!({"name": "c", "image": "nginx", "securityContext": {"privileged": true, "runAsUser": 0}});
    let body = review(json!({"containers": vec![container; 40]}));
    let started = Instant::now();
    for _ in 0..1_000 {
        let (status, answer) = webhook.validate(&body);
        assert_eq!((status, &answer["response"]["allowed"]), (200, &json!(false)));
    }
    assert_eq!(webhook.get("/healthz").0, 200);
    assert!(started.elapsed() < Duration::from_secs(180), "1,000 reviews took {:?}", started.elapsed());
    let (_, metrics) = webhook.get("/metrics");
    let dropped: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("palisade_log_lines_dropped_total{stream=\"stdout\"} "))
        .unwrap_or_else(|| panic!("no dropped-lines counter in\n{metrics}"))
        .parse()
        .unwrap();
    assert!(dropped > 0, "no line was dropped: the test did not fill the queue");
}
