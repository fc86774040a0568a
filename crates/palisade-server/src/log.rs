//! Structured logging: one JSON object per line, with an RFC 3339 UTC timestamp, so log
//! collectors parse server events without a format of their own.
//!
//! Lines never block the caller: each stream ([`stderr`], [`stdout`]) is a [`LineWriter`], a
//! bounded queue drained by its own thread. When the reader of the stream stalls (a stuck log
//! shipper, a full pipe) and the queue is full, new lines are dropped and counted
//! (`palisade_log_lines_dropped_total{stream}` on `/metrics`); requests and probes go on.

use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Map, Value};

/// Bytes of lines a stream may hold queued before new ones are dropped.
const QUEUED_BYTES: usize = 8 << 20;
/// Lines a stream may hold queued (however short).
const QUEUED_LINES: usize = 16 * 1024;

/// A bounded queue of lines written, in order, by a dedicated thread.
pub struct LineWriter {
    sender: SyncSender<String>,
    queued: Arc<AtomicUsize>,
    dropped: AtomicU64,
    max_bytes: usize,
}

impl LineWriter {
    /// Starts the thread writing to `out`; lines beyond `max_lines` or `max_bytes` queued are
    /// dropped.
    pub fn spawn(name: &str, out: impl Write + Send + 'static, max_lines: usize, max_bytes: usize) -> Self {
        let (sender, receiver) = std::sync::mpsc::sync_channel(max_lines.max(1));
        let queued = Arc::new(AtomicUsize::new(0));
        let drained = queued.clone();
        // If the thread cannot start, every line is dropped and counted: logging never stops
        // the server.
        let _ = std::thread::Builder::new()
            .name(format!("log-{name}"))
            .spawn(move || drain(&receiver, out, &drained));
        Self { sender, queued, dropped: AtomicU64::new(0), max_bytes }
    }

    /// Queues `line` (a newline is added), or drops it when the queue is full.
    pub fn write(&self, line: String) {
        let size = line.len() + 1;
        if self.queued.fetch_add(size, Ordering::AcqRel) + size > self.max_bytes {
            self.queued.fetch_sub(size, Ordering::AcqRel);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.sender.try_send(line) {
            self.queued.fetch_sub(size, Ordering::AcqRel);
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Lines dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits until every queued line is written, or `limit` passed; true when all were.
    pub fn flush(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.queued.load(Ordering::Acquire) > 0 {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }
}

fn drain(receiver: &Receiver<String>, out: impl Write, queued: &AtomicUsize) {
    let mut out = std::io::BufWriter::new(out);
    while let Ok(first) = receiver.recv() {
        let mut next = Some(first);
        let mut burst = 0;
        // Write what is queued, then flush once: one system call per burst, not per line.
        while let Some(line) = next {
            // A closed stream loses the line, nothing else.
            let _ = writeln!(out, "{line}");
            burst += line.len() + 1;
            next = receiver.try_recv().ok();
        }
        let _ = out.flush();
        // Counted as queued until flushed, so that `flush` means written.
        queued.fetch_sub(burst, Ordering::AcqRel);
    }
}

/// Standard error, where [`event`] writes.
pub fn stderr() -> &'static LineWriter {
    static WRITER: OnceLock<LineWriter> = OnceLock::new();
    WRITER.get_or_init(|| LineWriter::spawn("stderr", std::io::stderr(), QUEUED_LINES, QUEUED_BYTES))
}

/// Standard output, for the applications' own records (the admission decision log).
pub fn stdout() -> &'static LineWriter {
    static WRITER: OnceLock<LineWriter> = OnceLock::new();
    WRITER.get_or_init(|| LineWriter::spawn("stdout", std::io::stdout(), QUEUED_LINES, QUEUED_BYTES))
}

/// Waits (at most `limit` each) until the lines queued on standard error and standard output
/// are written: what a process does before it exits.
pub fn flush(limit: Duration) {
    stderr().flush(limit);
    stdout().flush(limit);
}

/// Queues `{"ts", "level", "msg", ...fields}` as one line on standard error. `fields` should be
/// a JSON object; anything else is recorded under `"fields"`.
pub fn event(level: &str, message: &str, fields: Value) {
    stderr().write(line(level, message, fields));
}

/// At most one event per interval for something that can happen at a client's will (failed
/// handshakes): the others are counted and the count rides on the next event logged.
pub struct Throttled {
    interval: Duration,
    state: Mutex<(Option<Instant>, u64)>,
}

impl Throttled {
    pub fn new(interval: Duration) -> Self {
        Self { interval, state: Mutex::new((None, 0)) }
    }

    /// Logs the event with `"suppressed": N` (events not logged since the last one), or counts
    /// it when the last one is more recent than the interval.
    pub fn event(&self, level: &str, message: &str, fields: Value) {
        let suppressed = {
            let mut state = self.state.lock().unwrap_or_else(|poison| poison.into_inner());
            let (last, suppressed) = &mut *state;
            if last.is_some_and(|last| last.elapsed() < self.interval) {
                *suppressed += 1;
                return;
            }
            *last = Some(Instant::now());
            std::mem::take(suppressed)
        };
        let mut fields = match fields {
            Value::Object(fields) => fields,
            _ => Map::new(),
        };
        fields.insert("suppressed".into(), suppressed.into());
        event(level, message, Value::Object(fields));
    }
}

/// The JSON line for an event (what [`event`] writes), for sinks other than standard error.
pub fn line(level: &str, message: &str, fields: Value) -> String {
    let mut object = Map::new();
    object.insert("ts".into(), Value::String(timestamp(SystemTime::now())));
    object.insert("level".into(), Value::String(level.into()));
    object.insert("msg".into(), Value::String(message.into()));
    match fields {
        Value::Object(fields) => object.extend(fields),
        Value::Null => {}
        other => {
            object.insert("fields".into(), other);
        }
    }
    Value::Object(object).to_string()
}

/// `time` as RFC 3339 UTC with milliseconds (`2024-05-01T12:00:00.123Z`).
pub fn timestamp(time: SystemTime) -> String {
    let utc = time::OffsetDateTime::from(time);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
        utc.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2024-02-29 (a leap day) 13:14:15.678 UTC.
        let leap = UNIX_EPOCH + Duration::from_millis(1_709_212_455_678);
        assert_eq!(timestamp(leap), "2024-02-29T13:14:15.678Z");
    }

    #[test]
    fn lines_are_one_json_object_with_the_fields_inlined() {
        let text = line("info", "hello", serde_json::json!({"a": 1}));
        assert!(!text.contains('\n'));
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["level"], "info");
        assert_eq!(parsed["msg"], "hello");
        assert_eq!(parsed["a"], 1);
        assert!(parsed["ts"].as_str().unwrap().ends_with('Z'));
    }

    /// A sink that blocks until released, like a pipe nobody reads.
    struct Stuck(Arc<(Mutex<bool>, std::sync::Condvar)>, Arc<Mutex<Vec<u8>>>);

    impl Write for Stuck {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let (released, wake) = &*self.0;
            let mut open = released.lock().unwrap();
            while !*open {
                open = wake.wait(open).unwrap();
            }
            self.1.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_stream_drops_and_counts_lines_instead_of_blocking_and_keeps_order() {
        let gate = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let written = Arc::new(Mutex::new(Vec::new()));
        let writer = LineWriter::spawn("test", Stuck(gate.clone(), written.clone()), 4, 1 << 20);
        writer.write("line 000".into());
        // The thread takes it and blocks writing it.
        std::thread::sleep(Duration::from_millis(200));
        let started = Instant::now();
        for index in 1..=100 {
            writer.write(format!("line {index:03}"));
        }
        assert!(started.elapsed() < Duration::from_secs(5), "writes blocked");
        // Four lines queued (three if the thread had not taken the first yet): the rest dropped.
        assert!((96..=97).contains(&writer.dropped()), "{}", writer.dropped());
        assert!(!writer.flush(Duration::from_millis(50)));
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        assert!(writer.flush(Duration::from_secs(5)));
        let text = String::from_utf8(written.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[..2], ["line 000", "line 001"]);
        assert!(lines.windows(2).all(|pair| pair[0] < pair[1]), "{lines:?}");
        assert_eq!(lines.len() as u64 + writer.dropped(), 101);
    }

    #[test]
    fn throttled_events_count_what_they_suppress() {
        let throttled = Throttled::new(Duration::from_secs(3600));
        throttled.event("debug", "x", Value::Null);
        throttled.event("debug", "x", Value::Null);
        throttled.event("debug", "x", Value::Null);
        assert_eq!(throttled.state.lock().unwrap().1, 2);
    }
}
