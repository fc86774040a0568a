//! Every built-in rule is linear in the size of the object: one object per rule family, padded
//! to the sizes an attacker fits in the API server's 3 MiB request (100,000 env vars, 10,000
//! containers, volumes, ports, annotations, keys, hosts), checked by the whole catalog. A
//! quadratic rule takes minutes on these; linear ones take well under a second each. The bound
//! asserted is the API server's 10 s webhook timeout, in CPU time of the checking thread (so a
//! loaded machine, where tests wait for a core, does not fail it), generous in an unoptimised
//! build; the finding counts show the rules still report what they should.

use std::time::Duration;

/// CPU time this thread has run.
fn cpu_time() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "CLOCK_THREAD_CPUTIME_ID is not available");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

use palisade_checks::{CatalogOptions, builtin_rules};
use palisade_core::{Candidate, FindingSink, Node, Object, Origin};
use serde_json::{Value, json};

/// The API server gives a webhook at most this long.
const BOUND: Duration = Duration::from_secs(10);

/// Runs the whole catalog on `object`; returns how many findings each rule reported.
fn check_all(name: &str, object: Value) -> std::collections::BTreeMap<&'static str, usize> {
    let text = object.to_string();
    let root: Node = serde_json::from_str(&text).unwrap();
    let object = Object::new(root, Origin { file: "pathological.json".into(), document: 0, item: None });
    let rules = builtin_rules(&CatalogOptions::default());
    let started = cpu_time();
    let mut counts = std::collections::BTreeMap::new();
    for rule in &rules {
        let mut out: Vec<Candidate> = Vec::new();
        rule.check(&object, &mut FindingSink::new(rule.meta(), &object, &mut out));
        *counts.entry(rule.meta().id).or_insert(0) += out.len();
    }
    let elapsed = cpu_time() - started;
    eprintln!("{name}: {} bytes, {} rules, {elapsed:?}", text.len(), rules.len());
    assert!(elapsed < BOUND, "{name}: the catalog took {elapsed:?} of CPU on {} bytes", text.len());
    counts
}

fn pod(metadata: Value, spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})
}

#[test]
fn a_container_with_100k_env_vars() {
    let env: Vec<Value> = (0..100_000).map(|index| json!({"name": "X", "value": index.to_string()})).collect();
    let counts = check_all(
        "100k env vars",
        pod(json!({"name": "p"}), json!({"containers": [{"name": "c", "image": "nginx", "env": env}]})),
    );
    assert_eq!(counts["workload/duplicate-env-vars"], 99_999);
}

#[test]
fn ten_thousand_privileged_containers_with_one_name() {
    let container = json!({
        "name": "app", "image": "nginx:latest",
        "securityContext": {"privileged": true, "runAsUser": 0, "capabilities": {"add": ["SYS_ADMIN"]}},
        "ports": [{"containerPort": 80, "hostPort": 80}],
    });
    let containers = vec![container; 10_000];
    let counts = check_all("10k containers", pod(json!({"name": "p"}), json!({"containers": containers})));
    assert_eq!(counts["workload/duplicate-container-names"], 9_999);
    assert_eq!(counts["pss/privileged"], 10_000);
    assert_eq!(counts["pss/hostPorts"], 10_000);
}

#[test]
fn ten_thousand_seccomp_annotations_for_ten_thousand_containers() {
    let containers: Vec<Value> = (0..10_000).map(|index| json!({"name": format!("c{index}"), "image": "nginx"})).collect();
    let annotations: serde_json::Map<String, Value> = (0..10_000)
        .map(|index| (format!("container.seccomp.security.alpha.kubernetes.io/c{index}"), json!("unconfined")))
        .collect();
    let counts = check_all(
        "10k seccomp annotations",
        pod(json!({"name": "p", "annotations": annotations}), json!({"containers": containers})),
    );
    // The annotations count only under policy versions before v1.19, which the catalog also
    // evaluates (gated per namespace).
    assert!(counts["pss/seccompProfile_baseline"] >= 10_000, "{counts:?}");
}

#[test]
fn ten_thousand_volumes_and_ten_thousand_ports() {
    let volumes: Vec<Value> =
        (0..10_000).map(|index| json!({"name": format!("v{index}"), "hostPath": {"path": "/var/run/docker.sock"}})).collect();
    let ports: Vec<Value> = (0..10_000).map(|index| json!({"containerPort": index, "hostPort": index + 1})).collect();
    let counts = check_all(
        "10k volumes and ports",
        pod(json!({"name": "p"}), json!({"volumes": volumes, "containers": [{"name": "c", "image": "nginx", "ports": ports}]})),
    );
    assert_eq!(counts["workload/container-runtime-socket"], 10_000);
    assert_eq!(counts["pss/hostPathVolumes"], 10_000);
    assert_eq!(counts["pss/hostPorts"], 10_000);
}

#[test]
fn secrets_in_50k_keys_and_a_3_mib_value_of_repeated_key_prefixes() {
    let data: serde_json::Map<String, Value> =
        // Made-up values of high entropy: gitleaks' generic-api-key wants more than 3.5 bits.
        (0..50_000).map(|index| (format!("password{index}"), json!(format!("Zq8Lw3Rt5Yp2Xc7V{index}")))).collect();
    let counts = check_all("50k configmap keys", json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m"}, "data": data}));
    assert_eq!(counts["secrets/plaintext-in-configmap"], 50_000);

    // A run of AKIA is not a key (no word boundary, too little entropy); the made-up key after it is.
    let repeated = "AKIA".repeat(3 << 18);
    let counts = check_all(
        "3 MiB of AKIA",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m"},
            "data": {"a": format!("{repeated} AKIAW2Q7RZ4T6XMB3NLP"), "b": format!("x://{}", "://".repeat(1 << 18))}}),
    );
    assert_eq!(counts["secrets/plaintext-in-configmap"], 1);
}

#[test]
fn an_ingress_with_10k_rules_and_10k_tls_hosts_and_a_service_with_10k_ports() {
    let rules: Vec<Value> = (0..10_000).map(|index| json!({"host": format!("h{index}.example.com")})).collect();
    let tls_hosts: Vec<String> = (0..10_000).map(|index| format!("other{index}.example.org")).collect();
    let counts = check_all(
        "10k ingress rules",
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"},
            "spec": {"rules": rules, "tls": [{"hosts": tls_hosts}]}}),
    );
    assert_eq!(counts["ingress/tls-missing"], 10_000);

    let ports: Vec<Value> = (0..10_000).map(|index| json!({"port": index, "nodePort": 30_000 + index})).collect();
    let addresses: Vec<String> = (0..10_000).map(|index| format!("10.0.{}.{}", index / 256, index % 256)).collect();
    check_all(
        "10k service ports",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"type": "LoadBalancer", "ports": ports, "externalIPs": addresses, "loadBalancerSourceRanges": vec!["0.0.0.0/0"; 10_000]}}),
    );
}
