//! Owning the terminal while the TUI runs: raw mode and the alternate screen, given back
//! however the TUI ends, a panic included.

use std::io::{self, Stdout};
use std::panic::{self, PanicHookInfo};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

use super::context::TuiError;

type PanicHook = Box<dyn Fn(&PanicHookInfo<'_>) + Sync + Send + 'static>;

/// Whether the terminal is in raw mode on the alternate screen, so restoring happens once
/// whether the guard, the panic hook, or both get there.
static TERMINAL_TAKEN: AtomicBool = AtomicBool::new(false);

/// Owns the terminal while the TUI runs; dropping it gives the terminal back.
pub(super) struct TerminalGuard {
    pub(super) terminal: Terminal<CrosstermBackend<Stdout>>,
    previous_hook: Arc<PanicHook>,
}

impl TerminalGuard {
    pub(super) fn enter() -> Result<Self, TuiError> {
        // The hook restores the terminal before the panic message prints, or the message would
        // be lost on the alternate screen in raw mode.
        let previous_hook: Arc<PanicHook> = Arc::new(panic::take_hook());
        let chained = Arc::clone(&previous_hook);
        panic::set_hook(Box::new(move |info| {
            restore_terminal();
            chained(info);
        }));
        let guard = |terminal| Self {
            terminal,
            previous_hook: Arc::clone(&previous_hook),
        };
        let taken = terminal::enable_raw_mode()
            .and_then(|()| {
                TERMINAL_TAKEN.store(true, Ordering::SeqCst);
                crossterm::execute!(io::stdout(), EnterAlternateScreen)
            })
            .and_then(|()| Terminal::new(CrosstermBackend::new(io::stdout())));
        match taken {
            Ok(terminal) => Ok(guard(terminal)),
            Err(error) => {
                restore_terminal();
                put_back_hook(&previous_hook);
                Err(TuiError::Setup(error))
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
        put_back_hook(&self.previous_hook);
    }
}

fn put_back_hook(previous: &Arc<PanicHook>) {
    // Replacing the hook while panicking would abort; the process is ending anyway.
    if !std::thread::panicking() {
        let previous = Arc::clone(previous);
        panic::set_hook(Box::new(move |info| previous(info)));
    }
}

fn restore_terminal() {
    if TERMINAL_TAKEN.swap(false, Ordering::SeqCst) {
        let _ = terminal::disable_raw_mode();
        let _ = crossterm::execute!(io::stdout(), LeaveAlternateScreen, crossterm::cursor::Show);
    }
}
