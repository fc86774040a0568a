//! Alert delivery: one bounded queue and one thread per sink, so raising an alert never waits
//! on a sink's I/O and a dead sink never delays the others.
//!
//! For each alert, [`Delivery::deliver`] renders the sink's payload and queues it without
//! blocking. Each sink's thread then:
//! - tries the payload up to [`DeliveryOptions::attempts`] times with exponential back-off
//!   (transport errors, 5xx and 429; a 4xx refusal is final and counted `rejected`);
//! - counts consecutive undelivered payloads in a circuit breaker: at
//!   [`DeliveryOptions::breaker_threshold`] the breaker opens for
//!   [`DeliveryOptions::breaker_cooldown`] and payloads skip the attempts; after the cooldown
//!   one payload tests the sink (half-open) and a success closes the breaker;
//! - spills what it could not deliver to the sink's [`Spool`] on disk when one is configured,
//!   and redelivers the spool, oldest first, on start, when the breaker closes and whenever
//!   the queue is idle.
//!
//! A payload that is neither delivered nor spooled is counted in
//! `palisade_audit_alerts_dropped_total{sink,reason}`: `queue_full`, `undelivered`,
//! `breaker_open` (no spool configured), `spool_full`, `spool_error`, `rejected`, `shutdown`.
//! [`Delivery::shutdown`] delivers what it can until a deadline, then spools or counts the
//! rest, and never waits on a stuck sink past the deadline.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use palisade_server::metrics::{Counter, Registry};

use crate::engine::Alert;
use crate::sinks::{Format, SendError, Sink, Transport};
use crate::spool::Spool;

/// How delivery retries, breaks and spools.
#[derive(Clone, Debug)]
pub struct DeliveryOptions {
    /// Payloads that may wait per sink; beyond it they go to the spool (or are dropped).
    pub queue: usize,
    /// Attempts per payload while the breaker is closed.
    pub attempts: u32,
    /// Wait before the first retry; it doubles with every retry up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// Consecutive undelivered payloads that open the breaker.
    pub breaker_threshold: u32,
    /// How long an open breaker skips the sink before testing it again.
    pub breaker_cooldown: Duration,
    /// Where undelivered payloads wait for redelivery; `None` drops (and counts) them.
    pub spool: Option<SpoolOptions>,
}

#[derive(Clone, Debug)]
pub struct SpoolOptions {
    /// One subdirectory per sink is created here.
    pub dir: PathBuf,
    /// Bytes each sink's spool may hold.
    pub limit: u64,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        Self {
            queue: 10_000,
            attempts: 4,
            first_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
            breaker_threshold: 3,
            breaker_cooldown: Duration::from_secs(30),
            spool: None,
        }
    }
}

/// The delivery series in a metrics registry.
pub struct DeliveryMetrics {
    alerts: Arc<Counter>,
    /// falcosidekick's alert counter, when asked for: existing dashboards and alert rules
    /// (`sum(rate(falco_events{rule="..."}[5m])) > 0`) keep working on our alerts.
    falco_events: Option<Arc<Counter>>,
    delivered: Arc<Counter>,
    failed_attempts: Arc<Counter>,
    spooled: Arc<Counter>,
    redelivered: Arc<Counter>,
    dropped: Arc<Counter>,
    breaker_opened: Arc<Counter>,
}

impl DeliveryMetrics {
    /// `falco_events` also counts alerts as falcosidekick's `falco_events` does: by hostname,
    /// rule, priority (Falco's spelling), source and the `k8s.ns.name`/`k8s.pod.name` output
    /// fields (empty for audit rules, as in falcosidekick).
    pub fn register(registry: &Registry, falco_events: bool) -> Self {
        Self {
            alerts: registry.counter("palisade_audit_alerts_total", "Alerts raised, by rule and priority.", &[
                "rule", "priority",
            ]),
            falco_events: falco_events.then(|| {
                registry.counter("falco_events", "Alerts raised, counted as falcosidekick counts Falco's events.", &[
                    "hostname",
                    "rule",
                    "priority",
                    "source",
                    "k8s_ns_name",
                    "k8s_pod_name",
                ])
            }),
            delivered: registry.counter("palisade_audit_alerts_delivered_total", "Alert payloads a sink accepted.", &[
                "sink",
            ]),
            failed_attempts: registry.counter(
                "palisade_audit_sink_failures_total",
                "Failed delivery attempts (each retry counts), by sink.",
                &["sink"],
            ),
            spooled: registry.counter(
                "palisade_audit_alerts_spooled_total",
                "Alert payloads written to the sink's spool for redelivery, by sink and reason.",
                &["sink", "reason"],
            ),
            redelivered: registry.counter(
                "palisade_audit_alerts_redelivered_total",
                "Spooled alert payloads delivered later, by sink.",
                &["sink"],
            ),
            dropped: registry.counter(
                "palisade_audit_alerts_dropped_total",
                "Alert payloads neither delivered nor spooled, by sink and reason.",
                &["sink", "reason"],
            ),
            breaker_opened: registry.counter(
                "palisade_audit_sink_breaker_opened_total",
                "Times a sink's circuit breaker opened after consecutive failures.",
                &["sink"],
            ),
        }
    }
}

/// Sends alerts to every sink through its own queue and thread.
pub struct Delivery {
    lanes: Vec<Lane>,
    metrics: Arc<DeliveryMetrics>,
}

struct Lane {
    format: Format,
    sender: SyncSender<String>,
    state: Arc<LaneState>,
    worker: JoinHandle<()>,
}

/// What a sink's thread and the alert raiser share.
struct LaneState {
    name: String,
    spool: Option<Mutex<Spool>>,
    metrics: Arc<DeliveryMetrics>,
    /// Payloads handed over and not yet delivered, spooled or dropped.
    pending: Mutex<u64>,
    settled: Condvar,
    /// Payloads dropped so far that a sink could have taken later (every reason but
    /// `rejected`: a payload the sink refused for good is counted, but waiting cannot help it).
    lost: AtomicU64,
    /// Past this instant (set at shutdown) payloads are spooled or dropped, not attempted.
    deadline: Mutex<Option<Instant>>,
    /// Set when shutdown gave up on a stuck worker and counted its payloads: the worker must
    /// not count them again should it wake up.
    abandoned: AtomicBool,
}

impl LaneState {
    fn settle_one(&self) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        *pending = pending.saturating_sub(1);
        if *pending == 0 {
            self.settled.notify_all();
        }
    }

    fn past_deadline(&self) -> bool {
        self.deadline.lock().unwrap_or_else(|p| p.into_inner()).is_some_and(|d| Instant::now() >= d)
    }

    fn drop_payload(&self, reason: &str, count: u64) {
        if reason != "rejected" {
            self.lost.fetch_add(count, Ordering::AcqRel);
        }
        self.metrics.dropped.add(&[&self.name, reason], count);
    }

    /// Keeps `payload` for later if there is a spool with room, else counts it lost.
    fn spool_or_drop(&self, payload: &str, reason: &str) {
        let Some(spool) = &self.spool else {
            self.drop_payload(reason, 1);
            return;
        };
        match spool.lock().unwrap_or_else(|p| p.into_inner()).append(payload) {
            Ok(true) => self.metrics.spooled.inc(&[&self.name, reason]),
            Ok(false) => self.drop_payload("spool_full", 1),
            Err(error) => {
                self.drop_payload("spool_error", 1);
                palisade_server::log::event(
                    "error",
                    "alert spool write failed",
                    serde_json::json!({"sink": self.name, "error": error.to_string()}),
                );
            }
        }
    }
}

impl Delivery {
    /// Starts one thread per sink. Opening a spool directory can fail.
    pub fn start(sinks: Vec<Sink>, options: &DeliveryOptions, metrics: Arc<DeliveryMetrics>) -> std::io::Result<Self> {
        let mut lanes = Vec::with_capacity(sinks.len());
        for Sink { name, format, transport } in sinks {
            let spool = match &options.spool {
                Some(spool) => Some(Mutex::new(Spool::open(&spool.dir.join(&name), spool.limit)?)),
                None => None,
            };
            let state = Arc::new(LaneState {
                name: name.clone(),
                spool,
                metrics: metrics.clone(),
                pending: Mutex::new(0),
                settled: Condvar::new(),
                lost: AtomicU64::new(0),
                deadline: Mutex::new(None),
                abandoned: AtomicBool::new(false),
            });
            let (sender, receiver) = std::sync::mpsc::sync_channel(options.queue.max(1));
            let worker = {
                let (state, options) = (state.clone(), options.clone());
                std::thread::Builder::new()
                    .name(format!("sink {name}"))
                    .spawn(move || Worker::new(transport, state, options).run(receiver))?
            };
            lanes.push(Lane { format, sender, state, worker });
        }
        Ok(Self { lanes, metrics })
    }

    /// Counts `alert` and queues its payload for every sink; never blocks on a sink.
    pub fn deliver(&self, alert: &Alert) {
        self.metrics.alerts.inc(&[&alert.rule, alert.priority]);
        if let Some(falco_events) = &self.metrics.falco_events {
            let field = |name: &str| alert.output_fields.get(name).and_then(serde_json::Value::as_str).unwrap_or_default();
            falco_events.inc(&[&alert.hostname, &alert.rule, alert.priority, &alert.source, field("k8s.ns.name"), field("k8s.pod.name")]);
        }
        for lane in &self.lanes {
            let payload = lane.format.render(alert);
            *lane.state.pending.lock().unwrap_or_else(|p| p.into_inner()) += 1;
            match lane.sender.try_send(payload) {
                Ok(()) => {}
                Err(TrySendError::Full(payload)) => {
                    lane.state.spool_or_drop(&payload, "queue_full");
                    lane.state.settle_one();
                }
                Err(TrySendError::Disconnected(_)) => {
                    lane.state.drop_payload("shutdown", 1);
                    lane.state.settle_one();
                }
            }
        }
    }

    /// Waits until every payload handed over so far is delivered, spooled or dropped.
    pub fn settle(&self) {
        for lane in &self.lanes {
            let mut pending = lane.state.pending.lock().unwrap_or_else(|p| p.into_inner());
            while *pending > 0 {
                pending = lane.state.settled.wait(pending).unwrap_or_else(|p| p.into_inner());
            }
        }
    }

    /// Payloads lost so far, over all sinks, refusals for good excepted (for callers that must
    /// not move on past a loss).
    pub fn losses(&self) -> u64 {
        self.lanes.iter().map(|lane| lane.state.lost.load(Ordering::Acquire)).sum()
    }

    /// Delivers what is queued until `deadline`, then spools or counts the rest; returns by the
    /// deadline (plus the time to write the spool) even when a sink is stuck. Returns the
    /// payloads lost over the whole run.
    pub fn shutdown(self, deadline: Instant) -> u64 {
        let mut waiting = Vec::new();
        for Lane { sender, state, worker, .. } in self.lanes {
            *state.deadline.lock().unwrap_or_else(|p| p.into_inner()) = Some(deadline);
            // The worker finishes once its queue is empty.
            drop(sender);
            waiting.push((state, worker));
        }
        // Past the deadline the workers only spool or count, which is quick; a worker still
        // busy a little later is stuck in its sink.
        let give_up = deadline + Duration::from_secs(1);
        let mut lost = 0;
        for (state, worker) in waiting {
            while !worker.is_finished() && Instant::now() < give_up {
                std::thread::sleep(Duration::from_millis(10));
            }
            if !worker.is_finished() {
                state.abandoned.store(true, Ordering::Release);
                let pending = *state.pending.lock().unwrap_or_else(|p| p.into_inner());
                state.drop_payload("shutdown", pending);
                palisade_server::log::event(
                    "error",
                    "sink stuck at shutdown",
                    serde_json::json!({"sink": state.name, "undelivered": pending}),
                );
            }
            lost += state.lost.load(Ordering::Acquire);
        }
        lost
    }
}

/// One sink's delivery thread.
struct Worker {
    transport: Box<dyn Transport>,
    state: Arc<LaneState>,
    options: DeliveryOptions,
    breaker: Breaker,
}

impl Worker {
    fn new(transport: Box<dyn Transport>, state: Arc<LaneState>, options: DeliveryOptions) -> Self {
        let breaker = Breaker { threshold: options.breaker_threshold.max(1), cooldown: options.breaker_cooldown, failures: 0, open_until: None };
        Self { transport, state, options, breaker }
    }

    fn run(mut self, queue: Receiver<String>) {
        loop {
            self.redeliver_spool();
            let wait = self.breaker.open_until.map_or(Duration::from_secs(1), |until| {
                until.saturating_duration_since(Instant::now()).clamp(Duration::from_millis(10), Duration::from_secs(1))
            });
            match queue.recv_timeout(wait) {
                Ok(payload) => {
                    self.handle(&payload);
                    self.state.settle_one();
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn handle(&mut self, payload: &str) {
        if self.state.abandoned.load(Ordering::Acquire) {
            return;
        }
        if self.state.past_deadline() {
            return self.state.spool_or_drop(payload, "shutdown");
        }
        if !self.breaker.allows() {
            return self.state.spool_or_drop(payload, "breaker_open");
        }
        let attempts = if self.breaker.is_half_open() { 1 } else { self.options.attempts.max(1) };
        match self.attempt(payload, attempts) {
            Ok(()) => {
                self.breaker.success();
                self.state.metrics.delivered.inc(&[&self.state.name]);
            }
            Err(error) if error.permanent => {
                self.state.drop_payload("rejected", 1);
                self.report("alert refused by sink", &error);
            }
            Err(error) => {
                self.failure(&error);
                self.state.spool_or_drop(payload, "undelivered");
            }
        }
    }

    /// Tries `payload` up to `attempts` times with exponential back-off, giving up early at the
    /// shutdown deadline.
    fn attempt(&mut self, payload: &str, attempts: u32) -> Result<(), SendError> {
        let mut backoff = self.options.first_backoff;
        let mut attempt = 0;
        loop {
            match self.transport.deliver(payload) {
                Ok(()) => return Ok(()),
                Err(error) => {
                    self.state.metrics.failed_attempts.inc(&[&self.state.name]);
                    attempt += 1;
                    if error.permanent || attempt >= attempts || self.state.past_deadline() {
                        return Err(error);
                    }
                }
            }
            let deadline = *self.state.deadline.lock().unwrap_or_else(|p| p.into_inner());
            let pause = deadline.map_or(backoff, |d| backoff.min(d.saturating_duration_since(Instant::now())));
            std::thread::sleep(pause);
            backoff = (backoff * 2).min(self.options.max_backoff);
        }
    }

    fn failure(&mut self, error: &SendError) {
        if self.breaker.failure() {
            self.state.metrics.breaker_opened.inc(&[&self.state.name]);
            self.report("sink failing, circuit breaker open", error);
        }
    }

    fn report(&self, message: &str, error: &SendError) {
        palisade_server::log::event("warn", message, serde_json::json!({"sink": self.state.name, "error": error.message}));
    }

    /// Redelivers spooled payloads, oldest first, while the breaker lets them through and no
    /// shutdown is under way; new payloads wait meanwhile (and spill to the spool behind these
    /// when the queue fills, which keeps the order).
    fn redeliver_spool(&mut self) {
        let Some(spool) = &self.state.spool else { return };
        while self.breaker.allows() && !self.state.past_deadline() {
            let next = spool.lock().unwrap_or_else(|p| p.into_inner()).peek();
            let (payload, position) = match next {
                Ok(Some(next)) => next,
                Ok(None) => return,
                Err(error) => {
                    palisade_server::log::event(
                        "error",
                        "alert spool read failed",
                        serde_json::json!({"sink": self.state.name, "error": error.to_string()}),
                    );
                    return;
                }
            };
            match self.transport.deliver(&payload) {
                Ok(()) => {
                    self.breaker.success();
                    self.state.metrics.redelivered.inc(&[&self.state.name]);
                }
                Err(error) if error.permanent => {
                    self.state.metrics.failed_attempts.inc(&[&self.state.name]);
                    self.state.drop_payload("rejected", 1);
                    self.report("spooled alert refused by sink", &error);
                }
                Err(error) => {
                    self.state.metrics.failed_attempts.inc(&[&self.state.name]);
                    // The spool is the backlog of a failing sink: one failure is enough to
                    // wait for the cooldown again.
                    if self.breaker.trip() {
                        self.state.metrics.breaker_opened.inc(&[&self.state.name]);
                    }
                    self.report("spool redelivery failed", &error);
                    return;
                }
            }
            if let Err(error) = spool.lock().unwrap_or_else(|p| p.into_inner()).commit(position) {
                palisade_server::log::event(
                    "error",
                    "alert spool cursor update failed",
                    serde_json::json!({"sink": self.state.name, "error": error.to_string()}),
                );
                return;
            }
        }
    }
}

/// Consecutive failures open it; after the cooldown it lets one payload test the sink.
struct Breaker {
    threshold: u32,
    cooldown: Duration,
    failures: u32,
    open_until: Option<Instant>,
}

impl Breaker {
    fn allows(&self) -> bool {
        self.open_until.is_none_or(|until| Instant::now() >= until)
    }

    fn is_half_open(&self) -> bool {
        self.open_until.is_some() && self.allows()
    }

    fn success(&mut self) {
        self.failures = 0;
        self.open_until = None;
    }

    /// Records an undelivered payload; true when this opened the breaker.
    fn failure(&mut self) -> bool {
        self.failures += 1;
        if self.failures >= self.threshold || self.open_until.is_some() {
            return self.trip();
        }
        false
    }

    /// Opens the breaker; true unless it was already open.
    fn trip(&mut self) -> bool {
        let was_closed = self.open_until.is_none();
        self.open_until = Some(Instant::now() + self.cooldown);
        was_closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn alert(n: usize) -> Alert {
        Alert {
            hostname: "h".into(),
            output: format!("alert {n}"),
            output_fields: BTreeMap::new(),
            priority: "Warning",
            rule: "R".into(),
            source: "k8s_audit".into(),
            tags: Vec::new(),
            time: "2026-01-01T00:00:00.000000000Z".into(),
        }
    }

    /// Records what it receives; fails while `down` is set; sleeps `delay` per payload.
    #[derive(Clone, Default)]
    struct Recorder {
        received: Arc<Mutex<Vec<String>>>,
        down: Arc<AtomicBool>,
        delay: Duration,
    }

    impl Transport for Recorder {
        fn deliver(&mut self, payload: &str) -> Result<(), SendError> {
            std::thread::sleep(self.delay);
            if self.down.load(Ordering::Acquire) {
                return Err(SendError::transient("down"));
            }
            self.received.lock().unwrap().push(payload.to_string());
            Ok(())
        }
    }

    impl Recorder {
        fn outputs(&self) -> Vec<String> {
            let received = self.received.lock().unwrap();
            received.iter().map(|p| serde_json::from_str::<serde_json::Value>(p).unwrap()["output"].as_str().unwrap().to_string()).collect()
        }
    }

    fn sink(name: &str, recorder: &Recorder) -> Sink {
        Sink { name: name.into(), format: Format::Falco, transport: Box::new(recorder.clone()) }
    }

    fn fast(spool: Option<SpoolOptions>) -> DeliveryOptions {
        DeliveryOptions {
            queue: 100,
            attempts: 2,
            first_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            breaker_threshold: 2,
            breaker_cooldown: Duration::from_millis(50),
            spool,
        }
    }

    #[test]
    fn a_slow_sink_does_not_delay_another_and_a_full_queue_is_counted() {
        let registry = Registry::new();
        let metrics = Arc::new(DeliveryMetrics::register(&registry, false));
        let quick = Recorder::default();
        let slow = Recorder { delay: Duration::from_millis(200), ..Recorder::default() };
        let options = DeliveryOptions { queue: 3, ..fast(None) };
        let delivery = Delivery::start(vec![sink("quick", &quick), sink("slow", &slow)], &options, metrics.clone()).unwrap();
        for n in 0..10 {
            delivery.deliver(&alert(n));
            std::thread::sleep(Duration::from_millis(5));
        }
        // The quick sink has everything long before the slow one could have taken two.
        for _ in 0..200 {
            if quick.outputs().len() == 10 {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(quick.outputs().len(), 10);
        assert!(slow.outputs().len() <= 1, "{:?}", slow.outputs());
        delivery.settle();
        let dropped = metrics.dropped.get(&["slow", "queue_full"]);
        assert!(dropped >= 5, "{}", registry.render());
        assert_eq!(metrics.dropped.get(&["quick", "queue_full"]), 0);
        assert_eq!(slow.outputs().len() as u64 + dropped, 10);
        assert_eq!(delivery.losses(), dropped);
        delivery.shutdown(Instant::now() + Duration::from_secs(5));
    }

    #[test]
    fn a_dead_sink_spools_and_the_spool_is_redelivered_in_order_when_it_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Some(SpoolOptions { dir: dir.path().to_path_buf(), limit: 1 << 20 });
        let registry = Registry::new();
        let metrics = Arc::new(DeliveryMetrics::register(&registry, false));
        let hook = Recorder::default();
        hook.down.store(true, Ordering::Release);
        let delivery = Delivery::start(vec![sink("hook", &hook)], &fast(spool.clone()), metrics.clone()).unwrap();
        for n in 0..6 {
            delivery.deliver(&alert(n));
        }
        delivery.settle();
        assert_eq!(delivery.losses(), 0);
        assert_eq!(metrics.breaker_opened.get(&["hook"]), 1, "{}", registry.render());
        let spooled = metrics.spooled.get(&["hook", "undelivered"]) + metrics.spooled.get(&["hook", "breaker_open"]);
        assert_eq!(spooled, 6, "{}", registry.render());
        // Stopped while the sink is down: the spool outlives the process.
        delivery.shutdown(Instant::now() + Duration::from_secs(5));

        hook.down.store(false, Ordering::Release);
        let delivery = Delivery::start(vec![sink("hook", &hook)], &fast(spool), metrics.clone()).unwrap();
        delivery.deliver(&alert(6));
        for _ in 0..400 {
            if hook.outputs().len() == 7 {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let expected: Vec<String> = (0..7).map(|n| format!("alert {n}")).collect();
        assert_eq!(hook.outputs(), expected);
        assert_eq!(metrics.redelivered.get(&["hook"]), 6);
        delivery.shutdown(Instant::now() + Duration::from_secs(5));
    }

    #[test]
    fn without_a_spool_undelivered_alerts_are_counted_and_shutdown_never_waits_on_a_stuck_sink() {
        let registry = Registry::new();
        let metrics = Arc::new(DeliveryMetrics::register(&registry, false));
        let dead = Recorder::default();
        dead.down.store(true, Ordering::Release);
        let stuck = Recorder { delay: Duration::from_secs(3), ..Recorder::default() };
        let delivery = Delivery::start(vec![sink("dead", &dead), sink("stuck", &stuck)], &fast(None), metrics.clone()).unwrap();
        for n in 0..5 {
            delivery.deliver(&alert(n));
        }
        let started = Instant::now();
        delivery.shutdown(Instant::now() + Duration::from_millis(300));
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        let dead_lost: u64 = ["undelivered", "breaker_open", "shutdown"].iter().map(|r| metrics.dropped.get(&["dead", r])).sum();
        assert_eq!(dead_lost, 5, "{}", registry.render());
        // The stuck sink holds one payload in its transport; the other four were counted at the deadline.
        assert_eq!(metrics.dropped.get(&["stuck", "shutdown"]), 5, "{}", registry.render());
    }
}
