//! Groups a past session's rows into conversations after the first frame: a blocking thread
//! reads the requests from the store a batch at a time, reduces each to its shape, and sends
//! the batches to the loop, which files them as they come. The bounded channel keeps at most
//! a couple of batches waiting, so a slow screen holds the reader back instead of memory.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::capture::ExchangeId;
use crate::tui::state::conversations::shape_of;
use crate::tui::state::grouping::GroupedRequest;
use crate::tui::update::event::AppEvent;

use super::context::DetailLoader;

/// Requests read per batch: big enough that a store read is not per row, small enough that
/// the loop files a batch between two frames.
const BATCH: usize = 500;

/// Starts grouping the exchanges up to `last` (the rows the screen started with); the
/// receiver ends when all are sent or reading failed.
pub(super) fn spawn_grouping(
    loader: Arc<dyn DetailLoader>,
    last: ExchangeId,
) -> mpsc::Receiver<AppEvent> {
    let (tx, rx) = mpsc::channel(2);
    tokio::task::spawn_blocking(move || {
        let mut after = None;
        loop {
            let batch = match loader.requests(after, BATCH) {
                Ok(batch) => batch,
                Err(reason) => {
                    let _ = tx.blocking_send(AppEvent::GroupingFailed(reason));
                    return;
                }
            };
            let Some((newest, _)) = batch.last() else {
                return;
            };
            after = Some(newest.id);
            let grouped: Vec<GroupedRequest> = batch
                .iter()
                .filter(|(start, _)| start.id <= last)
                .map(|(start, usage)| GroupedRequest {
                    id: start.id,
                    shape: shape_of(start),
                    usage: *usage,
                })
                .collect();
            let done = grouped.len() < batch.len() || batch.len() < BATCH;
            // A closed channel means the screen has gone.
            if tx.blocking_send(AppEvent::Grouped(grouped)).is_err() || done {
                return;
            }
        }
    });
    rx
}
