//! `palisade audit` without the command line: events from files, standard input or a followed
//! log, matched and handed to [`Delivery`].

use std::io::Read;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::delivery::Delivery;
use crate::engine::{Alert, Engine};
use crate::fields::Event;
use crate::source::EventReader;

/// Inputs are read in blocks of this size, and matched block by block, so memory stays the
/// same whatever the size of the log.
pub const BLOCK: usize = 1 << 20;

/// The longest JSON value read: a line, a pretty-printed Event or a whole EventList. A longer
/// one is reported and skipped to the end of its line, so a hostile input cannot grow the
/// buffer without end. (The API server's own events stay far below it.)
pub const LONGEST_VALUE: usize = 64 << 20;

/// A block is matched on every core in pieces of about this size (at line ends), so that each
/// core has several pieces and an uneven one does not hold the others up.
const PIECE: usize = 16 << 10;

/// Matches events and hands alerts to the sinks; counts what it saw.
pub struct Runner {
    /// Whether blocks are matched on every core (more than one, and no rule reads `evt.num`).
    parallel: bool,
    /// [`BLOCK`] and [`LONGEST_VALUE`] (smaller in tests).
    block: usize,
    longest_value: usize,
    engine: Engine,
    delivery: Delivery,
    pub events: u64,
    pub alerts: u64,
    pub bad_inputs: u64,
}

impl Runner {
    pub fn new(engine: Engine, delivery: Delivery) -> Self {
        Self::with_limits(engine, delivery, BLOCK, LONGEST_VALUE)
    }

    fn with_limits(engine: Engine, delivery: Delivery, block: usize, longest_value: usize) -> Self {
        let parallel = rayon::current_num_threads() > 1 && !engine.numbers_events();
        Self { parallel, block, longest_value, engine, delivery, events: 0, alerts: 0, bad_inputs: 0 }
    }

    /// Whether blocks are matched on every core; by default they are when there is more than one
    /// core and no rule reads `evt.num`. Either way the alerts are the same, in the same order.
    pub fn with_parallel(mut self, parallel: bool) -> Self {
        self.parallel = parallel && !self.engine.numbers_events();
        self
    }

    /// Matches the events in `text`; unreadable values are reported on standard error as
    /// `name:line:column: message`, lines counted from `first_line`.
    pub fn process_text(&mut self, name: &str, text: &str, first_line: u64) {
        self.process_block(name, text, first_line, false);
    }

    /// Matches the events of one block of text (all of it, or with `partial` up to a value it
    /// ends in the middle of) and returns how many bytes were read.
    fn process_block(&mut self, name: &str, text: &str, first_line: u64, partial: bool) -> usize {
        if self.parallel && text.len() > PIECE {
            if let Some(read) = self.process_in_parallel(text, partial) {
                return read;
            }
        }
        let reader = if partial { EventReader::partial(text) } else { EventReader::new(text) };
        self.process_events(name, reader, first_line)
    }

    /// Matches the block's pieces on every core, then delivers their alerts in input order:
    /// the same alerts, in the same order, as one core would give. `None` (nothing delivered)
    /// when a piece holds a value that does not parse or a value runs from one piece into the
    /// next (a pretty-printed document): the block is then read in order, which reports errors
    /// with their positions.
    fn process_in_parallel(&mut self, text: &str, partial: bool) -> Option<usize> {
        let pieces = pieces(text);
        let last = pieces.len() - 1;
        let engine = &self.engine;
        let matched: Vec<Option<(u64, Vec<Alert>, usize)>> = pieces
            .par_iter()
            .enumerate()
            .map(|(index, piece)| {
                let mut reader = EventReader::partial(piece);
                let (mut events, mut alerts) = (0, Vec::new());
                for item in reader.by_ref() {
                    events += 1;
                    // No rule reads `evt.num` (see `parallel`): the number changes nothing.
                    engine.process(&Event::new(item.ok()?, 0), &mut alerts);
                }
                let read = reader.read_up_to();
                (read == piece.len() || (partial && index == last)).then_some((events, alerts, read))
            })
            .collect();
        let matched: Vec<(u64, Vec<Alert>, usize)> = matched.into_iter().collect::<Option<_>>()?;
        let mut read = 0;
        for (events, alerts, piece_read) in matched {
            self.events += events;
            for alert in alerts {
                self.alerts += 1;
                self.delivery.deliver(&alert);
            }
            read += piece_read;
        }
        Some(read)
    }

    /// Matches what `reader` reads and returns how many bytes of its text that was.
    fn process_events(&mut self, name: &str, mut reader: EventReader<'_>, first_line: u64) -> usize {
        let mut alerts = Vec::new();
        for item in reader.by_ref() {
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
        reader.read_up_to()
    }

    /// Reads `reader` block by block (see [`BLOCK`]): each block's complete values are matched
    /// before the next is read; a value a block ends in (a long line, a pretty-printed Event or
    /// EventList) waits for the blocks that complete it, up to [`LONGEST_VALUE`].
    pub fn process_reader(&mut self, name: &str, mut reader: impl Read) -> Result<(), String> {
        let mut buffer = Vec::with_capacity(self.block);
        let mut lines_before = 0u64;
        let mut at_end = false;
        // Inside a value longer than the longest accepted: dropped up to the end of its line.
        let mut skipping = false;
        while !(at_end && buffer.is_empty()) {
            if !at_end {
                let read = (&mut reader).take(self.block as u64).read_to_end(&mut buffer).map_err(|e| format!("{name}: {e}"))?;
                at_end = read == 0;
            }
            if skipping {
                let end = memchr::memchr(b'\n', &buffer).map_or(buffer.len(), |at| at + 1);
                lines_before += memchr::memchr_iter(b'\n', &buffer[..end]).count() as u64;
                skipping = end == buffer.len() && buffer.last() != Some(&b'\n') && !at_end;
                buffer.drain(..end);
                continue;
            }
            // Only whole lines, so that no value is cut inside a line.
            let cut = if at_end { buffer.len() } else { memchr::memrchr(b'\n', &buffer).map_or(0, |at| at + 1) };
            let read = match std::str::from_utf8(&buffer[..cut]) {
                Ok(text) => self.process_block(name, text, lines_before, !at_end),
                // Invalid bytes become U+FFFD, which moves offsets: the block is read to its end,
                // and a value it ends in is reported unfinished.
                Err(_) => {
                    self.process_text(name, &String::from_utf8_lossy(&buffer[..cut]), lines_before);
                    cut
                }
            };
            if read == 0 && buffer.len() > self.longest_value {
                self.bad_inputs += 1;
                eprintln!("{name}:{}:1: a JSON value longer than {} bytes: skipped to the end of its line", lines_before + 1, self.longest_value);
                skipping = true;
                continue;
            }
            lines_before += memchr::memchr_iter(b'\n', &buffer[..read]).count() as u64;
            buffer.drain(..read);
        }
        Ok(())
    }

    /// Follows `path` (see [`crate::follow`]). A batch's checkpoint is written only once every
    /// alert it raised was delivered or spooled; when one was lost the follower stops with an
    /// error and a restart reads that batch again. `outputs`, the sinks' alert files, are
    /// committed with the checkpoint, so they get each alert once.
    pub fn follow(&mut self, path: &Path, checkpoint: Option<&Path>, stop: &AtomicBool, poll: Duration, outputs: &[crate::follow::Output]) -> Result<(), String> {
        crate::follow::follow(path, checkpoint, stop, poll, outputs, |text, offset| {
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

/// `text` cut after line ends into pieces of about [`PIECE`] bytes.
fn pieces(text: &str) -> Vec<&str> {
    let mut pieces = Vec::with_capacity(text.len() / PIECE + 1);
    let mut rest = text;
    while rest.len() > PIECE {
        let Some(end) = memchr::memchr(b'\n', &rest.as_bytes()[PIECE..]) else { break };
        let (piece, after) = rest.split_at(PIECE + end + 1);
        pieces.push(piece);
        rest = after;
    }
    if !rest.is_empty() || pieces.is_empty() {
        pieces.push(rest);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use palisade_server::metrics::Registry;

    use super::*;
    use crate::delivery::{DeliveryMetrics, DeliveryOptions};
    use crate::engine::Matching;

    fn runner(block: usize, longest_value: usize) -> Runner {
        let rules = "- rule: R\n  desc: d\n  condition: ka.verb=get\n  output: o\n  priority: INFO\n  source: k8s_audit\n";
        let set = crate::rules::load(&[("r.yaml", rules)]).unwrap();
        let engine = Engine::new(set, Matching::All, "h".into());
        let metrics = Arc::new(DeliveryMetrics::register(&Registry::new(), false));
        let delivery = Delivery::start(Vec::new(), &DeliveryOptions::default(), metrics).unwrap();
        Runner::with_limits(engine, delivery, block, longest_value)
    }

    fn counts(runner: &Runner) -> (u64, u64, u64) {
        (runner.events, runner.alerts, runner.bad_inputs)
    }

    #[test]
    fn blocks_of_any_size_read_what_a_whole_read_reads() {
        let mut text = String::new();
        for i in 0..50 {
            match i {
                // A bad line, a pretty-printed Event and an EventList spanning many blocks.
                37 => text.push_str("{broken\n"),
                20 => text.push_str("{\n  \"auditID\": \"pretty\",\n  \"verb\": \"get\"\n}\n"),
                30 => text.push_str("{\"kind\":\"EventList\",\n \"items\":[{\"auditID\":\"l1\",\"verb\":\"get\"},\n {\"auditID\":\"l2\",\"verb\":\"list\"}]}\n"),
                _ => {}
            }
            text.push_str(&format!("{{\"auditID\":\"{i}\",\"verb\":\"{}\"}}\n", if i % 2 == 0 { "get" } else { "list" }));
        }
        let mut whole = runner(BLOCK, LONGEST_VALUE);
        whole.process_reader("big.log", text.as_bytes()).unwrap();
        assert_eq!(counts(&whole), (53, 27, 1));
        for block in [1, 7, 64, 1000] {
            let mut small = runner(block, LONGEST_VALUE);
            small.process_reader("big.log", text.as_bytes()).unwrap();
            assert_eq!(counts(&small), counts(&whole), "blocks of {block} bytes");
        }
    }

    #[test]
    fn a_value_longer_than_the_longest_is_skipped_to_the_end_of_its_line() {
        let long = format!("{{\"auditID\":\"long\",\"verb\":\"get\",\"pad\":\"{}\"}}", "x".repeat(500));
        let text = format!("{{\"auditID\":\"a\",\"verb\":\"get\"}}\n{long}\n{{\"auditID\":\"b\",\"verb\":\"get\"}}\n");
        // Blocks are smaller than the longest value, as they are outside tests.
        for block in [16, 100, 150] {
            let mut runner = runner(block, 200);
            runner.process_reader("big.log", text.as_bytes()).unwrap();
            assert_eq!(counts(&runner), (2, 2, 1), "blocks of {block} bytes");
        }
    }
}
