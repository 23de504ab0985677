//! Where precomputed lines land in a window: wrapping one line to a width between words, and the
//! scroll positions that keep the end of a text on screen. Shared by the pane that draws the
//! lines and by the keys that scroll it, so both agree on what is visible.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// The scroll position actually used for `scroll`: at most the first line from which the
/// rest of the text fills the window.
pub fn clamp_scroll(lines: &[Line<'static>], scroll: usize, width: u16, height: u16) -> usize {
    scroll.min(bottom_offset(lines, width, height))
}

/// The first logical line of the last screenful.
pub fn bottom_offset(lines: &[Line<'static>], width: u16, height: u16) -> usize {
    let mut rows = 0usize;
    let mut first = lines.len();
    while first > 0 {
        let needed = wrap_line(&lines[first - 1], width).len();
        if rows + needed > height as usize {
            break;
        }
        rows += needed;
        first -= 1;
    }
    if first == lines.len() {
        // Even the last line alone overflows the window: show it from its start.
        return lines.len().saturating_sub(1);
    }
    first
}

/// One grapheme of a line with its style and width, for [`wrap_line`].
struct Cell {
    symbol: String,
    style: Style,
    width: usize,
}

/// Splits one line into rows of at most `width` columns, keeping styles. A row ends after the
/// last space that fits, so words stay whole (a word cut at the edge reads as two words); only
/// a run with no space in the row, like a long token, is cut where the row is full. Rows after
/// the first start at the line's own indentation, so a wrapped JSON string stays under its key.
pub fn wrap_line(line: &Line<'static>, width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width.max(1));
    if line.width() <= width {
        return vec![line.clone()];
    }
    let cells: Vec<Cell> = line
        .styled_graphemes(Style::default())
        .map(|g| Cell {
            width: Span::raw(g.symbol).width(),
            symbol: g.symbol.to_string(),
            style: g.style,
        })
        .collect();
    let indent = cells
        .iter()
        .take_while(|c| c.symbol == " ")
        .count()
        .min(width / 2);
    let mut rows = Vec::new();
    let mut start = 0;
    while start < cells.len() {
        let room = if rows.is_empty() {
            width
        } else {
            width - indent
        };
        let (end, next) = row_end(&cells, start, room);
        let pad = if rows.is_empty() { 0 } else { indent };
        rows.push(row_line(&cells[start..end], pad));
        start = next;
    }
    rows
}

/// Where the row starting at `start` ends (exclusive) and where the next one starts.
fn row_end(cells: &[Cell], start: usize, room: usize) -> (usize, usize) {
    let mut used = 0;
    let mut at = start;
    while at < cells.len() && (used + cells[at].width <= room || at == start) {
        used += cells[at].width;
        at += 1;
    }
    if at == cells.len() {
        return (at, at);
    }
    if cells[at].symbol == " " {
        // The row is full just before a space: the space is the break.
        return (at, at + 1);
    }
    match cells[start..at].iter().rposition(|c| c.symbol == " ") {
        Some(space) if space > 0 => (start + space + 1, start + space + 1),
        _ => (at, at),
    }
}

fn row_line(cells: &[Cell], pad: usize) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    if pad > 0 {
        spans.push(Span::raw(" ".repeat(pad)));
    }
    let mut text = String::new();
    let mut style = cells.first().map_or_else(Style::default, |c| c.style);
    for cell in cells {
        if cell.style != style && !text.is_empty() {
            spans.push(Span::styled(std::mem::take(&mut text), style));
        }
        style = cell.style;
        text.push_str(&cell.symbol);
    }
    if !text.is_empty() {
        spans.push(Span::styled(text, style));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Color;

    #[test]
    fn wrapping_keeps_text_and_styles() {
        let line = Line::from(vec![
            Span::raw("abcd"),
            Span::styled("efgh", Style::default().fg(Color::Red)),
        ]);
        let rows = wrap_line(&line, 3);
        let text: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
        assert_eq!(text, ["abc", "def", "gh"]);
        assert_eq!(rows[1].spans[1].style.fg, Some(Color::Red));
    }

    #[test]
    fn rows_end_between_words_and_keep_the_indentation() {
        let line = Line::raw("    \"content\": \"You are opencode, an interactive CLI tool\"");
        let rows: Vec<String> = wrap_line(&line, 24).iter().map(|r| r.to_string()).collect();
        assert_eq!(
            rows,
            [
                "    \"content\": \"You are ",
                "    opencode, an ",
                "    interactive CLI ",
                "    tool\"",
            ]
        );
        let token = Line::raw("ab ".to_string() + &"x".repeat(12));
        let rows: Vec<String> = wrap_line(&token, 5).iter().map(|r| r.to_string()).collect();
        assert_eq!(rows, ["ab ", "xxxxx", "xxxxx", "xx"]);
    }

    #[test]
    fn bottom_offset_accounts_for_wrapped_lines() {
        let lines: Vec<Line<'static>> = (0..10).map(|n| Line::raw(format!("line {n}"))).collect();
        assert_eq!(bottom_offset(&lines, 80, 4), 6);
        let mut long = lines.clone();
        long.push(Line::raw("x".repeat(30)));
        assert_eq!(bottom_offset(&long, 10, 4), 9);
        assert_eq!(clamp_scroll(&lines, usize::MAX, 80, 4), 6);
        assert_eq!(clamp_scroll(&lines, 2, 80, 4), 2);
    }
}
