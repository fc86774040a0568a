//! A fake Kubernetes API server for tests: HTTPS on 127.0.0.1 with a certificate made for the
//! test (palisade-server's rcgen CA), a bearer token, `kubectl get -o json` style lists paged by
//! `limit`/`continue`, discovery documents, 403s, slow lists, and server-side-apply PATCHes
//! recorded for inspection.
//! Also used by the `palisade` binary's cluster tests (included by path).

// Each test crate that includes this module uses a different part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use palisade_server::certs::CertRequest;
use palisade_server::{Server, ServerOptions, TlsFiles};
use serde_json::{Value, json};

pub const TOKEN: &str = "test-token";
pub const CONTEXT: &str = "fake-ctx";

/// What the server answers for one collection path.
#[derive(Clone)]
pub enum Reply {
    /// Items in list order, without `apiVersion`/`kind` as the API server sends them.
    Items(Vec<Value>),
    Forbidden,
    /// The items, after a delay.
    Slow(Duration, Vec<Value>),
    /// A document answered as it is (a discovery `APIResourceList`).
    Document(Value),
}

#[derive(Default)]
struct Shared {
    lists: Mutex<BTreeMap<String, Reply>>,
    /// Every request as `METHOD path?query`.
    requests: Mutex<Vec<String>>,
    /// PATCH bodies by path.
    applied: Mutex<BTreeMap<String, Value>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

pub struct FakeApi {
    shared: Arc<Shared>,
    pub kubeconfig: PathBuf,
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl FakeApi {
    /// Starts serving `lists` (collection path → reply); 404 for any other path.
    pub fn start(lists: BTreeMap<String, Reply>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let issued = CertRequest {
            service: "kubernetes".into(),
            namespace: "default".into(),
            extra_names: vec!["127.0.0.1".into()],
            validity: Duration::from_secs(3600),
        }
        .issue()
        .unwrap();
        std::fs::write(dir.path().join("tls.crt"), issued.cert_pem).unwrap();
        std::fs::write(dir.path().join("tls.key"), issued.key_pem).unwrap();
        std::fs::write(dir.path().join("ca.pem"), issued.ca_pem).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let tls = TlsFiles { cert: dir.path().join("tls.crt"), key: dir.path().join("tls.key") };
        let server = runtime.block_on(Server::bind("127.0.0.1:0".parse().unwrap(), &tls, ServerOptions::default())).unwrap();
        let port = server.local_addr().port();
        let shared = Arc::new(Shared { lists: Mutex::new(lists), ..Shared::default() });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        // The server stops when the runtime is dropped with the FakeApi.
        runtime.spawn(server.run(app, std::future::pending()));
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, kubeconfig_text(port, &dir.path().join("ca.pem"))).unwrap();
        Self { shared, kubeconfig, _runtime: runtime, _dir: dir }
    }

    /// Answers `path` with `reply` from now on (objects that change while a client watches).
    pub fn set(&self, path: &str, reply: Reply) {
        self.shared.lists.lock().unwrap().insert(path.to_owned(), reply);
    }

    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().clone()
    }

    pub fn applied(&self) -> BTreeMap<String, Value> {
        self.shared.applied.lock().unwrap().clone()
    }

    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }
}

fn kubeconfig_text(port: u16, ca: &Path) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: https://127.0.0.1:{port}\n    certificate-authority: {ca}\nusers:\n- name: tester\n  user:\n    token: {TOKEN}\ncontexts:\n- name: {CONTEXT}\n  context:\n    cluster: fake\n    user: tester\ncurrent-context: {CONTEXT}\n",
        ca = ca.display()
    )
}

/// The discovery document of `group_version` serving `resources` as (plural, kind, namespaced).
pub fn discovery(group_version: &str, resources: &[(&str, &str, bool)]) -> Reply {
    let resources: Vec<Value> = resources
        .iter()
        .map(|(plural, kind, namespaced)| json!({"name": plural, "singularName": "", "kind": kind, "namespaced": namespaced, "verbs": ["get", "list", "watch"]}))
        .collect();
    Reply::Document(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}))
}

/// `{"metadata": {"name": ..., "namespace": ...}}` merged into `rest`.
pub fn item(namespace: Option<&str>, name: &str, mut rest: Value) -> Value {
    let fields = rest.as_object_mut().expect("an object");
    let metadata = fields.entry("metadata").or_insert_with(|| json!({}));
    metadata["name"] = json!(name);
    if let Some(namespace) = namespace {
        metadata["namespace"] = json!(namespace);
    }
    rest
}

fn status(code: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16()});
    (code, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

async fn handle(State(shared): State<Arc<Shared>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_owned();
    let query: BTreeMap<String, String> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
    shared.requests.lock().unwrap().push(format!("{method} {uri}"));
    if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {TOKEN}")) {
        return status(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    if method == Method::PATCH {
        let Ok(applied) = serde_json::from_slice::<Value>(&body) else {
            return status(StatusCode::BAD_REQUEST, "BadRequest", "the body is not JSON");
        };
        shared.applied.lock().unwrap().insert(path, applied.clone());
        return (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], applied.to_string()).into_response();
    }
    let Some(reply) = shared.lists.lock().unwrap().get(&path).cloned() else {
        return status(StatusCode::NOT_FOUND, "NotFound", "the server could not find the requested resource");
    };
    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let items = match reply {
        Reply::Document(document) => {
            shared.in_flight.fetch_sub(1, Ordering::SeqCst);
            return (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], document.to_string()).into_response();
        }
        Reply::Forbidden => {
            shared.in_flight.fetch_sub(1, Ordering::SeqCst);
            let resource = path.rsplit('/').next().unwrap_or_default();
            return status(
                StatusCode::FORBIDDEN,
                "Forbidden",
                &format!("{resource} is forbidden: User \"system:serviceaccount:palisade:scanner\" cannot list resource \"{resource}\""),
            );
        }
        Reply::Slow(delay, items) => {
            tokio::time::sleep(delay).await;
            items
        }
        Reply::Items(items) => {
            // A little latency so concurrent lists overlap and the in-flight bound is observable.
            tokio::time::sleep(Duration::from_millis(20)).await;
            items
        }
    };
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    let offset: usize = query.get("continue").and_then(|token| token.strip_prefix("offset-")).and_then(|n| n.parse().ok()).unwrap_or(0);
    let limit: usize = query.get("limit").and_then(|n| n.parse().ok()).unwrap_or(usize::MAX);
    let end = offset.saturating_add(limit).min(items.len());
    let mut metadata = json!({"resourceVersion": "42"});
    if end < items.len() {
        metadata["continue"] = json!(format!("offset-{end}"));
    }
    let body = json!({"kind": "List", "apiVersion": "v1", "metadata": metadata, "items": &items[offset.min(end)..end]});
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}
