//! Thousands of deterministic corruptions of a real AdmissionReview (byte changes, truncation,
//! spliced JSON syntax, type swaps) must each get an answer or a 400-style error, never a panic,
//! and the metrics must not gain a label value per distinct garbage operation.

use std::sync::Arc;

use palisade_admission::{NamespaceStore, Settings, Webhook};
use palisade_checks::CatalogOptions;
use palisade_scan::Engine;
use palisade_server::metrics::Registry;

const SEED: &str = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"apps","version":"v1","kind":"Deployment"},"namespace":"shop","operation":"UPDATE","userInfo":{"username":"a"},"object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"w","labels":{"a":"b"}},"spec":{"template":{"metadata":{"annotations":{"container.apparmor.security.beta.kubernetes.io/c":"unconfined"}},"spec":{"hostPID":true,"securityContext":{"sysctls":[{"name":"kernel.shm_rmid_forced","value":"1"}]},"volumes":[{"name":"h","hostPath":{"path":"/"}}],"initContainers":[{"name":"i","image":"x","ports":[{"hostPort":80}]}],"containers":[{"name":"c","image":"nginx","securityContext":{"privileged":true,"capabilities":{"add":["SYS_ADMIN"]},"runAsUser":0,"seccompProfile":{"type":"Unconfined"}}}]}}}},"oldObject":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"w"},"spec":{"containers":[]}},"dryRun":true}}"#;

const SPLICES: [&str; 12] = ["{", "}", "[", "]", "\"", ",", ":", "null", "1e999", "-0", "\"\\u0000\"", "[[[[[[[["];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

#[test]
fn corrupted_reviews_never_panic() {
    let registry = Registry::new();
    let engine = Engine::new(palisade_checks::builtin_rules(&CatalogOptions::default()), Vec::new());
    let webhook = Webhook::new(engine, Settings::default(), Arc::new(NamespaceStore::new()), &registry, Box::new(|_| {}));
    let answer = webhook.review(SEED.as_bytes()).expect("the seed is a valid review");
    assert!(!answer.response.allowed);

    let mut rng = Rng(0x5eed_cafe);
    let (mut answered, mut refused) = (0, 0);
    for _ in 0..3000 {
        let mut text = SEED.as_bytes().to_vec();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(text.len());
            match rng.below(4) {
                0 => text.splice(at..at, SPLICES[rng.below(SPLICES.len())].bytes()).for_each(drop),
                1 => text.truncate(at),
                2 => text[at] = rng.below(256) as u8,
                _ => {
                    let end = (at + rng.below(40)).min(text.len());
                    text.drain(at..end);
                }
            }
        }
        match webhook.review(&text) {
            Ok(_) => answered += 1,
            Err(error) => {
                assert!(!error.0.is_empty());
                refused += 1;
            }
        }
    }
    // Both paths were exercised: some corruptions keep a valid review, most do not.
    assert!(answered > 50 && refused > 1000, "answered {answered}, refused {refused}");
    let metrics = registry.render();
    let operations: std::collections::BTreeSet<&str> = metrics
        .lines()
        .filter_map(|line| line.strip_prefix("palisade_admission_requests_total{operation=\""))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(operations.iter().all(|op| ["CREATE", "UPDATE", "DELETE", "CONNECT", "other"].contains(op)), "{operations:?}");
}
