//! The request diff: what a resend changed from the request it was resent from, line by line
//! over the same text the editor shows (request line, headers, pretty body), with a few lines
//! of context around each change. Built once per selection, so drawing it is a slice.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use similar::{ChangeTag, TextDiff};

use super::body::{dim, sanitize};
use super::request_text::request_text;
use super::turn_diff::turn_lines;
use crate::analysis::TurnDiff;
use crate::capture::{ExchangeId, ExchangeStart};
use crate::llm::decode_request;

/// Unchanged lines shown around each change.
const CONTEXT: usize = 3;

/// What a diff compares the selected request with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffKind {
    /// A resend against the request it was resent from (`D`).
    Resend,
    /// A request against the one before it in its conversation (`t`).
    Turn,
}

/// The lines of one request's diff against an earlier one.
#[derive(Debug, Clone)]
pub struct RequestDiff {
    pub kind: DiffKind,
    pub child: ExchangeId,
    pub parent: ExchangeId,
    pub lines: Vec<Line<'static>>,
    /// Waiting for a request to be loaded; rebuilt once it is.
    pub pending: bool,
    /// The parent's record was asked for (once).
    pub parent_asked: bool,
}

impl RequestDiff {
    /// A resend's diff: what it changed read as messages, then line by line.
    pub fn build(parent: &ExchangeStart, child: &ExchangeStart) -> Self {
        let old = text_of(parent);
        let new = text_of(child);
        let mut lines = vec![Line::styled(
            format!("diff {} → {}", parent.id, child.id),
            Style::default().add_modifier(Modifier::BOLD),
        )];
        if let Some(turn) = message_diff(parent, child).filter(|d| !d.is_empty()) {
            lines.extend(turn_lines(&turn));
            lines.push(Line::styled("line by line:", dim()));
        }
        lines.extend(diff_lines(&old, &new));
        Self {
            kind: DiffKind::Resend,
            child: child.id,
            parent: parent.id,
            lines,
            pending: false,
            parent_asked: false,
        }
    }

    /// A turn's diff from the request before it in its conversation, read as messages.
    pub fn build_turn(before: &ExchangeStart, after: &ExchangeStart) -> Self {
        let mut lines = vec![Line::styled(
            format!("turn {} after {}", after.id, before.id),
            Style::default().add_modifier(Modifier::BOLD),
        )];
        match message_diff(before, after) {
            Some(turn) => lines.extend(turn_lines(&turn)),
            None => lines.extend(diff_lines(&text_of(before), &text_of(after))),
        }
        Self {
            kind: DiffKind::Turn,
            child: after.id,
            parent: before.id,
            lines,
            pending: false,
            parent_asked: false,
        }
    }

    /// A placeholder while a request is loaded, or saying why there is no diff.
    pub fn waiting(
        kind: DiffKind,
        child: ExchangeId,
        parent: ExchangeId,
        text: String,
        pending: bool,
    ) -> Self {
        Self {
            kind,
            child,
            parent,
            lines: vec![Line::styled(text, dim())],
            pending,
            parent_asked: false,
        }
    }
}

/// Both requests read as LLM calls, compared as messages; `None` when either is not one.
fn message_diff(before: &ExchangeStart, after: &ExchangeStart) -> Option<TurnDiff> {
    let old = decode_request(before.dialect, &before.request.body)?;
    let new = decode_request(after.dialect, &after.request.body)?;
    Some(TurnDiff::between(&old, &new))
}

fn text_of(start: &ExchangeStart) -> String {
    request_text(&start.request).unwrap_or_else(|| {
        let request = &start.request;
        let mut text = format!("{} {}\n", request.method, request.uri);
        for (name, value) in &request.headers {
            text.push_str(&format!("{name}: {value}\n"));
        }
        text.push_str(&format!("\n(binary body, {} bytes)", request.body.len()));
        text
    })
}

/// `- old` / `+ new` lines with context, groups of changes separated by `⋯`.
pub fn diff_lines(old: &str, new: &str) -> Vec<Line<'static>> {
    let diff = TextDiff::from_lines(old, new);
    let groups = diff.grouped_ops(CONTEXT);
    if groups.is_empty() {
        return vec![Line::styled("no change: resent as it was", dim())];
    }
    let (mut removed, mut added) = (0usize, 0usize);
    let mut lines = Vec::new();
    for (n, group) in groups.iter().enumerate() {
        if n > 0 {
            lines.push(Line::styled("⋯", dim()));
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let text = sanitize(change.value().trim_end_matches(['\n', '\r']));
                let (sign, style) = match change.tag() {
                    ChangeTag::Delete => {
                        removed += 1;
                        ("-", Style::default().fg(Color::Red))
                    }
                    ChangeTag::Insert => {
                        added += 1;
                        ("+", Style::default().fg(Color::Green))
                    }
                    ChangeTag::Equal => (" ", Style::default()),
                };
                let at = match change.tag() {
                    ChangeTag::Delete => change.old_index(),
                    _ => change.new_index(),
                };
                let number = at.map_or(String::new(), |i| format!("{:>5} ", i + 1));
                lines.push(Line::styled(format!("{number}{sign} {text}"), style));
            }
        }
    }
    lines.insert(
        0,
        Line::styled(
            format!("{} removed, {added} added", lines_word(removed)),
            dim(),
        ),
    );
    lines
}

fn lines_word(n: usize) -> String {
    if n == 1 {
        "1 line".to_string()
    } else {
        format!("{n} lines")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_model_reads_as_one_line_out_one_line_in() {
        let old = "POST /v1\n\n{\n  \"model\": \"a\",\n  \"x\": 1\n}";
        let new = "POST /v1\n\n{\n  \"model\": \"b\",\n  \"x\": 1\n}";
        let lines: Vec<String> = diff_lines(old, new).iter().map(|l| l.to_string()).collect();
        assert_eq!(lines[0], "1 line removed, 1 added");
        assert!(
            lines.contains(&"    4 -   \"model\": \"a\",".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"    4 +   \"model\": \"b\",".to_string()),
            "{lines:?}"
        );
        assert_eq!(
            diff_lines(old, old)[0].to_string(),
            "no change: resent as it was"
        );
    }
}
