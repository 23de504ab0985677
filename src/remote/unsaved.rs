//! Finished exchanges the store may not have written yet, for the hello. A screen reads what
//! happened before it came from the store and what happens after from the socket, so an
//! exchange that finished just before the hello, still in the writer's queue, would be on
//! neither.
//!
//! Which ones: the bus numbers `Finished` events as it publishes them and the store writer
//! counts the exchanges it committed, in the same order; the records between the two are kept
//! here, within a bound (a writer that has stopped writing must not make this grow).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use crate::capture::{CaptureBus, CaptureEvent, ExchangeRecord, Tap};
use crate::store::StoreHealth;

/// At most this many records are kept for screens yet to come.
const MAX_KEPT: usize = 4096;
/// Nor more body bytes than this. Many records wait here only in a burst faster than the disk,
/// when the writer keeps at most its own budget of bodies and stores the rest without them:
/// the records here would keep those bodies alive beside that budget. (The back-to-back
/// memory bench peaked at 49.5–52.2 MiB with 16 MiB here, 37.7–38.5 MiB with 4.)
const MAX_KEPT_BYTES: usize = 4 * 1024 * 1024;

/// Records in publication order, each with its number among the bus's `Finished` events.
#[derive(Default)]
struct Ledger {
    records: VecDeque<(u64, Arc<ExchangeRecord>)>,
    bytes: usize,
    /// How many `Finished` events of the bus the ledger has taken in.
    seen: u64,
}

impl Ledger {
    /// Drops what the store has committed (numbers up to `written`) and what is over the bound.
    fn trim(&mut self, written: u64) {
        while let Some((seq, record)) = self.records.front() {
            let over = self.records.len() > MAX_KEPT || self.bytes > MAX_KEPT_BYTES;
            if *seq > written && !over {
                break;
            }
            self.bytes -= body_bytes(record);
            self.records.pop_front();
        }
    }
}

fn body_bytes(record: &ExchangeRecord) -> usize {
    record.start.request.body.len() + record.response.as_ref().map_or(0, |r| r.body.len())
}

/// The ledger as the bus's tap: it files each finished record as it is published.
struct LedgerTap {
    ledger: Mutex<Ledger>,
    store: Arc<StoreHealth>,
}

impl LedgerTap {
    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Tap for LedgerTap {
    fn observe(&self, event: &CaptureEvent) {
        let CaptureEvent::Finished(record) = event else {
            return;
        };
        let mut ledger = self.lock();
        ledger.seen += 1;
        let seq = ledger.seen;
        ledger.bytes += body_bytes(record);
        ledger.records.push_back((seq, record.clone()));
        ledger.trim(self.store.exchanges_written());
    }
}

/// The running ledger; dropping it stops following the bus.
pub struct Unsaved {
    tap: Arc<LedgerTap>,
}

impl Unsaved {
    pub fn start(bus: &CaptureBus, store: Arc<StoreHealth>) -> Self {
        let tap = bus.tap(|finished_before| {
            Arc::new(LedgerTap {
                ledger: Mutex::new(Ledger {
                    seen: finished_before,
                    ..Ledger::default()
                }),
                store,
            })
        });
        Self { tap }
    }

    /// The records among the first `finished` `Finished` events of the bus that the store
    /// has not committed (as far as it has said so), oldest first. The ledger has seen all of
    /// them: a tap observes each event before its publication returns.
    pub fn among_first(&self, finished: u64) -> Vec<Arc<ExchangeRecord>> {
        let written = self.tap.store.exchanges_written();
        self.tap
            .lock()
            .records
            .iter()
            .filter(|(seq, _)| *seq > written && *seq <= finished)
            .map(|(_, record)| record.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::test_fixtures::agent_start;

    fn record(id: u64) -> Arc<ExchangeRecord> {
        let start = agent_start(id, "/v1/chat/completions", r#"{"model":"m"}"#);
        Arc::new(ExchangeRecord {
            start: Arc::new(start),
            timing: Default::default(),
            response: None,
            failure: None,
            derived: Default::default(),
        })
    }

    #[test]
    fn the_ledger_keeps_only_what_the_store_has_not_committed_within_its_bound() {
        let mut ledger = Ledger::default();
        for seq in 1..=5 {
            let r = record(seq);
            ledger.bytes += body_bytes(&r);
            ledger.records.push_back((seq, r));
        }
        ledger.trim(3);
        let kept: Vec<u64> = ledger.records.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(kept, [4, 5]);
        assert_eq!(ledger.bytes, 2 * br#"{"model":"m"}"#.len());
        for seq in 6..(MAX_KEPT as u64 + 10) {
            ledger.records.push_back((seq, record(seq)));
            ledger.bytes += br#"{"model":"m"}"#.len();
            ledger.trim(3);
        }
        assert_eq!(ledger.records.len(), MAX_KEPT);
    }
}
