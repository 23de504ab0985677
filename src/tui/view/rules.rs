//! The rules list (`R`): every kept rule, on or off, with what it matches and does.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use crate::tui::present::body::{dim, sanitize};
use crate::tui::state::app::App;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let width = area.width.saturating_sub(4).min(140);
    let rows = app.rules.len().max(1) as u16 + 3;
    let height = area.height.saturating_sub(2).min(rows);
    let popup = Rect {
        x: area.x + area.width.saturating_sub(width) / 2,
        y: area.y + area.height.saturating_sub(height) / 2,
        width,
        height,
    };
    let mut lines: Vec<Line> = app
        .rules
        .iter()
        .enumerate()
        .map(|(n, rule)| {
            let mark = if rule.enabled { "[x]" } else { "[ ]" };
            let mut style = if rule.enabled {
                Style::default()
            } else {
                dim()
            };
            if n == app.rules_cursor {
                style = style.add_modifier(Modifier::REVERSED);
            }
            let from = rule
                .created_from
                .as_deref()
                .map_or(String::new(), |from| format!("  (from {from})"));
            Line::from(vec![
                Span::styled(format!(" {mark} {:>2} ", rule.id), style),
                Span::styled(sanitize(&format!("{rule}{from}")), style),
            ])
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::styled(
            " no rules yet: apply a quick fix (Ctrl-F in the editor), resend, then K",
            dim(),
        ));
    }
    lines.push(Line::styled(" ↑/↓ move · space on/off · Esc close", dim()));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(" Rules applied to agent requests ")
                .border_style(Style::default().fg(Color::Yellow)),
        ),
        popup,
    );
}
