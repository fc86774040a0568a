//! The image policy end to end: the webhook on 127.0.0.1 with a scanner that answers from a
//! table (the test double sits at the `ImageScanner` boundary; the background queue, cache and
//! decisions are the real ones), posted real AdmissionReviews over TLS.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use palisade_admission::image_policy::{Action, Unscanned};
use palisade_admission::{ImagePolicy, ImagePolicySettings, ImageScanner, ImageVerdict, ImageVulnerability, NamespaceStore, Settings, Webhook};
use palisade_checks::CatalogOptions;
use palisade_core::Severity;
use palisade_scan::Engine;
use palisade_server::{Server, ServerOptions};
use serde_json::{Value, json};

const DIGEST: &str = "sha256:9d2f4c1b8a7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c";

/// Answers scans from a table; scans of images it does not hold fail. Scans wait while the
/// gate is closed, and a delay per image makes one slow.
#[derive(Default)]
struct Table {
    answers: Mutex<HashMap<String, Result<ImageVerdict, String>>>,
    delays: Mutex<HashMap<String, Duration>>,
    scanned: Mutex<Vec<String>>,
    gate_closed: Mutex<bool>,
    gate: Condvar,
}

impl Table {
    fn set(&self, image: &str, answer: Result<ImageVerdict, String>) {
        self.answers.lock().unwrap().insert(image.into(), answer);
    }

    fn scans_of(&self, image: &str) -> usize {
        self.scanned.lock().unwrap().iter().filter(|scanned| *scanned == image).count()
    }

    fn close_gate(&self) {
        *self.gate_closed.lock().unwrap() = true;
    }

    fn open_gate(&self) {
        *self.gate_closed.lock().unwrap() = false;
        self.gate.notify_all();
    }
}

impl ImageScanner for Table {
    fn scan(&self, image: &str, _deadline: Instant) -> Result<ImageVerdict, String> {
        self.scanned.lock().unwrap().push(image.to_owned());
        let closed = self.gate_closed.lock().unwrap();
        drop(self.gate.wait_while(closed, |closed| *closed).unwrap());
        if let Some(delay) = self.delays.lock().unwrap().get(image) {
            std::thread::sleep(*delay);
        }
        self.answers.lock().unwrap().get(image).cloned().unwrap_or_else(|| Err(format!("{image} is not in the test table")))
    }
}

fn vulnerability(id: &str, severity: Severity, package: &str, installed: &str, fixed: Option<&str>) -> ImageVulnerability {
    ImageVulnerability { id: id.into(), severity, package: package.into(), installed: installed.into(), fixed: fixed.map(Into::into) }
}

/// One critical vulnerability with a fix.
fn critical() -> ImageVerdict {
    ImageVerdict {
        digest: Some(DIGEST.into()),
        vulnerabilities: vec![vulnerability("CVE-2024-0001", Severity::Critical, "openssl", "3.0.1", Some("3.0.2"))],
    }
}

fn clean() -> ImageVerdict {
    ImageVerdict { digest: None, vulnerabilities: Vec::new() }
}

struct Running {
    base: String,
    agent: ureq::Agent,
    table: Arc<Table>,
    log: Arc<Mutex<Vec<String>>>,
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

fn policy(configure: impl FnOnce(&mut ImagePolicySettings)) -> Settings {
    let mut settings = Settings::default();
    settings.image_policy.enabled = true;
    configure(&mut settings.image_policy);
    settings
}

/// The webhook with `settings`, no rules unless `with_rules`, and the table scanner.
fn start(settings: Settings, with_rules: bool) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let (issued, tls) = support::webhook_certificate(dir.path());
    let options = ServerOptions { body_limit: 64 * 1024, ..ServerOptions::default() };
    let rules = if with_rules { palisade_checks::builtin_rules(&CatalogOptions::default()) } else { Vec::new() };
    let table = Arc::new(Table::default());
    let image_policy = ImagePolicy::start(settings.image_policy.clone(), table.clone(), &options.metrics);
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    let webhook = Webhook::new(
        Engine::new(rules, Vec::new()),
        settings,
        Arc::new(NamespaceStore::new()),
        &options.metrics,
        Box::new(move |line: &str| sink.lock().unwrap().push(line.to_owned())),
    )
    .with_image_policy(image_policy);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let server = runtime.block_on(Server::bind("127.0.0.1:0".parse().unwrap(), &tls, options)).unwrap();
    let base = format!("https://localhost:{}", server.local_addr().port());
    runtime.spawn(server.run(Arc::new(webhook).router(), std::future::pending()));

    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let ca = Certificate::from_pem(issued.ca_pem.as_bytes()).unwrap().to_owned();
    let agent = ureq::Agent::config_builder()
        .tls_config(TlsConfig::builder().root_certs(RootCerts::Specific(Arc::new(vec![ca]))).build())
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    Running { base, agent, table, log, _runtime: runtime, _dir: dir }
}

impl Running {
    fn review(&self, request: Value) -> Value {
        let body = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request});
        let mut response = self.agent.post(format!("{}/validate", self.base)).header("Content-Type", "application/json").send(body.to_string()).unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let mut answer: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        answer["response"].take()
    }

    fn metrics(&self) -> String {
        self.agent.get(format!("{}/metrics", self.base)).call().unwrap().body_mut().read_to_string().unwrap()
    }

    /// The value of one series (`name{labels}`), 0 when absent.
    fn metric(&self, series: &str) -> u64 {
        self.metrics().lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok()).unwrap_or(0)
    }

    /// Waits (bounded) until `series` reaches `value`.
    fn wait_for(&self, series: &str, value: u64) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.metric(series) < value {
            assert!(Instant::now() < deadline, "{series} never reached {value}:\n{}", self.metrics());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn scans(&self, result: &str, value: u64) {
        self.wait_for(&format!("palisade_admission_image_scans_total{{result=\"{result}\"}}"), value);
    }

    fn last_log(&self) -> Value {
        serde_json::from_str(self.log.lock().unwrap().last().unwrap()).unwrap()
    }
}

/// A pod meeting the restricted level, one container per image.
fn pod(images: &[&str]) -> Value {
    let containers: Vec<_> = images
        .iter()
        .enumerate()
        .map(|(index, image)| {
            json!({
                "name": format!("c{index}"),
                "image": image,
                "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}
            })
        })
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web"},
        "spec": {"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}}, "containers": containers}
    })
}

fn request(uid: &str, object: Value) -> Value {
    let kind = object["kind"].clone();
    json!({"uid": uid, "kind": {"group": "", "version": "v1", "kind": kind}, "namespace": "shop", "operation": "CREATE", "userInfo": {"username": "alice"}, "object": object})
}

fn message(response: &Value) -> &str {
    response["status"]["message"].as_str().unwrap_or_else(|| panic!("not denied: {response}"))
}

const LINE: &str = "image-policy/vulnerable (critical) at spec.containers[0].image: image \"registry.example/app:1\" has 1 vulnerability of high severity or above with a fix: CVE-2024-0001 (critical) in openssl 3.0.1, fixed in 3.0.2";

#[test]
fn a_cached_verdict_denies_warns_or_audits_by_the_action() {
    for action in [Action::Deny, Action::Warn, Action::Audit] {
        let running = start(policy(|policy| policy.action = action), false);
        running.table.set("registry.example/app:1", Ok(critical()));
        running.table.set("registry.example/clean:1", Ok(clean()));
        // Not scanned yet: the default (`allow`) admits silently and queues both.
        let first = running.review(request("a", pod(&["registry.example/app:1", "registry.example/clean:1"])));
        assert_eq!((first["allowed"].as_bool(), first.get("warnings")), (Some(true), None), "{first}");
        running.scans("ok", 2);

        let response = running.review(request("b", pod(&["registry.example/app:1"])));
        match action {
            Action::Deny => {
                assert_eq!(response["status"]["code"], 403);
                assert_eq!(message(&response), format!("palisade: Pod/shop/web violates 1 rule:\n- {LINE}"));
                assert_eq!(running.last_log()["violations"][0]["mode"], "enforce");
            }
            Action::Warn => {
                assert_eq!(response["allowed"], true);
                assert_eq!(response["warnings"], json!([LINE]));
            }
            Action::Audit => {
                assert_eq!((response["allowed"].as_bool(), response.get("warnings")), (Some(true), None));
                assert_eq!(response["auditAnnotations"]["audit-violations"], LINE);
            }
        }
        let clean = running.review(request("c", pod(&["registry.example/clean:1"])));
        assert_eq!((clean["allowed"].as_bool(), clean.get("warnings"), clean.get("auditAnnotations")), (Some(true), None, None), "{clean}");
        // Each image was scanned once; the later reviews were answered from the cache.
        assert_eq!((running.table.scans_of("registry.example/app:1"), running.table.scans_of("registry.example/clean:1")), (1, 1));
        let metrics = running.metrics();
        for expected in [
            "palisade_admission_image_lookups_total{result=\"miss\"} 2",
            "palisade_admission_image_lookups_total{result=\"hit\"} 2",
            "palisade_admission_image_scan_requests_total{result=\"queued\"} 2",
            "palisade_admission_image_scan_queue_depth 0",
            "palisade_admission_image_cache_entries 3",
        ] {
            assert!(metrics.contains(expected), "{expected} missing from\n{metrics}");
        }
    }
}

#[test]
fn the_threshold_and_fixable_only_choose_what_counts() {
    let verdict = ImageVerdict {
        digest: None,
        vulnerabilities: vec![
            vulnerability("CVE-2024-0002", Severity::High, "zlib", "1.2.13", None),
            vulnerability("CVE-2024-0003", Severity::Medium, "curl", "8.0.0", Some("8.0.1")),
            vulnerability("CVE-2024-0004", Severity::Low, "bash", "5.2", Some("5.2.1")),
        ],
    };
    for (severity, fixable_only, expected) in [
        // The high one has no fix; the fixed ones are below the threshold.
        (Severity::High, true, None),
        (Severity::High, false, Some("has 1 vulnerability of high severity or above: CVE-2024-0002 (high) in zlib 1.2.13, no fix published")),
        (Severity::Medium, true, Some("has 1 vulnerability of medium severity or above with a fix: CVE-2024-0003 (medium) in curl 8.0.0, fixed in 8.0.1")),
        (
            Severity::Low,
            false,
            Some("has 3 vulnerabilities of low severity or above: CVE-2024-0002 (high) in zlib 1.2.13, no fix published; CVE-2024-0003 (medium) in curl 8.0.0, fixed in 8.0.1; CVE-2024-0004 (low) in bash 5.2, fixed in 5.2.1"),
        ),
        (Severity::Critical, false, None),
    ] {
        let running = start(
            policy(|policy| {
                policy.severity = severity;
                policy.fixable_only = fixable_only;
            }),
            false,
        );
        running.table.set("app:2", Ok(verdict.clone()));
        running.review(request("a", pod(&["app:2"])));
        running.scans("ok", 1);
        let response = running.review(request("b", pod(&["app:2"])));
        match expected {
            None => assert_eq!(response["allowed"], true, "{severity} {fixable_only}: {response}"),
            Some(expected) => {
                let message = message(&response);
                assert!(message.contains(expected), "{severity} {fixable_only}: {message}");
                let worst = if severity == Severity::Medium && fixable_only { "(medium)" } else { "(high)" };
                assert!(message.contains(&format!("image-policy/vulnerable {worst} at")), "{message}");
            }
        }
    }
}

#[test]
fn unscanned_images_follow_the_default_are_scanned_once_then_decided_from_the_cache() {
    let running = start(policy(|policy| policy.unscanned = Unscanned::Deny), false);
    running.table.set("app:3", Ok(clean()));
    running.table.close_gate();
    let first = running.review(request("a", pod(&["app:3"])));
    assert!(
        message(&first).ends_with("- image-policy/unscanned (medium) at spec.containers[0].image: image \"app:3\" is not scanned yet; it is queued for a background scan"),
        "{first}"
    );
    // While the scan runs, the image is not queued again.
    for uid in ["b", "c"] {
        let response = running.review(request(uid, pod(&["app:3"])));
        assert!(message(&response).ends_with("its background scan is under way"), "{response}");
    }
    running.table.open_gate();
    running.scans("ok", 1);
    assert_eq!(running.review(request("d", pod(&["app:3"])))["allowed"], true);
    assert_eq!(running.table.scans_of("app:3"), 1);
    assert_eq!(running.metric("palisade_admission_image_scan_requests_total{result=\"queued\"}"), 1);

    // Warn instead: admitted with the reason as a warning.
    let warned = start(policy(|policy| policy.unscanned = Unscanned::Warn), false);
    let response = warned.review(request("e", pod(&["app:4"])));
    assert_eq!(response["allowed"], true);
    assert_eq!(response["warnings"][0], "image-policy/unscanned (medium) at spec.containers[0].image: image \"app:4\" is not scanned yet; it is queued for a background scan");
}

#[test]
fn a_failed_scan_is_reported_not_retried_until_its_ttl_passes() {
    let running = start(
        policy(|policy| {
            policy.unscanned = Unscanned::Warn;
            policy.failure_ttl = Duration::from_millis(500);
        }),
        false,
    );
    running.table.set("broken:1", Err("registry.example answered 500".into()));
    running.review(request("a", pod(&["broken:1"])));
    running.scans("failed", 1);
    let failed_at = Instant::now();
    let response = running.review(request("b", pod(&["broken:1"])));
    assert_eq!(response["warnings"][0], "image-policy/unscanned (medium) at spec.containers[0].image: image \"broken:1\" was not evaluated: its scan failed: registry.example answered 500");
    // Within the failure TTL the registry is left alone, whatever the number of requests.
    for uid in 0..5 {
        running.review(request(&format!("c{uid}"), pod(&["broken:1"])));
    }
    // (Unless this machine was so slow that the TTL passed meanwhile.)
    let within_ttl = failed_at.elapsed() < Duration::from_millis(400);
    if within_ttl {
        assert_eq!(running.table.scans_of("broken:1"), 1);
    }
    std::thread::sleep(Duration::from_millis(600).saturating_sub(failed_at.elapsed()));
    running.table.set("broken:1", Ok(critical()));
    running.review(request("d", pod(&["broken:1"])));
    running.scans("ok", 1);
    if within_ttl {
        assert_eq!(running.table.scans_of("broken:1"), 2);
    }
    assert!(message(&running.review(request("e", pod(&["broken:1"])))).contains("CVE-2024-0001"));
    assert_eq!(running.metric("palisade_admission_image_lookups_total{result=\"failed\"}"), 7);
}

#[test]
fn a_scan_past_its_timeout_fails_and_its_late_verdict_still_counts() {
    let running = start(
        policy(|policy| {
            policy.unscanned = Unscanned::Deny;
            policy.scan_timeout = Duration::from_millis(200);
        }),
        false,
    );
    running.table.set("slow:1", Ok(critical()));
    running.table.delays.lock().unwrap().insert("slow:1".into(), Duration::from_millis(800));
    running.review(request("a", pod(&["slow:1"])));
    running.scans("timeout", 1);
    let response = running.review(request("b", pod(&["slow:1"])));
    assert!(message(&response).ends_with("image \"slow:1\" was not evaluated: its scan failed: the scan did not finish within 0.2 s"), "{response}");
    // The scan ends after 800 ms and its verdict is recorded.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = running.review(request("c", pod(&["slow:1"])));
        if message(&response).contains("CVE-2024-0001") {
            break;
        }
        assert!(Instant::now() < deadline, "{response}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(running.table.scans_of("slow:1"), 1);
}

#[test]
fn a_full_queue_drops_and_counts_and_asks_again_on_the_next_admission() {
    let running = start(
        policy(|policy| {
            policy.unscanned = Unscanned::Warn;
            policy.concurrency = 1;
            policy.queue = 1;
        }),
        false,
    );
    running.table.close_gate();
    running.review(request("a", pod(&["q:0"])));
    // The only worker is now held in the scan of q:0.
    running.wait_for("palisade_admission_image_scans_running", 1);
    let response = running.review(request("b", pod(&["q:1", "q:2", "q:3"])));
    let warnings: Vec<&str> = response["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(warnings[0].ends_with("image \"q:1\" is not scanned yet; it is queued for a background scan"), "{warnings:?}");
    for (warning, image) in warnings[1..].iter().zip(["q:2", "q:3"]) {
        assert!(warning.ends_with(&format!("image \"{image}\" is not scanned yet; the scan queue is full, so it is asked for again on its next admission")), "{warning}");
    }
    let metrics = running.metrics();
    for expected in [
        "palisade_admission_image_scan_requests_total{result=\"queued\"} 2",
        "palisade_admission_image_scan_requests_total{result=\"dropped\"} 2",
        "palisade_admission_image_scan_queue_depth 1",
        "palisade_admission_image_scans_running 1",
    ] {
        assert!(metrics.contains(expected), "{expected} missing from\n{metrics}");
    }
    running.table.open_gate();
    running.scans("failed", 2);
    running.review(request("c", pod(&["q:2"])));
    running.scans("failed", 3);
    assert_eq!(running.table.scans_of("q:2"), 1);
}

#[test]
fn a_verdict_past_its_ttl_still_decides_while_a_rescan_refreshes_it() {
    let running = start(policy(|policy| policy.ttl = Duration::from_millis(200)), false);
    running.table.set("app:5", Ok(clean()));
    running.review(request("a", pod(&["app:5"])));
    running.scans("ok", 1);
    assert_eq!(running.review(request("b", pod(&["app:5"])))["allowed"], true);
    // A new advisory: the image is now vulnerable, which the next scan will find.
    running.table.set("app:5", Ok(critical()));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(running.review(request("c", pod(&["app:5"])))["allowed"], true);
    assert_eq!(running.metric("palisade_admission_image_lookups_total{result=\"stale\"}"), 1);
    running.scans("ok", 2);
    assert!(message(&running.review(request("d", pod(&["app:5"])))).contains("CVE-2024-0001"));
}

#[test]
fn exempt_images_are_neither_judged_nor_scanned() {
    let running = start(
        policy(|policy| {
            policy.unscanned = Unscanned::Deny;
            policy.exempt_images = vec!["registry.k8s.io/*".into(), "*/istio/proxyv2:1.2?.*".into()];
        }),
        false,
    );
    let response = running.review(request("a", pod(&["registry.k8s.io/pause:3.9", "docker.io/istio/proxyv2:1.22.1"])));
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(running.metric("palisade_admission_image_lookups_total{result=\"exempt\"}"), 2);
    let denied = running.review(request("b", pod(&["registry.k8s.io.evil.example/pause:3.9", "docker.io/istio/proxyv2:1.3.0"])));
    assert!(message(&denied).contains("violates 2 rules"), "{denied}");
    assert!(running.table.scanned.lock().unwrap().iter().all(|image| !image.starts_with("registry.k8s.io/") && !image.ends_with("1.22.1")));
}

/// Every pod-bearing kind, with a vulnerable image in an init container, a container and (for
/// Pods) an ephemeral container.
#[test]
fn every_container_of_every_pod_bearing_kind_is_judged() {
    let running = start(policy(|_| {}), false);
    for image in ["init:1", "app:1", "debug:1"] {
        running.table.set(image, Ok(critical()));
    }
    running.review(request("warm", {
        let mut object = pod(&["app:1"]);
        object["spec"]["initContainers"] = json!([{"name": "i", "image": "init:1"}]);
        object["spec"]["ephemeralContainers"] = json!([{"name": "d", "image": "debug:1"}]);
        object
    }));
    running.scans("ok", 3);
    let spec = json!({"initContainers": [{"name": "i", "image": "init:1"}], "containers": [{"name": "c", "image": "app:1"}]});
    let template = json!({"metadata": {"labels": {"app": "x"}}, "spec": spec});
    let controller = |api: &str, kind: &str| json!({"apiVersion": api, "kind": kind, "metadata": {"name": "x"}, "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": template}});
    let mut pod_object = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": spec});
    pod_object["spec"]["ephemeralContainers"] = json!([{"name": "d", "image": "debug:1"}]);
    let cases = [
        (pod_object, "spec.", 3),
        (controller("apps/v1", "Deployment"), "spec.template.spec.", 2),
        (controller("apps/v1", "ReplicaSet"), "spec.template.spec.", 2),
        (controller("apps/v1", "DaemonSet"), "spec.template.spec.", 2),
        (controller("apps/v1", "StatefulSet"), "spec.template.spec.", 2),
        (controller("batch/v1", "Job"), "spec.template.spec.", 2),
        (controller("v1", "ReplicationController"), "spec.template.spec.", 2),
        (json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "x"}, "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}}}), "spec.jobTemplate.spec.template.spec.", 2),
        (json!({"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "x"}, "template": template}), "template.spec.", 2),
    ];
    let mut kinds: Vec<&str> = cases.iter().map(|(object, _, _)| object["kind"].as_str().unwrap()).collect();
    let mut pod_kinds: Vec<&str> = palisade_core::pod_kinds().collect();
    kinds.sort_unstable();
    pod_kinds.sort_unstable();
    assert_eq!(kinds, pod_kinds, "every pod-bearing kind is covered");
    for (object, prefix, count) in cases {
        let kind = object["kind"].as_str().unwrap().to_owned();
        let (group, version) = object["apiVersion"].as_str().unwrap().rsplit_once('/').unwrap_or(("", "v1"));
        let mut review = request("k", object.clone());
        review["kind"] = json!({"group": group, "version": version, "kind": kind});
        let response = running.review(review);
        let message = message(&response);
        assert!(message.contains(&format!("violates {count} rules")), "{kind}: {message}");
        for field in ["initContainers[0].image", "containers[0].image", "ephemeralContainers[0].image"].into_iter().take(count) {
            assert!(message.contains(&format!("image-policy/vulnerable (critical) at {prefix}{field}")), "{kind}: {field}: {message}");
        }
    }
}

#[test]
fn pod_updates_count_only_changed_images_and_ephemeral_containers_are_judged() {
    let running = start(policy(|_| {}), false);
    running.table.set("app:1", Ok(critical()));
    running.table.set("debug:1", Ok(critical()));
    running.review(request("warm", pod(&["app:1", "debug:1"])));
    running.scans("ok", 2);
    let old = pod(&["app:1"]);
    let mut relabelled = old.clone();
    relabelled["metadata"]["labels"] = json!({"tier": "web"});
    let mut update = request("u1", relabelled);
    update["operation"] = json!("UPDATE");
    update["oldObject"] = old.clone();
    assert_eq!(running.review(update)["allowed"], true);

    let mut debugged = old.clone();
    debugged["spec"]["ephemeralContainers"] = json!([{"name": "debugger", "image": "debug:1"}]);
    let mut ephemeral = request("u2", debugged);
    ephemeral["operation"] = json!("UPDATE");
    ephemeral["subResource"] = json!("ephemeralcontainers");
    ephemeral["oldObject"] = old;
    let message = message(&running.review(ephemeral)).to_owned();
    assert!(message.contains("violates 1 rule:\n- image-policy/vulnerable (critical) at spec.ephemeralContainers[0].image"), "{message}");
}

#[test]
fn image_findings_join_rule_findings_and_the_webhooks_exemptions_and_dry_run_apply() {
    let mut settings = policy(|_| {});
    settings.exemptions.namespaces.insert("kube-system".into());
    let running = start(settings, true);
    running.table.set("registry.example/app:1", Ok(critical()));
    running.review(request("warm", pod(&["registry.example/app:1"])));
    running.scans("ok", 1);

    let mut privileged = pod(&["registry.example/app:1"]);
    privileged["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    let mut dry_run = request("d", privileged.clone());
    dry_run["dryRun"] = json!(true);
    for review in [request("r", privileged.clone()), dry_run] {
        let response = running.review(review);
        let message = message(&response);
        assert!(message.contains("violates 2 rules"), "{message}");
        assert!(message.contains("- pss/privileged (critical) at spec.containers[0].securityContext.privileged"), "{message}");
        assert!(message.contains(&format!("- {LINE}")), "{message}");
    }
    let line = running.last_log();
    assert_eq!(line["dryRun"], true);
    let rules: Vec<&str> = line["violations"].as_array().unwrap().iter().map(|v| v["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"image-policy/vulnerable") && rules.contains(&"pss/privileged"), "{line}");
    assert_eq!(running.metric("palisade_admission_decisions_total{rule=\"image-policy/vulnerable\",result=\"denied\"}"), 2);

    // Exempt namespaces are admitted without a lookup.
    let lookups = running.metric("palisade_admission_image_lookups_total{result=\"hit\"}");
    let mut exempt = request("x", privileged);
    exempt["namespace"] = json!("kube-system");
    assert_eq!(running.review(exempt)["allowed"], true);
    assert_eq!(running.metric("palisade_admission_image_lookups_total{result=\"hit\"}"), lookups);
}

#[test]
fn a_digest_verdict_answers_for_references_pinning_it() {
    let running = start(policy(|policy| policy.unscanned = Unscanned::Deny), false);
    running.table.set("registry.example/app:1", Ok(critical()));
    running.table.close_gate();
    running.review(request("warm", pod(&["registry.example/app:1"])));
    running.table.open_gate();
    running.scans("ok", 1);
    let pinned = format!("mirror.example/app@{DIGEST}");
    let response = running.review(request("p", pod(&[&pinned])));
    assert!(message(&response).contains(&format!("image \"{pinned}\" has 1 vulnerability")), "{response}");
    assert_eq!(running.table.scans_of(&pinned), 0);
}

#[test]
fn overlong_references_are_not_evaluated_nor_scanned() {
    let running = start(policy(|policy| policy.unscanned = Unscanned::Deny), false);
    let image = format!("registry.example/{}:1", "a".repeat(2000));
    let response = running.review(request("o", pod(&[&image])));
    assert!(message(&response).ends_with("image reference of 2019 bytes is too long to be a valid reference; not evaluated"), "{response}");
    assert_eq!(running.metric("palisade_admission_image_lookups_total{result=\"overlong\"}"), 1);
    assert!(running.table.scanned.lock().unwrap().is_empty());
}
