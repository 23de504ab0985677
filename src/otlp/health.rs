//! How the export is going, shared between the subscriber, the exporter and whoever reports
//! it (`record`'s warning line, the summary at the end).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// Counts of spans by fate, and the first problem the collector had. Cheap to read from any
/// thread.
#[derive(Debug, Default)]
pub struct ExportHealth {
    /// Spans handed to the batch processor.
    queued: AtomicU64,
    /// Spans the collector accepted.
    exported: AtomicU64,
    /// Spans in exports that failed (collector down, refusing, too slow).
    failed: AtomicU64,
    /// Spans never queued because the backlog was full.
    dropped: AtomicU64,
    first_problem: Mutex<Option<String>>,
}

impl ExportHealth {
    pub(super) fn note_queued(&self) {
        self.queued.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn note_dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn note_export(&self, spans: u64, ok: bool) {
        let counter = if ok { &self.exported } else { &self.failed };
        counter.fetch_add(spans, Ordering::Relaxed);
    }

    /// Keeps the first problem only: a dead collector is worth one line, not one per batch.
    pub(crate) fn note_problem(&self, problem: String) {
        let mut first = self
            .first_problem
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        first.get_or_insert(problem);
    }

    /// Spans queued whose export has not ended yet.
    pub(super) fn backlog(&self) -> u64 {
        let settled = self.exported.load(Ordering::Relaxed) + self.failed.load(Ordering::Relaxed);
        self.queued.load(Ordering::Relaxed).saturating_sub(settled)
    }

    pub fn exported(&self) -> u64 {
        self.exported.load(Ordering::Relaxed)
    }

    /// Spans that never reached the collector: dropped for a full backlog, in failed exports,
    /// or still queued when the export had to stop.
    pub fn lost(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed) + self.failed.load(Ordering::Relaxed) + self.backlog()
    }

    /// What went wrong first, if anything did; a full backlog counts.
    pub fn problem(&self) -> Option<String> {
        let first = self
            .first_problem
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        first.or_else(|| {
            (self.dropped.load(Ordering::Relaxed) > 0)
                .then(|| "the collector cannot keep up".to_string())
        })
    }
}
