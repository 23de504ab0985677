//! The filter prompt (`/`): the text is applied on Enter, not while it is typed, so a list of
//! 100,000 rows is refiltered once.

use crossterm::event::KeyCode;

use crate::tui::state::app::{App, Mode};

use super::prompt::{edit_prompt, Prompt};

/// Keys while the filter is typed after `/`: Enter applies it, Esc clears it.
pub(super) fn handle_key(app: &mut App, code: KeyCode) {
    let Mode::Filter(input) = &mut app.mode else {
        return;
    };
    let needle = match edit_prompt(input, code) {
        Prompt::Open => return,
        Prompt::Entered(typed) => typed.to_lowercase(),
        Prompt::Cancelled => String::new(),
    };
    app.mode = Mode::Normal;
    app.filter.needle = needle;
    app.refilter();
}
