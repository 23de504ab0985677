//! Fan-out of capture events to subscribers (the store, the TUI, `record`'s printer).
//!
//! Publishing never waits: each subscriber has its own unbounded queue, and when a subscriber
//! falls behind by more than its limit, droppable events (live body chunks) are skipped for it
//! and counted. Lifecycle events are always delivered, so the record is never missing an
//! exchange even when a consumer is slow.
//!
//! A subscriber may also have a limit on the body bytes it has queued (the store's writer, which
//! pauses to write each transaction): past it, events reach it without their bodies, which
//! keeps what a burst leaves queued bounded while every exchange still reaches the record. An
//! event larger than the limit on its own still goes whole while the queue is under the limit.
//!
//! A [`Tap`] is the other kind of listener: it sees each event inline, as it is published.
//! It is for observers that only update a small index in memory (the records the store has
//! yet to write, the requests paused by intercept), which a queue and a task of their own
//! would cost a wake-up, often of another thread, on every event.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use tokio::sync::mpsc;

use super::CaptureEvent;

/// How many queued events a subscriber may lag behind before chunks are skipped for it.
const DEFAULT_LAG_LIMIT: usize = 4096;

struct Subscriber {
    tx: mpsc::UnboundedSender<Delivery>,
    queued: Arc<Queued>,
    lag_limit: usize,
    /// Body bytes the subscriber may have queued before events reach it without bodies.
    body_byte_limit: Option<usize>,
    interest: Interest,
}

/// What has been sent to a subscription and not yet read from it.
#[derive(Default)]
struct Queued {
    events: AtomicUsize,
    /// Body bytes of those events, kept only for a subscription with a byte limit. Added under
    /// the bus's lock by the one publisher at a time, taken off by the one reader.
    body_bytes: AtomicUsize,
}

/// An event as queued for one subscriber.
struct Delivery {
    event: CaptureEvent,
    /// Its bodies were left out: the subscriber's byte limit was reached.
    bodies_shed: bool,
}

/// What [`Subscription::try_recv_noting_shed`] hands out.
pub struct Received {
    pub event: CaptureEvent,
    /// The event came without its bodies, because the subscription's queue held more body
    /// bytes than its limit when it was published.
    pub bodies_shed: bool,
}

/// Which events a subscriber receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Everything, live reply heads and body chunks included (screens that show streams).
    Everything,
    /// Only what the record is made of: every event except live reply heads and chunks, which
    /// `Finished` repeats in full. Keeps a busy proxy from queueing (and waking) the store
    /// for every chunk.
    Record,
    /// How exchanges ended and which were paused (`Finished`, `Intercepted`): what a log of
    /// outcomes prints. Its reader is not woken by the start of every request.
    Outcomes,
}

impl Interest {
    fn wants(self, event: &CaptureEvent) -> bool {
        match self {
            Self::Everything => true,
            Self::Record => !event.is_live_detail(),
            Self::Outcomes => matches!(
                event,
                CaptureEvent::Finished(_) | CaptureEvent::Intercepted { .. }
            ),
        }
    }
}

/// An observer called inline by [`CaptureBus::publish`], under the bus's lock, in the order
/// events are published. It must be quick and must never wait: it runs on the forwarding
/// tasks.
pub trait Tap: Send + Sync {
    fn observe(&self, event: &CaptureEvent);
}

/// Who hears the bus.
#[derive(Default)]
struct Listeners {
    subscribers: Vec<Subscriber>,
    /// Held weakly: a tap's owner dropping it is what removes it.
    taps: Vec<Weak<dyn Tap>>,
}

#[derive(Default)]
struct Counters {
    published: AtomicU64,
    /// `Finished` events published, counted under the subscribers' lock so a subscription can
    /// be told exactly how many came before it.
    finished: AtomicU64,
    chunks_skipped: AtomicU64,
    bodies_shed: AtomicU64,
    /// Subscribers of [`Interest::Everything`] not yet found closed.
    live_subscribers: AtomicUsize,
}

/// Cheap to clone; all clones publish to the same subscribers.
#[derive(Clone, Default)]
pub struct CaptureBus {
    listeners: Arc<Mutex<Listeners>>,
    counters: Arc<Counters>,
}

/// Counts for a status line: how much was published and how much live detail was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusStats {
    pub published: u64,
    pub chunks_skipped: u64,
    /// Events sent to a byte-limited subscriber without their bodies.
    pub bodies_shed: u64,
}

/// Whether an event with `bytes` of bodies may join, whole, a queue already holding `queued`
/// under a bound of `limit`. An event larger than the bound on its own joins while the queue
/// is under it: otherwise an exchange over it (a 12 MiB reply, a request full of images)
/// would never be recorded with its bodies, however idle the reader. What is queued stays
/// bounded by the limit plus one such event. The store's backlog keeps the same rule.
pub fn within_byte_limit(queued: usize, bytes: usize, limit: usize) -> bool {
    bytes == 0 || queued.saturating_add(bytes) <= limit || (bytes > limit && queued < limit)
}

impl CaptureBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a subscriber that receives every event published from now on.
    pub fn subscribe(&self) -> Subscription {
        self.subscribe_to(Interest::Everything)
    }

    /// Adds a subscriber that receives the events of `interest` published from now on.
    pub fn subscribe_to(&self, interest: Interest) -> Subscription {
        self.add_subscriber(DEFAULT_LAG_LIMIT, None, interest).0
    }

    /// Like [`subscribe_to`](Self::subscribe_to), for a reader that pauses: once the events
    /// queued for it hold `body_byte_limit` bytes of bodies, later ones come without theirs
    /// (see [`CaptureEvent::without_bodies`]) until it catches up.
    pub fn subscribe_with_byte_limit(
        &self,
        interest: Interest,
        body_byte_limit: usize,
    ) -> Subscription {
        self.add_subscriber(DEFAULT_LAG_LIMIT, Some(body_byte_limit), interest)
            .0
    }

    pub fn subscribe_with_lag_limit(&self, lag_limit: usize) -> Subscription {
        self.add_subscriber(lag_limit, None, Interest::Everything).0
    }

    /// Like [`subscribe_to`](Self::subscribe_to), also saying how many `Finished` events were
    /// published before it: the subscription receives every later one and none of those.
    pub fn subscribe_counting_finished(
        &self,
        lag_limit: usize,
        interest: Interest,
    ) -> (Subscription, u64) {
        self.add_subscriber(lag_limit, None, interest)
    }

    fn add_subscriber(
        &self,
        lag_limit: usize,
        body_byte_limit: Option<usize>,
        interest: Interest,
    ) -> (Subscription, u64) {
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(Queued::default());
        let mut listeners = self.lock();
        let finished_before = self.counters.finished.load(Ordering::Relaxed);
        if interest == Interest::Everything {
            self.counters
                .live_subscribers
                .fetch_add(1, Ordering::Relaxed);
        }
        listeners.subscribers.push(Subscriber {
            tx,
            queued: queued.clone(),
            lag_limit,
            body_byte_limit,
            interest,
        });
        let subscription = Subscription {
            rx,
            queued,
            counts_bytes: body_byte_limit.is_some(),
        };
        (subscription, finished_before)
    }

    /// Adds the tap `make` builds, which observes every event published from now on until it
    /// is dropped. `make` is told how many `Finished` events were published before it, as
    /// [`subscribe_counting_finished`](Self::subscribe_counting_finished) tells a
    /// subscription; it runs under the bus's lock, so no event falls between the two.
    pub fn tap<T: Tap + 'static>(&self, make: impl FnOnce(u64) -> Arc<T>) -> Arc<T> {
        let mut listeners = self.lock();
        let tap = make(self.counters.finished.load(Ordering::Relaxed));
        let weak = Arc::downgrade(&tap);
        listeners.taps.push(weak);
        tap
    }

    /// Delivers `event` to every live subscriber without waiting.
    pub fn publish(&self, event: CaptureEvent) {
        self.counters.published.fetch_add(1, Ordering::Relaxed);
        let mut listeners = self.lock();
        if matches!(event, CaptureEvent::Finished(_)) {
            self.counters.finished.fetch_add(1, Ordering::Relaxed);
        }
        listeners.taps.retain(|tap| match tap.upgrade() {
            Some(tap) => {
                tap.observe(&event);
                true
            }
            None => false,
        });
        listeners.subscribers.retain(|sub| {
            if !sub.interest.wants(&event) {
                // A closed receiver is noticed at the next event it wants.
                return true;
            }
            let lagging = sub.queued.events.load(Ordering::Relaxed) >= sub.lag_limit;
            if lagging && event.is_droppable() {
                self.counters.chunks_skipped.fetch_add(1, Ordering::Relaxed);
                return true;
            }
            let Some(delivery) = self.delivery_for(sub, &event) else {
                return true;
            };
            sub.queued.events.fetch_add(1, Ordering::Relaxed);
            let open = sub.tx.send(delivery).is_ok();
            if !open && sub.interest == Interest::Everything {
                self.counters
                    .live_subscribers
                    .fetch_sub(1, Ordering::Relaxed);
            }
            open
        });
    }

    /// `event` as `sub` gets it: without its bodies when they would take its queue past its
    /// byte limit, or nothing for a live chunk then.
    fn delivery_for(&self, sub: &Subscriber, event: &CaptureEvent) -> Option<Delivery> {
        let Some(limit) = sub.body_byte_limit else {
            return Some(Delivery {
                event: event.clone(),
                bodies_shed: false,
            });
        };
        let bytes = event.body_bytes();
        let queued = sub.queued.body_bytes.load(Ordering::Relaxed);
        let fits = within_byte_limit(queued, bytes, limit);
        let delivery = if fits {
            Delivery {
                event: event.clone(),
                bodies_shed: false,
            }
        } else if event.is_droppable() {
            self.counters.chunks_skipped.fetch_add(1, Ordering::Relaxed);
            return None;
        } else {
            self.counters.bodies_shed.fetch_add(1, Ordering::Relaxed);
            Delivery {
                event: event.without_bodies(),
                bodies_shed: true,
            }
        };
        // What is sent is what the reader takes off again, whatever was left in it.
        sub.queued
            .body_bytes
            .fetch_add(delivery.event.body_bytes(), Ordering::Relaxed);
        Some(delivery)
    }

    /// Whether anyone receives live reply heads and chunks. When nobody does (`record`: only
    /// the store and the log), the relay skips building them.
    pub fn wants_live_detail(&self) -> bool {
        self.counters.live_subscribers.load(Ordering::Relaxed) > 0
    }

    /// Ends every subscription once its queued events are read. Publishing after this reaches
    /// nobody; used at shutdown so consumers can drain and stop even while idle keep-alive
    /// connections still hold clones of the bus.
    pub fn close(&self) {
        self.lock().subscribers.clear();
        self.counters.live_subscribers.store(0, Ordering::Relaxed);
    }

    pub fn stats(&self) -> BusStats {
        BusStats {
            published: self.counters.published.load(Ordering::Relaxed),
            chunks_skipped: self.counters.chunks_skipped.load(Ordering::Relaxed),
            bodies_shed: self.counters.bodies_shed.load(Ordering::Relaxed),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Listeners> {
        // A panic while holding this lock cannot leave the lists inconsistent, so poisoning is
        // safe to ignore.
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The receiving end for one subscriber. Dropping it unsubscribes.
pub struct Subscription {
    rx: mpsc::UnboundedReceiver<Delivery>,
    queued: Arc<Queued>,
    counts_bytes: bool,
}

impl Subscription {
    /// The next event, or `None` once every publisher is gone.
    pub async fn recv(&mut self) -> Option<CaptureEvent> {
        let delivery = self.rx.recv().await;
        self.received(delivery).map(|got| got.event)
    }

    /// Blocking variant for subscribers that run on their own thread (the store writer).
    pub fn blocking_recv(&mut self) -> Option<CaptureEvent> {
        self.blocking_recv_noting_shed().map(|got| got.event)
    }

    /// [`blocking_recv`](Self::blocking_recv), saying whether the event's bodies were shed.
    pub fn blocking_recv_noting_shed(&mut self) -> Option<Received> {
        let delivery = self.rx.blocking_recv();
        self.received(delivery)
    }

    /// An event if one is queued, without waiting.
    pub fn try_recv(&mut self) -> Option<CaptureEvent> {
        self.try_recv_noting_shed().map(|got| got.event)
    }

    /// [`try_recv`](Self::try_recv), saying whether the event's bodies were shed.
    pub fn try_recv_noting_shed(&mut self) -> Option<Received> {
        let delivery = self.rx.try_recv().ok();
        self.received(delivery)
    }

    /// Events published to this subscriber and not yet received.
    pub fn pending(&self) -> usize {
        self.queued.events.load(Ordering::Relaxed)
    }

    fn received(&self, delivery: Option<Delivery>) -> Option<Received> {
        let Delivery { event, bodies_shed } = delivery?;
        self.queued.events.fetch_sub(1, Ordering::Relaxed);
        if self.counts_bytes {
            self.queued
                .body_bytes
                .fetch_sub(event.body_bytes(), Ordering::Relaxed);
        }
        Some(Received { event, bodies_shed })
    }
}

#[cfg(test)]
#[path = "bus_tests.rs"]
mod tests;
