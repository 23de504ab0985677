//! The writer's queue of received events not yet committed, with the bytes of body they keep
//! in memory. Beyond its byte budget, events join without their bodies: the record keeps
//! every exchange, and memory stays bounded however far the disk falls behind.

use std::collections::VecDeque;
use std::sync::Arc;

use foldhash::HashMap;

use crate::capture::{within_byte_limit, CaptureEvent, ExchangeId, SessionId};

pub(super) struct Backlog {
    entries: VecDeque<Entry>,
    /// Sequence number of the front entry; entry `n` is at `n - first_seq`.
    first_seq: u64,
    /// Queued `Started` events by exchange, to find the one a `Finished` shares its request
    /// body with.
    starts: HashMap<(SessionId, ExchangeId), u64>,
    bytes: usize,
    budget: usize,
}

struct Entry {
    event: CaptureEvent,
    /// Body bytes counted against this entry. A request body held by both an exchange's
    /// `Started` and its `Finished` counts once, against the later of the two in the queue.
    charge: usize,
}

/// What [`Backlog::push`] did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Admitted {
    Whole,
    /// Queued without its bodies: they would have taken the backlog over its budget.
    WithoutBodies,
}

impl Backlog {
    pub(super) fn new(budget: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            first_seq: 0,
            starts: HashMap::default(),
            bytes: 0,
            budget,
        }
    }

    pub(super) fn push(&mut self, event: CaptureEvent) -> Admitted {
        let shared = self.queued_start_shared_with(&event);
        let shared_bytes = shared.map_or(0, |(_, bytes)| bytes);
        let added = event.body_bytes() - shared_bytes;
        let (event, admitted) = if !within_byte_limit(self.bytes, added, self.budget) {
            (event.without_bodies(), Admitted::WithoutBodies)
        } else {
            (event, Admitted::Whole)
        };
        let mut charge = event.body_bytes();
        if let (Admitted::Whole, Some((seq, bytes))) = (admitted, shared) {
            // The request body moves its charge to this later entry.
            if let Some(start) = self.entry_mut(seq) {
                start.charge -= bytes;
            }
            self.bytes -= bytes;
        } else if admitted == Admitted::WithoutBodies {
            charge = 0;
        }
        let seq = self.first_seq + self.entries.len() as u64;
        if let CaptureEvent::Started(start) = &event {
            self.starts.insert((start.session, start.id), seq);
        }
        self.bytes += charge;
        self.entries.push_back(Entry { event, charge });
        admitted
    }

    /// For a `Finished`, the queued `Started` holding the same request body, with the bytes
    /// charged to it for that body.
    fn queued_start_shared_with(&self, event: &CaptureEvent) -> Option<(u64, usize)> {
        let CaptureEvent::Finished(record) = event else {
            return None;
        };
        let seq = *self.starts.get(&(record.start.session, record.id()))?;
        let entry = self
            .entries
            .get(usize::try_from(seq - self.first_seq).ok()?)?;
        match &entry.event {
            CaptureEvent::Started(start) if Arc::ptr_eq(start, &record.start) => {
                Some((seq, entry.charge.min(start.request.body.len())))
            }
            _ => None,
        }
    }

    fn entry_mut(&mut self, seq: u64) -> Option<&mut Entry> {
        let index = usize::try_from(seq.checked_sub(self.first_seq)?).ok()?;
        self.entries.get_mut(index)
    }

    pub(super) fn pop_front(&mut self) -> Option<CaptureEvent> {
        let entry = self.entries.pop_front()?;
        let seq = self.first_seq;
        self.first_seq += 1;
        self.bytes -= entry.charge;
        if let CaptureEvent::Started(start) = &entry.event {
            let key = (start.session, start.id);
            if self.starts.get(&key) == Some(&seq) {
                self.starts.remove(&key);
            }
        }
        Some(entry.event)
    }

    pub(super) fn front(&self) -> Option<&CaptureEvent> {
        self.entries.front().map(|entry| &entry.event)
    }

    /// The oldest events, as many as `max_events` but stopping once they hold `max_bytes` of
    /// bodies (always at least one event, however large).
    pub(super) fn front_batch(&mut self, max_events: usize, max_bytes: usize) -> Vec<CaptureEvent> {
        let mut batch = Vec::new();
        let mut bytes = 0;
        for entry in self.entries.iter().take(max_events) {
            if !batch.is_empty() && bytes + entry.charge > max_bytes {
                break;
            }
            bytes += entry.charge;
            batch.push(entry.event.clone());
        }
        batch
    }

    pub(super) fn drop_front(&mut self, n: usize) {
        for _ in 0..n {
            self.pop_front();
        }
    }

    pub(super) fn clear(&mut self) {
        self.first_seq += self.entries.len() as u64;
        self.entries.clear();
        self.starts.clear();
        self.bytes = 0;
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::ExchangeStart;
    use crate::store::test_fixtures::{finished, sample_start};

    fn start(id: u64, body_len: usize) -> Arc<ExchangeStart> {
        Arc::new(sample_start(SessionId(1), id, vec![b'x'; body_len]))
    }

    fn started(id: u64, body_len: usize) -> CaptureEvent {
        CaptureEvent::Started(start(id, body_len))
    }

    /// The `Finished` of `start`, sharing its request body as the proxy's events do.
    fn done(start: &Arc<ExchangeStart>, reply_len: usize) -> CaptureEvent {
        let mut record = finished(
            ExchangeStart::clone(start),
            200,
            vec![b'r'; reply_len],
            None,
        );
        record.start = start.clone();
        CaptureEvent::Finished(Arc::new(record))
    }

    fn request_len_kept(event: &CaptureEvent) -> Option<u64> {
        match event {
            CaptureEvent::Started(start) => start.request_body_unrecorded,
            CaptureEvent::Finished(record) => record.start.request_body_unrecorded,
            _ => None,
        }
    }

    #[test]
    fn bodies_beyond_the_budget_are_left_out_but_every_event_is_kept() {
        let mut backlog = Backlog::new(250);
        assert_eq!(backlog.push(started(1, 100)), Admitted::Whole);
        assert_eq!(backlog.push(started(2, 100)), Admitted::Whole);
        assert_eq!(backlog.push(started(3, 100)), Admitted::WithoutBodies);
        assert_eq!(backlog.len(), 3);
        assert_eq!(backlog.bytes(), 200);
        let third = &backlog.front_batch(10, usize::MAX)[2];
        assert_eq!(third.exchange_id(), Some(ExchangeId(3)));
        assert_eq!(third.body_bytes(), 0);
        assert_eq!(request_len_kept(third), Some(100));
        backlog.drop_front(1);
        assert_eq!(backlog.bytes(), 100);
        assert_eq!(backlog.push(started(4, 100)), Admitted::Whole);
    }

    #[test]
    fn a_request_body_queued_twice_counts_once() {
        let mut backlog = Backlog::new(250);
        let first = start(1, 200);
        assert_eq!(
            backlog.push(CaptureEvent::Started(first.clone())),
            Admitted::Whole
        );
        // Start and finish hold the same 200 bytes: only the reply's 40 are new.
        assert_eq!(backlog.push(done(&first, 40)), Admitted::Whole);
        assert_eq!(backlog.bytes(), 240);
        // Writing the start leaves the body charged to the finish that still holds it.
        backlog.drop_front(1);
        assert_eq!(backlog.bytes(), 240);
        backlog.drop_front(1);
        assert_eq!(backlog.bytes(), 0);
    }

    #[test]
    fn a_finish_over_the_budget_leaves_its_start_whole() {
        let mut backlog = Backlog::new(250);
        let first = start(1, 200);
        backlog.push(CaptureEvent::Started(first.clone()));
        assert_eq!(backlog.push(done(&first, 100)), Admitted::WithoutBodies);
        assert_eq!(backlog.bytes(), 200);
        let batch = backlog.front_batch(10, usize::MAX);
        assert_eq!(batch[0].body_bytes(), 200);
        assert_eq!(request_len_kept(&batch[1]), Some(200));
        backlog.clear();
        assert_eq!((backlog.len(), backlog.bytes()), (0, 0));
    }

    #[test]
    fn an_event_over_the_budget_on_its_own_joins_whole_while_the_backlog_is_under_it() {
        let mut backlog = Backlog::new(250);
        assert_eq!(backlog.push(started(1, 100)), Admitted::Whole);
        assert_eq!(backlog.push(started(2, 1000)), Admitted::Whole);
        // Over the budget now: the next large one, and any other, waits for the writer.
        assert_eq!(backlog.push(started(3, 1000)), Admitted::WithoutBodies);
        assert_eq!(backlog.push(started(4, 10)), Admitted::WithoutBodies);
        assert_eq!(backlog.bytes(), 1100);
        backlog.drop_front(2);
        assert_eq!(backlog.push(started(5, 1000)), Admitted::Whole);
    }

    #[test]
    fn batches_stop_at_their_byte_limit_but_take_at_least_one_event() {
        let mut backlog = Backlog::new(usize::MAX);
        for id in 1..=4 {
            backlog.push(started(id, 100));
        }
        assert_eq!(backlog.front_batch(10, 250).len(), 2);
        assert_eq!(backlog.front_batch(10, 50).len(), 1);
        assert_eq!(backlog.front_batch(3, usize::MAX).len(), 3);
        backlog.clear();
        assert_eq!((backlog.len(), backlog.bytes()), (0, 0));
    }
}
