//! Where precomputed lines land in a window: character-wrapping one line to a width, and the
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

/// Splits one line into rows of at most `width` columns, keeping styles.
pub fn wrap_line(line: &Line<'static>, width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width.max(1));
    if line.width() <= width {
        return vec![line.clone()];
    }
    let mut rows = Vec::new();
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut style = Style::default();
    let mut used = 0usize;
    for grapheme in line.styled_graphemes(Style::default()) {
        let w = Span::raw(grapheme.symbol).width();
        if used + w > width && used > 0 {
            if !text.is_empty() {
                spans.push(Span::styled(std::mem::take(&mut text), style));
            }
            rows.push(Line::from(std::mem::take(&mut spans)));
            used = 0;
        }
        if grapheme.style != style && !text.is_empty() {
            spans.push(Span::styled(std::mem::take(&mut text), style));
        }
        style = grapheme.style;
        text.push_str(grapheme.symbol);
        used += w;
    }
    if !text.is_empty() {
        spans.push(Span::styled(text, style));
    }
    if !spans.is_empty() {
        rows.push(Line::from(spans));
    }
    rows
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
