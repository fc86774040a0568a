//! The background scanner: a bounded queue of image references and `concurrency` worker
//! threads. An image already queued or being scanned is not queued again; a full queue drops
//! the request (counted) and the image is asked for again on its next admission. Each scan
//! runs on its own thread so that a scan past its timeout can be recorded as failed at once;
//! its worker then waits for it, so no more than `concurrency` scans ever run.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use palisade_server::metrics::{Counter, Registry};

use super::cache::ImageVerdicts;
use super::scanner::{ImageScanner, ImageVerdict};

/// What became of a request to scan an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queued {
    Queued,
    /// Already queued or being scanned.
    Pending,
    /// The queue is full: dropped, and counted.
    Full,
}

/// Which counter of [`Shared`] a gauge reads.
type GaugeOf = fn(&Shared) -> &AtomicUsize;

pub struct BackgroundScanner {
    sender: SyncSender<Arc<str>>,
    shared: Arc<Shared>,
}

struct Shared {
    scanner: Arc<dyn ImageScanner>,
    verdicts: Arc<ImageVerdicts>,
    timeout: Duration,
    /// Queued or being scanned.
    pending: Mutex<HashSet<Arc<str>>>,
    depth: AtomicUsize,
    running: AtomicUsize,
    requests: Arc<Counter>,
    scans: Arc<Counter>,
}

impl BackgroundScanner {
    /// Starts `concurrency` workers that scan with `scanner` and record into `verdicts`.
    /// They end when this is dropped (after their current scan).
    pub fn start(
        scanner: Arc<dyn ImageScanner>,
        verdicts: Arc<ImageVerdicts>,
        concurrency: usize,
        queue: usize,
        timeout: Duration,
        registry: &Registry,
    ) -> Self {
        let (sender, receiver) = mpsc::sync_channel(queue.max(1));
        let shared = Arc::new(Shared {
            scanner,
            verdicts,
            timeout,
            pending: Mutex::default(),
            depth: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            requests: registry.counter(
                "palisade_admission_image_scan_requests_total",
                "Images seen at admission without a current verdict, by result (queued, dropped when the queue was full).",
                &["result"],
            ),
            scans: registry.counter(
                "palisade_admission_image_scans_total",
                "Background image scans, by result (ok, failed, timeout).",
                &["result"],
            ),
        });
        let gauges: [(&'static str, &'static str, GaugeOf); 2] = [
            ("palisade_admission_image_scan_queue_depth", "Images waiting for a background scan.", |shared| &shared.depth),
            ("palisade_admission_image_scans_running", "Background image scans running.", |shared| &shared.running),
        ];
        for (name, help, read) in gauges {
            let observed = Arc::downgrade(&shared);
            registry.observed_gauge(
                name,
                help,
                Box::new(move || observed.upgrade().map_or(0, |shared| read(&shared).load(Ordering::Relaxed) as u64)),
            );
        }
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..concurrency.max(1) {
            let (shared, receiver) = (shared.clone(), receiver.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("palisade-image-scanner-{index}"))
                .spawn(move || shared.work(&receiver));
            if let Err(error) = spawned {
                // Fewer workers still scan; none at all leaves every image to the `unscanned`
                // default, which the queue-depth gauge shows.
                palisade_server::log::event(
                    "error",
                    "cannot start an image scanner thread",
                    serde_json::json!({"error": error.to_string()}),
                );
            }
        }
        Self { sender, shared }
    }

    /// Queues a scan of `image` unless it is pending or the queue is full.
    pub fn request(&self, image: &str) -> Queued {
        let mut pending = lock(&self.shared.pending);
        if pending.contains(image) {
            return Queued::Pending;
        }
        let image: Arc<str> = image.into();
        // Counted before the send so that a worker taking it at once never sees it negative.
        self.shared.depth.fetch_add(1, Ordering::Relaxed);
        match self.sender.try_send(image.clone()) {
            Ok(()) => {
                pending.insert(image);
                self.shared.requests.inc(&["queued"]);
                Queued::Queued
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.shared.depth.fetch_sub(1, Ordering::Relaxed);
                self.shared.requests.inc(&["dropped"]);
                Queued::Full
            }
        }
    }
}

impl Shared {
    fn work(&self, receiver: &Mutex<Receiver<Arc<str>>>) {
        loop {
            // The lock is held while waiting: idle workers queue on it instead of the channel.
            let Ok(image) = lock(receiver).recv() else { return };
            self.depth.fetch_sub(1, Ordering::Relaxed);
            self.running.fetch_add(1, Ordering::Relaxed);
            self.scan(&image);
            self.running.fetch_sub(1, Ordering::Relaxed);
        }
    }

    fn scan(&self, image: &Arc<str>) {
        let deadline = Instant::now() + self.timeout;
        let (report, result) = mpsc::sync_channel::<Result<ImageVerdict, String>>(1);
        let (scanner, target) = (self.scanner.clone(), image.clone());
        let spawned = std::thread::Builder::new().name("palisade-image-scan".into()).spawn(move || {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| scanner.scan(&target, deadline)))
                .unwrap_or_else(|_| Err("the scanner panicked".into()));
            let _ = report.send(outcome);
        });
        if let Err(error) = spawned {
            self.finish(image, Err(format!("cannot start a scan thread: {error}")), "failed");
            return;
        }
        match result.recv_timeout(self.timeout) {
            Ok(outcome) => {
                let label = if outcome.is_ok() { "ok" } else { "failed" };
                self.finish(image, outcome, label);
            }
            Err(RecvTimeoutError::Timeout) => {
                let reason = format!("the scan did not finish within {} s", self.timeout.as_secs_f64());
                self.finish(image, Err(reason), "timeout");
                // The worker's slot stays taken until the scan really ends; a verdict that
                // arrives late is still a verdict.
                if let Ok(Ok(verdict)) = result.recv() {
                    self.verdicts.record(image, Ok(verdict), Instant::now());
                }
            }
            Err(RecvTimeoutError::Disconnected) => self.finish(image, Err("the scan ended without a result".into()), "failed"),
        }
    }

    /// Records the outcome, then lets the image be queued again: in that order, so that a
    /// request in between finds the verdict rather than queueing a second scan.
    fn finish(&self, image: &Arc<str>, outcome: Result<ImageVerdict, String>, label: &str) {
        self.verdicts.record(image, outcome, Instant::now());
        self.scans.inc(&[label]);
        lock(&self.pending).remove(image);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}
