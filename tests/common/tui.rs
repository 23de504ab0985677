//! The screen in tests that drive the TUI's state through a real proxy: the wall clock the
//! app is given, a live proxy that holds failures with the screen that drives it, and the app
//! drawn into a 120×40 `TestBackend` as text.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use llmscope::tui::{draw, App, StatusInfo};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

pub fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
    i64::try_from(since.as_millis()).expect("ms fit")
}

/// What the user sees of `app` on a 120×40 terminal, one string per row.
pub fn screen(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("test terminal");
    terminal.draw(|frame| draw(app, frame)).expect("draw");
    let buffer = terminal.backend().buffer();
    (0..40)
        .map(|y| {
            (0..120)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A proxy holding failed replies for a minute, and a live screen with the keys to fix them.
pub async fn holding_screen() -> (super::Harness, App) {
    let harness = super::Harness::start_with(|c| {
        c.hold_errors = true;
        c.hold_timeout = Duration::from_secs(60);
    })
    .await;
    let status = StatusInfo {
        live: true,
        control: true,
        hold: harness.control.hold_enabled(),
        ..StatusInfo::default()
    };
    (harness, App::new(status, Vec::new(), now_ms(), (120, 40)))
}
