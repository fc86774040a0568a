//! Events per second, on one core, for Falco's full k8s audit rules over a realistic event mix,
//! JSON parsing included; plus the cost of one field extraction.
//!
//! `cargo bench -p palisade-audit --bench throughput` (reads `$PALISADE_UPSTREAM/falco`).
//! Falco itself cannot be installed on this machine, so there is no peer run in the same
//! invocation; the per-field figure is printed beside Falco's published ~300 ns per extracted
//! field for comparison.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use palisade_audit::engine::{Engine, Matching};
use palisade_audit::fields::Event;
use palisade_audit::source::EventReader;

/// A mix shaped like a production audit log under Falco's recommended policy: mostly
/// metadata-level reads by controllers and nodes, some writes with request bodies, a few pod
/// creations with full request and response objects, a few secret reads by people.
fn events(n: usize) -> String {
    let mut out = String::with_capacity(n * 1500);
    for i in 0..n {
        let ts = format!("2026-11-20T10:{:02}:{:02}.{:06}Z", (i / 60) % 60, i % 60, i % 1_000_000);
        let line = match i % 20 {
            0..=11 => {
                let (verb, resource, user) = match i % 4 {
                    0 => ("get", "configmaps", "system:serviceaccount:kube-system:coredns"),
                    1 => ("list", "pods", "system:node:ip-10-0-1-17.ec2.internal"),
                    2 => ("watch", "endpointslices", "system:kube-proxy"),
                    _ => ("get", "nodes", "system:kube-scheduler"),
                };
                format!(
                    r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1b2c3d4-{i:08}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ns-{ns}/{resource}?resourceVersion=1234&timeout=9m","verb":"{verb}","user":{{"username":"{user}","groups":["system:serviceaccounts","system:authenticated"],"extra":{{"authentication.kubernetes.io/pod-name":["pod-{i}"]}}}},"sourceIPs":["10.0.{a}.{b}"],"userAgent":"kube-controller/v1.30.2 (linux/amd64) kubernetes/abc","objectRef":{{"resource":"{resource}","namespace":"ns-{ns}","name":"obj-{i}","apiVersion":"v1"}},"responseStatus":{{"metadata":{{}},"code":200}},"requestReceivedTimestamp":"{ts}","stageTimestamp":"{ts}","annotations":{{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"system:coredns\" of ClusterRole \"system:coredns\" to ServiceAccount \"coredns/kube-system\""}}}}"#,
                    ns = i % 37,
                    a = i % 250,
                    b = (i / 250) % 250
                )
            }
            12..=16 => format!(
                r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"b1-{i:08}","stage":"ResponseComplete","requestURI":"/apis/apps/v1/namespaces/team-{ns}/deployments/web-{i}","verb":"patch","user":{{"username":"system:serviceaccount:argocd:argocd-application-controller","groups":["system:serviceaccounts","system:authenticated"]}},"sourceIPs":["10.1.2.3"],"userAgent":"argocd-application-controller/v2.11","objectRef":{{"resource":"deployments","namespace":"team-{ns}","name":"web-{i}","apiGroup":"apps","apiVersion":"v1"}},"responseStatus":{{"metadata":{{}},"code":200}},"requestObject":{{"metadata":{{"labels":{{"app":"web","version":"v{i}"}}}},"spec":{{"replicas":3,"template":{{"spec":{{"containers":[{{"name":"web","image":"registry.example.com/team/web:{i}","resources":{{"limits":{{"cpu":"500m","memory":"256Mi"}}}}}}]}}}}}}}},"requestReceivedTimestamp":"{ts}","stageTimestamp":"{ts}","annotations":{{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed"}}}}"#,
                ns = i % 11
            ),
            17 | 18 => format!(
                r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"c1-{i:08}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/team-{ns}/pods","verb":"create","user":{{"username":"system:serviceaccount:kube-system:replicaset-controller","groups":["system:serviceaccounts","system:authenticated"]}},"sourceIPs":["10.0.0.2"],"userAgent":"kube-controller-manager/v1.30.2","objectRef":{{"resource":"pods","namespace":"team-{ns}","apiVersion":"v1"}},"responseStatus":{{"metadata":{{}},"code":201}},"requestObject":{{"kind":"Pod","apiVersion":"v1","metadata":{{"generateName":"web-7d9c-","labels":{{"app":"web","pod-template-hash":"7d9c"}},"ownerReferences":[{{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7d9c","uid":"0f0e","controller":true}}]}},"spec":{{"volumes":[{{"name":"kube-api-access","projected":{{"sources":[{{"serviceAccountToken":{{"expirationSeconds":3607,"path":"token"}}}}]}}}},{{"name":"data","emptyDir":{{}}}}],"containers":[{{"name":"web","image":"registry.example.com/team/web:{i}","ports":[{{"containerPort":8080,"protocol":"TCP"}}],"securityContext":{{"runAsNonRoot":true,"allowPrivilegeEscalation":false}},"volumeMounts":[{{"name":"data","mountPath":"/data"}}]}},{{"name":"sidecar","image":"envoyproxy/envoy:v1.30.1"}}],"serviceAccountName":"web","securityContext":{{"runAsUser":1000}}}}}},"responseObject":{{"kind":"Pod","apiVersion":"v1","metadata":{{"name":"web-7d9c-{i}","namespace":"team-{ns}","uid":"9a8b-{i}","resourceVersion":"{i}"}},"spec":{{"nodeName":""}},"status":{{"phase":"Pending","qosClass":"Burstable"}}}},"requestReceivedTimestamp":"{ts}","stageTimestamp":"{ts}","annotations":{{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed","pod-security.kubernetes.io/enforce-policy":"restricted:latest"}}}}"#,
                ns = i % 11
            ),
            _ => format!(
                r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"d1-{i:08}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/team-{ns}/secrets/db-{i}","verb":"get","user":{{"username":"alice@example.com","groups":["developers","system:authenticated"]}},"sourceIPs":["192.0.2.10"],"userAgent":"kubectl/v1.30.0","objectRef":{{"resource":"secrets","namespace":"team-{ns}","name":"db-{i}","apiVersion":"v1"}},"responseStatus":{{"metadata":{{}},"code":200}},"requestReceivedTimestamp":"{ts}","stageTimestamp":"{ts}","annotations":{{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed"}}}}"#,
                ns = i % 11
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn main() {
    let dir = std::env::var_os("PALISADE_UPSTREAM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream"))
        .join("falco");
    let Ok(rules) = std::fs::read_to_string(dir.join("k8s_audit_rules.yaml")) else {
        println!("SKIPPED: Falco rules not found under {} (set PALISADE_UPSTREAM)", dir.display());
        return;
    };
    let set = palisade_audit::rules::load(&[("k8s_audit_rules.yaml", rules.as_str())]).expect("upstream rules load");
    let field_specs: Vec<_> = set.fields.specs.clone();
    let engine = Engine::new(set, Matching::First, "bench".into());
    let n = 200_000;
    let text = events(n);
    println!("input: {n} events, {:.1} MB, {:.0} bytes/event", text.len() as f64 / 1e6, text.len() as f64 / n as f64);

    let mut best = f64::MAX;
    let mut alerts_seen = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let mut alerts = Vec::new();
        let mut count = 0u64;
        for json in EventReader::new(&text) {
            count += 1;
            let event = Event::new(json.expect("valid event"), count);
            engine.process(&event, &mut alerts);
        }
        best = best.min(start.elapsed().as_secs_f64());
        alerts_seen = alerts.len();
        black_box(alerts);
    }
    let parse_only = (0..5)
        .map(|_| {
            let start = Instant::now();
            black_box(EventReader::new(&text).count());
            start.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min);
    println!(
        "parse + match, upstream rules (48), first-match, 1 core: {:.0} events/s ({:.2} µs/event, {:.0} MB/s), {alerts_seen} alerts",
        n as f64 / best,
        best * 1e6 / n as f64,
        text.len() as f64 / best / 1e6
    );
    println!("  of which JSON parsing: {:.2} µs/event", parse_only * 1e6 / n as f64);

    println!("  of which matching and alerts: {:.2} µs/event", (best - parse_only) * 1e6 / n as f64);

    // One extraction of every field the rules and outputs use, on every event, each event
    // parsed just before (as in the pipeline, so it is in cache).
    let mut extracting = std::time::Duration::ZERO;
    for (i, json) in EventReader::new(&text).enumerate() {
        let event = Event::new(json.unwrap(), i as u64);
        let start = Instant::now();
        for spec in &field_specs {
            black_box(spec.extract(&event));
        }
        extracting += start.elapsed();
    }
    let per_field = extracting.as_secs_f64() * 1e9 / (n * field_specs.len()) as f64;
    println!(
        "field extraction: {:.0} ns per field ({} distinct fields); Falco publishes ~300 ns per field: ratio {:.1}x",
        per_field,
        field_specs.len(),
        300.0 / per_field
    );
    println!("target: 200000 events/s -> {}", if n as f64 / best >= 200_000.0 { "met" } else { "NOT met" });
}
