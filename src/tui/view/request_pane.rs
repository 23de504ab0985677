//! The request pane: the request as sent (start line, headers, body) or read as an LLM call
//! (model, parameters, system prompt, conversation, tools).

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::Frame;

use crate::capture::CapturedRequest;
use crate::llm::{DecodedRequest, Message, Part, ToolCall};

use super::body::{self, dim, heading};
use crate::tui::app::{App, Focus};

/// How much of a tool's description the tool list shows.
const TOOL_DESCRIPTION_CHARS: usize = 90;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    super::draw_detail_pane(frame, area, app, Focus::Request, "Request", "", |view| {
        &view.request
    });
}

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

fn section(name: &str) -> Line<'static> {
    Line::styled(format!("── {name} ──"), heading())
}

fn label(name: &str) -> Span<'static> {
    Span::styled(format!("{name}: "), Style::default().fg(Color::Cyan))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{Dialect, ToolDef};
    use crate::tui::view::test_util::{app_with_detail, render_text, sample_record};
    use crate::tui::{DetailView, ViewMode};

    fn conversation() -> DecodedRequest {
        DecodedRequest {
            dialect: Dialect::OpenAiChat,
            model: Some("gpt-4o".into()),
            stream: true,
            system: vec!["You are a coding agent.".into()],
            messages: vec![
                Message {
                    role: "user".into(),
                    parts: vec![Part::Text("list the files".into())],
                },
                Message {
                    role: "assistant".into(),
                    parts: vec![Part::ToolCall(ToolCall {
                        id: Some("call_1".into()),
                        name: "bash".into(),
                        arguments: r#"{"command":"ls -la"}"#.into(),
                    })],
                },
                Message {
                    role: "tool".into(),
                    parts: vec![Part::ToolResult {
                        call_id: Some("call_1".into()),
                        content: "Cargo.toml\nsrc".into(),
                        is_error: false,
                    }],
                },
            ],
            tools: vec![
                ToolDef {
                    name: "bash".into(),
                    description: "Run a shell command".into(),
                    parameters: "{}".into(),
                },
                ToolDef {
                    name: "glob".into(),
                    description: "Find files by pattern".into(),
                    parameters: "{}".into(),
                },
            ],
            params: vec![("max_tokens".into(), "32000".into())],
        }
    }

    #[test]
    fn raw_request_shows_headers_and_pretty_json() {
        let record = sample_record(1, br#"{"model":"gpt-4o","stream":true}"#, 200, b"{}");
        let mut app = app_with_detail(DetailView::from_record(&record, None, None));
        app.request_pane.mode = ViewMode::Raw;
        let screen = render_text(&app, 160, 40);
        assert!(screen.contains("POST /v1/chat/completions"), "{screen}");
        assert!(
            screen.contains("content-type: application/json"),
            "{screen}"
        );
        assert!(screen.contains("\"model\": \"gpt-4o\","), "{screen}");
        assert!(screen.contains("  \"stream\": true"), "{screen}");
    }

    #[test]
    fn a_request_whose_body_was_not_recorded_says_so() {
        let record = sample_record(1, br#"{"model":"gpt-4o"}"#, 200, b"{}");
        let mut start = crate::capture::ExchangeStart::clone(&record.start);
        start.request.body = bytes::Bytes::new();
        start.request_body_unrecorded = Some(204_800);
        let record = crate::capture::ExchangeRecord {
            start: std::sync::Arc::new(start),
            ..record
        };
        let mut app = app_with_detail(DetailView::from_record(&record, None, None));
        app.request_pane.mode = ViewMode::Raw;
        let screen = render_text(&app, 200, 40);
        assert!(
            screen.contains("body of 204800 bytes not recorded"),
            "{screen}"
        );
    }

    #[test]
    fn llm_request_shows_roles_tool_call_result_and_tools() {
        let record = sample_record(1, b"{}", 200, b"{}");
        let app = app_with_detail(DetailView::from_record(
            &record,
            Some(&conversation()),
            None,
        ));
        let screen = render_text(&app, 160, 60);
        for expected in [
            "Request · LLM · OpenAI chat",
            "model: gpt-4o",
            "max_tokens: 32000",
            "── system ──",
            "You are a coding agent.",
            "── user ──",
            "list the files",
            "── assistant ──",
            "→ tool call bash (call_1)",
            "\"command\": \"ls -la\"",
            "── tool ──",
            "← tool result for call_1",
            "Cargo.toml",
            "── tools (2) ──",
            "bash — Run a shell command",
            "glob — Find files by pattern",
        ] {
            assert!(
                screen.contains(expected),
                "missing {expected:?} in\n{screen}"
            );
        }
    }

    #[test]
    fn undecodable_request_falls_back_to_raw_and_says_so() {
        let record = sample_record(1, b"plain text body", 200, b"{}");
        let app = app_with_detail(DetailView::from_record(&record, None, None));
        let screen = render_text(&app, 160, 40);
        assert!(screen.contains("Request · raw, no LLM reading"), "{screen}");
        assert!(screen.contains("plain text body"), "{screen}");
    }
}
