//! The request pane in diff mode: the selected resend's diff from its parent, or the selected
//! request's turn diff from the one before it in its conversation.

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;

use super::text_pane;
use crate::tui::present::body::dim;
use crate::tui::present::diff::DiffKind;
use crate::tui::state::app::{App, Focus};

/// The request pane in diff mode.
pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let focused = app.focus == Focus::Request;
    let waiting;
    let turn = app.diff_view == Some(DiffKind::Turn);
    let lines: &[Line<'static>] = match &app.diff {
        Some(diff) => &diff.lines,
        None => {
            let why = if turn {
                "the first request of its conversation: t compares a request with the turn before"
            } else {
                "not a resend: D shows what a resend (↳ in the list) changed"
            };
            waiting = [Line::styled(why, dim())];
            &waiting
        }
    };
    let title = if turn {
        Line::from(" Request · what this turn changed (t: back) ")
    } else {
        Line::from(" Request · diff from parent (D: back) ")
    };
    text_pane::draw(frame, area, title, lines, app.request_pane.scroll, focused);
}
