//! Starts held back for a moment, so that most exchanges reach the disk as one row.
//!
//! Writing an exchange's start and its finish in different transactions costs an insert of
//! the request and then an update that rewrites the whole row (the request body with it).
//! Most exchanges of a busy proxy end within milliseconds of their start, just after the
//! batch that took their start was written. A start with nothing else of its exchange in the
//! batch is therefore kept out of it for a moment ([`HOLD`]): when its finish comes by then, the two go
//! in one insert; when not (a reply that streams for seconds), the start is written alone,
//! late by at most that moment, so the record still shows the request in flight.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use foldhash::HashMap;

use crate::capture::{CaptureEvent, ExchangeId, SessionId};

/// How long a start may wait for its finish before it is written alone, by default.
pub(super) const HOLD: Duration = Duration::from_millis(20);
/// Bodies the held starts may keep alive beyond the writer's queue: past it, starts are
/// written as they come.
const MAX_HELD_BYTES: usize = 256 * 1024;
/// A start with a larger request body is never held: a burst of large requests is what the
/// writer's memory budget is for, and the hold must not add to it.
const MAX_HELD_BODY: usize = 64 * 1024;

pub(super) struct HeldStarts {
    /// Oldest first, each with the time it was held.
    starts: VecDeque<(Instant, CaptureEvent)>,
    bytes: usize,
    hold: Duration,
}

/// What to write for one batch, and how the held starts change once it is written.
pub(super) struct Plan {
    pub events: Vec<CaptureEvent>,
    /// The positions, among the held starts, of those the batch writes.
    released: Vec<usize>,
    newly_held: Vec<CaptureEvent>,
}

/// The exchange an event of the record belongs to.
fn exchange_of(event: &CaptureEvent) -> Option<(SessionId, ExchangeId)> {
    match event {
        CaptureEvent::Started(start) => Some((start.session, start.id)),
        CaptureEvent::Finished(record) => Some((record.start.session, record.id())),
        CaptureEvent::HoldEnded { session, id, .. } => Some((*session, *id)),
        _ => None,
    }
}

impl HeldStarts {
    pub(super) fn new(hold: Duration) -> Self {
        Self {
            starts: VecDeque::new(),
            bytes: 0,
            hold,
        }
    }

    pub(super) fn hold(&self) -> Duration {
        self.hold
    }

    pub(super) fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    pub(super) fn len(&self) -> usize {
        self.starts.len()
    }

    /// Lets go of every held start (shutdown gave up on a failing disk); returns how many.
    pub(super) fn clear(&mut self) -> usize {
        self.bytes = 0;
        std::mem::take(&mut self.starts).len()
    }

    /// Whether the oldest held start has waited its moment.
    pub(super) fn any_due(&self, now: Instant) -> bool {
        self.starts
            .front()
            .is_some_and(|(since, _)| now.duration_since(*since) >= self.hold)
    }

    /// The events to write for `batch` (the front of the writer's queue): the held starts
    /// whose exchange has more in the batch or whose moment is up, then the batch without the
    /// starts it holds back. With `flush` (shutting down) nothing is held.
    pub(super) fn plan(&self, batch: Vec<CaptureEvent>, now: Instant, flush: bool) -> Plan {
        let mut count = HashMap::<(SessionId, ExchangeId), usize>::default();
        for key in batch.iter().filter_map(exchange_of) {
            *count.entry(key).or_default() += 1;
        }
        let mut released = Vec::new();
        let mut events = Vec::with_capacity(self.starts.len() + batch.len());
        for (i, (since, start)) in self.starts.iter().enumerate() {
            let key = exchange_of(start);
            let joined = key.is_some_and(|key| count.contains_key(&key));
            if flush || joined || now.duration_since(*since) >= self.hold {
                released.push(i);
                events.push(start.clone());
            }
        }
        let mut newly_held = Vec::new();
        let mut room = MAX_HELD_BYTES.saturating_sub(self.bytes);
        for event in batch {
            let lone_start = matches!(event, CaptureEvent::Started(_))
                && exchange_of(&event).is_some_and(|key| count.get(&key) == Some(&1));
            let bytes = event.body_bytes();
            if !flush && lone_start && bytes <= MAX_HELD_BODY && bytes <= room {
                room -= bytes;
                newly_held.push(event);
            } else {
                events.push(event);
            }
        }
        Plan {
            events,
            released,
            newly_held,
        }
    }

    /// Takes in a plan whose events were written.
    pub(super) fn apply(&mut self, plan: Plan, now: Instant) {
        for &i in plan.released.iter().rev() {
            if let Some((_, start)) = self.starts.remove(i) {
                self.bytes -= start.body_bytes();
            }
        }
        for start in plan.newly_held {
            self.bytes += start.body_bytes();
            self.starts.push_back((now, start));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::capture::HoldOutcome;
    use crate::store::test_fixtures::{finished, sample_start};

    fn started(id: u64) -> CaptureEvent {
        CaptureEvent::Started(Arc::new(sample_start(SessionId(1), id, b"{}".to_vec())))
    }

    fn done(id: u64) -> CaptureEvent {
        let start = sample_start(SessionId(1), id, b"{}".to_vec());
        CaptureEvent::Finished(Arc::new(finished(start, 200, b"ok".to_vec(), None)))
    }

    fn ids(events: &[CaptureEvent]) -> Vec<(u64, bool)> {
        events
            .iter()
            .map(|e| {
                let id = e.exchange_id().map_or(0, |id| id.0);
                (id, matches!(e, CaptureEvent::Started(_)))
            })
            .collect()
    }

    #[test]
    fn a_lone_start_waits_for_its_finish_and_goes_with_it() {
        let mut held = HeldStarts::new(HOLD);
        let t0 = Instant::now();
        // Exchange 1 starts and ends in the batch; 2 only starts.
        let plan = held.plan(vec![started(1), done(1), started(2)], t0, false);
        assert_eq!(ids(&plan.events), [(1, true), (1, false)]);
        held.apply(plan, t0);
        assert_eq!(held.len(), 1);
        let later = t0 + Duration::from_millis(3);
        assert!(!held.any_due(later));
        let plan = held.plan(vec![done(2)], later, false);
        assert_eq!(
            ids(&plan.events),
            [(2, true), (2, false)],
            "start, then finish"
        );
        held.apply(plan, later);
        assert!(held.is_empty());
    }

    #[test]
    fn a_start_whose_finish_is_late_is_written_alone_once_its_moment_is_up() {
        let mut held = HeldStarts::new(HOLD);
        let t0 = Instant::now();
        let plan = held.plan(vec![started(1)], t0, false);
        assert!(plan.events.is_empty());
        held.apply(plan, t0);
        let due = t0 + HOLD;
        assert!(held.any_due(due));
        let plan = held.plan(Vec::new(), due, false);
        assert_eq!(ids(&plan.events), [(1, true)]);
        held.apply(plan, due);
        assert!(held.is_empty());
    }

    #[test]
    fn a_held_start_goes_before_any_other_event_of_its_exchange() {
        let mut held = HeldStarts::new(HOLD);
        let t0 = Instant::now();
        let plan = held.plan(vec![started(1)], t0, false);
        held.apply(plan, t0);
        let ended = CaptureEvent::HoldEnded {
            session: SessionId(1),
            id: ExchangeId(1),
            outcome: HoldOutcome::TimedOut,
        };
        let plan = held.plan(vec![ended], t0, false);
        assert_eq!(ids(&plan.events), [(1, true), (1, false)]);
    }

    #[test]
    fn nothing_is_held_when_flushing_and_a_failed_write_changes_nothing() {
        let mut held = HeldStarts::new(HOLD);
        let t0 = Instant::now();
        let plan = held.plan(vec![started(1)], t0, false);
        held.apply(plan, t0);
        // A plan that is not applied (its write failed) leaves the held starts as they were.
        let _unwritten = held.plan(vec![started(2)], t0, false);
        assert_eq!(held.len(), 1);
        let plan = held.plan(vec![started(2)], t0, true);
        assert_eq!(ids(&plan.events), [(1, true), (2, true)]);
        held.apply(plan, t0);
        assert!(held.is_empty());
    }

    #[test]
    fn starts_with_large_bodies_are_not_held_nor_past_the_byte_bound() {
        let mut held = HeldStarts::new(HOLD);
        let sized = |id, len| {
            CaptureEvent::Started(Arc::new(sample_start(SessionId(1), id, vec![b'x'; len])))
        };
        let t0 = Instant::now();
        let plan = held.plan(vec![sized(1, MAX_HELD_BODY + 1)], t0, false);
        assert_eq!(ids(&plan.events), [(1, true)], "too large to hold");
        held.apply(plan, t0);
        let batch = (2..=6).map(|id| sized(id, MAX_HELD_BODY)).collect();
        let plan = held.plan(batch, t0, false);
        let fit = MAX_HELD_BYTES / MAX_HELD_BODY;
        assert_eq!(
            plan.events.len(),
            5 - fit,
            "beyond the bound, written at once"
        );
        held.apply(plan, t0);
        assert_eq!(held.len(), fit);
    }
}
