//! The writer thread: drains the capture bus into the store, batch by batch.
//!
//! It runs on its own OS thread, never on the proxy's runtime, and never makes publishers
//! wait (the bus queues for it without blocking, bounded in body bytes). When a write fails (disk full, file locked, read-only
//! for now) the batch stays queued in memory and is retried with backoff while new events keep
//! arriving; [`StoreHealth`] tells the UI the record is behind and why.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::backlog::{Admitted, Backlog};
use super::codec::{self, Effort};
use super::db::Store;
use super::error::StoreError;
use super::health::StoreHealth;
use super::held_starts::{HeldStarts, HOLD};
use crate::capture::{CaptureBus, CaptureEvent, ExchangeId, Interest, Received, Subscription};

#[derive(Debug, Clone, Copy)]
pub(super) struct WriterConfig {
    /// Events per transaction: large enough to amortise the commit, small enough that one
    /// slow transaction does not hold the lock for long.
    pub batch: usize,
    /// Bytes of body a transaction takes on at most (it always takes one event): keeps each
    /// pause between draining the bus short, so the bus never holds much: at 2 MiB, a proxy
    /// forwarding 200 KB requests back to back at 380 MB/s peaked at 48–58 MiB resident; at
    /// 512 KiB, 43–47 (with the bus's queue unbounded then; see [`QUEUED_BODY_BYTES`]).
    pub batch_bytes: usize,
    /// Events kept in memory while writes fail; beyond it the oldest are dropped.
    pub backlog_cap: usize,
    /// Bytes of body the backlog may hold. Events received beyond it are kept without their
    /// bodies (see [`StoreHealth::bodies_unrecorded`]).
    pub memory_budget: usize,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// How long to keep retrying after [`WriterHandle::join`] before giving up.
    pub shutdown_grace: Duration,
    /// Events waiting (received or still queued) beyond which bodies are compressed fast:
    /// memory held by the queue matters more than file size while the proxy outruns the disk.
    pub hurry_after: usize,
    /// Pause after a write that emptied the backlog. Bounds how late an exchange reaches the
    /// disk; under load it turns one wake-up and commit per event into one per pause.
    pub gather: Duration,
    /// How long a start alone in its batch waits for its finish (see `held_starts.rs`).
    pub hold_starts: Duration,
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            batch: 256,
            batch_bytes: 512 << 10,
            backlog_cap: 100_000,
            memory_budget: 8 << 20,
            first_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
            shutdown_grace: Duration::from_secs(5),
            gather: Duration::from_millis(5),
            hold_starts: HOLD,
            hurry_after: 64,
        }
    }
}

/// The running writer thread.
pub struct WriterHandle {
    thread: JoinHandle<Store>,
    health: Arc<StoreHealth>,
    shutting_down: Arc<AtomicBool>,
}

/// What is left when the writer has stopped.
#[derive(Debug)]
pub struct WriterExit {
    /// The store back, to end the session with; `None` only if the writer thread panicked.
    pub store: Option<Store>,
    /// Events that were never written (see [`StoreHealth::events_lost`]).
    pub events_lost: u64,
    /// The last write error, if there ever was one.
    pub last_error: Option<String>,
}

impl WriterHandle {
    pub fn health(&self) -> Arc<StoreHealth> {
        self.health.clone()
    }

    /// Waits until every publisher of the subscription is gone and everything received is
    /// written. Drop the bus (all its clones) first, or this waits forever. If writes are
    /// failing, retries stop after a bounded grace period and the rest is counted as lost.
    pub fn join(self) -> WriterExit {
        self.shutting_down.store(true, Ordering::Relaxed);
        let store = self.thread.join().ok();
        WriterExit {
            store,
            events_lost: self.health.events_lost(),
            last_error: self.health.last_error(),
        }
    }
}

/// Body bytes the bus may queue for the writer while it writes a transaction; past them, events
/// come without bodies. With the backlog's budget, this bounds what a burst faster than the disk
/// keeps in memory.
const QUEUED_BODY_BYTES: usize = 8 << 20;

/// The writer's subscription to `bus`: the events the record is made of, bounded in bytes.
pub fn subscribe_writer(bus: &CaptureBus) -> Subscription {
    bus.subscribe_with_byte_limit(Interest::Record, QUEUED_BODY_BYTES)
}

/// Starts the writer thread; it owns `store` until [`WriterHandle::join`] hands it back.
pub fn spawn_writer(store: Store, events: Subscription) -> WriterHandle {
    spawn_writer_with(store, events, WriterConfig::default())
}

pub(super) fn spawn_writer_with(
    store: Store,
    events: Subscription,
    config: WriterConfig,
) -> WriterHandle {
    let health = Arc::new(StoreHealth::default());
    let shutting_down = Arc::new(AtomicBool::new(false));
    let writer = Writer {
        store,
        events,
        config,
        health: health.clone(),
        shutting_down: shutting_down.clone(),
        backlog: Backlog::new(config.memory_budget),
        held: HeldStarts::new(config.hold_starts),
        backoff: config.first_backoff,
        give_up_at: None,
        burst_peak_bytes: 0,
        trim_when_idle: false,
        recently_unrecorded: VecDeque::new(),
    };
    WriterHandle {
        // Named so that `top -H` and profiles tell the store's work from the proxy's.
        thread: thread::Builder::new()
            .name("llmscope-store".into())
            .spawn(move || writer.run())
            // What `thread::spawn` does too: without a thread there is no recording.
            .expect("the store writer thread starts"),
        health,
        shutting_down,
    }
}

struct Writer {
    store: Store,
    events: Subscription,
    config: WriterConfig,
    health: Arc<StoreHealth>,
    shutting_down: Arc<AtomicBool>,
    /// Received events not yet committed, oldest first; only what the record is made of.
    backlog: Backlog,
    /// Starts taken off the backlog to wait a moment for their finish.
    held: HeldStarts,
    backoff: Duration,
    give_up_at: Option<Instant>,
    /// The most body bytes queued since the queue was last empty.
    burst_peak_bytes: usize,
    /// A burst was written; freed memory goes back once no event comes for [`TRIM_IDLE`].
    trim_when_idle: bool,
    /// Exchanges lately queued without their bodies, so each counts once.
    recently_unrecorded: VecDeque<ExchangeId>,
}

/// A queue this deep means a burst the writer fell behind on; once it is written and the
/// proxy has been quiet for [`TRIM_IDLE`], freed memory goes back to the system.
const TRIM_AFTER_QUEUED_BYTES: usize = 4 << 20;
/// Quiet time before trimming: trimming while large bodies keep coming would only make each
/// new one fault its pages in again.
const TRIM_IDLE: Duration = Duration::from_secs(1);

/// A burst of large bodies leaves glibc's heap fragmented: its free pages stay resident (≈30
/// MiB after 1,000 back-to-back 200 KB requests) until trimmed. Trimming once such a burst is
/// written gives them back without slowing ordinary traffic (a low fixed mmap threshold did
/// the same but made every large body fault in fresh pages: +3 ms on a 2 MiB exchange).
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory held by the allocator; it takes the
    // allocator's own locks and touches no memory in use.
    unsafe {
        libc::malloc_trim(0);
    }
}

impl Writer {
    fn run(mut self) -> Store {
        loop {
            if self.backlog.is_empty() {
                let next = if !self.held.is_empty() {
                    self.next_event_within(self.held.hold())
                } else if self.trim_when_idle {
                    self.next_event_within(TRIM_IDLE)
                } else {
                    self.events.blocking_recv_noting_shed()
                };
                match next {
                    Some(event) => self.accept(event),
                    // Nothing came: the held starts are due, or shutdown flushes them.
                    None if !self.held.is_empty() => {}
                    None if self.trim_when_idle => {
                        self.trim_when_idle = false;
                        return_freed_memory();
                        continue;
                    }
                    None => break,
                }
            }
            // Everything queued comes in now, so the budget, not the bus, bounds memory.
            self.accept_ready(usize::MAX);
            self.burst_peak_bytes = self.burst_peak_bytes.max(self.backlog.bytes());
            let shutting_down = self.shutting_down.load(Ordering::Relaxed);
            if self.backlog.is_empty() && !(shutting_down || self.held.any_due(Instant::now())) {
                continue;
            }
            let behind = self.backlog.len() + self.events.pending();
            codec::set_effort(if behind > self.config.hurry_after {
                Effort::Hurried
            } else {
                Effort::Normal
            });
            if let Err(err) = self.write_front(shutting_down) {
                self.handle_failure(err);
            } else if self.backlog.is_empty() && !shutting_down {
                if std::mem::take(&mut self.burst_peak_bytes) >= TRIM_AFTER_QUEUED_BYTES {
                    self.trim_when_idle = true;
                }
                // Group commit: a busy proxy's events gather for the next transaction instead
                // of each one waking this thread.
                thread::sleep(self.config.gather);
            }
            self.health
                .set_backlog(self.backlog.len() + self.held.len());
        }
        self.store
    }

    /// The next event if one comes within `wait`; `None` when none did, or when shutting
    /// down (the caller then takes the blocking path, which ends with the bus).
    fn next_event_within(&mut self, wait: Duration) -> Option<Received> {
        const POLL: Duration = Duration::from_millis(25);
        let deadline = Instant::now() + wait;
        loop {
            if let Some(got) = self.events.try_recv_noting_shed() {
                return Some(got);
            }
            if Instant::now() >= deadline || self.shutting_down.load(Ordering::Relaxed) {
                return None;
            }
            thread::sleep(POLL);
        }
    }

    fn accept(&mut self, Received { event, bodies_shed }: Received) {
        if !matches!(
            event,
            CaptureEvent::Started(_)
                | CaptureEvent::Finished(_)
                | CaptureEvent::HoldEnded { .. }
                | CaptureEvent::RulesChanged { .. }
        ) {
            return;
        }
        if self.backlog.len() >= self.config.backlog_cap {
            self.backlog.pop_front();
            self.health.lost(1);
        }
        let id = event.exchange_id();
        if self.backlog.push(event) == Admitted::WithoutBodies || bodies_shed {
            self.count_unrecorded(id);
        }
    }

    /// Counts an exchange whose bodies were left out, once even when both its start and its
    /// finish were.
    fn count_unrecorded(&mut self, id: Option<ExchangeId>) {
        const REMEMBERED: usize = 256;
        if id.is_some_and(|id| self.recently_unrecorded.contains(&id)) {
            return;
        }
        if let Some(id) = id {
            if self.recently_unrecorded.len() >= REMEMBERED {
                self.recently_unrecorded.pop_front();
            }
            self.recently_unrecorded.push_back(id);
        }
        self.health.unrecorded();
    }

    fn accept_ready(&mut self, limit: usize) {
        for _ in 0..limit {
            match self.events.try_recv_noting_shed() {
                Some(got) => self.accept(got),
                None => break,
            }
        }
    }

    /// Writes the front of the backlog, holding back lone starts for their finish (none when
    /// `flush`) and writing the held ones that are due.
    fn write_front(&mut self, flush: bool) -> Result<(), StoreError> {
        let batch = self
            .backlog
            .front_batch(self.config.batch, self.config.batch_bytes);
        let n = batch.len();
        let now = Instant::now();
        let plan = self.held.plan(batch, now, flush);
        let written = if plan.events.is_empty() {
            0
        } else {
            self.store.record_events(&plan.events)?
        };
        self.backlog.drop_front(n);
        self.held.apply(plan, now);
        self.health.wrote(written);
        self.backoff = self.config.first_backoff;
        Ok(())
    }

    fn handle_failure(&mut self, err: StoreError) {
        if !err.is_transient() {
            self.write_one_at_a_time();
            return;
        }
        self.health.failed(&err, true);
        let wait = match self.shutdown_time_left() {
            Some(left) if left.is_zero() => {
                self.health.lost(self.backlog.len() + self.held.clear());
                self.backlog.clear();
                return;
            }
            Some(left) => self.backoff.min(left),
            None => self.backoff,
        };
        thread::sleep(wait);
        self.backoff = (self.backoff * 2).min(self.config.max_backoff);
        // The bus queues without bound; pulling events in here is what lets the cap apply.
        self.accept_ready(usize::MAX);
    }

    /// A batch failed for a reason retrying will not fix: write its events one by one so a
    /// single unwritable event costs only itself.
    fn write_one_at_a_time(&mut self) {
        let n = self.backlog.len().min(self.config.batch);
        for _ in 0..n {
            let Some(event) = self.backlog.front() else {
                break;
            };
            match self.store.record_events(std::slice::from_ref(event)) {
                Ok(written) => self.health.wrote(written),
                // The ordinary retry path takes over from this event on.
                Err(err) if err.is_transient() => {
                    self.health.failed(&err, true);
                    return;
                }
                Err(err) => {
                    self.health.failed(&err, false);
                    self.health.lost(1);
                }
            }
            self.backlog.pop_front();
        }
    }

    /// `None` while running normally; once shutdown began, how much of the grace is left.
    fn shutdown_time_left(&mut self) -> Option<Duration> {
        if !self.shutting_down.load(Ordering::Relaxed) {
            return None;
        }
        let grace = self.config.shutdown_grace;
        let deadline = *self
            .give_up_at
            .get_or_insert_with(|| Instant::now() + grace);
        Some(deadline.saturating_duration_since(Instant::now()))
    }
}
