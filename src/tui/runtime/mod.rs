//! The only part of the TUI that touches the world: the terminal (raw mode, alternate screen,
//! input), the capture subscription, the clock, files, and the store through a
//! [`DetailLoader`].
//!
//! Never blocks the runtime: input arrives through crossterm's async `EventStream`, records
//! load and files are written on blocking threads, and bursts of capture events are applied
//! once per frame.

mod context;
mod curl;
mod event_loop;
mod executor;
mod forward_watch;
mod health;
mod history;
mod jobs;
mod loads;
mod proxy_commands;
mod terminal;

pub use context::{DetailLoader, TuiContext, TuiError};
pub use proxy_commands::run_command;

/// Runs the TUI until the user quits. The terminal is restored however this ends: quit,
/// error or panic.
pub async fn run(ctx: TuiContext) -> Result<(), TuiError> {
    let mut guard = terminal::TerminalGuard::enter()?;
    let result = event_loop::event_loop(&mut guard.terminal, ctx).await;
    drop(guard);
    result
}
