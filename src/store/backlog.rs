//! The writer's queue of received events not yet committed, with the bytes of body they keep
//! in memory. Beyond its byte budget, events join without their bodies: the record keeps
//! every exchange, and memory stays bounded however far the disk falls behind.

use std::collections::VecDeque;

use crate::capture::CaptureEvent;

pub(super) struct Backlog {
    events: VecDeque<CaptureEvent>,
    bytes: usize,
    budget: usize,
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
            events: VecDeque::new(),
            bytes: 0,
            budget,
        }
    }

    pub(super) fn push(&mut self, event: CaptureEvent) -> Admitted {
        let size = event.body_bytes();
        let (event, admitted) = if size > 0 && self.bytes + size > self.budget {
            (event.without_bodies(), Admitted::WithoutBodies)
        } else {
            (event, Admitted::Whole)
        };
        self.bytes += event.body_bytes();
        self.events.push_back(event);
        admitted
    }

    pub(super) fn pop_front(&mut self) -> Option<CaptureEvent> {
        let event = self.events.pop_front()?;
        self.bytes -= event.body_bytes();
        Some(event)
    }

    pub(super) fn front(&self) -> Option<&CaptureEvent> {
        self.events.front()
    }

    /// The oldest events, as many as `max_events` but stopping once they hold `max_bytes` of
    /// bodies (always at least one event, however large).
    pub(super) fn front_batch(&mut self, max_events: usize, max_bytes: usize) -> &[CaptureEvent] {
        let mut n = 0;
        let mut bytes = 0;
        for event in self.events.iter().take(max_events) {
            if n > 0 && bytes + event.body_bytes() > max_bytes {
                break;
            }
            bytes += event.body_bytes();
            n += 1;
        }
        &self.events.make_contiguous()[..n]
    }

    pub(super) fn drop_front(&mut self, n: usize) {
        for _ in 0..n {
            self.pop_front();
        }
    }

    pub(super) fn clear(&mut self) {
        self.events.clear();
        self.bytes = 0;
    }

    pub(super) fn len(&self) -> usize {
        self.events.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::capture::{ExchangeId, SessionId};
    use crate::store::test_fixtures::sample_start;

    fn started(id: u64, body_len: usize) -> CaptureEvent {
        let start = sample_start(SessionId(1), id, vec![b'x'; body_len]);
        CaptureEvent::Started(Arc::new(start))
    }

    fn request_len_kept(event: &CaptureEvent) -> Option<u64> {
        match event {
            CaptureEvent::Started(start) => start.request_body_unrecorded,
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
