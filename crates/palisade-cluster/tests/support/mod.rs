//! A simulated Kubernetes API server for tests and benchmarks: HTTPS on 127.0.0.1 with a
//! certificate made for the test (palisade-server's rcgen CA), a bearer token, discovery
//! documents, server-side-apply PATCHes recorded for inspection, and lists with the API server's
//! semantics:
//!
//! - every list answer is a `<Kind>List` with `metadata.resourceVersion`; paged by `limit`, it
//!   carries an opaque `metadata.continue` token (URL-safe base64 of the list's resourceVersion
//!   and the offset, as the API server's tokens carry a revision and a key) and
//!   `metadata.remainingItemCount`, the items after this page;
//! - a namespaced collection path (`/api/v1/namespaces/NS/pods`) that was not set explicitly
//!   answers the items of that namespace from the cluster-wide list;
//! - responses of 128 KiB and more are gzip-compressed when the request accepts gzip (the API
//!   server's threshold, [`FakeApi::set_gzip_threshold`] changes it);
//! - faults are scripted per path ([`FakeApi::fault`], [`Fault`]): statuses with `Status` bodies
//!   and `Retry-After`, dropped connections, truncated bodies, slow answers, stuck and expired
//!   continue tokens, and lists that run past their `remainingItemCount`;
//! - every request is recorded ([`Recorded`]): method, URI, User-Agent, whether it accepted
//!   gzip, the status, the bytes sent and the fault it met.
//!
//! [`simulated`] generates a realistic cluster to serve (and to write as manifest files).
//! Also used by the `palisade` binary's cluster tests and by palisade-cluster's scan benchmark
//! (included by path), so it depends only on what those crates have: axum, tokio, serde_json,
//! tempfile, palisade-server and palisade-cluster.

// Each test crate that includes this module uses a different part of it.
#![allow(dead_code)]

pub mod simulated;
pub mod wire;

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use palisade_server::certs::CertRequest;
use palisade_server::{Server, ServerOptions, TlsFiles};
use serde_json::{Value, json};

#[allow(unused_imports)]
pub use simulated::{SimulatedCluster, cluster};

pub const TOKEN: &str = "test-token";
pub const CONTEXT: &str = "fake-ctx";

/// The API server compresses responses from this size on (`defaultGzipThresholdBytes`).
pub const GZIP_THRESHOLD: usize = 128 * 1024;

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
    /// Items serialized once (large simulated clusters): shared, never copied per request.
    Raw(Arc<Vec<RawItem>>),
}

/// One list item as JSON text, with its namespace (to answer namespaced collection paths).
#[derive(Clone, Debug)]
pub struct RawItem {
    pub namespace: Option<Arc<str>>,
    pub json: Box<str>,
}

impl RawItem {
    pub fn of(item: &Value) -> Self {
        let namespace = item.pointer("/metadata/namespace").and_then(Value::as_str).map(Arc::from);
        Self { namespace, json: item.to_string().into() }
    }
}

/// A fault met by one request to a path (see [`FakeApi::fault`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// The normal answer (to place faults later in a script).
    Pass,
    /// This status with a `Status` body (reason and message as the API server words them) and,
    /// when given, `Retry-After: SECONDS` (429 also carries `details.retryAfterSeconds`).
    Status(u16, Option<u64>),
    /// The connection closes before any byte of the answer.
    Drop,
    /// A 200 whose `Content-Length` is the full body's but only half of it is sent before the
    /// connection closes. The body is sent uncompressed and padded to 2 MiB with JSON whitespace,
    /// so that the half is flushed to the client whatever the server's write buffering.
    Truncate,
    /// The normal answer after this delay.
    Slow(Duration),
    /// Sticky: from the first request carrying a continue token on, every page is the page of
    /// that token with that same token as `continue`, forever.
    StuckContinue,
    /// Met by the next request carrying a continue token (earlier requests are answered
    /// normally): the list's resourceVersion moves on, so that token and every older one get
    /// `410 Gone`, reason `Expired`, as after an etcd compaction. A new list from the start works.
    ExpiredContinue,
    /// Sticky: the list never ends. Every page has a continue token (a new one each time, the
    /// items cycling) and `remainingItemCount: 0`.
    LyingRemaining,
}

impl Fault {
    fn sticky(&self) -> bool {
        matches!(self, Fault::StuckContinue | Fault::LyingRemaining)
    }

    fn name(&self) -> String {
        match self {
            Fault::Pass => "pass".into(),
            Fault::Status(code, _) => format!("status {code}"),
            Fault::Drop => "drop".into(),
            Fault::Truncate => "truncate".into(),
            Fault::Slow(delay) => format!("slow {}s", delay.as_secs_f64()),
            Fault::StuckContinue => "stuck continue".into(),
            Fault::ExpiredContinue => "expired continue".into(),
            Fault::LyingRemaining => "lying remaining".into(),
        }
    }
}

/// One request as the server saw and answered it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent.
    pub uri: String,
    pub path: String,
    /// The decoded `continue` parameter.
    pub continue_token: Option<String>,
    pub limit: Option<usize>,
    pub user_agent: Option<String>,
    /// `Accept-Encoding` names gzip.
    pub accepts_gzip: bool,
    /// The status sent; 0 when the connection was dropped before any answer.
    pub status: u16,
    /// The answer was gzip-compressed.
    pub gzipped: bool,
    /// Body bytes written (compressed size when gzipped, the half when truncated).
    pub bytes: usize,
    /// Body bytes before compression.
    pub raw_bytes: usize,
    /// Items in the page answered.
    pub items: usize,
    /// The scripted fault this request met, by name (`status 429`, `drop`, ...).
    pub fault: Option<String>,
    /// When it arrived, from the server's start.
    pub at: Duration,
}

impl Recorded {
    /// `METHOD path?query`, as [`FakeApi::requests`] lists them.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.uri)
    }
}

/// Per path: the script of faults still to meet, and a fault every later request meets.
#[derive(Default)]
struct Script {
    queue: VecDeque<Fault>,
    always: Option<Fault>,
}

/// A list as the server holds it: the items and the resourceVersion its tokens carry.
struct Collection {
    items: Arc<Vec<RawItem>>,
    delay: Option<Duration>,
    revision: u64,
}

enum Stored {
    List(Collection),
    Forbidden,
    Document(Value),
}

struct Shared {
    lists: Mutex<BTreeMap<String, Stored>>,
    faults: Mutex<BTreeMap<String, Script>>,
    requests: Mutex<Vec<Recorded>>,
    /// PATCH bodies by path.
    applied: Mutex<BTreeMap<String, Value>>,
    token: Mutex<String>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// The store's revision: lists take it when set, expiries move it on.
    revision: AtomicU64,
    gzip_threshold: AtomicUsize,
    /// Latency of a list answer (so that concurrent lists overlap), in microseconds.
    latency_us: AtomicU64,
    started: Instant,
}

pub struct FakeApi {
    shared: Arc<Shared>,
    pub kubeconfig: PathBuf,
    port: u16,
    ca_pem: String,
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
        std::fs::write(dir.path().join("ca.pem"), &issued.ca_pem).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let tls = TlsFiles { cert: dir.path().join("tls.crt"), key: dir.path().join("tls.key") };
        // The client's deadlines are under test, not the server's: a slow answer is as slow as
        // the script says.
        let options = ServerOptions { request_timeout: Duration::from_secs(600), write_timeout: Duration::from_secs(120), ..ServerOptions::default() };
        let server = runtime.block_on(Server::bind("127.0.0.1:0".parse().unwrap(), &tls, options)).unwrap();
        let port = server.local_addr().port();
        let shared = Arc::new(Shared {
            lists: Mutex::new(BTreeMap::new()),
            faults: Mutex::new(BTreeMap::new()),
            requests: Mutex::new(Vec::new()),
            applied: Mutex::new(BTreeMap::new()),
            token: Mutex::new(TOKEN.to_owned()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            revision: AtomicU64::new(simulated::LIST_REVISION),
            gzip_threshold: AtomicUsize::new(GZIP_THRESHOLD),
            latency_us: AtomicU64::new(20_000),
            started: Instant::now(),
        });
        let api = Self { shared: shared.clone(), kubeconfig: dir.path().join("kubeconfig"), port, ca_pem: issued.ca_pem, _runtime: runtime, _dir: dir };
        for (path, reply) in lists {
            api.set(&path, reply);
        }
        let app = Router::new().fallback(handle).with_state(shared);
        // The server stops when the runtime is dropped with the FakeApi.
        api._runtime.spawn(server.run(app, std::future::pending()));
        std::fs::write(&api.kubeconfig, kubeconfig_text(port, &api._dir.path().join("ca.pem"))).unwrap();
        api
    }

    /// Answers `path` with `reply` from now on (objects that change while a client watches).
    pub fn set(&self, path: &str, reply: Reply) {
        let revision = self.shared.revision.fetch_add(1, Ordering::SeqCst) + 1;
        let list = |items: Arc<Vec<RawItem>>, delay| Stored::List(Collection { items, delay, revision });
        let stored = match reply {
            Reply::Items(items) => list(Arc::new(items.iter().map(RawItem::of).collect()), None),
            Reply::Slow(delay, items) => list(Arc::new(items.iter().map(RawItem::of).collect()), Some(delay)),
            Reply::Raw(items) => list(items, None),
            Reply::Forbidden => Stored::Forbidden,
            Reply::Document(document) => Stored::Document(document),
        };
        self.shared.lists.lock().unwrap().insert(path.to_owned(), stored);
    }

    /// Appends `script` to the faults of `path`: each request to that exact path meets the next
    /// one (see [`Fault`] for the sticky ones and [`Fault::ExpiredContinue`]), then requests
    /// are answered normally (or meet the [`fault_always`](Self::fault_always) fault).
    pub fn fault(&self, path: &str, script: Vec<Fault>) {
        self.shared.faults.lock().unwrap().entry(path.to_owned()).or_default().queue.extend(script);
    }

    /// Every request to `path` meets `fault` once its script is consumed.
    pub fn fault_always(&self, path: &str, fault: Fault) {
        self.shared.faults.lock().unwrap().entry(path.to_owned()).or_default().always = Some(fault);
    }

    /// The kubeconfig's token stops working: every request gets 401 (a revoked token, a
    /// deleted ServiceAccount).
    pub fn revoke_token(&self) {
        *self.shared.token.lock().unwrap() = "revoked".into();
    }

    /// Responses of `bytes` and more are gzip-compressed for clients that accept it.
    pub fn set_gzip_threshold(&self, bytes: usize) {
        self.shared.gzip_threshold.store(bytes, Ordering::SeqCst);
    }

    /// The time a list request takes before its answer (default 20 ms).
    pub fn set_latency(&self, latency: Duration) {
        self.shared.latency_us.store(latency.as_micros() as u64, Ordering::SeqCst);
    }

    /// Every request as `METHOD path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().iter().map(Recorded::line).collect()
    }

    /// Every request with how it was answered.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The requests to one exact path (any query).
    pub fn recorded_for(&self, path: &str) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().iter().filter(|r| r.path == path).cloned().collect()
    }

    /// Body bytes sent so far, all requests together.
    pub fn bytes_sent(&self) -> u64 {
        self.shared.requests.lock().unwrap().iter().map(|r| r.bytes as u64).sum()
    }

    pub fn applied(&self) -> BTreeMap<String, Value> {
        self.shared.applied.lock().unwrap().clone()
    }

    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The CA that signed the server's certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
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

/// The continue token the server gives for the page starting at `offset` of a list at
/// `revision`: opaque to clients (base64 of JSON, as the API server's).
pub fn continue_token(revision: u64, offset: usize) -> String {
    wire::base64url(json!({"v": "meta.k8s.io/v1", "rv": revision, "start": offset.to_string()}).to_string().as_bytes())
}

/// `(revision, offset)` of a token [`continue_token`] made.
pub fn decode_continue(token: &str) -> Option<(u64, usize)> {
    let decoded: Value = serde_json::from_slice(&wire::unbase64url(token)?).ok()?;
    Some((decoded["rv"].as_u64()?, decoded["start"].as_str()?.parse().ok()?))
}

/// The offset a continue token points at.
pub fn continue_offset(token: &str) -> Option<usize> {
    decode_continue(token).map(|(_, offset)| offset)
}

/// The API server's reason and message for a status code.
fn reason(code: u16) -> (&'static str, &'static str) {
    match code {
        400 => ("BadRequest", "the request is not valid"),
        401 => ("Unauthorized", "Unauthorized"),
        403 => ("Forbidden", "forbidden"),
        404 => ("NotFound", "the server could not find the requested resource"),
        409 => ("Conflict", "the object has been modified; please apply your changes to the latest version and try again"),
        410 => ("Gone", "the resource is gone"),
        429 => ("TooManyRequests", "Too many requests, please try again later."),
        500 => ("InternalError", "Internal error occurred: etcdserver: request timed out"),
        502 => ("BadGateway", "bad gateway"),
        503 => ("ServiceUnavailable", "The list operation against the resource could not be completed at this time, please try again."),
        504 => ("Timeout", "Timeout: request did not complete within the allotted timeout"),
        _ => ("Failure", "the request failed"),
    }
}

/// A `Status` answer: `{"kind": "Status", "status": "Failure", "code", "reason", "message"}`.
fn status(code: u16, reason: &str, message: &str, retry_after: Option<u64>) -> Response {
    let mut body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code});
    if let Some(seconds) = retry_after {
        body["details"] = json!({"retryAfterSeconds": seconds});
    }
    let mut response = (StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response();
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn status_of(code: u16, retry_after: Option<u64>) -> Response {
    let (reason, message) = reason(code);
    status(code, reason, message, retry_after)
}

/// `kind` of the list at a collection path (`PodList`), from the kinds the scanner knows.
fn list_kind(path: &str) -> String {
    let plural = path.rsplit('/').next().unwrap_or_default();
    palisade_cluster::RESOURCES
        .iter()
        .chain(palisade_cluster::POLICY_RESOURCES)
        .find(|resource| resource.plural == plural)
        .map_or_else(|| "List".to_owned(), |resource| format!("{}List", resource.kind))
}

/// `apiVersion` of a collection path: `v1` for `/api/v1/...`, `GROUP/VERSION` for `/apis/...`.
fn api_version(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.get(1) {
        Some(&"api") => parts.get(2).copied().unwrap_or("v1").to_owned(),
        _ => format!("{}/{}", parts.get(2).copied().unwrap_or_default(), parts.get(3).copied().unwrap_or_default()),
    }
}

/// `(cluster-wide path, namespace)` of a namespaced collection path.
fn namespaced(path: &str) -> Option<(String, &str)> {
    let parts: Vec<&str> = path.split('/').collect();
    let base = match parts.get(1) {
        Some(&"api") => 3,
        Some(&"apis") => 4,
        _ => return None,
    };
    if parts.len() != base + 3 || parts[base] != "namespaces" {
        return None;
    }
    Some((format!("{}/{}", parts[..base].join("/"), parts[base + 2]), parts[base + 1]))
}

/// What a request to a list needs to know from the script.
enum ListMode {
    Normal,
    Stuck,
    Lying,
    Truncate,
}

/// The fault the next request to `path` meets, if any.
fn next_fault(shared: &Shared, path: &str, has_continue: bool) -> Option<Fault> {
    let mut faults = shared.faults.lock().unwrap();
    let script = faults.get_mut(path)?;
    match script.queue.front() {
        Some(fault) if fault.sticky() => Some(fault.clone()),
        // Waits for a request that carries a token.
        Some(Fault::ExpiredContinue) if !has_continue => None,
        Some(_) => script.queue.pop_front(),
        None => script.always.clone(),
    }
}

async fn handle(State(shared): State<Arc<Shared>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_owned();
    let query: BTreeMap<String, String> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (wire::percent_decode(key), wire::percent_decode(value)))
        .collect();
    let token = query.get("continue").filter(|token| !token.is_empty()).cloned();
    let limit = query.get("limit").and_then(|n| n.parse().ok()).filter(|&n: &usize| n > 0);
    let accepts_gzip = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| coding.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("gzip"));
    let record = Recorded {
        method: method.to_string(),
        uri: uri.to_string(),
        path: path.clone(),
        continue_token: token.clone(),
        limit,
        user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
        accepts_gzip,
        status: 0,
        gzipped: false,
        bytes: 0,
        raw_bytes: 0,
        items: 0,
        fault: None,
        at: shared.started.elapsed(),
    };
    let index = {
        let mut requests = shared.requests.lock().unwrap();
        requests.push(record);
        requests.len() - 1
    };
    let finish = |response: Response, items: usize, fault: Option<&Fault>| -> Response {
        let mut requests = shared.requests.lock().unwrap();
        let record = &mut requests[index];
        record.status = response.status().as_u16();
        record.items = items;
        record.fault = fault.map(Fault::name);
        record.gzipped = response.headers().get(header::CONTENT_ENCODING).is_some();
        let number = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
        record.bytes = number("x-fake-sent");
        record.raw_bytes = number("x-fake-raw").max(record.bytes);
        drop(requests);
        let mut response = response;
        response.headers_mut().remove("x-fake-sent");
        response.headers_mut().remove("x-fake-raw");
        response
    };

    let expected = format!("Bearer {}", shared.token.lock().unwrap());
    if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return finish(sized(status(401, "Unauthorized", "Unauthorized", None)), 0, None);
    }
    if method == Method::PATCH {
        let Ok(applied) = serde_json::from_slice::<Value>(&body) else {
            return finish(sized(status(400, "BadRequest", "the body is not JSON", None)), 0, None);
        };
        shared.applied.lock().unwrap().insert(path, applied.clone());
        return finish(sized((StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], applied.to_string()).into_response()), 0, None);
    }

    let fault = next_fault(&shared, &path, token.is_some());
    let mut mode = ListMode::Normal;
    match &fault {
        None | Some(Fault::Pass) => {}
        Some(Fault::Status(code, retry_after)) => {
            let response = match (code, path.rsplit('/').next()) {
                (403, Some(resource)) => status(
                    403,
                    "Forbidden",
                    &format!("{resource} is forbidden: User \"system:serviceaccount:palisade:scanner\" cannot list resource \"{resource}\" at the cluster scope"),
                    *retry_after,
                ),
                (410, _) => expired(),
                _ => status_of(*code, *retry_after),
            };
            return finish(sized(response), 0, fault.as_ref());
        }
        Some(Fault::Drop) => {
            shared.requests.lock().unwrap()[index].fault = Some("drop".into());
            // Unwinds the connection's task: the socket closes with nothing written. No panic
            // hook runs (nothing printed) and the server goes on serving other connections.
            std::panic::resume_unwind(Box::new("fake API: the connection is dropped"));
        }
        Some(Fault::Slow(delay)) => tokio::time::sleep(*delay).await,
        Some(Fault::Truncate) => mode = ListMode::Truncate,
        Some(Fault::StuckContinue) => mode = ListMode::Stuck,
        Some(Fault::LyingRemaining) => mode = ListMode::Lying,
        Some(Fault::ExpiredContinue) => {
            // The compaction passed the list's revision: its tokens are too old from now on.
            let revision = shared.revision.fetch_add(1, Ordering::SeqCst) + 1;
            if let Some(Stored::List(list)) = shared.lists.lock().unwrap().get_mut(&path) {
                list.revision = revision;
            }
        }
    }

    // The collection: set for this path, or a namespace's part of the cluster-wide list.
    let (items, delay, revision) = {
        let lists = shared.lists.lock().unwrap();
        match lists.get(&path) {
            Some(Stored::Document(document)) => {
                let document = document.to_string();
                drop(lists);
                return finish(encoded(&shared, document, accepts_gzip), 0, fault.as_ref());
            }
            Some(Stored::Forbidden) => {
                let resource = path.rsplit('/').next().unwrap_or_default();
                let message = format!("{resource} is forbidden: User \"system:serviceaccount:palisade:scanner\" cannot list resource \"{resource}\"");
                return finish(sized(status(403, "Forbidden", &message, None)), 0, fault.as_ref());
            }
            Some(Stored::List(list)) => (list.items.clone(), list.delay, list.revision),
            None => match namespaced(&path).and_then(|(all, namespace)| match lists.get(&all) {
                Some(Stored::List(list)) => {
                    let items: Vec<RawItem> = list.items.iter().filter(|item| item.namespace.as_deref() == Some(namespace)).cloned().collect();
                    Some((Arc::new(items), list.delay, list.revision))
                }
                _ => None,
            }) {
                Some(found) => found,
                None => return finish(sized(status_of(404, None)), 0, fault.as_ref()),
            },
        }
    };

    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
    // A little latency so concurrent lists overlap and the in-flight bound is observable.
    let latency = delay.unwrap_or_else(|| Duration::from_micros(shared.latency_us.load(Ordering::SeqCst)));
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);

    let start = match &token {
        None => 0,
        Some(token) => match decode_continue(token) {
            None => {
                let message = format!("continue key is not valid: illegal base64 data at input byte 0: {token}");
                return finish(sized(status(400, "BadRequest", &message, None)), 0, fault.as_ref());
            }
            Some((token_revision, _)) if token_revision != revision && !matches!(mode, ListMode::Stuck) => {
                return finish(sized(expired()), 0, fault.as_ref());
            }
            Some((_, offset)) => offset,
        },
    };
    let page_size = limit.unwrap_or(usize::MAX);
    let (range, next, remaining): (Vec<usize>, Option<String>, Option<usize>) = match mode {
        ListMode::Lying if !items.is_empty() => {
            let count = page_size.min(items.len());
            let range = (start..start + count).map(|i| i % items.len()).collect();
            (range, Some(continue_token(revision, start + count)), Some(0))
        }
        _ => {
            let start = start.min(items.len());
            let end = start.saturating_add(page_size).min(items.len());
            let range = (start..end).collect();
            match (&mode, &token) {
                (ListMode::Stuck, Some(token)) => (range, Some(token.clone()), Some(items.len() - end)),
                _ if end < items.len() => (range, Some(continue_token(revision, end)), Some(items.len() - end)),
                _ => (range, None, None),
            }
        }
    };
    let mut metadata = json!({"resourceVersion": revision.to_string()});
    if let Some(next) = next {
        metadata["continue"] = json!(next);
        metadata["remainingItemCount"] = json!(remaining.unwrap_or(0));
    }
    let mut text = String::with_capacity(range.iter().map(|&i| items[i].json.len() + 1).sum::<usize>() + 256);
    text.push_str(&format!(r#"{{"kind":"{}","apiVersion":"{}","metadata":{},"items":["#, list_kind(&path), api_version(&path), metadata));
    for (n, &i) in range.iter().enumerate() {
        if n > 0 {
            text.push(',');
        }
        text.push_str(&items[i].json);
    }
    text.push_str("]}");
    let count = range.len();
    if matches!(mode, ListMode::Truncate) {
        return finish(truncated(text), count, fault.as_ref());
    }
    finish(encoded(&shared, text, accepts_gzip), count, fault.as_ref())
}

/// The API server's answer to a continue token from before a compaction.
fn expired() -> Response {
    status(
        410,
        "Expired",
        "The provided continuation parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
        None,
    )
}

/// A JSON answer, gzip-compressed when the client accepts it and it is large enough.
fn encoded(shared: &Shared, text: String, accepts_gzip: bool) -> Response {
    let raw = text.len();
    let mut response = if accepts_gzip && text.len() >= shared.gzip_threshold.load(Ordering::SeqCst) {
        let compressed = wire::gzip(text.as_bytes());
        let sent = compressed.len();
        let mut response = (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], compressed).into_response();
        response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response.headers_mut().insert("x-fake-sent", HeaderValue::from(sent));
        response
    } else {
        let sent = text.len();
        let mut response = (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], text).into_response();
        response.headers_mut().insert("x-fake-sent", HeaderValue::from(sent));
        response
    };
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    response.headers_mut().insert("x-fake-raw", HeaderValue::from(raw));
    response
}

/// Notes a small answer's size for the record.
fn sized(response: Response) -> Response {
    use axum::body::HttpBody;
    let size = response.body().size_hint().exact().unwrap_or(0);
    let mut response = response;
    response.headers_mut().insert("x-fake-sent", HeaderValue::from(size));
    response
}

/// The body padded to at least 2 MiB with trailing JSON whitespace, announced whole, sent half.
/// The half goes out as one chunk of a body of unknown length: hyper cannot buffer a chunk that
/// large, so it flushes it to the socket before polling for more; the body then ends short of
/// its Content-Length and hyper closes the connection.
fn truncated(mut text: String) -> Response {
    const PADDED: usize = 2 << 20;
    if text.len() < PADDED {
        let padding = PADDED - text.len();
        text.extend(std::iter::repeat_n(' ', padding));
    }
    let full = text.len();
    let half = Bytes::from(text.into_bytes()).slice(..full / 2);
    let sent = half.len();
    let body = Body::from_stream(Body::from(half).into_data_stream());
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(full));
    headers.insert("x-fake-sent", HeaderValue::from(sent));
    response
}
