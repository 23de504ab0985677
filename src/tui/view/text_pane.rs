//! A bordered, scrolled view of precomputed lines: wraps only the lines on screen, so a pane
//! over a 2 MB body costs the same to draw as one over a short one.

use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

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
