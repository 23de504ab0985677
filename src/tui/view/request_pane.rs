//! The request pane: the selected exchange's request, as sent or read as an LLM call, in the
//! pane's mode and scroll.

use ratatui::layout::Rect;
use ratatui::Frame;

use crate::tui::state::app::{App, Focus};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let place = conversation_place(app);
    super::detail_pane::draw(
        frame,
        area,
        app,
        Focus::Request,
        "Request",
        &place,
        |view| &view.request,
    );
}

/// ` · c2 turn 3/5 · ctx ▇▇▁▁▁▁▁▁ 24% of 200k`: where the selected request sits in its
/// conversation, and how full that conversation's context is.
fn conversation_place(app: &App) -> String {
    let Some(id) = app.selected else {
        return String::new();
    };
    let Some(conversation) = app
        .conversations
        .of(id)
        .filter(|c| c.kind.is_conversation())
    else {
        return String::new();
    };
    // A resend or a repeat is its turn again, not a turn of its own.
    let turn = conversation.turn_of(id).unwrap_or(1);
    let mut place = format!(
        " · {} turn {turn}/{}",
        conversation.id,
        conversation.turns()
    );
    if let Some(gauge) = app
        .conversations
        .tally(conversation.id)
        .and_then(|t| t.gauge)
    {
        place.push_str(&format!(" · {}", gauge.display()));
    }
    place
}

#[cfg(test)]
mod tests {
    use crate::llm::{DecodedRequest, Dialect, Message, Part, ToolCall, ToolDef};
    use crate::tui::tests::test_util::{app_with_detail, render_text, sample_record};
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
