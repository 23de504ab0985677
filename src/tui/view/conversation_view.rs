//! The conversation view: the whole conversation in the place of the list and the panes, the
//! cursor item's head highlighted, and the keys that read it along the bottom border.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use crate::tui::present::body::dim;
use crate::tui::present::conversation_text::wrap_item_line;
use crate::tui::state::conversation_view::{ConversationView, Reading};

const KEYS: &str = " j/k read · Enter unfold/fold · PgUp/PgDn · g/G · Esc back ";

pub fn draw(frame: &mut Frame, area: Rect, view: &ConversationView) {
    let mut block = Block::bordered()
        .title(Line::from(format!(" {} ", view.title)))
        .title_bottom(Line::from(KEYS))
        .border_style(Style::default().fg(Color::Cyan));
    let inner = block.inner(area);
    let lines = match &view.reading {
        Reading::Loading => {
            let text = format!("loading {}…", view.source);
            frame.render_widget(block, area);
            frame.render_widget(Paragraph::new(Line::styled(text, dim())), inner);
            return;
        }
        Reading::Unavailable(reason) => {
            frame.render_widget(block, area);
            frame.render_widget(Paragraph::new(Line::styled(reason.clone(), dim())), inner);
            return;
        }
        Reading::Ready => view.lines(),
    };
    let top = view.shown_from(inner.width, inner.height);
    if lines.len() > usize::from(inner.height) {
        block = block
            .title_bottom(Line::from(format!(" {}/{} ", top + 1, lines.len())).right_aligned());
    }
    frame.render_widget(block, area);
    let cursor_head = view.cursor_lines().start;
    let mut rows = Vec::with_capacity(usize::from(inner.height));
    for (at, line) in lines.iter().enumerate().skip(top) {
        if rows.len() >= usize::from(inner.height) {
            break;
        }
        if at == cursor_head {
            let marked = line
                .clone()
                .patch_style(Style::default().add_modifier(Modifier::REVERSED));
            rows.extend(wrap_item_line(&marked, inner.width));
        } else {
            rows.extend(wrap_item_line(line, inner.width));
        }
    }
    rows.truncate(usize::from(inner.height));
    frame.render_widget(Paragraph::new(rows), inner);
}
