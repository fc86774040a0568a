//! `palisade serve audit` and `palisade audit --follow` as shipped, under the failures of issue
//! 10, on 127.0.0.1 with bounded loops: authentication required, a dead sink that does not
//! delay the others, SIGTERM within the drain deadline, spooled alerts redelivered, and a
//! follower that keeps its checkpoint before undelivered alerts. The heavier variants are in
//! scripts/audit-attack.sh.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const RULES: &str = "- rule: Secret read\n  desc: d\n  condition: ka.target.resource=secrets and ka.verb=get\n  \
                     output: secret %ka.target.name read\n  priority: WARNING\n  source: k8s_audit\n";

fn events(range: std::ops::Range<usize>) -> String {
    let items: Vec<String> = range
        .map(|i| format!(r#"{{"auditID":"{i}","verb":"get","objectRef":{{"resource":"secrets","name":"s{i}"}}}}"#))
        .collect();
    format!(r#"{{"kind":"EventList","items":[{}]}}"#, items.join(","))
}

fn palisade() -> Command {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
}

/// Certificates and rules in a temporary directory.
fn setup() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let certs = palisade().args(["certs", "--name", "localhost", "--days", "1", "-o"]).arg(dir.path()).output().unwrap();
    assert!(certs.status.success(), "{}", String::from_utf8_lossy(&certs.stderr));
    std::fs::write(dir.path().join("rules.yaml"), RULES).unwrap();
    let ca = std::fs::read_to_string(dir.path().join("ca.crt")).unwrap();
    (dir, ca)
}

/// `serve audit` on a free port with `extra` arguments; returns the child and its port.
fn serve(dir: &Path, extra: &[&str]) -> (Child, u16) {
    let rules = dir.join("rules.yaml");
    let serve = ["serve", "audit", "--listen", "127.0.0.1:0", "--rules"].map(std::ffi::OsStr::new);
    let (mut child, stderr) =
        support::spawn_tls_server(serve.into_iter().chain([rules.as_os_str()]).chain(extra.iter().map(std::ffi::OsStr::new)), dir);
    match support::logged_port(stderr) {
        Ok(port) => (child, port),
        Err(line) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve audit did not say where it listens; last line: {line}");
        }
    }
}

/// A JSON line of the log backend: a read of secret `s<i>`, which the test rules alert on.
fn secret_read(i: usize) -> String {
    format!("{{\"auditID\":\"{i}\",\"verb\":\"get\",\"objectRef\":{{\"resource\":\"secrets\",\"name\":\"s{i}\"}}}}\n")
}

fn agent(ca: &str) -> ureq::Agent {
    support::agent_trusting(ca.as_bytes(), Duration::from_secs(10))
}

fn post(agent: &ureq::Agent, port: u16, body: &str) -> u16 {
    post_with(agent, port, None, body).0
}

fn post_with(agent: &ureq::Agent, port: u16, token: Option<&str>, body: &str) -> (u16, String) {
    // A refusal answered before the body was read closes the connection; a pooled connection
    // then fails once on the client side. Threads sharing the agent can leave one such
    // connection each in its pool.
    for _ in 0..10 {
        let mut request = agent.post(format!("https://localhost:{port}/k8s-audit"));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if let Ok(mut response) = request.send(body) {
            return (response.status().as_u16(), response.body_mut().read_to_string().unwrap());
        }
    }
    panic!("10 connections failed in a row");
}

fn terminate(child: &Child) {
    // SAFETY: a plain kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
}

/// Waits for the child at most `limit`; the elapsed time and its exit status.
fn wait_within(child: &mut Child, limit: Duration) -> (Duration, std::process::ExitStatus) {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return (started.elapsed(), status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    panic!("still running after {limit:?}");
}

#[test]
fn serve_audit_will_not_start_unauthenticated_and_refuses_anonymous_posts() {
    let (dir, ca) = setup();
    let refused = palisade()
        .args(["serve", "audit", "--listen", "127.0.0.1:0", "--rules"])
        .arg(dir.path().join("rules.yaml"))
        .arg("--tls-cert")
        .arg(dir.path().join("tls.crt"))
        .arg("--tls-key")
        .arg(dir.path().join("tls.key"))
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--client-ca FILE and/or --token-file FILE"));

    std::fs::write(dir.path().join("tokens"), "t0ken,kube-apiserver\n").unwrap();
    let tokens = dir.path().join("tokens");
    let (mut child, port) = serve(dir.path(), &["--token-file", tokens.to_str().unwrap(), "--metrics-auth"]);
    let agent = agent(&ca);
    assert_eq!(post(&agent, port, &events(0..3)), 401);
    assert_eq!(agent.get(format!("https://localhost:{port}/metrics")).call().unwrap().status().as_u16(), 401);
    let (status, body) = post_with(&agent, port, Some("t0ken"), &events(0..3));
    assert_eq!(status, 200, "{body}");
    terminate(&child);
    let (_, status) = wait_within(&mut child, Duration::from_secs(10));
    assert!(status.success(), "{status}");
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    assert_eq!(stdout.lines().count(), 3, "only the authenticated batch raised alerts: {stdout}");
}

#[test]
fn a_dead_webhook_does_not_delay_stdout_and_sigterm_ends_within_the_drain_deadline() {
    let (dir, ca) = setup();
    // Accepts connections (the kernel does) and never answers: every attempt waits for its
    // 10 s timeout.
    let blackhole = TcpListener::bind("127.0.0.1:0").unwrap();
    let webhook = format!("http://{}/hook", blackhole.local_addr().unwrap());
    let (mut child, port) =
        serve(dir.path(), &["--allow-unauthenticated", "--webhook", &webhook, "--shutdown-grace", "0", "--drain-timeout", "6"]);
    let (lines, received) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if lines.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    assert_eq!(post(&agent(&ca), port, &events(0..5)), 200);
    for n in 0..5 {
        // Sequential sinks would hold alert 2 behind 4 attempts of 10 s on the webhook.
        let line = received.recv_timeout(Duration::from_secs(5)).unwrap_or_else(|_| panic!("alert {n} not on stdout in time"));
        assert!(line.contains(&format!("secret s{n} read")), "{line}");
    }
    // The webhook's thread is stuck in an attempt of 10 s: shutdown must not wait for it past
    // the drain deadline (6 s, plus 1 s for spooling).
    terminate(&child);
    let (took, status) = wait_within(&mut child, Duration::from_secs(15));
    assert!(status.success(), "{status}");
    assert!(took < Duration::from_secs(8), "{took:?}");
    drop(blackhole);
}

/// A webhook on `listener` answering 200 and sending each body it receives.
fn webhook_server(listener: TcpListener, bodies: mpsc::Sender<String>) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let bodies = bodies.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                loop {
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap();
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    if bodies.send(String::from_utf8(body).unwrap()).is_err() {
                        return;
                    }
                    reader.get_mut().write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").unwrap();
                }
            });
        }
    });
}

#[test]
fn alerts_spooled_while_the_webhook_is_down_are_delivered_when_it_comes_back() {
    let (dir, ca) = setup();
    // A port with nothing listening: attempts are refused at once.
    let port_of_webhook = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let webhook = format!("http://127.0.0.1:{port_of_webhook}/hook");
    let spool = dir.path().join("spool");
    let (mut child, port) = serve(dir.path(), &[
        "--allow-unauthenticated",
        "--no-stdout",
        "--webhook",
        &webhook,
        "--spool-dir",
        spool.to_str().unwrap(),
        "--sink-attempts",
        "2",
        "--breaker-cooldown",
        "1",
    ]);
    assert_eq!(post(&agent(&ca), port, &events(0..4)), 200);
    let spooled = || std::fs::read_dir(spool.join("webhook")).map_or(0, |d| d.filter_map(Result::ok).map(|e| e.metadata().unwrap().len()).sum::<u64>());
    let started = Instant::now();
    while spooled() == 0 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(spooled() > 0, "nothing spooled");
    let (bodies, received) = mpsc::channel();
    webhook_server(TcpListener::bind(("127.0.0.1", port_of_webhook)).unwrap(), bodies);
    let mut names: Vec<String> = (0..4)
        .map(|_| {
            let body = received.recv_timeout(Duration::from_secs(20)).expect("spooled alerts were not redelivered");
            serde_json::from_str::<serde_json::Value>(&body).unwrap()["output_fields"]["ka.target.name"].as_str().unwrap().to_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["s0", "s1", "s2", "s3"]);
    terminate(&child);
    let (_, status) = wait_within(&mut child, Duration::from_secs(30));
    assert!(status.success(), "{status}");
}

#[test]
fn follow_keeps_its_checkpoint_before_alerts_no_sink_took() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yaml"), RULES).unwrap();
    let log = dir.path().join("audit.log");
    let lines: Vec<String> = (0..3)
        .map(|i| format!(r#"{{"auditID":"{i}","verb":"get","objectRef":{{"resource":"secrets","name":"s{i}"}}}}"#))
        .collect();
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let dead = format!("http://127.0.0.1:{}/hook", TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port());
    let failed = palisade()
        .args(["audit", "--follow", "--no-stdout", "--sink-attempts", "1", "--webhook", &dead, "--rules"])
        .arg(dir.path().join("rules.yaml"))
        .arg(&log)
        .output()
        .unwrap();
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stderr).contains("the checkpoint stays before it"), "{}", String::from_utf8_lossy(&failed.stderr));

    // Restarted with a sink that works: the same alerts, none lost.
    let alerts = dir.path().join("alerts.jsonl");
    let mut child = palisade()
        .args(["audit", "--follow", "--no-stdout", "--output-file"])
        .arg(&alerts)
        .arg("--rules")
        .arg(dir.path().join("rules.yaml"))
        .arg(&log)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let count = || std::fs::read_to_string(&alerts).map_or(0, |text| text.lines().count());
    while count() < 3 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(count(), 3);
}

#[test]
fn deploy_audit_manifests_report_nothing_above_low() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = palisade().current_dir(repo).args(["scan", "deploy/audit", "--format", "json", "--fail-on", "medium"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    assert_eq!(report["summary"]["input_errors"], 0, "{report:#}");
    // ServiceAccount, ClusterRole and binding, Deployment, Service, two NetworkPolicies, the
    // PrometheusRule and the two kubeconfigs.
    assert_eq!(report["summary"]["objects_scanned"], 10, "{report:#}");
}

#[test]
fn the_charts_audit_objects_are_the_plain_manifests() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut plain = support::objects_in(&repo.join("deploy/audit"));
    // The chart has one default-deny NetworkPolicy for both servers.
    plain.remove(&("NetworkPolicy".to_owned(), "default-deny".to_owned()));
    let chart: std::collections::BTreeMap<(String, String), usize> =
        support::objects_in(&repo.join("deploy/helm/palisade/templates")).into_iter().filter(|((_, name), _)| name.starts_with("palisade-audit")).collect();
    assert_eq!(plain.values().sum::<usize>(), 7, "{plain:?}");
    assert_eq!(plain, chart);
}

/// The shipped PrometheusRule reads series the receiver exposes, and rules Falco's file has.
#[test]
fn the_shipped_alert_rules_read_what_serve_audit_exposes() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(repo.join("deploy/audit/60-prometheusrule.yaml")).unwrap();
    let rule: serde_json::Value = palisade_load::load_str(&text, "60-prometheusrule.yaml").objects[0].root.to_json();
    let expressions: Vec<String> = rule["spec"]["groups"].as_array().unwrap().iter().flat_map(|group| group["rules"].as_array().unwrap().iter().map(|rule| rule["expr"].as_str().unwrap().to_owned())).collect();
    assert!(expressions.len() >= 6, "{expressions:?}");
    let (dir, ca) = setup();
    let (child, port) = serve(dir.path(), &["--allow-unauthenticated", "--falcosidekick-metrics"]);
    let exposed = agent(&ca).get(format!("https://localhost:{port}/metrics")).call().unwrap().into_body().read_to_string().unwrap();
    terminate(&child);
    let metric = regex::Regex::new(r"(palisade_[a-z_]+|falco_events)").unwrap();
    for expression in &expressions {
        for name in metric.find_iter(expression) {
            assert!(exposed.contains(&format!("# TYPE {} ", name.as_str())), "{} (in {expression}) is not exposed:\n{exposed}", name.as_str());
        }
    }
    let falco = std::env::var_os("PALISADE_UPSTREAM").map(std::path::PathBuf::from).unwrap_or_else(|| repo.join("../shared/upstream")).join("falco/k8s_audit_rules.yaml");
    let Ok(falco) = std::fs::read_to_string(&falco) else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "upstream Falco rules missing at {} under CI", falco.display());
        eprintln!("SKIPPED: the rule names are not checked: upstream Falco rules not found at {}", falco.display());
        return;
    };
    let named = regex::Regex::new(r#"rule=~?"([^"]+)""#).unwrap();
    for expression in &expressions {
        for names in named.captures_iter(expression) {
            for name in names[1].split('|') {
                assert!(falco.contains(&format!("- rule: {name}\n")), "no Falco rule named {name:?} (in {expression})");
            }
        }
    }
}

#[test]
fn a_blocked_stdout_freezes_neither_the_other_sinks_nor_the_server() {
    let (dir, ca) = setup();
    let alerts = dir.path().join("alerts.jsonl");
    // Standard output is a pipe nobody reads: it fills after about 64 KiB of alerts.
    let (mut child, port) = serve(dir.path(), &[
        "--allow-unauthenticated",
        "--output-file",
        alerts.to_str().unwrap(),
        "--shutdown-grace",
        "0",
        "--drain-timeout",
        "6",
    ]);
    let agent = agent(&ca);
    for round in 0..4 {
        assert_eq!(post(&agent, port, &events(round * 500..(round + 1) * 500)), 200);
    }
    let count = || std::fs::read_to_string(&alerts).map_or(0, |text| text.lines().count());
    let started = Instant::now();
    while count() < 2000 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(count(), 2000, "the file sink stalled behind standard output");
    let probe = Instant::now();
    assert_eq!(agent.get(format!("https://localhost:{port}/healthz")).call().unwrap().status().as_u16(), 200);
    assert!(probe.elapsed() < Duration::from_secs(2), "{:?}", probe.elapsed());
    // The stdout thread is stuck in a write: shutdown gives up on it at the deadline.
    terminate(&child);
    let (took, status) = wait_within(&mut child, Duration::from_secs(20));
    assert!(status.success(), "{status}");
    assert!(took < Duration::from_secs(9), "{took:?}");
}

/// `audit --follow LOG --output-file ALERTS` until ALERTS holds `expected` lines (or 20 s),
/// then killed as a crash would.
fn follow_until(dir: &Path, log: &Path, alerts: &Path, expected: usize) -> usize {
    let mut child = palisade()
        .args(["audit", "--follow", "--no-stdout", "--output-file"])
        .arg(alerts)
        .arg("--rules")
        .arg(dir.join("rules.yaml"))
        .arg(log)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let count = || std::fs::read_to_string(alerts).map_or(0, |text| text.lines().count());
    let started = Instant::now();
    while count() < expected && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    // A little longer: a follower that reads too much would show it.
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    count()
}

#[test]
fn follow_writes_each_alert_to_its_file_once_across_a_crash_before_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yaml"), RULES).unwrap();
    let log = dir.path().join("audit.log");
    let alerts = dir.path().join("alerts.jsonl");
    let append = |path: &Path, text: String| std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap().write_all(text.as_bytes()).unwrap();
    append(&log, (0..3).map(secret_read).collect());
    assert_eq!(follow_until(dir.path(), &log, &alerts, 3), 3);
    // The crash the checkpoint cannot see: the next batch's lines were read and an alert of
    // theirs written, then the process died before the checkpoint.
    append(&log, (3..5).map(secret_read).collect());
    append(&alerts, "{\"output_fields\":{\"ka.target.name\":\"s3\"},\"rule\":\"written before the crash\"}\n".to_owned());
    assert_eq!(follow_until(dir.path(), &log, &alerts, 5), 5);
    let written: Vec<(String, String)> = std::fs::read_to_string(&alerts)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|alert| (alert["output_fields"]["ka.target.name"].as_str().unwrap().to_owned(), alert["rule"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(written.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>(), ["s0", "s1", "s2", "s3", "s4"]);
    assert!(written.iter().all(|(_, rule)| rule != "written before the crash"), "{written:?}");
}

#[test]
fn follow_loses_nothing_across_rotation_and_truncation_while_stopped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yaml"), RULES).unwrap();
    let log = dir.path().join("audit.log");
    let alerts = dir.path().join("alerts.jsonl");
    let append = |range: std::ops::Range<usize>| {
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
        for i in range {
            file.write_all(secret_read(i).as_bytes()).unwrap();
        }
    };
    append(0..2);
    assert_eq!(follow_until(dir.path(), &log, &alerts, 2), 2);
    // Stopped: lines written, then the log rotated the way the API server does (renamed with a
    // timestamp), then lines in the new file.
    append(2..4);
    std::fs::rename(&log, dir.path().join("audit-2026-12-03T15-00-00.000.log")).unwrap();
    append(4..6);
    assert_eq!(follow_until(dir.path(), &log, &alerts, 6), 6);
    // Stopped again: truncated in place and regrown past the old offset.
    std::fs::write(&log, "").unwrap();
    append(6..10);
    assert_eq!(follow_until(dir.path(), &log, &alerts, 10), 10);
    let names: Vec<String> = std::fs::read_to_string(&alerts)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["output_fields"]["ka.target.name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, (0..10).map(|i| format!("s{i}")).collect::<Vec<_>>());
}
