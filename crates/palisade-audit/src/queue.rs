//! The receiver's queue of accepted batches, bounded in events and in bytes, with a bounded
//! share per client so one client (a forger, a runaway replica) cannot fill it and push the API
//! server's batches out.
//!
//! A batch holds its room from [`Queue::push`] until the matching thread
//! [`release`](Queue::release)s it after matching, so the bound covers the batch being matched
//! too.

use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::batch::Room;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub events: usize,
    pub bytes: usize,
    /// The part of both limits one client may hold, in (0, 1].
    pub client_share: f64,
}

/// An accepted batch waiting for matching.
pub struct Queued {
    pub client: String,
    pub events: Vec<Box<str>>,
    pub bytes: usize,
}

/// Why a batch was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The whole queue is full.
    Full,
    /// This client holds its whole share.
    ClientShare,
    /// Shutting down.
    Closed,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Full => "queue_full",
            Refusal::ClientShare => "client_share",
            Refusal::Closed => "shutting_down",
        }
    }
}

#[derive(Default, Clone, Copy)]
struct Usage {
    events: usize,
    bytes: usize,
}

#[derive(Default)]
struct State {
    batches: VecDeque<Queued>,
    total: Usage,
    clients: HashMap<String, Usage>,
    closed: bool,
}

pub struct Queue {
    limits: Limits,
    state: Mutex<State>,
    arrived: Condvar,
}

impl Queue {
    pub fn new(limits: Limits) -> Self {
        Self { limits, state: Mutex::new(State::default()), arrived: Condvar::new() }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn client_limit(&self) -> Usage {
        let share = self.limits.client_share.clamp(f64::MIN_POSITIVE, 1.0);
        Usage {
            events: ((self.limits.events as f64 * share).ceil() as usize).max(1),
            bytes: ((self.limits.bytes as f64 * share).ceil() as usize).max(1),
        }
    }

    /// What `client` may still queue, and what limits it (for the refusal when it is nothing).
    pub fn room(&self, client: &str) -> (Room, Refusal) {
        let state = self.lock();
        let used = state.clients.get(client).copied().unwrap_or_default();
        let limit = self.client_limit();
        let overall = Room {
            events: self.limits.events.saturating_sub(state.total.events),
            bytes: self.limits.bytes.saturating_sub(state.total.bytes),
        };
        let mine = Room { events: limit.events.saturating_sub(used.events), bytes: limit.bytes.saturating_sub(used.bytes) };
        let refusal = if mine.events < overall.events || mine.bytes < overall.bytes { Refusal::ClientShare } else { Refusal::Full };
        (Room { events: overall.events.min(mine.events), bytes: overall.bytes.min(mine.bytes) }, refusal)
    }

    /// Queues a batch if it still fits (another request may have taken the room meanwhile).
    pub fn push(&self, batch: Queued) -> Result<(), Refusal> {
        let mut state = self.lock();
        if state.closed {
            return Err(Refusal::Closed);
        }
        let used = state.clients.get(&batch.client).copied().unwrap_or_default();
        let limit = self.client_limit();
        if used.events + batch.events.len() > limit.events || used.bytes + batch.bytes > limit.bytes {
            return Err(Refusal::ClientShare);
        }
        if state.total.events + batch.events.len() > self.limits.events || state.total.bytes + batch.bytes > self.limits.bytes {
            return Err(Refusal::Full);
        }
        let usage = state.clients.entry(batch.client.clone()).or_default();
        usage.events += batch.events.len();
        usage.bytes += batch.bytes;
        state.total.events += batch.events.len();
        state.total.bytes += batch.bytes;
        state.batches.push_back(batch);
        self.arrived.notify_one();
        Ok(())
    }

    /// The next batch; `None` once the queue is closed and empty.
    pub fn pop(&self) -> Option<Queued> {
        let mut state = self.lock();
        loop {
            if let Some(batch) = state.batches.pop_front() {
                return Some(batch);
            }
            if state.closed {
                return None;
            }
            state = self.arrived.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Gives back the room a popped batch held.
    pub fn release(&self, client: &str, events: usize, bytes: usize) {
        let mut state = self.lock();
        state.total.events -= events;
        state.total.bytes -= bytes;
        if let Some(usage) = state.clients.get_mut(client) {
            usage.events -= events;
            usage.bytes -= bytes;
            if usage.events == 0 && usage.bytes == 0 {
                state.clients.remove(client);
            }
        }
    }

    /// Refuses new batches; [`pop`](Self::pop) returns what is queued, then `None`.
    pub fn close(&self) {
        self.lock().closed = true;
        self.arrived.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(client: &str, events: usize, bytes: usize) -> Queued {
        Queued { client: client.into(), events: (0..events).map(|_| "{}".into()).collect(), bytes }
    }

    #[test]
    fn bounded_in_events_bytes_and_per_client() {
        let queue = Queue::new(Limits { events: 10, bytes: 1000, client_share: 0.5 });
        assert_eq!(queue.room("forger").0.events, 5);
        queue.push(batch("forger", 5, 10)).unwrap();
        assert_eq!(queue.push(batch("forger", 1, 1)), Err(Refusal::ClientShare));
        assert_eq!(queue.room("forger"), (Room { events: 0, bytes: 490 }, Refusal::ClientShare));
        // The API server still has its share.
        queue.push(batch("apiserver", 4, 400)).unwrap();
        assert_eq!(queue.push(batch("apiserver", 1, 200)), Err(Refusal::ClientShare));
        assert_eq!(queue.push(batch("third", 2, 10)), Err(Refusal::Full));
        let third = queue.push(batch("third", 1, 590));
        assert_eq!(third, Err(Refusal::ClientShare));
        queue.push(batch("third", 1, 100)).unwrap();
        assert_eq!(queue.room("anyone else").0, Room { events: 0, bytes: 490 });
        let first = queue.pop().unwrap();
        assert_eq!(first.client, "forger");
        // Room comes back only once matching released it.
        assert_eq!(queue.room("forger").0.events, 0);
        queue.release(&first.client, first.events.len(), first.bytes);
        assert_eq!(queue.room("forger").0.events, 5);
        queue.close();
        assert_eq!(queue.push(batch("x", 1, 1)), Err(Refusal::Closed));
        assert!(queue.pop().is_some());
        assert!(queue.pop().is_some());
        assert!(queue.pop().is_none());
    }
}
