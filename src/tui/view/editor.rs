//! The request editor: the text (request line, headers, blank line, body) in a textarea that
//! draws only the rows on screen, a line saying whether the body is valid JSON (or where it
//! breaks), the question being asked, and the quick-fix menu.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use crate::tui::present::body::dim;
use crate::tui::state::editor::{EditorPrompt, EditorState, FixMenu, JsonStatus};

pub fn draw(frame: &mut Frame, area: Rect, editor: &EditorState) {
    let changed = if editor.modified { " · edited" } else { "" };
    let link = if editor.intercepted {
        format!(
            " Edit intercepted {} → send to the upstream{changed} ",
            editor.source
        )
    } else if editor.parent == editor.source {
        format!(" Edit {} → resend{changed} ", editor.source)
    } else {
        format!(
            " Edit {} → resend of {}{changed} ",
            editor.source, editor.parent
        )
    };
    let keys = Line::from(" Ctrl-S send · Esc cancel · Ctrl-F quick fixes ").right_aligned();
    let block = Block::bordered()
        .title(Line::styled(
            link,
            Style::default().add_modifier(Modifier::BOLD),
        ))
        .title(keys)
        .border_style(Style::default().fg(Color::Cyan));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [text_area, status_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(inner);
    frame.render_widget(&editor.textarea, text_area);
    frame.render_widget(Paragraph::new(status_line(editor)), status_area);
    if let Some(menu) = &editor.menu {
        draw_menu(frame, text_area, menu);
    }
}

/// The question being asked, else the last note, else the body's JSON state.
fn status_line(editor: &EditorState) -> Line<'static> {
    let ask = Style::default()
        .fg(Color::Black)
        .bg(Color::Yellow)
        .add_modifier(Modifier::BOLD);
    match editor.prompt {
        Some(EditorPrompt::Discard) => return Line::styled(" discard edits? y/n ", ask),
        Some(EditorPrompt::SendInvalid) => {
            return Line::styled(
                format!(
                    " {} — send anyway? y/n ",
                    json_words(&editor.json).unwrap_or_default()
                ),
                ask,
            )
        }
        None => {}
    }
    let mut spans = Vec::new();
    let (text, style) = match &editor.json {
        JsonStatus::Valid => ("✔ JSON ok".to_string(), Style::default().fg(Color::Green)),
        JsonStatus::NotJson => ("body is not JSON; sent as typed".to_string(), dim()),
        status => (
            format!("✖ {}", json_words(status).unwrap_or_default()),
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
    };
    spans.push(Span::styled(text, style));
    if editor.check_pending {
        spans.push(Span::styled(" (checking…)", dim()));
    }
    if let Some(note) = &editor.note {
        spans.push(Span::styled(
            format!("  · {note}"),
            Style::default().fg(Color::Yellow),
        ));
    }
    Line::from(spans)
}

/// What is wrong with the text, in one line: where the JSON breaks (counted in the body and
/// in the editor's numbered lines), or which head line is not a header.
fn json_words(status: &JsonStatus) -> Option<String> {
    match status {
        JsonStatus::Invalid {
            problem,
            editor_line,
        } => Some(format!(
            "JSON error at body line {}, column {} (editor line {editor_line}): {}",
            problem.line, problem.column, problem.message
        )),
        JsonStatus::BadHead(error) => Some(error.to_string()),
        JsonStatus::Valid | JsonStatus::NotJson => None,
    }
}

fn draw_menu(frame: &mut Frame, area: Rect, menu: &FixMenu) {
    let mut lines: Vec<Line> = menu
        .offers
        .iter()
        .enumerate()
        .take(9)
        .map(|(n, offer)| {
            Line::from(vec![
                Span::styled(
                    format!(" {} ", n + 1),
                    Style::default()
                        .fg(Color::Yellow)
                        .add_modifier(Modifier::BOLD),
                ),
                Span::raw(offer.label.clone()),
            ])
        })
        .collect();
    if let Some(reason) = &menu.empty_reason {
        lines.push(Line::styled(format!(" {reason}"), dim()));
    }
    lines.push(Line::styled(" 1-9 apply · Esc close", dim()));
    let width = lines
        .iter()
        .map(Line::width)
        .max()
        .unwrap_or(0)
        .saturating_add(2)
        .min(usize::from(area.width)) as u16;
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + area.width.saturating_sub(width) / 2,
        y: area.y + area.height.saturating_sub(height) / 3,
        width,
        height,
    };
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(" Quick fixes ")
                .border_style(Style::default().fg(Color::Yellow)),
        ),
        popup,
    );
}
