//! The request pane in diff mode: the lines of the selected resend's diff from its parent.

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;

use super::text_pane;
use crate::tui::present::body::dim;
use crate::tui::state::app::{App, Focus};

/// The request pane in diff mode.
pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let focused = app.focus == Focus::Request;
    let waiting;
    let lines: &[Line<'static>] = match &app.diff {
        Some(diff) => &diff.lines,
        None => {
            waiting = [Line::styled(
                "not a resend: D shows what a resend (↳ in the list) changed",
                dim(),
            )];
            &waiting
        }
    };
    let title = Line::from(" Request · diff from parent (D: back) ");
    text_pane::draw(frame, area, title, lines, app.request_pane.scroll, focused);
}
