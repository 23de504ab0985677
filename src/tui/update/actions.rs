//! What the fixing keys of the main screen do: edit (`e`), resend unchanged (`r`), hold
//! on/off (`H`), forward a held error (`F`) and the diff from the parent (`D`).

use std::sync::Arc;

use crate::capture::{ExchangeId, ExchangeStart};
use crate::proxy::ResendRequest;
use crate::tui::present::diff::DiffKind;
use crate::tui::state::app::{App, Mode, StatusInfo};
use crate::tui::state::editor::EditorState;
use crate::tui::state::rows::HoldMark;

use super::event::Command;
use super::intercept;

const READ_ONLY: &str = "read-only session: resend and hold need the live proxy";

/// `e`: opens the editor on the selected exchange's request.
pub(super) fn open_editor(app: &mut App) {
    let Some(start) = selectable_start(app) else {
        return;
    };
    let parent = app.lineage_root(start.id);
    match EditorState::open(&start, parent) {
        Some(mut editor) => {
            editor.intercepted = app.is_intercepted(start.id);
            app.mode = Mode::Editor(Box::new(editor));
            app.notice = None;
        }
        None => app.notify(
            format!(
                "{}'s body is not text and cannot be edited; r resends it unchanged",
                start.id
            ),
            true,
        ),
    }
}

/// `r`: sends the selected exchange's request again as it was recorded.
pub(super) fn resend_unchanged(app: &mut App, commands: &mut Vec<Command>) {
    let Some(start) = selectable_start(app) else {
        return;
    };
    let request = &start.request;
    let parent = app.lineage_root(start.id);
    commands.push(Command::Resend {
        parent,
        request: ResendRequest {
            method: request.method.clone(),
            uri: request.uri.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
        },
    });
    let straight = request
        .provider()
        .map(|name| format!(" straight to provider {name}, bypassing the gateway"))
        .unwrap_or_default();
    app.notify(
        format!("resending {} unchanged{straight}…", start.id),
        false,
    );
}

/// The selected exchange's start, or a notice saying why there is none to act on.
fn selectable_start(app: &mut App) -> Option<Arc<ExchangeStart>> {
    if !app.status.control {
        app.notify(READ_ONLY, true);
        return None;
    }
    let Some(id) = app.selected else {
        app.notify("select an exchange first", true);
        return None;
    };
    let start = app.selected_start();
    match &start {
        None => app.notify(format!("{id} is still loading; try again"), true),
        Some(start) if start.request_body_unrecorded.is_some() => {
            app.notify(
                format!("{id}'s request body was not recorded (the disk fell behind): nothing to resend"),
                true,
            );
            return None;
        }
        Some(_) => {}
    }
    start
}

/// `H`: turns hold-on-error on or off. The status line changes at once; the proxy's answer
/// confirms it.
pub(super) fn toggle_hold(app: &mut App, commands: &mut Vec<Command>) {
    toggle(app, commands, |status| &mut status.hold, Command::SetHold);
}

/// `A`: turns auto-fix on or off, like `H` does hold-on-error.
pub(super) fn toggle_auto_fix(app: &mut App, commands: &mut Vec<Command>) {
    toggle(
        app,
        commands,
        |status| &mut status.auto_fix,
        Command::SetAutoFix,
    );
}

fn toggle(
    app: &mut App,
    commands: &mut Vec<Command>,
    switch: impl FnOnce(&mut StatusInfo) -> &mut bool,
    command: impl FnOnce(bool) -> Command,
) {
    if !app.status.control {
        app.notify(READ_ONLY, true);
        return;
    }
    let on = switch(&mut app.status);
    *on = !*on;
    commands.push(command(*on));
}

/// `F`: the held or intercepted exchange behind the selection, or else the one waiting
/// longest, is let go: a held one gets its original error sent on to its agent, an
/// intercepted one goes to the upstream as the agent sent it.
pub(super) fn forward_held(app: &mut App, commands: &mut Vec<Command>) {
    if !app.status.control {
        app.notify(READ_ONLY, true);
        return;
    }
    match waiting_target(app) {
        Some(Waiting::Intercepted(id)) => intercept::release_unchanged(app, id, commands),
        Some(Waiting::Held(id)) => {
            commands.push(Command::ForwardHeld(id));
            app.notify(format!("forwarding {id}'s original error…"), false);
        }
        None => app.notify("nothing is held or intercepted", true),
    }
}

/// An exchange whose agent waits on the user.
enum Waiting {
    Held(ExchangeId),
    Intercepted(ExchangeId),
}

fn waiting_target(app: &App) -> Option<Waiting> {
    if let Some(id) = app.selected.filter(|id| app.is_intercepted(*id)) {
        return Some(Waiting::Intercepted(id));
    }
    let selected = app
        .selected
        .and_then(|id| app.hold_of(id))
        .filter(|(_, mark)| mark.is_waiting())
        .map(|(id, _)| Waiting::Held(id));
    // Held and intercepted exchanges share the hold time, so the first to expire waited longest.
    let held = oldest_waiting(app).map(|(at, id)| (at, Waiting::Held(id)));
    let intercepted = app
        .intercepted()
        .into_iter()
        .map(|(id, at)| (at, Waiting::Intercepted(id)))
        .min_by_key(|(at, _)| *at);
    let oldest = match (held, intercepted) {
        (Some(h), Some(i)) => Some(if i.0 < h.0 { i } else { h }),
        (h, i) => h.or(i),
    };
    selected.or(oldest.map(|(_, waiting)| waiting))
}

/// The held exchange whose hold runs out first, with when.
fn oldest_waiting(app: &App) -> Option<(i64, ExchangeId)> {
    app.rows
        .iter()
        .filter_map(|row| match row.hold {
            Some(HoldMark::Waiting { expires_at_ms }) => Some((expires_at_ms, row.id)),
            _ => None,
        })
        .min()
}

/// `D`: shows or hides the diff of a resend against its parent in the request pane.
pub(super) fn toggle_diff(app: &mut App) {
    app.diff_view = match app.diff_view {
        Some(DiffKind::Resend) => None,
        _ => Some(DiffKind::Resend),
    };
    app.request_pane.scroll = 0;
    let is_resend = app.selected_row().is_some_and(|row| row.parent.is_some());
    if app.diff_view.is_some() && !is_resend {
        app.notify(
            "the diff shows what a resend changed: select a resend (↳)",
            false,
        );
    }
}

/// `t`: shows or hides what the selected request changed from the turn before it in its
/// conversation.
pub(super) fn toggle_turn_diff(app: &mut App) {
    app.diff_view = match app.diff_view {
        Some(DiffKind::Turn) => None,
        _ => Some(DiffKind::Turn),
    };
    app.request_pane.scroll = 0;
    let has_turn = app
        .selected
        .is_some_and(|id| app.conversations.previous(id).is_some());
    if app.diff_view.is_some() && !has_turn {
        app.notify(
            "the turn diff compares a request with the one before it in its conversation: this is its first",
            false,
        );
    }
}

/// `c`: folds the selected exchange's conversation into its header row, or unfolds it.
pub(super) fn toggle_conversation(app: &mut App) {
    let Some(id) = app.selected_row().and_then(|row| row.tree_conversation()) else {
        app.notify(
            "not in a conversation: c folds the conversation of the selected exchange",
            false,
        );
        return;
    };
    let folded = app.rows.toggle_conversation(id, &app.filter);
    // A folded conversation stands for its latest exchange; keep the selection on it.
    if let Some(latest) = app.rows.latest_of(id).map(|row| row.id).filter(|_| folded) {
        app.select(latest);
    }
}

/// `y`: a curl command replaying the selected exchange against the upstream, for the
/// clipboard and a file. Secrets become shell variables (see `export::curl_command`).
pub(super) fn copy_curl(app: &mut App, commands: &mut Vec<Command>) {
    let Some(id) = app.selected else {
        app.notify("select an exchange first", true);
        return;
    };
    let Some(record) = app.recent.get(id).cloned() else {
        app.notify(
            format!("{id} has not finished (or is still loading); try again"),
            true,
        );
        return;
    };
    let upstream = app.status.upstream.clone().unwrap_or_default();
    let text = crate::export::curl_command(&upstream, &record);
    commands.push(Command::CopyCurl { id, text });
}
