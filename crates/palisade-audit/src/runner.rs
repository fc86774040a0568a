//! `palisade audit` without the command line: events from files, standard input or a followed
//! log, matched and handed to [`Delivery`].

use std::io::Read;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::delivery::Delivery;
use crate::engine::Engine;
use crate::fields::Event;
use crate::source::EventReader;

/// Inputs up to this size are read whole (they may be pretty-printed Events or EventLists);
/// larger ones are read as JSON lines in batches, so a huge log never has to fit in memory.
pub const WHOLE_INPUT: usize = 256 << 20;

/// Matches events and hands alerts to the sinks; counts what it saw.
pub struct Runner {
    /// Inputs up to this size are read whole ([`WHOLE_INPUT`]; smaller in tests).
    whole_input: usize,
    engine: Engine,
    delivery: Delivery,
    pub events: u64,
    pub alerts: u64,
    pub bad_inputs: u64,
}

impl Runner {
    pub fn new(engine: Engine, delivery: Delivery) -> Self {
        Self::with_whole_input(engine, delivery, WHOLE_INPUT)
    }

    fn with_whole_input(engine: Engine, delivery: Delivery, whole_input: usize) -> Self {
        Self { whole_input, engine, delivery, events: 0, alerts: 0, bad_inputs: 0 }
    }

    /// Matches the events in `text`; unreadable values are reported on standard error as
    /// `name:line:column: message`, lines counted from `first_line`.
    pub fn process_text(&mut self, name: &str, text: &str, first_line: u64) {
        let mut alerts = Vec::new();
        for item in EventReader::new(text) {
            match item {
                Ok(json) => {
                    self.events += 1;
                    let event = Event::new(json, self.events);
                    self.engine.process(&event, &mut alerts);
                    for alert in alerts.drain(..) {
                        self.alerts += 1;
                        self.delivery.deliver(&alert);
                    }
                }
                Err(e) => {
                    self.bad_inputs += 1;
                    eprintln!("{name}:{}:{}: {}", u64::from(e.line) + first_line, e.column, e.message);
                }
            }
        }
    }

    /// Reads `reader` whole when small, else in batches of complete lines.
    pub fn process_reader(&mut self, name: &str, mut reader: impl Read) -> Result<(), String> {
        let mut buffer = Vec::new();
        let mut lines_before = 0u64;
        loop {
            let read = (&mut reader).take(self.whole_input as u64).read_to_end(&mut buffer).map_err(|e| format!("{name}: {e}"))?;
            let at_end = read == 0 || buffer.len() < self.whole_input;
            let cut = if at_end { buffer.len() } else { buffer.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) };
            if cut == 0 && !at_end {
                return Err(format!("{name}: a line longer than {} bytes", self.whole_input));
            }
            let text = String::from_utf8_lossy(&buffer[..cut]);
            self.process_text(name, &text, lines_before);
            lines_before += buffer[..cut].iter().filter(|&&b| b == b'\n').count() as u64;
            buffer.drain(..cut);
            if at_end {
                return Ok(());
            }
        }
    }

    /// Follows `path` (see [`crate::follow`]). A batch's checkpoint is written only once every
    /// alert it raised was delivered or spooled; when one was lost the follower stops with an
    /// error and a restart reads that batch again.
    pub fn follow(&mut self, path: &Path, checkpoint: Option<&Path>, stop: &AtomicBool, poll: Duration) -> Result<(), String> {
        crate::follow::follow(path, checkpoint, stop, poll, |text, offset| {
            let lost_before = self.delivery.losses();
            // Line numbers restart at each batch; the batch's byte offset locates it in the log.
            self.process_text(&format!("{} (batch at byte {offset})", path.display()), text, 0);
            self.delivery.settle();
            let lost = self.delivery.losses() - lost_before;
            if lost > 0 {
                return Err(format!(
                    "{}: {lost} alert deliveries of the batch at byte {offset} failed; the checkpoint stays before it (a spool directory keeps undelivered alerts)",
                    path.display()
                ));
            }
            Ok(())
        })
    }

    /// Waits for delivery to finish (or `deadline`); returns the alert deliveries lost.
    pub fn finish(self, deadline: Instant) -> u64 {
        self.delivery.shutdown(deadline)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use palisade_server::metrics::Registry;

    use super::*;
    use crate::delivery::{DeliveryMetrics, DeliveryOptions};
    use crate::engine::Matching;

    fn runner(whole_input: usize) -> Runner {
        let rules = "- rule: R\n  desc: d\n  condition: ka.verb=get\n  output: o\n  priority: INFO\n  source: k8s_audit\n";
        let set = crate::rules::load(&[("r.yaml", rules)]).unwrap();
        let engine = Engine::new(set, Matching::All, "h".into());
        let metrics = Arc::new(DeliveryMetrics::register(&Registry::new(), false));
        let delivery = Delivery::start(Vec::new(), &DeliveryOptions::default(), metrics).unwrap();
        Runner::with_whole_input(engine, delivery, whole_input)
    }

    #[test]
    fn large_inputs_are_read_in_line_batches() {
        let mut text = String::new();
        for i in 0..50 {
            if i == 37 {
                text.push_str("{broken\n");
            }
            text.push_str(&format!("{{\"auditID\":\"{i}\",\"verb\":\"{}\"}}\n", if i % 2 == 0 { "get" } else { "list" }));
        }
        let mut small = runner(100);
        small.process_reader("big.log", text.as_bytes()).unwrap();
        let mut whole = runner(WHOLE_INPUT);
        whole.process_reader("big.log", text.as_bytes()).unwrap();
        assert_eq!((small.events, small.alerts, small.bad_inputs), (50, 25, 1));
        assert_eq!((whole.events, whole.alerts, whole.bad_inputs), (50, 25, 1));
        let mut tiny = runner(10);
        assert!(tiny.process_reader("big.log", text.as_bytes()).unwrap_err().contains("longer than 10 bytes"));
    }
}
