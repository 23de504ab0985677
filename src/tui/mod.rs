//! The terminal inspector: shows every captured exchange live, the failure banner, and the
//! request and reply of the selected exchange, raw or read as an LLM call.
//!
//! Built as state / update / draw: [`App`] is plain data, [`update`] applies one [`AppEvent`]
//! and returns the [`Command`]s (slow work) the loop must run, [`draw`] renders without
//! mutating. Only [`run`] touches the terminal, the clock, the capture bus and the store, so
//! everything else is tested by feeding events and reading a `TestBackend` buffer.
//!
//! The TUI never blocks the capture path: it reads the bus through its own subscription, whose
//! live chunks the bus may skip when the TUI falls behind.

mod actions;
mod app;
mod detail;
mod editor;
mod editor_keys;
mod event;
pub mod fix_adapter;
mod intercept;
mod keys;
mod layout;
pub mod llm_adapter;
mod proxy_commands;
mod request_text;
mod rows;
mod rules;
mod terminal;
mod update;
pub mod view;

pub use app::{App, Banner, Detail, Filter, Focus, Notice, PaneState, StatusInfo, ViewMode};
pub use detail::{
    DetailView, LiveExchange, LiveHead, PaneContent, PaneText, RecentRecords, RECENT_RECORDS,
};
pub use editor::{EditorPrompt, EditorState, JsonStatus};
pub use event::{AppEvent, Command};
pub use proxy_commands::run_command;
pub use rows::{
    row_from_start, row_from_summary, row_update_from_record, row_update_usage, ExchangeRow,
    HoldMark, RowTable,
};
pub use terminal::{run, DetailLoader, TuiContext, TuiError};
pub use update::update;
pub use view::draw;

#[cfg(test)]
mod editor_scenarios;
#[cfg(test)]
mod fix_scenarios;
#[cfg(test)]
mod intercept_scenarios;
#[cfg(test)]
mod resend_scenarios;
#[cfg(test)]
mod scenario_support;
#[cfg(test)]
mod scenarios;
