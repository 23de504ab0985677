//! The response pane: the selected exchange's reply, as received or read as an LLM answer, in
//! the pane's mode and scroll; its title says how far a reply in flight has come.

use ratatui::layout::Rect;
use ratatui::Frame;

use crate::capture::ExchangeState;
use crate::tui::present::units;
use crate::tui::state::app::{App, Focus};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let progress = app
        .selected_row()
        .filter(|row| row.state == ExchangeState::InFlight)
        .map(|row| {
            let elapsed = u64::try_from(app.now_ms - row.started_at_ms).unwrap_or(0);
            format!(
                " · receiving {}, {}",
                units::duration(elapsed),
                units::bytes(row.response_bytes)
            )
        })
        .unwrap_or_default();
    super::detail_pane::draw(
        frame,
        area,
        app,
        Focus::Response,
        "Response",
        &progress,
        |view| &view.response,
    );
}

#[cfg(test)]
mod tests {
    use crate::capture::Failure;
    use crate::llm::{DecodedResponse, ToolCall, Usage};
    use crate::tui::tests::test_util::{app_with_detail, render_text, sample_record, sse_record};
    use crate::tui::{DetailView, ViewMode};

    #[test]
    fn raw_response_lists_sse_events() {
        let record = sse_record(
            1,
            "event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: content_block_delta\ndata: {\"delta\":{\"text\":\"Hello\"}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        );
        let mut app = app_with_detail(DetailView::from_record(&record, None, None));
        app.response_pane.mode = ViewMode::Raw;
        let screen = render_text(&app, 160, 50);
        for expected in [
            "HTTP 200 OK",
            "content-type: text/event-stream",
            "SSE stream, 3 events",
            "1 message_start {\"type\":\"message_start\"}",
            "2 content_block_delta {\"delta\":{\"text\":\"Hello\"}}",
            "3 message_stop",
        ] {
            assert!(
                screen.contains(expected),
                "missing {expected:?} in\n{screen}"
            );
        }
    }

    #[test]
    fn a_reply_whose_body_was_not_recorded_says_so_instead_of_empty() {
        let mut record = sample_record(1, b"{}", 200, b"");
        if let Some(response) = &mut record.response {
            response.body_len = 410;
        }
        let mut app = app_with_detail(DetailView::from_record(&record, None, None));
        app.response_pane.mode = ViewMode::Raw;
        let screen = render_text(&app, 200, 40);
        assert!(screen.contains("body of 410 B not recorded"), "{screen}");
        assert!(!screen.contains("(empty body)"), "{screen}");
    }

    #[test]
    fn llm_response_shows_text_tool_arguments_finish_and_usage() {
        let record = sample_record(1, b"{}", 200, b"{}");
        let decoded = DecodedResponse {
            model: Some("claude-sonnet-4".into()),
            text: "I will list the files.".into(),
            thinking: "The user wants files.".into(),
            tool_calls: vec![ToolCall {
                id: Some("toolu_1".into()),
                name: "bash".into(),
                arguments: r#"{"command":"ls"}"#.into(),
            }],
            finish_reason: Some("tool_use".into()),
            usage: Some(Usage {
                input_tokens: Some(1200),
                output_tokens: Some(45),
                cache_read_tokens: Some(1000),
                cache_write_tokens: None,
            }),
            stream_events: Some(12),
            error: None,
        };
        let app = app_with_detail(DetailView::from_record(&record, None, Some(&decoded)));
        let screen = render_text(&app, 160, 60);
        for expected in [
            "Response · LLM · OpenAI chat",
            "I will list the files.",
            "The user wants files.",
            "→ tool call bash (toolu_1)",
            "\"command\": \"ls\"",
            "finish reason: tool_use",
            "usage: in 1200 · out 45 · cache read 1000",
            "first byte 120 ms · total 1.5 s · 12 stream events",
        ] {
            assert!(
                screen.contains(expected),
                "missing {expected:?} in\n{screen}"
            );
        }
    }

    #[test]
    fn reply_that_never_came_names_the_failure() {
        let mut record = sample_record(1, b"{}", 200, b"");
        record.response = None;
        record.failure = Some(Failure::new(
            crate::capture::FailureClass::Connect,
            "connection refused",
        ));
        let app = app_with_detail(DetailView::from_record(&record, None, None));
        let screen = render_text(&app, 160, 40);
        assert!(screen.contains("no reply from the upstream"), "{screen}");
        assert!(
            screen.contains("✖ connect failed: connection refused"),
            "{screen}"
        );
    }
}
