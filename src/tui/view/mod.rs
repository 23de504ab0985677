//! Drawing: one component per file, each reading the [`App`] and never changing it.

pub mod banner;
pub mod body;
pub mod diff;
pub mod editor;
pub mod help;
pub mod intercept_line;
pub mod list;
pub mod notice_line;
pub mod request_pane;
pub mod response_pane;
pub mod rules;
pub mod status_line;
pub mod text_pane;
pub mod units;

#[cfg(test)]
pub(crate) mod test_util;

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::Frame;

use super::app::{App, Detail, Focus};
use super::detail::{DetailView, PaneContent};
use super::layout;

/// Renders the whole screen from `app`.
pub fn draw(app: &App, frame: &mut Frame) {
    let areas = layout::areas(frame.area(), app);
    status_line::draw(frame, areas.status, app);
    banner::draw(frame, areas.banner, app);
    intercept_line::draw(frame, areas.intercept, app);
    if let Some(editor) = &app.editor {
        editor::draw(frame, areas.main, editor);
    } else {
        list::draw(frame, areas.list, app);
        if app.show_diff {
            diff::draw(frame, areas.request, app);
        } else {
            request_pane::draw(frame, areas.request, app);
        }
        response_pane::draw(frame, areas.response, app);
    }
    if let Some(notice) = &app.notice {
        notice_line::draw(frame, areas.notice, notice);
    }
    if app.show_rules {
        rules::draw(frame, frame.area(), app);
    }
    if app.show_help {
        help::draw(frame, frame.area());
    }
}

/// Draws one side of the selected exchange in the mode and scroll of the pane that `focus`
/// names, titled ` {name}{progress} · {label} `; with nothing to show, the reason under
/// ` {name} `.
fn draw_detail_pane(
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
            Style::default().fg(ratatui::style::Color::Red),
        )),
    }
}
