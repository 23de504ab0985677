//! Exchanges whose agent is kept waiting for the user: failed replies held for a fix, and
//! requests intercepted before forwarding. Oldest first; each entry is a one-shot channel to
//! the task that owns the agent's connection, so settling one is a send and never blocks.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

use crate::capture::ExchangeId;

/// A waiting exchange as listed for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldSummary {
    pub id: ExchangeId,
    pub expires_at_ms: i64,
}

/// Waiting exchanges, each settled once with an `S`.
pub struct WaitQueue<S> {
    waiting: Mutex<BTreeMap<ExchangeId, Waiting<S>>>,
}

struct Waiting<S> {
    settle: oneshot::Sender<S>,
    expires_at_ms: i64,
}

impl<S> Default for WaitQueue<S> {
    fn default() -> Self {
        Self {
            waiting: Mutex::new(BTreeMap::new()),
        }
    }
}

impl<S> WaitQueue<S> {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<ExchangeId, Waiting<S>>> {
        // Entries are inserted and removed whole; a panic cannot leave one half-written.
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn insert(&self, id: ExchangeId, settle: oneshot::Sender<S>, expires_at_ms: i64) {
        self.lock().insert(
            id,
            Waiting {
                settle,
                expires_at_ms,
            },
        );
    }

    pub fn list(&self) -> Vec<HeldSummary> {
        self.lock()
            .iter()
            .map(|(id, waiting)| HeldSummary {
                id: *id,
                expires_at_ms: waiting.expires_at_ms,
            })
            .collect()
    }

    /// Removes `id` and returns the way to settle it; `None` when it is not waiting.
    pub fn take(&self, id: ExchangeId) -> Option<oneshot::Sender<S>> {
        self.lock().remove(&id).map(|waiting| waiting.settle)
    }

    /// Settles `id` with `how`; `false` when it is not waiting (any more).
    pub fn settle(&self, id: ExchangeId, how: S) -> bool {
        self.take(id).is_some_and(|settle| settle.send(how).is_ok())
    }
}
