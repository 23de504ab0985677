//! The request as lines: as sent (start line, headers, body) or read as an LLM call (model,
//! parameters, system prompt, conversation, tools).

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use crate::capture::CapturedRequest;
use crate::llm::{DecodedRequest, Message, Part, ToolCall};

use super::body::{self, dim, label, section};

/// How much of a tool's description the tool list shows.
const TOOL_DESCRIPTION_CHARS: usize = 90;

/// Start line, headers and body as the agent sent them. `unrecorded` is the length of a body
/// the record does not hold.
pub fn raw_lines(request: &CapturedRequest, unrecorded: Option<u64>) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(
        format!("{} {}", request.method, body::sanitize(&request.uri)),
        Style::default().add_modifier(Modifier::BOLD),
    )];
    lines.extend(body::header_lines(&request.headers));
    lines.push(Line::raw(""));
    match unrecorded {
        Some(len) => lines.push(Line::styled(
            format!(
                "(body of {len} bytes not recorded: llmscope's writer fell behind a burst; \
                 the upstream received it whole)"
            ),
            dim(),
        )),
        None => lines.extend(body::body_lines(&request.headers, &request.body)),
    }
    lines
}

/// The request read as an LLM call.
pub fn llm_lines(request: &DecodedRequest) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let model = request
        .model
        .clone()
        .unwrap_or_else(|| "(no model)".to_string());
    let mut first = vec![
        label("model"),
        Span::styled(model, Style::default().add_modifier(Modifier::BOLD)),
    ];
    if request.stream {
        first.push(Span::styled("  · streamed", dim()));
    }
    lines.push(Line::from(first));
    for (name, value) in &request.params {
        lines.push(Line::from(vec![
            label(name),
            Span::raw(body::sanitize(value)),
        ]));
    }
    if !request.system.is_empty() {
        lines.push(Line::raw(""));
        lines.push(section("system"));
        for block in &request.system {
            lines.extend(body::text_lines(block, Style::default()));
        }
    }
    for message in &request.messages {
        lines.push(Line::raw(""));
        lines.extend(message_lines(message));
    }
    if !request.tools.is_empty() {
        lines.push(Line::raw(""));
        lines.push(section(&format!("tools ({})", request.tools.len())));
        for tool in &request.tools {
            let description = tool.description.lines().next().unwrap_or_default();
            let mut short: String = description.chars().take(TOOL_DESCRIPTION_CHARS).collect();
            if description.chars().count() > TOOL_DESCRIPTION_CHARS {
                short.push('…');
            }
            lines.push(Line::from(vec![
                Span::styled(tool.name.clone(), Style::default().fg(Color::Yellow)),
                Span::styled(" — ", dim()),
                Span::raw(body::sanitize(&short)),
            ]));
        }
    }
    lines
}

fn message_lines(message: &Message) -> Vec<Line<'static>> {
    let mut lines = vec![section(&message.role)];
    for part in &message.parts {
        match part {
            Part::Text(text) => lines.extend(body::text_lines(text, Style::default())),
            Part::Thinking(text) => {
                let style = dim().add_modifier(Modifier::ITALIC);
                lines.push(Line::styled("thinking:", style));
                lines.extend(body::indented_lines(text, 2, style));
            }
            Part::ToolCall(call) => lines.extend(tool_call_lines(call)),
            Part::ToolResult {
                call_id,
                content,
                is_error,
            } => {
                let mut head = vec![Span::styled(
                    "← tool result",
                    Style::default().fg(Color::Green),
                )];
                if let Some(id) = call_id {
                    head.push(Span::styled(format!(" for {id}"), dim()));
                }
                if *is_error {
                    head.push(Span::styled(" (error)", Style::default().fg(Color::Red)));
                }
                lines.push(Line::from(head));
                lines.extend(body::indented_lines(content, 2, Style::default()));
            }
            Part::Other(kind) => lines.push(Line::styled(format!("[{kind} block]"), dim())),
        }
    }
    lines
}

/// A tool call: name and id, then the arguments pretty-printed when they are JSON. Shared
/// with the response pane.
pub fn tool_call_lines(call: &ToolCall) -> Vec<Line<'static>> {
    let mut head = vec![
        Span::styled("→ tool call ", Style::default().fg(Color::Yellow)),
        Span::styled(
            call.name.clone(),
            Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
        ),
    ];
    if let Some(id) = &call.id {
        head.push(Span::styled(format!(" ({id})"), dim()));
    }
    let mut lines = vec![Line::from(head)];
    let arguments = body::pretty_json(&call.arguments).unwrap_or_else(|| call.arguments.clone());
    lines.extend(body::indented_lines(&arguments, 2, Style::default()));
    lines
}
