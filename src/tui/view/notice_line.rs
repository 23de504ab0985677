//! The message line at the bottom: what the last fixing key did, or why it could not.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::tui::present::body::sanitize;
use crate::tui::state::app::Notice;

pub fn draw(frame: &mut Frame, area: Rect, notice: &Notice) {
    let style = if notice.error {
        Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
    } else {
        Style::default().fg(Color::Cyan)
    };
    frame.render_widget(
        Paragraph::new(Line::styled(format!(" {}", sanitize(&notice.text)), style)),
        area,
    );
}
