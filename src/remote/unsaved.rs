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
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::capture::{CaptureBus, CaptureEvent, ExchangeRecord, Interest, Subscription};
use crate::store::StoreHealth;

/// At most this many records are kept for screens yet to come.
const MAX_KEPT: usize = 4096;
/// Nor more body bytes than this: the writer lets go of bodies past its own budget, and these
/// records must not keep them alive.
const MAX_KEPT_BYTES: usize = 16 * 1024 * 1024;
/// The ledger only reads memory; this bounds the hello's wait should it have stopped.
const CATCH_UP: Duration = Duration::from_secs(2);

/// Records in publication order, each with its number among the bus's `Finished` events.
#[derive(Default)]
struct Ledger {
    records: VecDeque<(u64, Arc<ExchangeRecord>)>,
    bytes: usize,
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

/// The running ledger; dropping it stops following the bus.
pub struct Unsaved {
    ledger: Arc<Mutex<Ledger>>,
    /// How many `Finished` events of the bus the ledger has taken in.
    seen: watch::Receiver<u64>,
    store: Arc<StoreHealth>,
    follow: JoinHandle<()>,
}

impl Unsaved {
    pub fn start(bus: &CaptureBus, store: Arc<StoreHealth>) -> Self {
        let (events, before) = bus.subscribe_counting_finished(usize::MAX, Interest::Record);
        let (seen_tx, seen) = watch::channel(before);
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let follow = tokio::spawn(follow(events, ledger.clone(), store.clone(), seen_tx));
        Self {
            ledger,
            seen,
            store,
            follow,
        }
    }

    /// The records among the first `finished` `Finished` events of the bus that the store
    /// has not committed (as far as it has said so), oldest first.
    pub async fn among_first(&self, finished: u64) -> Vec<Arc<ExchangeRecord>> {
        let mut seen = self.seen.clone();
        let _ = tokio::time::timeout(CATCH_UP, seen.wait_for(|n| *n >= finished)).await;
        let written = self.store.exchanges_written();
        let ledger = self.ledger.lock().unwrap_or_else(PoisonError::into_inner);
        ledger
            .records
            .iter()
            .filter(|(seq, _)| *seq > written && *seq <= finished)
            .map(|(_, record)| record.clone())
            .collect()
    }
}

impl Drop for Unsaved {
    fn drop(&mut self) {
        self.follow.abort();
    }
}

async fn follow(
    mut events: Subscription,
    ledger: Arc<Mutex<Ledger>>,
    store: Arc<StoreHealth>,
    seen: watch::Sender<u64>,
) {
    let mut count = *seen.borrow();
    while let Some(event) = events.recv().await {
        let CaptureEvent::Finished(record) = event else {
            continue;
        };
        count += 1;
        let mut ledger = ledger.lock().unwrap_or_else(PoisonError::into_inner);
        ledger.bytes += body_bytes(&record);
        ledger.records.push_back((count, record));
        ledger.trim(store.exchanges_written());
        drop(ledger);
        seen.send_replace(count);
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
