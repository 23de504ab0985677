//! `update`: the only code that changes the [`App`]. Pure: no I/O, no clock; what needs the
//! world comes back as [`Command`]s. Keys go to the file of the mode that has the keyboard.

pub mod event;

mod actions;
mod capture;
mod conversation_view;
mod editor;
mod filter;
mod help;
mod intercept;
mod keys;
mod normal;
mod prompt;
mod rules;
mod sync;

use crate::tui::present::diff::RequestDiff;
use crate::tui::state::app::{App, Mode, NOTICE_MS};
use crate::tui::state::detail::Detail;
use crate::tui::state::rows::{ExchangeRow, HoldMark};

use event::{AppEvent, Command};

/// Applies one event to the state and returns the work the loop must do.
pub fn update(app: &mut App, event: AppEvent) -> Vec<Command> {
    let mut commands = Vec::new();
    match event {
        AppEvent::Key(key) => keys::handle_key(app, key, &mut commands),
        AppEvent::Resize { width, height } => app.size = (width, height),
        AppEvent::Tick { now_ms } => tick(app, now_ms),
        AppEvent::Capture(event) => capture::apply(app, event),
        AppEvent::CaptureBatch(events) => {
            for event in events {
                capture::apply(app, event);
            }
        }
        AppEvent::CaptureEnded => {
            app.status.live = false;
            if app.status.attached {
                // The proxy went with its process: nothing is left to hold, resend or send.
                app.status.control = false;
                end_waits(app);
                app.notify(
                    "the session ended: its record stays here to browse".to_string(),
                    false,
                );
            }
        }
        AppEvent::DetailLoaded(record) => {
            let id = record.id();
            app.recent.insert(record);
            if app.selected == Some(id) && !app.live.contains_key(&id) {
                app.detail_stale = true;
            }
        }
        AppEvent::Grouped(batch) => app.group_history(batch),
        AppEvent::GroupingFailed(reason) => {
            app.history_done();
            app.notify(format!("conversations not grouped: {reason}"), true);
        }
        AppEvent::GroupingDone => app.history_done(),
        AppEvent::DetailFailed { id, reason } => {
            conversation_view::load_failed(app, id, &reason);
            if let Some(diff) = app.diff.as_mut().filter(|d| d.parent == id) {
                *diff = RequestDiff::waiting(
                    diff.kind,
                    diff.child,
                    id,
                    format!("{id} cannot be compared: {reason}"),
                    false,
                );
            }
            if matches!(app.detail, Detail::Loading(loading) if loading == id) {
                app.detail = Detail::Unavailable { id, reason };
            }
        }
        AppEvent::CaptureHealth(health) => app.status.capture_health = health,
        AppEvent::ForwardCounts(counts) => app.forward = Some(counts),
        AppEvent::ResendStarted { parent, child } => {
            app.notify(format!("sent {child}, a resend of {parent}"), false);
            if let Some(sent) = app.sent_fixes.take().filter(|s| s.parent == parent) {
                app.kept_fixes.insert(child, sent);
            }
            // Following stays as it was: the resend is usually the newest exchange anyway,
            // and a failure held after it must still come into view.
            if app.rows.get(child).is_some() {
                app.select(child);
            } else {
                app.select_when_seen = Some(child);
            }
        }
        AppEvent::ResendFailed { parent, reason } => {
            app.sent_fixes = None;
            app.notify(format!("resend of {parent} not sent: {reason}"), true);
        }
        AppEvent::HoldChanged(on) => {
            app.status.hold = on;
            let words = if on {
                "hold-on-error on: failed replies wait here for a fix"
            } else {
                "hold-on-error off (exchanges already held stay held)"
            };
            app.notify(words, false);
        }
        AppEvent::ModelsListed { id, models } => editor::models_listed(app, id, models),
        AppEvent::AutoFixChanged(on) => {
            app.status.auto_fix = on;
            let words = if on {
                "auto-fix on: failures with a fix that loses nothing are fixed and resent at once"
            } else {
                "auto-fix off"
            };
            app.notify(words, false);
        }
        AppEvent::ForwardDone { id, forwarded } => {
            if forwarded {
                app.notify(format!("{id}'s original error went to the agent"), false);
            } else {
                app.notify(format!("{id} is not held any more"), true);
            }
        }
        AppEvent::InterceptChanged(pattern) => intercept::changed(app, pattern),
        AppEvent::ReleaseDone { id, edited, result } => {
            intercept::release_done(app, id, edited, result);
        }
        AppEvent::CurlCopied { id, file } => match file {
            Ok(path) => app.notify(
                format!(
                    "curl for {id} copied to the clipboard and saved to {}",
                    path.display()
                ),
                false,
            ),
            Err(reason) => app.notify(format!("curl for {id} not saved: {reason}"), true),
        },
    }
    if app.quitting {
        return commands;
    }
    sync::keep_selection_in_view(app);
    sync::detail(app, &mut commands);
    sync::diff(app, &mut commands);
    conversation_view::sync(app, &mut commands);
    commands
}

fn tick(app: &mut App, now_ms: i64) {
    app.now_ms = now_ms;
    if let Mode::Editor(editor) = &mut app.mode {
        editor.check_if_pending();
    }
    if app
        .notice
        .as_ref()
        .is_some_and(|n| now_ms - n.shown_at_ms > NOTICE_MS)
    {
        app.notice = None;
    }
}

/// An attached screen whose session ended: the agents that were waiting on a hold or an
/// intercept went with the proxy, so no row may count down any more.
fn end_waits(app: &mut App) {
    let waiting: Vec<ExchangeRow> = app
        .rows
        .iter()
        .filter(|row| {
            matches!(row.hold, Some(HoldMark::Waiting { .. })) || row.intercepted_until_ms.is_some()
        })
        .cloned()
        .collect();
    for mut row in waiting {
        if matches!(row.hold, Some(HoldMark::Waiting { .. })) {
            row.hold = Some(HoldMark::Recorded("session ended".to_string()));
        }
        row.intercepted_until_ms = None;
        app.rows.upsert(row, &app.filter);
    }
}
