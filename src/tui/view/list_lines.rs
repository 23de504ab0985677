//! Which lines the exchange list shows: exchange rows, and conversation headers that take
//! lines of their own (above a conversation's first row on screen, or alone when folded), so
//! the offset is moved on until the selection is among them.

use crate::analysis::{ConversationId, ConversationKind};
use crate::tui::state::app::App;
use crate::tui::state::layout::visible_offset;

/// One line of the list: an exchange's row, or a conversation's header (drawn above its first
/// row on screen, or alone for a folded conversation, standing for its latest row at `pos`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListLine {
    Exchange(usize),
    Header { pos: usize, folded: bool },
}

/// The lines that fit in `height`, from the remembered offset moved on until the selection
/// is among them: headers take lines the offset does not count.
pub fn lines_on_screen(app: &App, selected: Option<usize>, height: usize) -> Vec<ListLine> {
    let len = app.rows.visible_len();
    let mut offset = visible_offset(app.list_offset, selected, len, height);
    loop {
        let lines = lines_from(app, offset, height);
        let shown = |pos| {
            lines.iter().any(|line| {
                matches!(line, ListLine::Exchange(p) | ListLine::Header { pos: p, folded: true } if *p == pos)
            })
        };
        match selected {
            Some(pos) if pos > offset && !shown(pos) => offset += 1,
            _ => return lines,
        }
    }
}

fn lines_from(app: &App, offset: usize, height: usize) -> Vec<ListLine> {
    let mut lines = Vec::with_capacity(height);
    let mut pos = offset;
    while lines.len() < height {
        let Some(row) = app.rows.visible_row(pos) else {
            break;
        };
        match row.tree_conversation() {
            Some(id) if app.rows.is_conversation_folded(id) => {
                lines.push(ListLine::Header { pos, folded: true });
                pos += 1;
                continue;
            }
            // A conversation cut by the top of the list keeps its header in view.
            Some(id)
                if shows_header(app, id)
                    && (pos == offset || app.rows.starts_conversation(pos)) =>
            {
                lines.push(ListLine::Header { pos, folded: false });
            }
            _ => {}
        }
        if lines.len() < height {
            lines.push(ListLine::Exchange(pos));
        }
        pos += 1;
    }
    lines
}

/// Whether conversation `id` has a header row: once it has a second turn, and always for a
/// sub-agent, so a single request reads as a plain row until a conversation forms.
pub fn shows_header(app: &App, id: ConversationId) -> bool {
    app.conversations
        .get(id)
        .is_some_and(|c| c.kind == ConversationKind::SubAgent || c.turns() > 1)
}
