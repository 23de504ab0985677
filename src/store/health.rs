//! How the store's writer is doing, for the screens and logs that show it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use super::error::StoreError;

/// How the writer is doing, shared with whoever shows it (status line, `record`'s log).
#[derive(Debug, Default)]
pub struct StoreHealth {
    failing: AtomicBool,
    last_error: Mutex<Option<String>>,
    exchanges_written: AtomicU64,
    write_failures: AtomicU64,
    events_lost: AtomicU64,
    bodies_unrecorded: AtomicU64,
    backlog: AtomicU64,
}

impl StoreHealth {
    /// Whether the latest write attempt failed and events are waiting for a retry.
    pub fn is_failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }

    /// The most recent write error, kept after the writer recovers.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Finished exchanges committed to disk.
    pub fn exchanges_written(&self) -> u64 {
        self.exchanges_written.load(Ordering::Relaxed)
    }

    /// Failed write attempts, retries included.
    pub fn write_failures(&self) -> u64 {
        self.write_failures.load(Ordering::Relaxed)
    }

    /// Events that will never be written: the backlog overflowed, an event could not be
    /// stored at all, or shutdown gave up on a failing disk.
    pub fn events_lost(&self) -> u64 {
        self.events_lost.load(Ordering::Relaxed)
    }

    /// Exchanges recorded without their bodies because the writer's queue or backlog was
    /// over its memory budget (the proxy outran the disk).
    pub fn bodies_unrecorded(&self) -> u64 {
        self.bodies_unrecorded.load(Ordering::Relaxed)
    }

    /// Events received but not yet written.
    pub fn backlog(&self) -> u64 {
        self.backlog.load(Ordering::Relaxed)
    }

    pub(super) fn wrote(&self, exchanges: u64) {
        self.exchanges_written
            .fetch_add(exchanges, Ordering::Relaxed);
        self.failing.store(false, Ordering::Relaxed);
    }

    pub(super) fn failed(&self, err: &StoreError, still_failing: bool) {
        self.write_failures.fetch_add(1, Ordering::Relaxed);
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(err.one_line());
        self.failing.store(still_failing, Ordering::Relaxed);
    }

    pub(super) fn lost(&self, events: usize) {
        self.events_lost.fetch_add(events as u64, Ordering::Relaxed);
    }

    pub(super) fn unrecorded(&self) {
        self.bodies_unrecorded.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn set_backlog(&self, events: usize) {
        self.backlog.store(events as u64, Ordering::Relaxed);
    }
}
