//! Keys while the help is open: it closes, and nothing acts behind it.

use crossterm::event::KeyCode;

use crate::tui::state::app::{App, Mode};

pub(super) fn handle_key(app: &mut App, code: KeyCode) {
    if matches!(code, KeyCode::Esc | KeyCode::Char('?')) {
        app.mode = Mode::Normal;
    }
}
