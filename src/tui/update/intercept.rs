//! Intercept before sending, on the screen: `I` turns it on (asking for the pattern) or off,
//! an intercepted request shows in the list and on the intercept line until it is sent, `e`
//! edits it and Ctrl-S sends the edit, `F` sends it as the agent sent it.

use std::sync::Arc;

use crossterm::event::KeyCode;

use crate::capture::{ExchangeId, ExchangeStart};
use crate::tui::state::app::{App, Mode};
use crate::tui::state::records::LiveExchange;

use super::event::Command;
use super::prompt::{edit_prompt, Prompt};

/// `I`: off when on; when off, asks for the pattern (the last one offered again).
pub(super) fn toggle(app: &mut App, commands: &mut Vec<Command>) {
    if !app.status.control {
        app.notify("read-only session: intercepting needs the live proxy", true);
        return;
    }
    if let Some(pattern) = app.status.intercept.take() {
        // Offered again by the next `I`, also when it came from --intercept.
        app.last_intercept = pattern;
        commands.push(Command::SetIntercept(None));
        return;
    }
    app.mode = Mode::Intercept(app.last_intercept.clone());
}

/// Typing the pattern: Enter turns intercepting on (an empty pattern means every request),
/// Esc leaves it off.
pub(super) fn pattern_key(app: &mut App, code: KeyCode, commands: &mut Vec<Command>) {
    let Mode::Intercept(input) = &mut app.mode else {
        return;
    };
    let typed = match edit_prompt(input, code) {
        Prompt::Open => return,
        Prompt::Cancelled => {
            app.mode = Mode::Normal;
            return;
        }
        Prompt::Entered(typed) => typed,
    };
    app.mode = Mode::Normal;
    let pattern = if typed.is_empty() {
        "*".to_string()
    } else {
        typed
    };
    app.last_intercept.clone_from(&pattern);
    app.status.intercept = Some(pattern.clone());
    commands.push(Command::SetIntercept(Some(pattern)));
}

/// The proxy's word on the pattern in force.
pub(super) fn changed(app: &mut App, pattern: Option<String>) {
    let words = match &pattern {
        Some(p) => format!(
            "intercepting requests matching \"{p}\": each waits here until you send it (F, or e and Ctrl-S)"
        ),
        None => "intercept off (requests already intercepted stay so)".to_string(),
    };
    app.status.intercept = pattern;
    app.notify(words, false);
}

/// A request was paused before forwarding: it gets a row (the later `Started` replaces it)
/// and comes into view, since the agent waits on the user now.
pub(super) fn intercepted(app: &mut App, start: Arc<ExchangeStart>, expires_at_ms: i64) {
    let id = start.id;
    let mut row = app.grouped_row(&start);
    row.intercepted_until_ms = Some(expires_at_ms);
    app.rows.upsert(row, &app.filter);
    app.live.insert(id, LiveExchange::new(start));
    app.intercepted_ids.insert(id);
    let editing = matches!(app.mode, Mode::Editor(_));
    if !editing && app.rows.visible_position(id).is_some() {
        app.select(id);
    }
    app.notify(
        format!("{id} intercepted — e edit, Ctrl-S send, F send unchanged"),
        false,
    );
}

/// The exchange started for real: it is no longer waiting on the user.
pub(super) fn started(app: &mut App, id: ExchangeId) {
    app.intercepted_ids.remove(&id);
}

/// `F` on an intercepted request: send it as the agent sent it.
pub(super) fn release_unchanged(app: &mut App, id: ExchangeId, commands: &mut Vec<Command>) {
    commands.push(Command::ReleaseIntercepted { id, request: None });
    app.notify(format!("sending {id} as the agent sent it…"), false);
}

/// The proxy's answer to a release.
pub(super) fn release_done(
    app: &mut App,
    id: ExchangeId,
    edited: bool,
    result: Result<bool, String>,
) {
    match result {
        Ok(true) if edited => app.notify(format!("{id} sent as you edited it"), false),
        Ok(true) => app.notify(format!("{id} sent unchanged"), false),
        Ok(false) => app.notify(
            format!("{id} is not intercepted any more (the hold time ran out, or the agent left)"),
            true,
        ),
        Err(reason) => app.notify(
            format!("{id} not sent: {reason}; it is still waiting"),
            true,
        ),
    }
}
