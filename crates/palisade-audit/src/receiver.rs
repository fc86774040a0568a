//! The HTTPS endpoint the API server's audit webhook backend posts to (`POST /k8s-audit`,
//! Falco's path), matching what it receives against the rules and delivering the alerts.
//!
//! A request is read under a permit (at most [`ReceiverOptions::readers`] bodies in memory at
//! once, and at most half of them, at least one, for one client, so a client uploading slowly
//! cannot hold them all), then parsed off the async threads into a [`Batch`] that fits the room the
//! [`Queue`] offers its client; a batch that cannot fit is refused with 429 and `Retry-After`
//! (the webhook backend retries it) and counted in
//! `palisade_audit_batches_rejected_total{reason}`. One matching thread takes batches in
//! arrival order, matches each slice of a batch on every core (unless a rule reads `evt.num`)
//! and hands the alerts, in event order, to [`Delivery`], which never blocks it.
//!
//! On shutdown the queue stops taking batches and the matching thread drains it until the drain
//! deadline; events still queued then are counted in
//! `palisade_audit_events_dropped_total{reason="shutdown"}`, and delivery gets the rest of
//! the deadline. Every event answered 200 is matched or counted.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use palisade_server::metrics::{Counter, Registry};
use palisade_server::{ClientAuth, ClientIdentity, Principal, Server, ServerOptions, TlsFiles};
use rayon::prelude::*;
use tokio::sync::Semaphore;

use crate::batch::{self, Batch};
use crate::delivery::{Delivery, DeliveryMetrics, DeliveryOptions};
use crate::engine::{Alert, CurrentEngine};
use crate::fields::Event;
use crate::json::Json;
use crate::queue::{Limits, Queue, Queued, Refusal};
use crate::sinks::Sink;

/// How the receiver bounds its work.
#[derive(Clone, Debug)]
pub struct ReceiverOptions {
    pub listen: SocketAddr,
    pub tls: TlsFiles,
    /// Events, bytes and per-client share of the queue.
    pub queue: Limits,
    /// Largest request body.
    pub body_limit: usize,
    /// Request bodies read and parsed at once (each up to `body_limit`, plus its events' copy).
    pub readers: usize,
    /// Time from the termination signal to the end of matching and delivery; keep it shorter
    /// than the pod's termination grace period.
    pub drain_timeout: Duration,
    pub delivery: DeliveryOptions,
    /// Who may post; `None` accepts anyone (the client certificate check itself is
    /// [`ServerOptions::client_ca`]).
    pub auth: Option<ClientAuth>,
    /// Also count alerts as falcosidekick's `falco_events` (see [`DeliveryMetrics::register`]).
    pub falco_events_metric: bool,
}

/// Receiver counters in the server's registry.
struct ReceiverMetrics {
    events: Arc<Counter>,
    invalid: Arc<Counter>,
    rejected: Arc<Counter>,
    dropped: Arc<Counter>,
}

impl ReceiverMetrics {
    fn register(registry: &Registry) -> Self {
        Self {
            events: registry.counter("palisade_audit_events_total", "Audit events matched against the rules.", &[]),
            invalid: registry.counter(
                "palisade_audit_event_errors_total",
                "Posted values that were not valid audit events (skipped; the rest of the batch is accepted).",
                &[],
            ),
            rejected: registry.counter(
                "palisade_audit_batches_rejected_total",
                "Batches refused with 429 (the API server retries them), by reason: queue_full, client_share, busy, client_busy.",
                &["reason"],
            ),
            dropped: registry.counter(
                "palisade_audit_events_dropped_total",
                "Accepted events never matched, by reason (shutdown: still queued at the drain deadline).",
                &["reason"],
            ),
        }
    }
}

struct Shared {
    queue: Queue,
    readers: Semaphore,
    /// Bodies being read, per client; at most `per_client_readers` each.
    reading: std::sync::Mutex<std::collections::HashMap<String, usize>>,
    per_client_readers: usize,
    body_limit: usize,
    metrics: ReceiverMetrics,
}

/// Serves until `shutdown` completes, then drains matching and delivery within
/// [`ReceiverOptions::drain_timeout`].
pub async fn serve(
    options: ReceiverOptions,
    server_options: ServerOptions,
    engine: Arc<CurrentEngine>,
    sinks: Vec<Sink>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    let registry = server_options.metrics.clone();
    let readiness = server_options.readiness.clone();
    let delivery = Delivery::start(sinks, &options.delivery, Arc::new(DeliveryMetrics::register(&registry, options.falco_events_metric)))
        .map_err(|e| format!("starting alert delivery: {e}"))?;
    let shared = Arc::new(Shared {
        queue: Queue::new(options.queue),
        readers: Semaphore::new(options.readers.max(1)),
        reading: std::sync::Mutex::new(std::collections::HashMap::new()),
        per_client_readers: (options.readers / 2).max(1),
        body_limit: options.body_limit,
        metrics: ReceiverMetrics::register(&registry),
    });
    let server = Server::bind(options.listen, &options.tls, server_options).await.map_err(|e| e.to_string())?;
    palisade_server::log::event(
        "info",
        "serve audit listening",
        serde_json::json!({"url": format!("https://{}/k8s-audit", server.local_addr())}),
    );

    let deadline = Arc::new(std::sync::OnceLock::<Instant>::new());
    let matcher = {
        let (shared, deadline) = (shared.clone(), deadline.clone());
        std::thread::Builder::new()
            .name("matching".into())
            .spawn(move || {
                match_batches(&shared, &engine, &delivery, &deadline);
                delivery
            })
            .map_err(|e| e.to_string())?
    };
    let routes = Router::new().route("/k8s-audit", post(receive));
    // Unauthenticated posts are answered 401 before their body is read, and counted in
    // palisade_http_requests_total{route="/k8s-audit",status="401"}.
    let app = match options.auth {
        Some(auth) => auth.protect(routes),
        None => routes,
    }
    .with_state(shared.clone());
    readiness.set(true);
    let drain_timeout = options.drain_timeout;
    let signalled = {
        let deadline = deadline.clone();
        async move {
            shutdown.await;
            let _ = deadline.set(Instant::now() + drain_timeout);
        }
    };
    let served = server.run(app, signalled).await;
    shared.queue.close();
    let delivery = tokio::task::spawn_blocking(move || matcher.join())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|_| "the matching thread panicked".to_string())?;
    let deadline = deadline.get().copied().unwrap_or_else(|| Instant::now() + drain_timeout);
    tokio::task::spawn_blocking(move || delivery.shutdown(deadline)).await.map_err(|e| e.to_string())?;
    served.map_err(|e| e.to_string())
}

/// Events of a batch matched between two looks at the drain deadline (a millisecond or so).
const SLICE: usize = 256;

/// The matching loop: batches in arrival order until the queue is closed and empty. Past the
/// drain deadline, what remains is counted instead of matched.
fn match_batches(shared: &Shared, current: &CurrentEngine, delivery: &Delivery, deadline: &std::sync::OnceLock<Instant>) {
    let mut number = 0u64;
    while let Some(Queued { client, events, bytes }) = shared.queue.pop() {
        let engine = current.get();
        // With `evt.num` read by a rule, events are numbered in order, on this thread.
        let parallel = rayon::current_num_threads() > 1 && !engine.numbers_events();
        // `None` for an event that does not parse (it was validated as JSON when it was received).
        let judge = |text: &str, number: &mut u64| -> Option<Vec<Alert>> {
            let json = serde_json::from_str::<Json<'_>>(text).ok()?;
            *number += 1;
            let mut alerts = Vec::new();
            engine.process(&Event::new(json, *number), &mut alerts);
            Some(alerts)
        };
        let count = events.len();
        let mut matched = 0u64;
        for (index, slice) in events.chunks(SLICE).enumerate() {
            if deadline.get().is_some_and(|d| Instant::now() >= *d) {
                shared.metrics.dropped.add(&["shutdown"], (count - index * SLICE) as u64);
                break;
            }
            let judged: Vec<Option<Vec<Alert>>> = if parallel {
                slice.par_iter().map(|text| judge(text, &mut 0)).collect()
            } else {
                slice.iter().map(|text| judge(text, &mut number)).collect()
            };
            for alerts in judged {
                let Some(alerts) = alerts else {
                    shared.metrics.invalid.inc(&[]);
                    continue;
                };
                matched += 1;
                for alert in &alerts {
                    delivery.deliver(alert);
                }
            }
        }
        shared.metrics.events.add(&[], matched);
        drop(events);
        shared.queue.release(&client, count, bytes);
    }
}

/// The client a request's queue share is charged to: who it authenticated as, else its
/// address.
fn client_of(extensions: &axum::http::Extensions) -> String {
    if let Some(Principal(name)) = extensions.get::<Principal>() {
        return format!("user {name}");
    }
    extensions.get::<ClientIdentity>().map_or_else(|| "unknown".to_string(), |identity| format!("address {}", identity.peer.ip()))
}

/// One body being read for a client, counted while it lives.
struct Reading<'a> {
    shared: &'a Shared,
    client: String,
}

impl<'a> Reading<'a> {
    /// `None` when the client already reads its share of bodies.
    fn start(shared: &'a Shared, client: &str) -> Option<Self> {
        let mut reading = shared.reading.lock().unwrap_or_else(|p| p.into_inner());
        let count = reading.entry(client.to_string()).or_default();
        if *count >= shared.per_client_readers {
            return None;
        }
        *count += 1;
        Some(Self { shared, client: client.to_string() })
    }
}

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        let mut reading = self.shared.reading.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = reading.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                reading.remove(&self.client);
            }
        }
    }
}

fn refuse(shared: &Shared, reason: &str) -> Response {
    shared.metrics.rejected.inc(&[reason]);
    (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")], format!("{reason}, retry later\n")).into_response()
}

async fn receive(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let client = client_of(&parts.extensions);
    let Some(_reading) = Reading::start(&shared, &client) else {
        return refuse(&shared, "client_busy");
    };
    // Bodies are read under a permit, so memory is bounded by readers x body limit.
    let Ok(Ok(permit)) = tokio::time::timeout(Duration::from_secs(2), shared.readers.acquire()).await else {
        return refuse(&shared, "busy");
    };
    let body = match axum::body::to_bytes(body, shared.body_limit).await {
        Ok(body) => body,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large or unreadable\n").into_response(),
    };
    let (room, limited_by) = shared.queue.room(&client);
    let parsed = {
        let client = client.clone();
        tokio::task::spawn_blocking(move || {
            let text = std::str::from_utf8(&body).map_err(|e| format!("request body is not UTF-8: {e}"))?;
            let batch = batch::read(text, room);
            Ok::<_, String>((client, batch))
        })
        .await
    };
    drop(permit);
    let (client, batch) = match parsed {
        Ok(Ok(parsed)) => parsed,
        Ok(Err(message)) => return (StatusCode::BAD_REQUEST, message + "\n").into_response(),
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "parsing failed\n").into_response(),
    };
    if batch.overflow {
        return refuse(&shared, limited_by.as_str());
    }
    answer(&shared, client, batch)
}

fn answer(shared: &Shared, client: String, batch: Batch) -> Response {
    shared.metrics.invalid.add(&[], batch.invalid as u64);
    let summary = if batch.invalid > 0 { format!("; {} invalid values: {}", batch.invalid, batch.error_summary()) } else { String::new() };
    if batch.events.is_empty() && batch.invalid > 0 {
        return (StatusCode::BAD_REQUEST, format!("no valid audit event{summary}\n")).into_response();
    }
    let accepted = batch.events.len();
    match shared.queue.push(Queued { client, events: batch.events, bytes: batch.bytes }) {
        Ok(()) => (StatusCode::OK, format!("accepted {accepted} events{summary}\n")).into_response(),
        Err(Refusal::Closed) => (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response(),
        Err(refusal) => refuse(shared, refusal.as_str()),
    }
}
