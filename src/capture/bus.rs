//! Fan-out of capture events to subscribers (the store, the TUI, `record`'s printer).
//!
//! Publishing never waits: each subscriber has its own unbounded queue, and when a subscriber
//! falls behind by more than its limit, droppable events (live body chunks) are skipped for it
//! and counted. Lifecycle events are always delivered, so the record is never missing an
//! exchange even when a consumer is slow.
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
    tx: mpsc::UnboundedSender<CaptureEvent>,
    pending: Arc<AtomicUsize>,
    lag_limit: usize,
    interest: Interest,
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
        self.add_subscriber(DEFAULT_LAG_LIMIT, interest).0
    }

    pub fn subscribe_with_lag_limit(&self, lag_limit: usize) -> Subscription {
        self.add_subscriber(lag_limit, Interest::Everything).0
    }

    /// Like [`subscribe_to`](Self::subscribe_to), also saying how many `Finished` events were
    /// published before it: the subscription receives every later one and none of those.
    pub fn subscribe_counting_finished(
        &self,
        lag_limit: usize,
        interest: Interest,
    ) -> (Subscription, u64) {
        self.add_subscriber(lag_limit, interest)
    }

    fn add_subscriber(&self, lag_limit: usize, interest: Interest) -> (Subscription, u64) {
        let (tx, rx) = mpsc::unbounded_channel();
        let pending = Arc::new(AtomicUsize::new(0));
        let mut listeners = self.lock();
        let finished_before = self.counters.finished.load(Ordering::Relaxed);
        if interest == Interest::Everything {
            self.counters
                .live_subscribers
                .fetch_add(1, Ordering::Relaxed);
        }
        listeners.subscribers.push(Subscriber {
            tx,
            pending: pending.clone(),
            lag_limit,
            interest,
        });
        (Subscription { rx, pending }, finished_before)
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
            let lagging = sub.pending.load(Ordering::Relaxed) >= sub.lag_limit;
            if lagging && event.is_droppable() {
                self.counters.chunks_skipped.fetch_add(1, Ordering::Relaxed);
                return true;
            }
            sub.pending.fetch_add(1, Ordering::Relaxed);
            let open = sub.tx.send(event.clone()).is_ok();
            if !open && sub.interest == Interest::Everything {
                self.counters
                    .live_subscribers
                    .fetch_sub(1, Ordering::Relaxed);
            }
            open
        });
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
    rx: mpsc::UnboundedReceiver<CaptureEvent>,
    pending: Arc<AtomicUsize>,
}

impl Subscription {
    /// The next event, or `None` once every publisher is gone.
    pub async fn recv(&mut self) -> Option<CaptureEvent> {
        let event = self.rx.recv().await;
        self.mark_received(event.is_some());
        event
    }

    /// Blocking variant for subscribers that run on their own thread (the store writer).
    pub fn blocking_recv(&mut self) -> Option<CaptureEvent> {
        let event = self.rx.blocking_recv();
        self.mark_received(event.is_some());
        event
    }

    /// An event if one is queued, without waiting.
    pub fn try_recv(&mut self) -> Option<CaptureEvent> {
        let event = self.rx.try_recv().ok();
        self.mark_received(event.is_some());
        event
    }

    /// Events published to this subscriber and not yet received.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    fn mark_received(&self, got_one: bool) {
        if got_one {
            self.pending.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::ExchangeId;
    use bytes::Bytes;

    fn chunk(n: u64) -> CaptureEvent {
        CaptureEvent::ResponseChunk {
            id: ExchangeId(n),
            data: Bytes::from_static(b"x"),
        }
    }

    #[test]
    fn lagging_subscriber_skips_chunks_but_not_lifecycle_events() {
        let bus = CaptureBus::new();
        let mut sub = bus.subscribe_with_lag_limit(2);
        for n in 0..5 {
            bus.publish(chunk(n));
        }
        let finished_like = CaptureEvent::ResponseHead {
            id: ExchangeId(9),
            status: 200,
            headers: Arc::default(),
            first_byte_ms: 1,
        };
        bus.publish(finished_like);
        let mut got = Vec::new();
        while let Some(ev) = sub.try_recv() {
            got.extend(ev.exchange_id().map(|id| id.0));
        }
        assert_eq!(got, [0, 1, 9]);
        assert_eq!(bus.stats().chunks_skipped, 3);
    }

    #[test]
    fn record_subscriber_gets_lifecycle_events_only() {
        let bus = CaptureBus::new();
        let mut record = bus.subscribe_to(Interest::Record);
        let mut live = bus.subscribe();
        bus.publish(chunk(1));
        bus.publish(CaptureEvent::ResponseHead {
            id: ExchangeId(1),
            status: 200,
            headers: Arc::default(),
            first_byte_ms: 1,
        });
        bus.publish(CaptureEvent::Held {
            id: ExchangeId(1),
            expires_at_ms: 0,
        });
        let drain = |sub: &mut Subscription| std::iter::from_fn(|| sub.try_recv()).count();
        assert_eq!(drain(&mut live), 3);
        assert_eq!(drain(&mut record), 1);
    }

    #[test]
    fn live_detail_is_wanted_while_a_live_subscriber_is_there() {
        let bus = CaptureBus::new();
        let record = bus.subscribe_to(Interest::Record);
        assert!(!bus.wants_live_detail());
        let live = bus.subscribe();
        assert!(bus.wants_live_detail());
        drop(live);
        // Noticed at the next event it would have received.
        bus.publish(chunk(1));
        assert!(!bus.wants_live_detail());
        drop(record);
    }

    #[test]
    fn dropped_subscription_is_forgotten() {
        let bus = CaptureBus::new();
        drop(bus.subscribe());
        bus.publish(chunk(1));
        assert!(bus.lock().subscribers.is_empty());
    }

    #[test]
    fn a_counting_subscription_knows_how_many_exchanges_finished_before_it() {
        use crate::capture::test_fixtures::agent_start;
        use crate::capture::{ExchangeRecord, Timing};
        let finished_record = |id| ExchangeRecord {
            start: Arc::new(agent_start(id, "/v1/chat/completions", "{}")),
            timing: Timing::default(),
            response: None,
            failure: None,
            derived: Default::default(),
        };
        let bus = CaptureBus::new();
        bus.publish(CaptureEvent::Finished(Arc::new(finished_record(1))));
        bus.publish(chunk(2));
        let (mut sub, before) = bus.subscribe_counting_finished(8, Interest::Record);
        assert_eq!(before, 1);
        bus.publish(CaptureEvent::Finished(Arc::new(finished_record(3))));
        let got = sub.try_recv().and_then(|e| e.exchange_id());
        assert_eq!(got, Some(ExchangeId(3)));
        assert_eq!(bus.subscribe_counting_finished(8, Interest::Record).1, 2);
    }

    struct Seen(Mutex<Vec<Option<ExchangeId>>>);

    impl Tap for Seen {
        fn observe(&self, event: &CaptureEvent) {
            self.0.lock().unwrap().push(event.exchange_id());
        }
    }

    #[test]
    fn a_tap_sees_each_event_as_it_is_published_until_it_is_dropped() {
        use crate::capture::test_fixtures::agent_start;
        use crate::capture::{ExchangeRecord, Timing};
        let bus = CaptureBus::new();
        bus.publish(CaptureEvent::Finished(Arc::new(ExchangeRecord {
            start: Arc::new(agent_start(1, "/v1/chat/completions", "{}")),
            timing: Timing::default(),
            response: None,
            failure: None,
            derived: Default::default(),
        })));
        let mut told = None;
        let tap = bus.tap(|finished_before| {
            told = Some(finished_before);
            Arc::new(Seen(Mutex::default()))
        });
        assert_eq!(told, Some(1));
        bus.publish(chunk(2));
        // Seen before `publish` returned: no queue, no task in between.
        assert_eq!(*tap.0.lock().unwrap(), [Some(ExchangeId(2))]);
        drop(tap);
        bus.publish(chunk(3));
        assert!(bus.lock().taps.is_empty());
    }

    #[test]
    fn an_outcomes_subscriber_is_not_sent_the_start_of_each_request() {
        use crate::capture::test_fixtures::agent_start;
        use crate::capture::{ExchangeRecord, Timing};
        let bus = CaptureBus::new();
        let mut outcomes = bus.subscribe_to(Interest::Outcomes);
        let start = Arc::new(agent_start(1, "/v1/chat/completions", "{}"));
        bus.publish(CaptureEvent::Started(start.clone()));
        bus.publish(CaptureEvent::Held {
            id: ExchangeId(1),
            expires_at_ms: 0,
        });
        bus.publish(CaptureEvent::Intercepted {
            start: start.clone(),
            expires_at_ms: 0,
        });
        bus.publish(CaptureEvent::Finished(Arc::new(ExchangeRecord {
            start,
            timing: Timing::default(),
            response: None,
            failure: None,
            derived: Default::default(),
        })));
        let got: Vec<bool> = std::iter::from_fn(|| outcomes.try_recv())
            .map(|event| matches!(event, CaptureEvent::Finished(_)))
            .collect();
        assert_eq!(got, [false, true], "the interception, then the finish");
    }
}
