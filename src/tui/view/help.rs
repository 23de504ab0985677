//! The help overlay: every key, in one place. Change it together with `update/normal.rs`.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

/// Each key and what it does.
pub const KEYS: &[(&str, &str)] = &[
    ("↑/↓", "move in the list"),
    ("j/k", "move in the list, or scroll the focused pane"),
    ("Enter/Tab", "focus next: list → request → response"),
    ("Shift-Tab", "focus previous"),
    (
        "v",
        "raw / LLM view of the focused pane (both from the list)",
    ),
    ("/", "filter by path, model, status, class or message"),
    ("Enter", "apply the filter being typed"),
    ("Esc", "clear the filter; back to the list; close this help"),
    ("x", "only failed exchanges"),
    ("f", "follow the newest exchange"),
    ("d", "dismiss the error banner"),
    ("e", "edit the selected request, then resend it"),
    ("r", "resend the selected request unchanged"),
    ("H", "hold-on-error on/off: failed replies wait for a fix"),
    (
        "A",
        "auto-fix on/off: fixes that lose nothing apply themselves",
    ),
    (
        "z",
        "unfold/fold retry repeats and a gateway's provider calls",
    ),
    (
        "F",
        "held: send its error on; intercepted: send it unchanged",
    ),
    (
        "I",
        "intercept on (asks the method/path/model pattern) / off",
    ),
    ("D", "diff of a resend against its parent request"),
    (
        "t",
        "turn diff: what this request changed from the turn before",
    ),
    ("c / C", "fold its conversation / read it (Enter unfolds)"),
    (
        "K",
        "keep a resend's quick fix as a rule for later requests",
    ),
    ("R", "rules list (space switches one on/off)"),
    ("Ctrl-S", "editor: send the edited request"),
    ("Esc", "editor: cancel (asks before discarding edits)"),
    ("Ctrl-F", "quick fixes in the editor (1-9 applies one)"),
    ("g/G", "top / bottom (list or focused pane)"),
    ("PgUp/PgDn", "page up / down (list or focused pane)"),
    ("?", "this help (Esc closes)"),
    ("q/Ctrl-C", "quit"),
];

pub fn draw(frame: &mut Frame, area: Rect) {
    // Every key must be readable on 80x24: when one column does not fit, two columns share
    // the width (descriptions cut short rather than keys left out).
    let rows_free = usize::from(area.height.saturating_sub(4));
    let columns = if KEYS.len() > rows_free { 2 } else { 1 };
    let rows = KEYS.len().div_ceil(columns);
    let width = (area.width.saturating_sub(4)).min(72 * columns as u16);
    let height = (area.height.saturating_sub(2)).min(rows as u16 + 2);
    let popup = Rect {
        x: area.x + (area.width.saturating_sub(width)) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width,
        height,
    };
    let key_style = Style::default()
        .fg(Color::Yellow)
        .add_modifier(Modifier::BOLD);
    let column_width = usize::from(width.saturating_sub(2)) / columns;
    let cell = |(key, what): &(&str, &str)| {
        let what: String = what.chars().take(column_width.saturating_sub(13)).collect();
        vec![
            Span::styled(format!(" {key:<10} "), key_style),
            Span::raw(format!(
                "{what:<width$}",
                width = column_width.saturating_sub(12)
            )),
        ]
    };
    let lines: Vec<Line> = (0..rows)
        .map(|row| {
            let spans = (0..columns)
                .filter_map(|column| KEYS.get(column * rows + row))
                .flat_map(cell)
                .collect::<Vec<_>>();
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(" Keys ")
                .border_style(Style::default().fg(Color::Cyan)),
        ),
        popup,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::tests::test_util::render_text;
    use crate::tui::{App, Mode, StatusInfo};

    #[test]
    fn every_key_shows_on_eighty_by_twenty_four() {
        let mut app = App::new(StatusInfo::default(), Vec::new(), 0, (80, 24));
        app.mode = Mode::Help;
        let screen = render_text(&app, 80, 24);
        for (key, _) in KEYS {
            assert!(
                screen.contains(&format!(" {key:<10} ")),
                "missing {key} in\n{screen}"
            );
        }
    }

    #[test]
    fn help_lists_every_key() {
        let mut app = App::new(StatusInfo::default(), Vec::new(), 0, (100, 40));
        app.mode = Mode::Help;
        let screen = render_text(&app, 100, 40);
        for (key, what) in KEYS {
            assert!(
                screen.contains(key) && screen.contains(what),
                "missing {key} in\n{screen}"
            );
        }
        for key in [
            "↑/↓",
            "j/k",
            "Tab",
            "Shift-Tab",
            "v",
            "/",
            "x",
            "f",
            "d",
            "e",
            "r",
            "H",
            "F",
            "D",
            "K",
            "R",
            "C",
            "Ctrl-S",
            "Ctrl-F",
            "g/G",
            "PgUp/PgDn",
            "Esc",
            "Enter",
            "?",
            "q/Ctrl-C",
        ] {
            assert!(
                KEYS.iter().any(|(k, _)| k.contains(key)),
                "{key} undocumented"
            );
        }
    }
}
