//! What the capture bus says about exchanges, applied to the rows, the live records, the
//! banner and the held and intercepted marks.

use std::sync::Arc;

use crate::analysis::RetryLoop;
use serde::Deserialize;

use crate::capture::{CaptureEvent, ExchangeId, ExchangeRecord, HoldOutcome, Origin};
use crate::fix::Rule;
use crate::tui::present::fix_adapter;
use crate::tui::present::llm_adapter::{self, decode_record_response};
use crate::tui::present::response::LiveHead;
use crate::tui::state::app::{App, Banner};
use crate::tui::state::detail::{Detail, DetailView};
use crate::tui::state::fixes::SentFixes;
use crate::tui::state::records::LiveExchange;
use crate::tui::state::rows::{row_update_from_record, row_update_usage, ExchangeRow, HoldMark};

use super::intercept;

/// Applies one event from the capture bus.
pub(super) fn apply(app: &mut App, event: CaptureEvent) {
    match event {
        CaptureEvent::Started(start) => {
            let id = start.id;
            intercept::started(app, id);
            let row = app.grouped_row(&start);
            app.rows.upsert(row, &app.filter);
            app.live.insert(id, LiveExchange::new(start));
            let shown = app.rows.visible_position(id).is_some();
            if app.select_when_seen == Some(id) {
                app.select_when_seen = None;
                app.select(id);
            } else if shown && (app.follow || app.selected.is_none()) {
                app.select(id);
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
        CaptureEvent::RulesChanged { rules, .. } => rules_changed(app, &rules),
    }
}

/// Another screen (or this one) changed the rules: the list shows what the proxy applies now,
/// so a later change here starts from it. Nothing goes back to the proxy: it already has them.
fn rules_changed(app: &mut App, rules: &serde_json::Value) {
    let Ok(rules) = Vec::<Rule>::deserialize(rules) else {
        return;
    };
    app.rules = rules;
    app.rules_cursor = app.rules_cursor.min(app.rules.len().saturating_sub(1));
}

fn finish(app: &mut App, record: Arc<ExchangeRecord>) {
    let id = record.id();
    app.live.remove(&id);
    // Decoded once: for the token columns, and for the panes when this one is selected.
    let decoded = decode_record_response(&record);
    let usage = decoded.as_ref().and_then(|d| d.usage);
    let refresh = |row: &mut ExchangeRow| {
        row_update_from_record(row, &record);
        if let Some(usage) = &usage {
            row_update_usage(row, usage);
        }
    };
    if !app.rows.update(id, &app.filter, refresh) {
        // The Started event was missed (subscribed late): the record has all a row needs.
        let mut row = app.grouped_row(&record.start);
        refresh(&mut row);
        app.rows.upsert(row, &app.filter);
        if app.follow && app.rows.visible_position(id).is_some() {
            app.select(id);
        }
    }
    if let Some(usage) = &usage {
        app.count_usage(id, usage);
    }
    let retry_loop = app.loops.observe(&record).map(RetryLoop::headline);
    let cause = app.causes.observe(&record);
    update_banner(app, &record, retry_loop, cause);
    remember_auto_fix(app, &record);
    if record.failure.is_none() && app.kept_fixes.contains_key(&id) {
        app.notify(
            format!("{id} worked: K keeps its quick fix as a rule"),
            false,
        );
    }
    if app.selected == Some(id) {
        let request = llm_adapter::decode_start(&record.start);
        let view = DetailView::from_record(&record, request.as_ref(), decoded.as_ref());
        app.detail = Detail::Ready(Box::new(view));
        app.detail_stale = false;
    }
    app.recent.insert(record);
}

/// An auto-fix that worked can be kept as a rule with `K`, like a fix the user sent: its fix
/// is the first lossless one for its parent's failure, as the proxy chose it.
fn remember_auto_fix(app: &mut App, record: &ExchangeRecord) {
    let lineage = &record.start.lineage;
    let (Origin::AutoFix, Some(parent), None) = (lineage.origin, lineage.parent, &record.failure)
    else {
        return;
    };
    let Some(failed) = app.recent.get(parent).cloned() else {
        return;
    };
    let offers = fix_adapter::offers(&failed, &failed.start.request.body, None);
    let Some(first) = offers.ok().and_then(|o| o.into_iter().next()) else {
        return;
    };
    if first.fix.is_lossless() {
        let headers = record.start.request.headers.clone();
        let sent = SentFixes::new(app.rows.get(parent), parent, vec![first.fix], headers);
        app.kept_fixes.insert(record.id(), sent);
    }
}

/// A failure raises the banner (unless the user dismissed that one); a later success of the
/// same call lowers it.
fn update_banner(
    app: &mut App,
    record: &ExchangeRecord,
    retry_loop: Option<String>,
    cause: Option<String>,
) {
    let id = record.id();
    let request = &record.start.request;
    let status = record.response.as_ref().map(|r| r.status);
    match &record.failure {
        Some(_) if record.start.request.provider().is_some() => {
            // A provider call's failure shows as the cause under its agent's exchange.
        }
        Some(failure) if !app.dismissed.contains(&id) => {
            // Under a gateway, the provider's words are the ones to diagnose.
            let deepest = cause
                .as_ref()
                .and_then(|_| app.causes.get(id))
                .map_or((status, failure.message.as_str()), |p| {
                    (p.status, p.message.as_str())
                });
            let diagnosis = llm_adapter::diagnosis_summary(deepest.0, deepest.1)
                .or_else(|| llm_adapter::diagnosis_summary(status, &failure.message));
            app.banner = Some(Banner {
                id,
                method: request.method.clone(),
                uri: request.uri.clone(),
                status,
                failure: failure.clone(),
                diagnosis,
                retry_loop,
                cause,
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
