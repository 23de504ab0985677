//! The frame shared by the request and response panes: one side of the selected exchange in
//! the pane's mode and scroll, or why there is nothing to show.

use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::Frame;

use super::text_pane;
use crate::tui::present::body;
use crate::tui::present::pane_text::PaneContent;
use crate::tui::state::app::{App, Focus};
use crate::tui::state::detail::{Detail, DetailView};

/// Draws one side of the selected exchange in the mode and scroll of the pane that `focus`
/// names, titled ` {name}{progress} · {label} `; with nothing to show, the reason under
/// ` {name} `.
pub(super) fn draw(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    focus: Focus,
    name: &str,
    progress: &str,
    side: impl Fn(&DetailView) -> &PaneContent,
) {
    let focused = app.focus == focus;
    let pane = app.pane(focus).copied().unwrap_or_default();
    match detail_content(app, side) {
        Ok(content) => {
            let (text, fell_back) = content.shown(pane.mode);
            let label = if fell_back {
                "raw, no LLM reading".to_string()
            } else {
                text.label.clone()
            };
            let title = Line::from(format!(" {name}{progress} · {label} "));
            text_pane::draw(frame, area, title, &text.lines, pane.scroll, focused);
        }
        Err(message) => text_pane::draw(
            frame,
            area,
            Line::from(format!(" {name} ")),
            &[message],
            0,
            focused,
        ),
    }
}

/// One side of the selected exchange's detail, or the line to show instead.
fn detail_content(
    app: &App,
    side: impl Fn(&DetailView) -> &PaneContent,
) -> Result<&PaneContent, Line<'static>> {
    let dim = body::dim();
    match &app.detail {
        Detail::Ready(view) => Ok(side(view)),
        Detail::Empty if app.rows.is_empty() => Err(Line::styled(
            "no exchanges yet: point the agent at the proxy",
            dim,
        )),
        Detail::Empty => Err(Line::styled("no exchange selected", dim)),
        Detail::Loading(id) => Err(Line::styled(format!("loading {id}…"), dim)),
        Detail::Unavailable { id, reason } => Err(Line::styled(
            format!("{id} cannot be shown: {reason}"),
            Style::default().fg(Color::Red),
        )),
    }
}
