//! A turn diff as lines: what a request changed from the one before it, read as messages —
//! `+ tool  result for call_1: …` — then the system prompt, tools and parameters. The resend
//! diff starts with the same reading before its line-by-line text diff.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;

use super::body::{self, dim};
use crate::analysis::TurnDiff;
use crate::llm::{Message, Part};

/// How much of a message's text one line shows.
const PREVIEW: usize = 96;

/// The lines of `diff`, without a title.
pub fn turn_lines(diff: &TurnDiff) -> Vec<Line<'static>> {
    if diff.is_empty() {
        return vec![Line::styled(
            "no change: the same messages, tools and parameters",
            dim(),
        )];
    }
    let mut lines = vec![Line::styled(
        format!(
            "{} kept · {} added · {} removed",
            messages_word(diff.kept),
            diff.added.len(),
            diff.removed.len()
        ),
        dim(),
    )];
    let red = Style::default().fg(Color::Red);
    let green = Style::default().fg(Color::Green);
    lines.extend(diff.removed.iter().map(|m| message_line("-", m, red)));
    lines.extend(diff.added.iter().map(|m| message_line("+", m, green)));
    let bold = Style::default().add_modifier(Modifier::BOLD);
    if diff.system_changed {
        lines.push(Line::styled("~ system prompt changed", bold));
    }
    let tools = [
        ("+", &diff.tools_added, green),
        ("-", &diff.tools_removed, red),
        ("~", &diff.tools_changed, bold),
    ];
    for (sign, names, style) in tools {
        if !names.is_empty() {
            let what = if sign == "~" {
                " (description or schema)"
            } else {
                ""
            };
            lines.push(Line::styled(
                format!("{sign} tools{what}: {}", names.join(", ")),
                style,
            ));
        }
    }
    for (name, before, after) in &diff.params {
        let show = |v: &Option<String>| v.as_deref().map_or("—".to_string(), preview);
        lines.push(Line::styled(
            format!("~ {name}: {} → {}", show(before), show(after)),
            bold,
        ));
    }
    lines
}

fn message_line(sign: &str, message: &Message, style: Style) -> Line<'static> {
    let parts: Vec<String> = message.parts.iter().map(part_text).collect();
    Line::styled(
        format!("{sign} {:<9} {}", message.role, preview(&parts.join(" · "))),
        style,
    )
}

fn part_text(part: &Part) -> String {
    match part {
        Part::Text(text) => text.clone(),
        Part::Thinking(text) => format!("(thinking) {text}"),
        Part::ToolCall(call) => format!("→ {}({})", call.name, call.arguments),
        Part::ToolResult {
            call_id,
            content,
            is_error,
        } => {
            let error = if *is_error { " (error)" } else { "" };
            let id = call_id.as_deref().unwrap_or("?");
            format!("result for {id}{error}: {content}")
        }
        Part::Other(kind) => format!("[{kind}]"),
    }
}

/// The first line's first characters, with `…` when there is more.
fn preview(text: &str) -> String {
    body::preview(text, PREVIEW)
}

fn messages_word(n: usize) -> String {
    match n {
        1 => "1 message".to_string(),
        n => format!("{n} messages"),
    }
}
