//! A log matched on every core gives the alerts one core gives, byte for byte and in the same
//! order: Falco's own k8s audit rules (from `$PALISADE_UPSTREAM`) over a few megabytes of events
//! that fire many rules, read in blocks whose pieces are matched in parallel, with a bad line
//! and multi-line documents that send their blocks back to reading in order.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use palisade_audit::delivery::{Delivery, DeliveryMetrics, DeliveryOptions};
use palisade_audit::engine::{Engine, Matching};
use palisade_audit::runner::Runner;
use palisade_audit::sinks::{Format, SendError, Sink, Transport};
use palisade_server::metrics::Registry;

fn upstream_rules() -> Option<String> {
    let dir = std::env::var_os("PALISADE_UPSTREAM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream"));
    let path = dir.join("falco/k8s_audit_rules.yaml");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return Some(text);
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "upstream Falco rules missing at {} under CI", path.display());
    eprintln!("SKIPPED: upstream Falco rules not found at {} (set PALISADE_UPSTREAM)", path.display());
    None
}

#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<Vec<String>>>);

impl Transport for Recorded {
    fn deliver(&mut self, payload: &str) -> Result<(), SendError> {
        self.0.lock().unwrap().push(payload.to_owned());
        Ok(())
    }
}

fn event(n: usize) -> String {
    let (verb, resource, subresource, user) = match n % 12 {
        0 => ("create", "deployments", "", "alice"),
        1 => ("create", "services", "", "bob"),
        2 => ("create", "configmaps", "", "carol"),
        3 => ("create", "pods", "exec", "mallory"),
        4 => ("get", "secrets", "", "dave"),
        5 => ("delete", "namespaces", "", "erin"),
        6 => ("create", "clusterrolebindings", "", "frank"),
        7 => ("create", "serviceaccounts", "", "system:serviceaccount:kube-system:deployer"),
        _ => ("get", "pods", "", "system:node:node-1"),
    };
    let subresource = if subresource.is_empty() { String::new() } else { format!(r#","subresource":"{subresource}""#) };
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-{n}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ns-{m}/{resource}/obj-{n}","verb":"{verb}","user":{{"username":"{user}","groups":["system:authenticated"]}},"sourceIPs":["10.0.0.{m}"],"userAgent":"kubectl/v1.31.2","objectRef":{{"resource":"{resource}","namespace":"ns-{m}","name":"obj-{n}","apiVersion":"v1"{subresource}}},"responseStatus":{{"metadata":{{}},"code":200}},"requestReceivedTimestamp":"2026-12-05T10:00:00.000000Z","stageTimestamp":"2026-12-05T10:00:{s:02}.{n:06}Z"}}"#,
        m = n % 7,
        s = n % 60,
    )
}

fn log() -> String {
    let mut text = String::new();
    for n in 0..8_000 {
        match n {
            2_500 => text.push_str("{\"kind\": \"Event\", broken\n"),
            4_000 => text.push_str(&format!("{{\"kind\":\"EventList\",\"items\":[\n{},\n{}\n]}}\n", event(n + 100_000), event(n + 100_001))),
            6_000 => text.push_str(&serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&event(n + 200_000)).unwrap()).unwrap()),
            _ => {}
        }
        text.push_str(&event(n));
        text.push('\n');
    }
    text
}

fn alerts(rules: &str, log: &str, parallel: bool) -> (Vec<String>, u64) {
    let set = palisade_audit::rules::load(&[("k8s_audit_rules.yaml", rules)]).unwrap();
    let engine = Engine::new(set, Matching::All, "host".into());
    let recorded = Recorded::default();
    let sink = Sink { name: "recorded".into(), format: Format::Falco, transport: Box::new(recorded.clone()) };
    let metrics = Arc::new(DeliveryMetrics::register(&Registry::new(), false));
    let options = DeliveryOptions { queue: 1 << 20, ..DeliveryOptions::default() };
    let delivery = Delivery::start(vec![sink], &options, metrics).unwrap();
    let mut runner = Runner::new(engine, delivery).with_parallel(parallel);
    runner.process_reader("audit.log", log.as_bytes()).unwrap();
    let events = runner.events;
    assert_eq!(runner.finish(Instant::now() + Duration::from_secs(30)), 0, "no alert lost");
    let lines = recorded.0.lock().unwrap().clone();
    (lines, events)
}

#[test]
fn every_core_gives_the_alerts_of_one_core_in_the_same_order() {
    let Some(rules) = upstream_rules() else { return };
    let log = log();
    assert!(log.len() > 3 << 20, "several blocks: {} bytes", log.len());
    let (one_core, events) = alerts(&rules, &log, false);
    let (every_core, parallel_events) = alerts(&rules, &log, true);
    assert_eq!(events, 8_003);
    assert_eq!(parallel_events, events);
    let rules_fired: std::collections::BTreeSet<String> = one_core.iter().map(|alert| serde_json::from_str::<serde_json::Value>(alert).unwrap()["rule"].to_string()).collect();
    assert!(one_core.len() > 4_000 && rules_fired.len() >= 8, "{} alerts of {} rules", one_core.len(), rules_fired.len());
    assert!(one_core == every_core, "{} alerts on one core, {} on every core; first difference at {:?}", one_core.len(), every_core.len(), one_core.iter().zip(&every_core).position(|(a, b)| a != b));
}
