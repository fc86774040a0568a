//! Palisade's HTTPS foundation, shared by every long-running door (`palisade serve admission`,
//! `palisade serve audit`): an axum [`Router`] served over rustls with the ring provider.
//!
//! What every server gets from [`Server`]:
//! - **HTTPS only**, TLS 1.2 and 1.3, HTTP/1.1 (ALPN `http/1.1`).
//! - **Certificate hot reload**: the PEM files are polled every [`ServerOptions::reload_interval`]
//!   and a changed pair that loads cleanly replaces the served one; new connections use it,
//!   open ones keep theirs. A broken update keeps the old pair and is logged.
//! - **Limits**: request bodies above [`ServerOptions::body_limit`] are answered 413 before they
//!   are read; the TLS handshake and the request head each have a deadline; a handler running
//!   past [`ServerOptions::request_timeout`] is cancelled with 503; at most
//!   [`ServerOptions::max_connections`] connections are served at once (others wait in the
//!   accept queue).
//! - **Probes and metrics**: `GET /healthz` (200 while the process serves), `GET /readyz` (200
//!   once the application marked itself ready through [`Readiness`], else 503) and
//!   `GET /metrics` (Prometheus text from the shared [`metrics::Registry`], including
//!   `palisade_http_requests_total{route,status}` and
//!   `palisade_http_request_duration_seconds{route}`).
//! - **Structured logs**: one JSON line per server event on standard error ([`log`]).
//! - **Client authentication** ([`auth`]): with [`ServerOptions::client_ca`], client
//!   certificates are verified when offered (connections without one still reach the probes);
//!   every request carries a [`ClientIdentity`] extension (peer address, verified certificate
//!   name). [`ClientAuth::protect`] wraps routes that answer 401 unless the client presents an
//!   allowed certificate or a bearer token from a token file (Kubernetes static token format,
//!   reloaded on change, compared in constant time); authenticated requests carry a
//!   [`Principal`]. [`ServerOptions::metrics_auth`] puts `/metrics` behind the same check.
//!
//! ```no_run
//! # fn demo(app: axum::Router) -> Result<(), palisade_server::ServerError> {
//! use std::sync::Arc;
//! use palisade_server::{ClientAuth, ServerOptions, TokenFile};
//! let auth = ClientAuth {
//!     allowed_names: vec!["kube-apiserver".into()],
//!     tokens: Some(Arc::new(TokenFile::load("/etc/palisade/tokens.csv".as_ref())?)),
//! };
//! let options = ServerOptions {
//!     client_ca: Some("/etc/palisade/client-ca.crt".into()),
//!     metrics_auth: Some(auth.clone()),
//!     ..ServerOptions::default()
//! };
//! let app = auth.protect(app); // every route of `app` now requires a client
//! # Ok(()) }
//! ```
//!
//! ```no_run
//! # async fn demo() -> Result<(), palisade_server::ServerError> {
//! use palisade_server::{Server, ServerOptions, TlsFiles};
//! let tls = TlsFiles { cert: "tls.crt".into(), key: "tls.key".into() };
//! let app = axum::Router::new().route("/hello", axum::routing::get(|| async { "hi" }));
//! let options = ServerOptions::default();
//! options.readiness.set(true);
//! let server = Server::bind("127.0.0.1:8443".parse().unwrap(), &tls, options).await?;
//! server.run(app, std::future::pending()).await
//! # }
//! ```
//!
//! [`certs`] generates a CA and a serving certificate for a Kubernetes Service.

pub mod auth;
pub mod certs;
pub mod log;
pub mod memory;
pub mod metrics;
mod connections;
mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::crypto::CryptoProvider;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use connections::{PeerCounts, WriteDeadline};

pub use auth::{ClientAuth, ClientIdentity, Principal, TokenFile};
pub use tls::{ReloadingResolver, TlsFiles, load_certified_key};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("TLS material in {path}: {message}")]
    Tls { path: PathBuf, message: String },
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("TLS configuration: {0}")]
    Config(String),
    #[error("certificate generation: {0}")]
    Certs(String),
    #[error("client authentication file {path}: {message}")]
    Auth { path: PathBuf, message: String },
}

/// Whether the application is ready for traffic; `/readyz` answers from it. Clones share the
/// flag.
#[derive(Clone, Debug, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::Release);
    }

    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// The default body limit: the API server refuses request bodies over 3 MiB, so no object it
/// sends to a webhook is larger; 256 KiB on top cover a review's envelope (uid, kinds,
/// userInfo, options). An UPDATE review carrying both objects stays under it too, since etcd
/// stores objects of at most 1.5 MiB.
pub const DEFAULT_BODY_LIMIT: usize = (3 << 20) + (256 << 10);

/// Limits, timeouts and the shared observability handles.
#[derive(Clone)]
pub struct ServerOptions {
    /// Largest request body accepted, in bytes (413 above it).
    pub body_limit: usize,
    /// Deadline for a handler's response (503 after it).
    pub request_timeout: Duration,
    /// Deadline for the TLS handshake.
    pub handshake_timeout: Duration,
    /// Deadline for a request head, counted from the end of the previous request on a
    /// kept-alive connection: also how long an idle connection stays open.
    pub idle_timeout: Duration,
    /// How long a response write may stay blocked (a client that does not read) before the
    /// connection is closed.
    pub write_timeout: Duration,
    /// How often the certificate files are checked for changes.
    pub reload_interval: Duration,
    /// Connections served at once (counted once their TLS handshake completed).
    pub max_connections: usize,
    /// TLS handshakes in progress at once; connections beyond are closed at once.
    pub max_handshakes: usize,
    /// Connections (handshaking or served) one peer address may hold.
    pub max_connections_per_peer: usize,
    /// After the shutdown signal, how long the server keeps serving with `/readyz` failing, so
    /// that load balancers stop sending requests before the listener closes.
    pub shutdown_grace: Duration,
    /// Then, how long open connections get to finish before they are dropped.
    pub drain_timeout: Duration,
    /// CA bundle (PEM) that client certificates are verified against when offered; see [`auth`].
    pub client_ca: Option<PathBuf>,
    /// Who may read `/metrics`; `None` leaves it open.
    pub metrics_auth: Option<auth::ClientAuth>,
    pub readiness: Readiness,
    pub metrics: Arc<metrics::Registry>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            body_limit: DEFAULT_BODY_LIMIT,
            request_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            reload_interval: Duration::from_secs(5),
            max_connections: 1024,
            max_handshakes: 4096,
            max_connections_per_peer: 256,
            shutdown_grace: Duration::from_secs(5),
            drain_timeout: Duration::from_secs(10),
            client_ca: None,
            metrics_auth: None,
            readiness: Readiness::default(),
            metrics: Arc::new(metrics::Registry::new()),
        }
    }
}

/// A bound listener with its TLS configuration, ready to [`run`](Server::run) a router.
pub struct Server {
    listener: TcpListener,
    acceptor: TlsAcceptor,
    resolver: Arc<ReloadingResolver>,
    provider: Arc<CryptoProvider>,
    tls: TlsFiles,
    options: ServerOptions,
}

#[derive(Clone)]
struct HttpMetrics {
    requests: Arc<metrics::Counter>,
    latency: Arc<metrics::Histogram>,
    request_timeout: Duration,
}

impl Server {
    /// Loads the certificate (failing fast when it is unusable) and binds `addr`.
    pub async fn bind(addr: SocketAddr, tls: &TlsFiles, options: ServerOptions) -> Result<Self, ServerError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = load_certified_key(tls, &provider)?;
        let resolver = Arc::new(ReloadingResolver::new(key));
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|error| ServerError::Config(error.to_string()))?;
        let builder = match &options.client_ca {
            Some(ca) => builder.with_client_cert_verifier(auth::client_verifier(ca, &provider)?),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(resolver.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let listener = TcpListener::bind(addr).await.map_err(|source| ServerError::Bind { addr, source })?;
        Ok(Self {
            listener,
            acceptor: TlsAcceptor::from(Arc::new(config)),
            resolver,
            provider,
            tls: tls.clone(),
            options,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound TCP listener has an address")
    }

    /// Serves `app` plus the probe and metrics routes until `shutdown` completes; then fails
    /// `/readyz` and serves on for [`ServerOptions::shutdown_grace`], stops accepting, and
    /// gives open connections [`ServerOptions::drain_timeout`] to finish.
    pub async fn run(self, app: Router, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        let Self { listener, acceptor, resolver, provider, tls, options } = self;
        let registry = options.metrics.clone();
        let reloads = registry.counter(
            "palisade_tls_reloads_total",
            "Serving certificate reloads after the files changed, by result.",
            &["result"],
        );
        let http = HttpMetrics {
            requests: registry.counter(
                "palisade_http_requests_total",
                "HTTP requests answered, by route and status code.",
                &["route", "status"],
            ),
            latency: registry.histogram(
                "palisade_http_request_duration_seconds",
                "Time from request head to response, by route.",
                &["route"],
                metrics::LATENCY_BUCKETS,
            ),
            request_timeout: options.request_timeout,
        };
        let limits = Arc::new(ConnectionLimits {
            handshake_timeout: options.handshake_timeout,
            idle_timeout: options.idle_timeout,
            write_timeout: options.write_timeout,
            refused: registry.counter(
                "palisade_connections_refused_total",
                "Connections closed unserved, by reason (peer_limit, handshake_limit, connection_limit).",
                &["reason"],
            ),
            handshake_failures: registry.counter(
                "palisade_tls_handshake_failures_total",
                "TLS handshakes that failed or timed out.",
                &[],
            ),
        });
        registry.observed_counter(
            "palisade_log_lines_dropped_total",
            "Log lines dropped because the stream's reader fell behind, by stream.",
            "stream",
            vec![("stderr", Box::new(|| log::stderr().dropped())), ("stdout", Box::new(|| log::stdout().dropped()))],
        );
        let readiness = options.readiness.clone();
        let probe_readiness = options.readiness.clone();
        let metrics = Router::new().route(
            "/metrics",
            get(move || async move { ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], registry.render()) }),
        );
        let metrics = match options.metrics_auth.clone() {
            Some(auth) => auth.protect(metrics),
            None => metrics,
        };
        let app = app
            .merge(metrics)
            .route("/healthz", get(|| async { "ok" }))
            .route(
                "/readyz",
                get(move || async move {
                    if probe_readiness.is_ready() {
                        (StatusCode::OK, "ready")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
                    }
                }),
            )
            .layer(DefaultBodyLimit::max(options.body_limit))
            .layer(middleware::from_fn_with_state(options.body_limit, refuse_oversized))
            .layer(middleware::from_fn_with_state(http, observe));

        let watcher = tokio::spawn(tls::watch(tls, resolver, provider, options.reload_interval, move |ok| {
            reloads.inc(&[if ok { "success" } else { "failure" }]);
        }));
        let graceful = GracefulShutdown::new();
        let connections = Arc::new(Semaphore::new(options.max_connections.max(1)));
        let handshakes = Arc::new(Semaphore::new(options.max_handshakes.max(1)));
        let peers = PeerCounts::new(options.max_connections_per_peer);
        let handshake_log = Arc::new(log::Throttled::new(Duration::from_secs(1)));
        let mut shutdown = std::pin::pin!(shutdown);
        let mut stop_accepting_at = None;
        loop {
            let grace_over = async {
                match stop_accepting_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            // The loop waits on nothing but the listener: limits are checked per connection
            // and a connection over them is closed at once, never queued behind others.
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and similar: back off instead of spinning.
                        log::event("warn", "accept failed", serde_json::json!({"error": error.to_string()}));
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown, if stop_accepting_at.is_none() => {
                    // Endpoints drop a pod once its readiness fails, which takes a moment to
                    // reach every API server: until then requests still arrive and are served.
                    readiness.set(false);
                    log::event("info", "terminating: readiness failed, serving on for the grace period", serde_json::json!({"graceSeconds": options.shutdown_grace.as_secs_f64()}));
                    stop_accepting_at = Some(tokio::time::Instant::now() + options.shutdown_grace);
                    continue;
                }
                () = grace_over => break,
            };
            let Some(peer_slot) = peers.admit(peer.ip()) else {
                limits.refused.inc(&["peer_limit"]);
                continue;
            };
            let Ok(handshake) = handshakes.clone().try_acquire_owned() else {
                limits.refused.inc(&["handshake_limit"]);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let acceptor = acceptor.clone();
            let app = TowerToHyperService::new(app.clone());
            let (connections, limits, handshake_log) = (connections.clone(), limits.clone(), handshake_log.clone());
            let watcher = graceful.watcher();
            tokio::spawn(async move {
                let _peer_slot = peer_slot;
                let stream = match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => stream,
                    failed => {
                        limits.handshake_failures.inc(&[]);
                        let error = match failed {
                            Ok(Err(error)) => error.to_string(),
                            _ => "timed out".to_owned(),
                        };
                        handshake_log.event("debug", "TLS handshake failed", serde_json::json!({"peer": peer.to_string(), "error": error}));
                        return;
                    }
                };
                drop(handshake);
                // Connection permits go to clients that completed a handshake, so sockets that
                // never speak TLS cannot hold them.
                let Ok(Ok(_permit)) = tokio::time::timeout(limits.handshake_timeout, connections.acquire_owned()).await else {
                    limits.refused.inc(&["connection_limit"]);
                    return;
                };
                let identity = ClientIdentity::of(peer, stream.get_ref().1.peer_certificates());
                let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(identity.clone());
                    hyper::service::Service::call(&app, request)
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    // Also the idle time allowed between requests on a kept-alive connection.
                    .header_read_timeout(limits.idle_timeout)
                    .serve_connection(TokioIo::new(WriteDeadline::new(stream, limits.write_timeout)), service);
                // Errors here are clients going away mid-request; nothing to recover.
                let _ = watcher.watch(connection).await;
            });
        }
        drop(listener);
        watcher.abort();
        if tokio::time::timeout(options.drain_timeout, graceful.shutdown()).await.is_err() {
            log::event("warn", "drain deadline passed; closing the connections still open", serde_json::json!({"drainSeconds": options.drain_timeout.as_secs_f64()}));
        }
        Ok(())
    }
}

/// What each connection task needs to enforce its limits and count what it refuses.
struct ConnectionLimits {
    handshake_timeout: Duration,
    idle_timeout: Duration,
    write_timeout: Duration,
    refused: Arc<metrics::Counter>,
    handshake_failures: Arc<metrics::Counter>,
}

/// Answers 413 at once when the declared length is over the limit, before any of the body is
/// read (the body-limit layer catches bodies without a length, as they are read).
async fn refuse_oversized(State(limit): State<usize>, request: Request<Body>, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return (StatusCode::PAYLOAD_TOO_LARGE, format!("request bodies are limited to {limit} bytes")).into_response();
    }
    next.run(request).await
}

/// Times every request, cancels it past the deadline, and counts it by matched route (the
/// route pattern, never the raw path, so scanners cannot create label sets at will).
async fn observe(State(http): State<HttpMetrics>, request: Request<Body>, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let started = Instant::now();
    let response = match tokio::time::timeout(http.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "request timed out").into_response(),
    };
    http.requests.inc(&[&route, response.status().as_str()]);
    http.latency.observe(&[&route], started.elapsed().as_secs_f64());
    response
}

/// Resolves when the process receives SIGTERM (what Kubernetes sends) or Ctrl-C.
pub async fn termination_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
