//! The simulated API server itself, seen by a plain HTTP client (ureq): list semantics (kinds,
//! resourceVersion, opaque continue tokens, remainingItemCount, namespaced paths), every
//! scripted fault, gzip and what is recorded; and the simulated cluster's shape. The scanner's
//! behaviour against it is tested in `fake_api.rs` and in the CLI's `tests/cluster.rs`.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{FakeApi, Fault, Reply, TOKEN, item};

const PODS: &str = "/api/v1/pods";

fn pods(count: usize) -> Vec<Value> {
    (0..count).map(|i| item(Some(if i % 2 == 0 { "a" } else { "b" }), &format!("pod-{i:03}"), json!({"spec": {"containers": [{"name": "c", "image": "nginx"}]}}))).collect()
}

fn agent(api: &FakeApi) -> ureq::Agent {
    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let ca = Certificate::from_pem(api.ca_pem().as_bytes()).unwrap().to_owned();
    ureq::Agent::config_builder()
        .tls_config(TlsConfig::builder().root_certs(RootCerts::Specific(Arc::new(vec![ca]))).build())
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

struct Answer {
    status: u16,
    headers: HashMap<String, String>,
    body: Result<Vec<u8>, String>,
}

impl Answer {
    fn json(&self) -> Value {
        let body = self.body.as_ref().expect("a whole body");
        let body = if self.headers.get("content-encoding").is_some_and(|e| e == "gzip") { gunzip(body) } else { body.clone() };
        serde_json::from_slice(&body).unwrap()
    }
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data).read_to_end(&mut out).expect("valid gzip");
    out
}

/// GET `path_and_query` with the token; `Err` when no answer came at all.
fn get(api: &FakeApi, path_and_query: &str, headers: &[(&str, &str)]) -> Result<Answer, String> {
    let mut request = agent(api).get(format!("{}{path_and_query}", api.url())).header("Authorization", format!("Bearer {TOKEN}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.call().map_err(|error| error.to_string())?;
    let status = response.status().as_u16();
    let headers = response.headers().iter().map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned())).collect();
    let mut body = Vec::new();
    let body = response.body_mut().as_reader().read_to_end(&mut body).map(|_| body).map_err(|error| error.to_string());
    Ok(Answer { status, headers, body })
}

fn list_page(api: &FakeApi, path: &str, limit: usize, token: Option<&str>) -> Value {
    let query = match token {
        Some(token) => format!("{path}?limit={limit}&continue={token}"),
        None => format!("{path}?limit={limit}"),
    };
    let answer = get(api, &query, &[]).unwrap();
    assert_eq!(answer.status, 200, "{:?}", answer.body.map(String::from_utf8));
    answer.json()
}

#[test]
fn lists_page_with_opaque_tokens_and_count_what_remains() {
    let api = FakeApi::start(BTreeMap::from([(PODS.to_owned(), Reply::Items(pods(7)))]));
    let first = list_page(&api, PODS, 3, None);
    assert_eq!((first["kind"].as_str(), first["apiVersion"].as_str()), (Some("PodList"), Some("v1")));
    let revision = first["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    assert!(revision.parse::<u64>().is_ok(), "{revision}");
    assert_eq!(first["metadata"]["remainingItemCount"], 4);
    let token = first["metadata"]["continue"].as_str().unwrap().to_owned();
    assert!(token.parse::<u64>().is_err() && !token.contains("offset"), "tokens are opaque: {token}");
    assert_eq!(support::decode_continue(&token), Some((revision.parse().unwrap(), 3)));
    let second = list_page(&api, PODS, 3, Some(&token));
    assert_eq!(second["metadata"]["remainingItemCount"], 1);
    let last = list_page(&api, PODS, 3, Some(second["metadata"]["continue"].as_str().unwrap()));
    assert!(last["metadata"].get("continue").is_none() && last["metadata"].get("remainingItemCount").is_none(), "{last}");
    let names: Vec<&str> = [&first, &second, &last].iter().flat_map(|page| page["items"].as_array().unwrap()).map(|i| i["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, (0..7).map(|i| format!("pod-{i:03}")).collect::<Vec<_>>());
    // Without a limit, everything in one answer.
    assert_eq!(list_page(&api, PODS, 0, None)["items"].as_array().unwrap().len(), 7);
    // A namespaced path not set explicitly answers that namespace's part of the list.
    let in_b = list_page(&api, "/api/v1/namespaces/b/pods", 2, None);
    assert_eq!(in_b["metadata"]["remainingItemCount"], 1);
    assert!(in_b["items"].as_array().unwrap().iter().all(|i| i["metadata"]["namespace"] == "b"));
    // A token that is not one of the server's is a 400, as the API server answers.
    assert_eq!(get(&api, &format!("{PODS}?limit=3&continue=3"), &[]).unwrap().status, 400);
    // An unknown path is a 404 with a Status body.
    let missing = get(&api, "/apis/kyverno.io/v1/clusterpolicies", &[]).unwrap();
    assert_eq!((missing.status, missing.json()["reason"].as_str()), (404, Some("NotFound")));
}

#[test]
fn scripted_statuses_carry_status_bodies_and_retry_after() {
    let api = FakeApi::start(BTreeMap::from([(PODS.to_owned(), Reply::Items(pods(2)))]));
    api.fault(PODS, vec![Fault::Status(429, Some(1)), Fault::Status(503, None), Fault::Pass, Fault::Status(500, None)]);
    let throttled = get(&api, PODS, &[]).unwrap();
    assert_eq!((throttled.status, throttled.headers.get("retry-after").map(String::as_str)), (429, Some("1")));
    let status = throttled.json();
    assert_eq!((status["kind"].as_str(), status["reason"].as_str(), status["code"].as_u64()), (Some("Status"), Some("TooManyRequests"), Some(429)));
    assert_eq!(status["details"]["retryAfterSeconds"], 1);
    let unavailable = get(&api, PODS, &[]).unwrap();
    assert_eq!((unavailable.status, unavailable.json()["reason"].as_str()), (503, Some("ServiceUnavailable")));
    assert_eq!(get(&api, PODS, &[]).unwrap().status, 200, "Pass answers normally");
    assert_eq!(get(&api, PODS, &[]).unwrap().json()["reason"], "InternalError");
    assert_eq!(get(&api, PODS, &[]).unwrap().status, 200, "the script is consumed");
    api.fault_always(PODS, Fault::Status(403, None));
    for _ in 0..3 {
        let forbidden = get(&api, PODS, &[]).unwrap();
        assert_eq!(forbidden.status, 403);
        assert!(forbidden.json()["message"].as_str().unwrap().contains("cannot list resource \"pods\""));
    }
    let faults: Vec<Option<String>> = api.recorded_for(PODS).into_iter().map(|r| r.fault).collect();
    assert_eq!(faults[..5], [Some("status 429".into()), Some("status 503".into()), Some("pass".into()), Some("status 500".into()), None]);
}

#[test]
fn dropped_connections_and_truncated_bodies_leave_the_server_serving() {
    let api = FakeApi::start(BTreeMap::from([(PODS.to_owned(), Reply::Items(pods(3)))]));
    api.fault(PODS, vec![Fault::Drop, Fault::Truncate, Fault::Drop]);
    let dropped = get(&api, PODS, &[]);
    assert!(dropped.is_err(), "no answer at all: {:?}", dropped.map(|a| a.status));
    let truncated = get(&api, PODS, &[]).expect("a status line and headers");
    assert_eq!(truncated.status, 200);
    let length: usize = truncated.headers["content-length"].parse().unwrap();
    assert!(length >= 2 << 20, "{length}");
    assert!(truncated.body.is_err(), "the body ends before its Content-Length");
    let record = api.recorded_for(PODS)[1].clone();
    assert_eq!((record.fault.as_deref(), record.bytes), (Some("truncate"), length / 2));
    assert!(get(&api, PODS, &[]).is_err());
    // Other requests were answered all along, and this one is too.
    assert_eq!(get(&api, PODS, &[]).unwrap().json()["items"].as_array().unwrap().len(), 3);
    assert_eq!(api.recorded_for(PODS)[0].status, 0, "a dropped request has no status");
}

#[test]
fn slow_answers_wait() {
    let api = FakeApi::start(BTreeMap::from([(PODS.to_owned(), Reply::Items(pods(1)))]));
    api.fault(PODS, vec![Fault::Slow(Duration::from_millis(700))]);
    let started = Instant::now();
    assert_eq!(get(&api, PODS, &[]).unwrap().status, 200);
    assert!(started.elapsed() >= Duration::from_millis(700));
}

#[test]
fn stuck_tokens_repeat_and_lying_lists_never_end() {
    let api = FakeApi::start(BTreeMap::from([(PODS.to_owned(), Reply::Items(pods(10))), ("/api/v1/services".to_owned(), Reply::Items(pods(5)))]));
    api.fault(PODS, vec![Fault::StuckContinue]);
    let first = list_page(&api, PODS, 4, None);
    let token = first["metadata"]["continue"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        let page = list_page(&api, PODS, 4, Some(&token));
        assert_eq!(page["metadata"]["continue"].as_str(), Some(token.as_str()), "the same token again");
        assert_eq!(page["items"][0]["metadata"]["name"], "pod-004", "the same page again");
    }
    api.fault("/api/v1/services", vec![Fault::LyingRemaining]);
    let mut token: Option<String> = None;
    let mut seen = BTreeSet::new();
    for _ in 0..6 {
        let page = list_page(&api, "/api/v1/services", 2, token.as_deref());
        assert_eq!(page["metadata"]["remainingItemCount"], 0);
        let next = page["metadata"]["continue"].as_str().expect("never the last page").to_owned();
        assert!(seen.insert(next.clone()), "a new token each time");
        token = Some(next);
    }
}

#[test]
fn expired_tokens_answer_410_until_the_list_starts_over() {
    let api = FakeApi::start(BTreeMap::from([(PODS.to_owned(), Reply::Items(pods(6)))]));
    api.fault(PODS, vec![Fault::ExpiredContinue]);
    let first = list_page(&api, PODS, 2, None);
    let token = first["metadata"]["continue"].as_str().unwrap().to_owned();
    let expired = get(&api, &format!("{PODS}?limit=2&continue={token}"), &[]).unwrap();
    let status = expired.json();
    assert_eq!((expired.status, status["reason"].as_str()), (410, Some("Expired")));
    assert!(status["message"].as_str().unwrap().starts_with("The provided continuation parameter is too old"));
    // That token stays expired; a new list works, at a newer resourceVersion, to the end.
    assert_eq!(get(&api, &format!("{PODS}?limit=2&continue={token}"), &[]).unwrap().status, 410);
    let again = list_page(&api, PODS, 2, None);
    assert!(again["metadata"]["resourceVersion"].as_str().unwrap().parse::<u64>().unwrap() > first["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap());
    let mut token = again["metadata"]["continue"].as_str().map(str::to_owned);
    let mut pages = 1;
    while let Some(next) = token {
        token = list_page(&api, PODS, 2, Some(&next))["metadata"]["continue"].as_str().map(str::to_owned);
        pages += 1;
    }
    assert_eq!(pages, 3);
}

#[test]
fn gzip_when_asked_and_requests_recorded_with_their_agent() {
    let api = FakeApi::start(BTreeMap::from([(PODS.to_owned(), Reply::Items(pods(300)))]));
    let plain = get(&api, PODS, &[("User-Agent", "palisade/0.1.0 (linux/amd64)")]).unwrap();
    assert!(!plain.headers.contains_key("content-encoding"), "below the 128 KiB threshold");
    api.set_gzip_threshold(0);
    let compressed = get(&api, PODS, &[("Accept-Encoding", "gzip, deflate")]).unwrap();
    assert_eq!(compressed.headers.get("content-encoding").map(String::as_str), Some("gzip"));
    assert_eq!(compressed.json()["items"].as_array().unwrap().len(), 300);
    let records = api.recorded_for(PODS);
    assert_eq!(records[0].user_agent.as_deref(), Some("palisade/0.1.0 (linux/amd64)"));
    assert!(!records[0].accepts_gzip && records[1].accepts_gzip && records[1].gzipped);
    assert!(records[1].bytes * 4 < records[1].raw_bytes, "{} of {}", records[1].bytes, records[1].raw_bytes);
    assert_eq!(records[0].bytes, records[0].raw_bytes);
    api.revoke_token();
    let refused = get(&api, PODS, &[]).unwrap();
    assert_eq!((refused.status, refused.json()["reason"].as_str()), (401, Some("Unauthorized")));
}

#[test]
fn gzip_and_base64_round_trip() {
    let mut state = 7u64;
    let mut noise = || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (state >> 33) as u8
    };
    let random: Vec<u8> = (0..100_000).map(|_| noise()).collect();
    let cluster = support::cluster(400);
    let json = serde_json::to_vec(&cluster.items("Pod")).unwrap();
    for data in [Vec::new(), b"a".to_vec(), vec![b'x'; 70_000], random.clone(), json.clone(), b"abcabcabcabcabd".repeat(5000)] {
        let compressed = support::wire::gzip(&data);
        assert_eq!(gunzip(&compressed), data, "{} bytes", data.len());
    }
    let ratio = json.len() as f64 / support::wire::gzip(&json).len() as f64;
    assert!(ratio > 5.0, "JSON compresses {ratio:.1} times");
    for data in [&b""[..], b"f", b"fo", b"foo", b"foob", &random[..1000]] {
        let encoded = support::wire::base64url(data);
        assert!(!encoded.contains(['+', '/', '=']));
        assert_eq!(support::wire::unbase64url(&encoded).as_deref(), Some(data));
    }
    assert_eq!(support::wire::base64url(b"any carnal pleas"), "YW55IGNhcm5hbCBwbGVhcw");
}

#[test]
fn the_simulated_cluster_is_shaped_like_a_real_one() {
    let cluster = support::cluster(3000);
    assert_eq!(cluster.len(), 3000);
    assert_eq!(support::cluster(3000).lists().len(), cluster.lists().len());
    let again = support::cluster(3000);
    assert_eq!(serde_json::to_string(&again.items("Pod")).unwrap(), serde_json::to_string(&cluster.items("Pod")).unwrap(), "deterministic");
    let per_object = cluster.bytes() / cluster.len();
    assert!((1000..=4000).contains(&per_object), "{per_object} bytes per object");
    for kind in ["Namespace", "Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "Service", "EndpointSlice", "ServiceAccount",
        "ConfigMap", "NetworkPolicy", "Ingress", "PodDisruptionBudget", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration"] {
        assert!(cluster.count(kind) > 0, "{kind}");
    }
    let pods = cluster.count("Pod");
    assert!(pods * 100 / cluster.len() >= 15, "{pods} pods");

    // Every namespace has what Kubernetes creates in it.
    let namespaces: BTreeSet<String> = cluster.items("Namespace").iter().map(|n| n["metadata"]["name"].as_str().unwrap().to_owned()).collect();
    let named = |kind: &str, name: &str| -> BTreeSet<String> {
        cluster.items(kind).iter().filter(|o| o["metadata"]["name"] == name).map(|o| o["metadata"]["namespace"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(named("ServiceAccount", "default"), namespaces);
    assert_eq!(named("ConfigMap", "kube-root-ca.crt"), namespaces);
    assert!(["default", "kube-system", "kube-public", "kube-node-lease"].iter().all(|n| namespaces.contains(*n)));

    // Server fields, defaulting and ownership.
    let mut uids = BTreeMap::new();
    for kind in ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "Service"] {
        for object in cluster.items(kind) {
            uids.insert(object["metadata"]["uid"].as_str().unwrap().to_owned(), kind.to_owned());
        }
    }
    let mut owners = BTreeMap::<String, usize>::new();
    for pod in cluster.items("Pod") {
        let meta = &pod["metadata"];
        for field in ["uid", "resourceVersion", "creationTimestamp", "managedFields"] {
            assert!(meta.get(field).is_some(), "{field} on {meta}");
        }
        let container = &pod["spec"]["containers"][0];
        assert_eq!(container["terminationMessagePath"], "/dev/termination-log");
        assert!(container["imagePullPolicy"].is_string());
        assert!(pod["spec"]["dnsPolicy"].is_string() && pod["spec"]["schedulerName"] == "default-scheduler" && pod["spec"]["nodeName"].is_string());
        assert!(pod["status"]["phase"].is_string() && pod["status"]["podIP"].is_string());
        let owner = &meta["ownerReferences"][0];
        assert_eq!(owner["controller"], true, "{meta}");
        let kind = owner["kind"].as_str().unwrap();
        if kind == "Node" {
            assert_eq!(meta["namespace"], "kube-system", "only static pods belong to a Node");
        } else {
            assert_eq!(uids.get(owner["uid"].as_str().unwrap()).map(String::as_str), Some(kind), "{meta}");
        }
        *owners.entry(kind.to_owned()).or_default() += 1;
    }
    assert!(["ReplicaSet", "StatefulSet", "DaemonSet", "Job", "Node"].iter().all(|kind| owners.contains_key(*kind)), "{owners:?}");
    let derived = cluster.derived();
    assert_eq!(derived.iter().filter(|(kind, ..)| kind == "Pod").count(), pods - owners["Node"]);
    assert_eq!(derived.iter().filter(|(kind, ..)| kind == "ReplicaSet").count(), cluster.count("ReplicaSet"));

    // Lists in storage-key order, as the API server sends them.
    for kind in ["Pod", "ConfigMap", "ClusterRole"] {
        let keys: Vec<String> = cluster
            .items(kind)
            .iter()
            .map(|o| match o["metadata"]["namespace"].as_str() {
                Some(namespace) => format!("{namespace}/{}", o["metadata"]["name"].as_str().unwrap()),
                None => o["metadata"]["name"].as_str().unwrap().to_owned(),
            })
            .collect();
        assert!(keys.windows(2).all(|pair| pair[0] < pair[1]), "{kind}");
    }

    // The manifests hold the same objects, with apiVersion and kind and without managedFields.
    let dir = tempfile::tempdir().unwrap();
    let files = cluster.write_manifests(dir.path()).unwrap();
    let mut paths = Vec::new();
    let mut folders = vec![dir.path().to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { folders.push(path) } else { paths.push(path) }
        }
    }
    let mut objects = 0;
    for path in &paths {
        let list: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let namespaces: BTreeSet<Option<&str>> = list["items"].as_array().unwrap().iter().map(|o| o["metadata"]["namespace"].as_str()).collect();
        assert_eq!(namespaces.len(), 1, "one namespace per file: {}", path.display());
        for object in list["items"].as_array().unwrap() {
            assert!(object["apiVersion"].is_string() && object["kind"].is_string());
            assert!(object["metadata"].get("managedFields").is_none());
            objects += 1;
        }
    }
    assert_eq!((files, objects), (paths.len(), 3000));
    assert!(dir.path().join("01-pods/kube-system.json").exists() && dir.path().join("21-clusterroles.rbac.authorization.k8s.io.json").exists());
}
