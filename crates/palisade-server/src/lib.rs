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
pub mod metrics;
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

/// Limits, timeouts and the shared observability handles.
#[derive(Clone)]
pub struct ServerOptions {
    /// Largest request body accepted, in bytes (413 above it).
    pub body_limit: usize,
    /// Deadline for a handler's response (503 after it).
    pub request_timeout: Duration,
    /// Deadline for the TLS handshake and for the request head on a connection.
    pub handshake_timeout: Duration,
    /// How often the certificate files are checked for changes.
    pub reload_interval: Duration,
    /// Connections served at once.
    pub max_connections: usize,
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
            // The API server refuses objects above about 3 MiB; an AdmissionReview carries the
            // object and, on UPDATE, the old object too.
            body_limit: 7 * 1024 * 1024,
            request_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            reload_interval: Duration::from_secs(5),
            max_connections: 1024,
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

    /// Serves `app` plus the probe and metrics routes until `shutdown` completes, then stops
    /// accepting and waits (at most `request_timeout`) for open connections to finish.
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
        let readiness = options.readiness.clone();
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
                    if readiness.is_ready() {
                        (StatusCode::OK, "ready")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
                    }
                }),
            )
            .layer(DefaultBodyLimit::max(options.body_limit))
            .layer(middleware::from_fn_with_state(http, observe));

        let watcher = tokio::spawn(tls::watch(tls, resolver, provider, options.reload_interval, move |ok| {
            reloads.inc(&[if ok { "success" } else { "failure" }]);
        }));
        let graceful = GracefulShutdown::new();
        let permits = Arc::new(Semaphore::new(options.max_connections.max(1)));
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
                () = &mut shutdown => break,
            };
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
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let acceptor = acceptor.clone();
            let app = TowerToHyperService::new(app.clone());
            let handshake_timeout = options.handshake_timeout;
            let watcher = graceful.watcher();
            tokio::spawn(async move {
                let _permit = permit;
                let stream = match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(error)) => {
                        log::event("debug", "TLS handshake failed", serde_json::json!({"peer": peer.to_string(), "error": error.to_string()}));
                        return;
                    }
                    Err(_) => return,
                };
                let identity = ClientIdentity::of(peer, stream.get_ref().1.peer_certificates());
                let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(identity.clone());
                    hyper::service::Service::call(&app, request)
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(handshake_timeout)
                    .serve_connection(TokioIo::new(stream), service);
                // Errors here are clients going away mid-request; nothing to recover.
                let _ = watcher.watch(connection).await;
            });
        }
        drop(listener);
        watcher.abort();
        let _ = tokio::time::timeout(options.request_timeout, graceful.shutdown()).await;
        Ok(())
    }
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
