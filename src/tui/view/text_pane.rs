//! A bordered, scrolled view of precomputed lines: wraps only the lines on screen, so a pane
//! over a 2 MB body costs the same to draw as one over a short one.

use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use crate::tui::present::wrap::{clamp_scroll, wrap_line};

/// Draws `lines` from logical line `scroll` (clamped so the end of the text is never
/// scrolled past), character-wrapped to the pane's width.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    title: Line<'static>,
    lines: &[Line<'static>],
    scroll: usize,
    focused: bool,
) {
    let border = if focused {
        Style::default().fg(Color::Cyan)
    } else {
        Style::default().fg(Color::DarkGray)
    };
    let mut block = Block::bordered().title(title).border_style(border);
    let inner = block.inner(area);
    let top = clamp_scroll(lines, scroll, inner.width, inner.height);
    if lines.len() > inner.height as usize {
        block = block
            .title_bottom(Line::from(format!(" {}/{} ", top + 1, lines.len())).right_aligned());
    }
    frame.render_widget(block, area);
    let mut rows = Vec::with_capacity(inner.height as usize);
    for line in lines.iter().skip(top) {
        if rows.len() >= inner.height as usize {
            break;
        }
        rows.extend(wrap_line(line, inner.width));
    }
    rows.truncate(inner.height as usize);
    frame.render_widget(Paragraph::new(rows), inner);
}
