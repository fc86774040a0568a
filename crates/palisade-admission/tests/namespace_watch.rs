//! The Namespace watch against a fake HTTPS API server on 127.0.0.1: list with paging, watch
//! from the list's resourceVersion with the bearer token, and every event applied.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::get;
use palisade_admission::{NamespaceStore, kube};
use palisade_server::certs::CertRequest;
use palisade_server::{Server, ServerOptions};
use serde_json::json;

#[derive(Default)]
struct Api {
    /// Query string and Authorization header of every request.
    seen: Mutex<Vec<(String, String)>>,
}

fn namespace(name: &str, version: &str, level: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Namespace",
           "metadata": {"name": name, "resourceVersion": version, "labels": {"pod-security.kubernetes.io/enforce": level}}})
}

async fn namespaces(State(api): State<Arc<Api>>, headers: HeaderMap, RawQuery(query): RawQuery) -> String {
    let query = query.unwrap_or_default();
    let token = headers.get("authorization").and_then(|value| value.to_str().ok()).unwrap_or("").to_owned();
    let watches = {
        let mut seen = api.seen.lock().unwrap();
        seen.push((query.clone(), token));
        seen.iter().filter(|(query, _)| query.contains("watch=true")).count()
    };
    if !query.contains("watch=true") {
        // Two pages: the client must follow `continue`.
        return if query.contains("continue=page2") {
            json!({"apiVersion": "v1", "kind": "NamespaceList", "metadata": {"resourceVersion": "10"},
                   "items": [namespace("c", "9", "restricted")]})
            .to_string()
        } else {
            json!({"apiVersion": "v1", "kind": "NamespaceList", "metadata": {"continue": "page2"},
                   "items": [namespace("a", "8", "baseline")]})
            .to_string()
        };
    }
    if watches > 1 {
        // Later watches see nothing new (a quiet cluster).
        tokio::time::sleep(Duration::from_millis(200)).await;
        return String::new();
    }
    [
        json!({"type": "MODIFIED", "object": namespace("a", "11", "privileged")}),
        json!({"type": "ADDED", "object": namespace("b", "12", "baseline")}),
        json!({"type": "DELETED", "object": namespace("c", "13", "restricted")}),
    ]
    .iter()
    .map(|event| format!("{event}\n"))
    .collect()
}

#[test]
fn namespaces_are_listed_then_watched_into_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let request = CertRequest {
        service: "kubernetes".into(),
        namespace: "default".into(),
        extra_names: vec!["127.0.0.1".into()],
        validity: Duration::from_secs(3600),
    };
    let tls = request.issue().unwrap().write_to(dir.path()).unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let api = Arc::new(Api::default());
    let server = runtime.block_on(Server::bind("127.0.0.1:0".parse().unwrap(), &tls, ServerOptions::default())).unwrap();
    let port = server.local_addr().port();
    let app = Router::new().route("/api/v1/namespaces", get(namespaces)).with_state(api.clone());
    runtime.spawn(server.run(app, std::future::pending()));

    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: https://127.0.0.1:{port}\n    certificate-authority: {}\nusers:\n- name: u\n  user: {{token: secret-token}}\ncontexts:\n- name: fake\n  context: {{cluster: fake, user: u}}\ncurrent-context: fake\n",
            dir.path().join("ca.crt").display()
        ),
    )
    .unwrap();
    let client = runtime.block_on(kube::client(Some(&kubeconfig))).unwrap().expect("a client from the kubeconfig");
    let store = Arc::new(NamespaceStore::new());
    runtime.spawn(kube::watch_namespaces(client, store.clone()));

    let level = |name: &str| store.get(name).map(|labels| labels["pod-security.kubernetes.io/enforce"].clone());
    // Bounded wait for the list and the first watch's three events.
    let settled = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        store.is_synced() && level("b").is_some() && level("c").is_none()
    });
    assert!(settled, "store never settled: a={:?} b={:?} c={:?}", level("a"), level("b"), level("c"));
    assert_eq!((level("a").as_deref(), level("b").as_deref()), (Some("privileged"), Some("baseline")));
    assert_eq!(store.len(), 2);

    let seen = api.seen.lock().unwrap().clone();
    assert!(seen.iter().all(|(_, token)| token == "Bearer secret-token"), "{seen:?}");
    assert!(seen[0].0.contains("limit=500") && !seen[0].0.contains("continue"), "{seen:?}");
    assert!(seen[1].0.contains("continue=page2"), "{seen:?}");
    assert!(seen[2].0.contains("watch=true") && seen[2].0.contains("resourceVersion=10"), "{seen:?}");
    // The next watch resumes from the last event's version instead of relisting.
    if let Some(next) = seen.get(3) {
        assert!(next.0.contains("watch=true") && next.0.contains("resourceVersion=13"), "{seen:?}");
    }
}
