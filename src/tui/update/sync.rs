//! After every event: the list offset keeps the selection on screen, and the detail and the
//! diff match the selection, from memory when possible, else by asking for a load.

use crate::capture::ExchangeId;
use crate::tui::present::diff::{DiffKind, RequestDiff};
use crate::tui::state::app::App;
use crate::tui::state::detail::{Detail, DetailView};
use crate::tui::state::layout;

use super::event::Command;

pub(super) fn keep_selection_in_view(app: &mut App) {
    let areas = layout::areas(layout::screen(app), app);
    app.list_offset = layout::visible_offset(
        app.list_offset,
        app.selected_position(),
        app.rows.visible_len(),
        layout::page_height(areas.list),
    );
}

/// Makes the detail match the selection: from the live state or the recent records when
/// possible, otherwise by asking the loop to load it.
pub(super) fn detail(app: &mut App, commands: &mut Vec<Command>) {
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

/// Keeps the diff of the selected request ready while a diff view is on: against the
/// resend's parent, or the turn before it in its conversation. An earlier request no longer
/// in memory is loaded once the selected exchange itself is.
pub(super) fn diff(app: &mut App, commands: &mut Vec<Command>) {
    let Some(kind) = app.diff_view else {
        app.diff = None;
        return;
    };
    let pair = app.selected_row().and_then(|row| {
        let earlier = match kind {
            DiffKind::Resend => row.parent,
            DiffKind::Turn => app.conversations.previous(row.id),
        };
        Some((row.id, earlier?))
    });
    let Some((child, parent)) = pair else {
        app.diff = None;
        return;
    };
    let current = app
        .diff
        .as_ref()
        .filter(|d| d.kind == kind && d.child == child && d.parent == parent);
    if current.is_some_and(|d| !d.pending) {
        return;
    }
    let asked = current.is_some_and(|d| d.parent_asked);
    let start_of = |id: ExchangeId| match app.live.get(&id) {
        Some(live) => Some(live.start.clone()),
        None => app.recent.get(id).map(|r| r.start.clone()),
    };
    let waiting = |text: String| Some(RequestDiff::waiting(kind, child, parent, text, true));
    app.diff = match (start_of(child), start_of(parent)) {
        (Some(child_start), Some(parent_start)) => Some(match kind {
            DiffKind::Resend => RequestDiff::build(&parent_start, &child_start),
            DiffKind::Turn => RequestDiff::build_turn(&parent_start, &child_start),
        }),
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
