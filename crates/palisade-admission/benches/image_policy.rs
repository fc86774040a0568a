//! Admission latency with the image policy on and a warm verdict cache, next to the same
//! webhook with the policy off, on loopback:
//!
//! ```sh
//! cargo bench -p palisade-admission --bench image_policy -- [--rates 500,1000,2000,4000] [--seconds 5] [--rounds 3]
//! ```
//!
//! Both webhooks run in this process (each on its own 2-worker runtime, as the release binary
//! runs) with the full catalog (Pod Security restricted, the workload rules) and the
//! OperationPolicy of the `load` bench, built as `palisade serve admission` builds them, and
//! are driven with the `load` bench's Deployment review and timing (open loop at fixed rates,
//! then saturation, 16 keep-alive TLS connections). With the policy on, the review's image has
//! a cached verdict of 40 vulnerabilities, so every answer also carries the image-policy
//! denial line; the image was scanned once, before timing, by the background scanner.
//!
//! The two webhooks take turns, step by step (who goes first alternating), for several rounds, and the summary gives each
//! one's median p99 over the rounds: on a machine shared with other work, a burst of someone
//! else's load then spoils one round of both rather than deciding the comparison.

// The request document is one `json!` literal, deeper than the macro's default budget.
#![recursion_limit = "256"]

mod client;
#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_admission::{ImagePolicy, ImageScanner, ImageVerdict, ImageVulnerability, NamespaceStore, Settings, Webhook};
use palisade_core::Severity;
use palisade_policy::{Config, RuleSet, Selection};
use palisade_scan::Engine;
use palisade_server::{Server, ServerOptions, TlsFiles};

/// The image of the review: 40 vulnerabilities of every severity, most with a fix.
struct Scanner;

impl ImageScanner for Scanner {
    fn scan(&self, _image: &str, _deadline: Instant) -> Result<ImageVerdict, String> {
        let severities = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low];
        let vulnerabilities = (0..40)
            .map(|index| ImageVulnerability {
                id: format!("CVE-2024-{:04}", 1000 + index),
                severity: severities[index % severities.len()],
                package: format!("lib{index}"),
                installed: "1.0.0".into(),
                fixed: (index % 3 != 0).then(|| "1.0.1".into()),
            })
            .collect();
        Ok(ImageVerdict { digest: Some(format!("sha256:{}", "ab".repeat(32))), vulnerabilities })
    }
}

struct Served {
    port: u16,
    webhook: Arc<Webhook>,
    registry: Arc<palisade_server::metrics::Registry>,
    _runtime: tokio::runtime::Runtime,
}

/// Starts a webhook on 127.0.0.1 on its own 2-worker runtime.
fn serve(with_image_policy: bool, tls: &TlsFiles, policy_file: &std::path::Path) -> Served {
    let mut settings = Settings::default();
    settings.image_policy.enabled = with_image_policy;
    let selection = Selection { policy_files: vec![policy_file.to_owned()], ..Selection::default() };
    let rule_set = RuleSet::build(&Config::default(), settings.defaults, &selection).expect("rules");
    let options = ServerOptions::default();
    let registry = options.metrics.clone();
    let mut webhook = Webhook::new(
        Engine::new(rule_set.rules, Vec::new()),
        settings.clone(),
        Arc::new(NamespaceStore::new()),
        &options.metrics,
        Box::new(|_: &str| {}),
    );
    if with_image_policy {
        webhook = webhook.with_image_policy(ImagePolicy::start(settings.image_policy, Arc::new(Scanner), &options.metrics));
    }
    let webhook = Arc::new(webhook);
    options.readiness.set(true);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let server = runtime.block_on(Server::bind("127.0.0.1:0".parse().unwrap(), tls, options)).unwrap();
    let port = server.local_addr().port();
    runtime.spawn(server.run(webhook.clone().router(), std::future::pending()));
    Served { port, webhook, registry, _runtime: runtime }
}

/// `Webhook::review` alone, `count` times on this thread: the policy's own cost, without
/// TLS, HTTP or scheduling.
fn review_only(label: &str, webhook: &Webhook, body: &str, count: usize) {
    let mut times: Vec<Duration> = (0..count)
        .map(|_| {
            let started = Instant::now();
            let answer = webhook.review(body.as_bytes()).unwrap();
            assert!(!answer.response.allowed);
            started.elapsed()
        })
        .collect();
    times.sort_unstable();
    let at = |fraction: f64| times[((times.len() as f64 * fraction).ceil() as usize).clamp(1, times.len()) - 1].as_secs_f64() * 1e6;
    println!("{label}review only   p50 {:>6.1} µs  p99 {:>6.1} µs  p99.9 {:>6.1} µs", at(0.5), at(0.99), at(0.999));
}

fn main() {
    let mut rates = vec![500, 1000, 2000, 4000];
    let mut seconds = 5;
    let mut rounds = 3;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rates" => rates = args.next().unwrap().split(',').map(|rate| rate.parse().unwrap()).collect(),
            "--seconds" => seconds = args.next().unwrap().parse().unwrap(),
            "--rounds" => rounds = args.next().unwrap().parse().unwrap(),
            "--bench" => {}
            other => panic!("unknown argument {other} (expected --rates, --seconds, --rounds)"),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let (issued, tls) = support::webhook_certificate(dir.path());
    let policy_file = dir.path().join("policy.yaml");
    std::fs::write(&policy_file, client::POLICY).unwrap();
    let connector = client::connector(&issued.ca_pem);
    let body = client::review();
    let request = client::http_requests(std::slice::from_ref(&body));
    println!("{}-byte AdmissionReview, {} TLS connections, {seconds} s per step; policy off and on alternate so that they share the machine's noise", body.len(), client::CONNECTIONS);

    let off = serve(false, &tls, &policy_file);
    let on = serve(true, &tls, &policy_file);
    // The first review queues the scan; timing starts once its verdict is cached.
    on.webhook.review(body.as_bytes()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !on.registry.render().contains("palisade_admission_image_scans_total{result=\"ok\"} 1") {
        assert!(Instant::now() < deadline, "the image was never scanned:\n{}", on.registry.render());
        std::thread::sleep(Duration::from_millis(10));
    }
    for _ in 0..2 {
        review_only("policy off  ", &off.webhook, &body, 20_000);
        review_only("policy on   ", &on.webhook, &body, 20_000);
    }
    let load = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let summary = load.block_on(async {
        for served in [&off, &on] {
            client::saturation("warm-up     ", served.port, &connector, request.clone(), 1).await;
        }
        // Per step (each rate, then saturation): the p99s of off and of on, one per round.
        let mut p99s: Vec<(String, Vec<f64>, Vec<f64>)> =
            rates.iter().map(|rate| format!("{rate} req/s")).chain(["saturation".to_owned()]).map(|step| (step, Vec::new(), Vec::new())).collect();
        for round in 1..=rounds {
            // Who goes first alternates, so that neither always runs in the other's wake.
            let order = if round % 2 == 1 { [(false, &off), (true, &on)] } else { [(true, &on), (false, &off)] };
            println!("round {round}");
            for (index, &rate) in rates.iter().enumerate() {
                for (policy_on, served) in order {
                    let p99 = client::fixed_rate(label(policy_on), served.port, &connector, request.clone(), rate, seconds).await;
                    if policy_on { p99s[index].2.push(p99) } else { p99s[index].1.push(p99) }
                }
            }
            let last = p99s.len() - 1;
            for (policy_on, served) in order {
                let p99 = client::saturation(label(policy_on), served.port, &connector, request.clone(), seconds).await;
                if policy_on { p99s[last].2.push(p99) } else { p99s[last].1.push(p99) }
            }
        }
        p99s
    });
    println!("median p99 over {rounds} rounds:");
    for (step, mut off_p99, mut on_p99) in summary {
        println!("{step:>12}  policy off {:>6.3} ms  policy on {:>6.3} ms", median(&mut off_p99), median(&mut on_p99));
    }
    let metrics = on.registry.render();
    let lookups: Vec<&str> = metrics.lines().filter(|line| line.starts_with("palisade_admission_image_lookups_total{")).collect();
    println!("{}", lookups.join("\n"));
}

fn label(policy_on: bool) -> &'static str {
    if policy_on { "policy on   " } else { "policy off  " }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    values[values.len() / 2]
}
