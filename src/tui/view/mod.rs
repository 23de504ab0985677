//! Drawing: one component per file, each reading the [`App`] and never changing it.

mod banner;
mod conversation_row;
mod conversation_view;
mod detail_pane;
mod diff;
mod editor;
mod help;
mod intercept_line;
mod list;
mod list_lines;
mod notice_line;
mod request_pane;
mod response_pane;
mod rules;
mod status_line;
mod text_pane;

use ratatui::Frame;

use crate::tui::state::app::{App, Mode};
use crate::tui::state::layout;

/// Renders the whole screen from `app`.
pub fn draw(app: &App, frame: &mut Frame) {
    let areas = layout::areas(frame.area(), app);
    status_line::draw(frame, areas.status, app);
    banner::draw(frame, areas.banner, app);
    intercept_line::draw(frame, areas.intercept, app);
    if let Mode::Editor(editor) = &app.mode {
        editor::draw(frame, areas.main, editor);
    } else if let Mode::Conversation(view) = &app.mode {
        conversation_view::draw(frame, areas.main, view);
    } else {
        list::draw(frame, areas.list, app);
        if app.diff_view.is_some() {
            diff::draw(frame, areas.request, app);
        } else {
            request_pane::draw(frame, areas.request, app);
        }
        response_pane::draw(frame, areas.response, app);
    }
    if let Some(notice) = &app.notice {
        notice_line::draw(frame, areas.notice, notice);
    }
    match app.mode {
        Mode::Rules => rules::draw(frame, frame.area(), app),
        Mode::Help => help::draw(frame, frame.area()),
        _ => {}
    }
}
