//! The terminal inspector: shows every captured exchange live, the failure banner, and the
//! request and reply of the selected exchange, raw or read as an LLM call.
//!
//! In layers whose imports only point down: `present` builds styled lines from a record or a
//! live exchange; `state` holds the [`App`] as plain data; `update` applies one [`AppEvent`]
//! and returns the [`Command`]s (slow work) the loop must run; `view` draws without mutating;
//! `runtime` alone touches the terminal, the clock, files, the capture bus and the store, so
//! everything else is tested by feeding events and reading a `TestBackend` buffer.
//!
//! The TUI never blocks the capture path: it reads the bus through its own subscription, whose
//! live chunks the bus may skip when the TUI falls behind.

mod present;
mod runtime;
mod state;
mod update;
mod view;

#[cfg(test)]
mod tests;

pub use present::pane_text::{PaneContent, PaneText, ViewMode};
pub use present::response::LiveHead;
pub use runtime::{run, run_command, DetailLoader, TuiContext, TuiError};
pub use state::app::{App, Banner, Focus, Mode, Notice, PaneState, StatusInfo};
pub use state::conversations::{ConversationBook, Tally};
pub use state::detail::{Detail, DetailView};
pub use state::editor::{EditorPrompt, EditorState, JsonStatus};
pub use state::records::{LiveExchange, RecentRecords, RECENT_RECORDS};
pub use state::rows::{
    row_from_start, row_from_summary, row_update_from_record, row_update_usage, ExchangeRow,
    Filter, HoldMark, RowTable,
};
pub use update::event::{AppEvent, Command};
pub use update::update;
pub use view::draw;
