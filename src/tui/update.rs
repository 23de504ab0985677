//! `update`: the only code that changes the [`App`]. Pure: no I/O, no clock; what needs the
//! world comes back as [`Command`]s.

use std::sync::Arc;

use crate::capture::{CaptureEvent, ExchangeId, ExchangeRecord, HoldOutcome};

use super::app::{App, Banner, Detail, NOTICE_MS};
use super::detail::{self, DetailView, LiveExchange, LiveHead};
use super::event::{AppEvent, Command};
use super::rows::{row_from_start, row_update_from_record, row_update_usage, HoldMark};
use super::view::diff::RequestDiff;
use super::view::list;
use super::{intercept, keys, layout, llm_adapter};

/// Applies one event to the state and returns the work the loop must do.
pub fn update(app: &mut App, event: AppEvent) -> Vec<Command> {
    let mut commands = Vec::new();
    match event {
        AppEvent::Key(key) => keys::handle_key(app, key, &mut commands),
        AppEvent::Resize { width, height } => app.size = (width, height),
        AppEvent::Tick { now_ms } => tick(app, now_ms),
        AppEvent::Capture(event) => apply_capture(app, event),
        AppEvent::CaptureBatch(events) => {
            for event in events {
                apply_capture(app, event);
            }
        }
        AppEvent::CaptureEnded => app.status.live = false,
        AppEvent::DetailLoaded(record) => {
            let id = record.id();
            app.recent.insert(record);
            if app.selected == Some(id) && !app.live.contains_key(&id) {
                app.detail_stale = true;
            }
        }
        AppEvent::DetailFailed { id, reason } => {
            if let Some(diff) = app.diff.as_mut().filter(|d| d.parent == id) {
                *diff = RequestDiff::waiting(
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
        AppEvent::ResendStarted { parent, child } => {
            app.notify(format!("sent {child}, a resend of {parent}"), false);
            if let Some(sent) = app.sent_fixes.take().filter(|s| s.parent == parent) {
                app.kept_fixes.insert(child, sent);
            }
            // Following stays as it was: the resend is usually the newest exchange anyway,
            // and a failure held after it must still come into view.
            if app.rows.get(child).is_some() {
                select(app, child);
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
    keep_selection_in_view(app);
    sync_detail(app, &mut commands);
    sync_diff(app, &mut commands);
    commands
}

fn tick(app: &mut App, now_ms: i64) {
    app.now_ms = now_ms;
    if let Some(editor) = &mut app.editor {
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

/// Makes `id` the selected exchange; the panes start again from the top.
pub(crate) fn select(app: &mut App, id: ExchangeId) {
    if app.selected != Some(id) {
        app.selected = Some(id);
        app.request_pane.scroll = 0;
        app.response_pane.scroll = 0;
    }
}

fn apply_capture(app: &mut App, event: CaptureEvent) {
    match event {
        CaptureEvent::Started(start) => {
            let id = start.id;
            intercept::started(app, id);
            app.rows.upsert(row_from_start(&start), &app.filter);
            app.live.insert(id, LiveExchange::new(start));
            let shown = app.rows.visible_position(id).is_some();
            if app.select_when_seen == Some(id) {
                app.select_when_seen = None;
                select(app, id);
            } else if shown && (app.follow || app.selected.is_none()) {
                select(app, id);
            }
        }
        CaptureEvent::ResponseHead {
            id,
            status,
            headers,
            first_byte_ms,
        } => {
            app.rows.update(id, &app.filter, |row| {
                row.status = Some(status);
                row.first_byte_ms = Some(first_byte_ms);
            });
            if let Some(live) = app.live.get_mut(&id) {
                live.set_head(LiveHead {
                    status,
                    headers,
                    first_byte_ms,
                });
            }
            mark_stale_if_selected(app, id);
        }
        CaptureEvent::ResponseChunk { id, data } => {
            app.rows.update(id, &app.filter, |row| {
                row.response_bytes += data.len() as u64
            });
            if let Some(live) = app.live.get_mut(&id) {
                live.push(&data);
            }
            mark_stale_if_selected(app, id);
        }
        CaptureEvent::Intercepted {
            start,
            expires_at_ms,
        } => intercept::intercepted(app, start, expires_at_ms),
        CaptureEvent::Finished(record) => finish(app, record),
        CaptureEvent::Held { id, expires_at_ms } => {
            app.rows.update(id, &app.filter, |row| {
                row.hold = Some(HoldMark::Waiting { expires_at_ms });
            });
        }
        CaptureEvent::HoldEnded { id, outcome, .. } => hold_ended(app, id, outcome),
        CaptureEvent::RulesChanged { .. } => {}
    }
}

fn finish(app: &mut App, record: Arc<ExchangeRecord>) {
    let id = record.id();
    app.live.remove(&id);
    // Decoded once: for the token columns, and for the panes when this one is selected.
    let decoded = detail::decode_record_response(&record);
    let usage = decoded.as_ref().and_then(|d| d.usage);
    let refresh = |row: &mut super::ExchangeRow| {
        row_update_from_record(row, &record);
        if let Some(usage) = &usage {
            row_update_usage(row, usage);
        }
    };
    if !app.rows.update(id, &app.filter, refresh) {
        // The Started event was missed (subscribed late): the record has all a row needs.
        let mut row = row_from_start(&record.start);
        refresh(&mut row);
        app.rows.upsert(row, &app.filter);
        if app.follow && app.rows.visible_position(id).is_some() {
            select(app, id);
        }
    }
    update_banner(app, &record);
    if record.failure.is_none() && app.kept_fixes.contains_key(&id) {
        app.notify(
            format!("{id} worked: K keeps its quick fix as a rule"),
            false,
        );
    }
    if app.selected == Some(id) {
        let request = llm_adapter::decode_request(record.start.dialect, &record.start.request.body);
        let view = DetailView::from_record(&record, request.as_ref(), decoded.as_ref());
        app.detail = Detail::Ready(Box::new(view));
        app.detail_stale = false;
    }
    app.recent.insert(record);
}

/// A failure raises the banner (unless the user dismissed that one); a later success of the
/// same call lowers it.
fn update_banner(app: &mut App, record: &ExchangeRecord) {
    let id = record.id();
    let request = &record.start.request;
    let status = record.response.as_ref().map(|r| r.status);
    match &record.failure {
        Some(failure) if !app.dismissed.contains(&id) => {
            app.banner = Some(Banner {
                id,
                method: request.method.clone(),
                uri: request.uri.clone(),
                status,
                failure: failure.clone(),
                diagnosis: llm_adapter::diagnosis_summary(status, &failure.message),
            });
        }
        Some(_) => {}
        None => {
            let Some(banner) = &app.banner else {
                return;
            };
            let fixed = if record.start.lineage.parent.is_some() {
                // A resend fixes the failure it descends from, or one descending from the
                // same agent request.
                app.lineage_root(id) == app.lineage_root(banner.id)
            } else {
                // An agent's own retry: "the same call" is method + path, unless the failure
                // is held, which only its own lineage can fix.
                let path = |uri: &str| uri.split_once('?').map_or(uri, |(p, _)| p).to_string();
                let held = app
                    .hold_of(banner.id)
                    .is_some_and(|(_, mark)| mark.is_waiting());
                !held
                    && banner.id < id
                    && banner.method == request.method
                    && path(&banner.uri) == path(&request.uri)
            };
            if fixed {
                app.banner = None;
            }
        }
    }
}

/// A held exchange was settled: its row says how, and a delivered fix lowers its banner.
fn hold_ended(app: &mut App, id: ExchangeId, outcome: HoldOutcome) {
    app.rows.update(id, &app.filter, |row| {
        row.hold = Some(HoldMark::Ended(outcome));
    });
    let concerns_banner = app
        .banner
        .as_ref()
        .is_some_and(|banner| app.lineage_root(banner.id) == id);
    if matches!(outcome, HoldOutcome::Delivered { .. }) && concerns_banner {
        app.banner = None;
    }
    let (error, keep) = match outcome {
        HoldOutcome::Delivered { from } if app.kept_fixes.contains_key(&from) => {
            (false, " · K keeps the quick fix as a rule")
        }
        HoldOutcome::Delivered { .. } => (false, ""),
        _ => (true, ""),
    };
    app.notify(format!("{id}: {outcome}{keep}"), error);
}

fn mark_stale_if_selected(app: &mut App, id: ExchangeId) {
    if app.selected == Some(id) {
        app.detail_stale = true;
    }
}

fn keep_selection_in_view(app: &mut App) {
    let areas = layout::areas(layout::screen(app), app);
    app.list_offset = list::visible_offset(
        app.list_offset,
        app.selected_position(),
        app.rows.visible_len(),
        list::page_height(areas.list),
    );
}

/// Makes the detail match the selection: from the live state or the recent records when
/// possible, otherwise by asking the loop to load it.
fn sync_detail(app: &mut App, commands: &mut Vec<Command>) {
    let Some(id) = app.selected else {
        app.detail = Detail::Empty;
        return;
    };
    if app.detail.id() == Some(id) && !app.detail_stale {
        return;
    }
    app.detail_stale = false;
    if let Some(live) = app.live.get(&id) {
        match &mut app.detail {
            Detail::Ready(view) if view.id == id && view.is_live() => {
                view.refresh_live(live, live.assembled().as_ref());
            }
            _ => app.detail = Detail::Ready(Box::new(DetailView::decode_live(live))),
        }
    } else if let Some(record) = app.recent.get(id) {
        app.detail = Detail::Ready(Box::new(DetailView::decode_record(record)));
        app.recent.touch(id);
    } else if app.detail.id() != Some(id) {
        app.detail = Detail::Loading(id);
        commands.push(Command::LoadDetail(id));
    }
}

/// Keeps the diff of the selected resend ready while the diff view is on; a parent no longer
/// in memory is loaded once the selected exchange itself is.
fn sync_diff(app: &mut App, commands: &mut Vec<Command>) {
    let pair = app
        .selected_row()
        .and_then(|row| Some((row.id, row.parent?)));
    let Some((child, parent)) = pair.filter(|_| app.show_diff) else {
        app.diff = None;
        return;
    };
    let current = app
        .diff
        .as_ref()
        .filter(|d| d.child == child && d.parent == parent);
    if current.is_some_and(|d| !d.pending) {
        return;
    }
    let asked = current.is_some_and(|d| d.parent_asked);
    let start_of = |id: ExchangeId| match app.live.get(&id) {
        Some(live) => Some(live.start.clone()),
        None => app.recent.get(id).map(|r| r.start.clone()),
    };
    let waiting = |text: String| Some(RequestDiff::waiting(child, parent, text, true));
    app.diff = match (start_of(child), start_of(parent)) {
        (Some(child_start), Some(parent_start)) => {
            Some(RequestDiff::build(&parent_start, &child_start))
        }
        (None, _) => waiting(format!("loading {child}…")),
        (Some(_), None) if asked => return,
        // One load at a time: the selected exchange's own comes first.
        (Some(_), None) if !matches!(app.detail, Detail::Ready(_)) => {
            waiting(format!("loading {child}…"))
        }
        (Some(_), None) => {
            commands.push(Command::LoadDetail(parent));
            waiting(format!("loading {parent} to compare…")).map(|mut diff| {
                diff.parent_asked = true;
                diff
            })
        }
    };
}
