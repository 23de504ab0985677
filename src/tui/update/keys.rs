//! What has the keyboard gets the key: the mode's own file says what each key does. Quitting
//! is decided here, once for all modes: Ctrl-C from anywhere, `q` where no mode claims it.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::tui::state::app::{App, Mode};

use super::event::Command;
use super::{conversation_view, editor, filter, help, intercept, normal, rules};

pub(super) fn handle_key(app: &mut App, key: KeyEvent, commands: &mut Vec<Command>) {
    if key.kind == KeyEventKind::Release {
        return;
    }
    let ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
    // The prompts, the editor and the rules list take `q` as their own.
    let q = key.code == KeyCode::Char('q')
        && matches!(app.mode, Mode::Normal | Mode::Help | Mode::Conversation(_));
    if ctrl_c || q {
        app.quitting = true;
        commands.push(Command::Quit);
        return;
    }
    match app.mode {
        Mode::Editor(_) => editor::handle_key(app, key, commands),
        Mode::Filter(_) => filter::handle_key(app, key.code),
        Mode::Intercept(_) => intercept::pattern_key(app, key.code, commands),
        Mode::Rules => rules::handle_key(app, key, commands),
        Mode::Help => help::handle_key(app, key.code),
        Mode::Conversation(_) => conversation_view::handle_key(app, key.code),
        Mode::Normal => normal::handle_key(app, key, commands),
    }
}
