//! Work that must not run on the UI task (store reads, file writes) goes to a blocking thread;
//! what it gives comes back to the loop as a [`Finished`] on one channel.

use std::path::PathBuf;

use tokio::sync::mpsc;

use crate::capture::ExchangeId;
use crate::tui::update::event::AppEvent;

/// What a blocking job sends back to the loop.
pub(super) enum Finished {
    /// A detail load ended with this event; the next queued load may start.
    Load(AppEvent),
    /// A detail load panicked.
    LoadPanicked(String),
    /// The curl command for `id` was written to `file` (or not); the clipboard copy of `text`
    /// follows on the UI task, which owns the terminal.
    Curl {
        id: ExchangeId,
        text: String,
        file: Result<PathBuf, String>,
    },
    /// A proxy command that did not answer at once has answered.
    Answer(AppEvent),
}

/// Runs `job` on a blocking thread and sends its result to `tx`; a panic is sent as
/// `panicked(message)`. A closed channel means the loop has ended: the result is dropped.
pub(super) fn run_blocking(
    tx: &mpsc::UnboundedSender<Finished>,
    job: impl FnOnce() -> Finished + Send + 'static,
    panicked: impl FnOnce(String) -> Finished + Send + 'static,
) {
    let tx = tx.clone();
    let job = tokio::task::spawn_blocking(job);
    tokio::spawn(async move {
        let finished = match job.await {
            Ok(finished) => finished,
            Err(error) => panicked(error.to_string()),
        };
        let _ = tx.send(finished);
    });
}
