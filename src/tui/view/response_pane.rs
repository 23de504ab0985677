//! The response pane: the reply as received (status, headers, body or stream events) or read
//! as an LLM answer. Follows a stream live while it arrives.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::Frame;

use crate::capture::{ExchangeRecord, ExchangeState, Failure, Timing};
use crate::llm::DecodedResponse;

use super::body::{self, dim, heading};
use super::{request_pane, units};
use crate::tui::app::{App, Focus};
use crate::tui::detail::{LiveExchange, LiveHead};

/// A reply in flight that is not a stream is shown as it grows only up to this size; past it
/// the pane waits for the whole body.
const LIVE_BODY_PREVIEW: usize = 256 * 1024;

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
    super::draw_detail_pane(
        frame,
        area,
        app,
        Focus::Response,
        "Response",
        &progress,
        |view| &view.response,
    );
}

/// Status line, failure, timing, headers and body of a finished exchange.
pub fn record_lines(record: &ExchangeRecord) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let failed = record.failure.is_some();
    match &record.response {
        Some(response) => lines.push(status_line(response.status, failed)),
        None => lines.push(Line::styled(
            "no reply from the upstream",
            Style::default().fg(Color::Red),
        )),
    }
    if let Some(failure) = &record.failure {
        lines.push(failure_line(failure));
    }
    lines.push(timing_line(&record.timing, None));
    if let Some(response) = &record.response {
        let unrecorded = response.truncated() && response.body.is_empty();
        if response.truncated() {
            let note = if unrecorded {
                format!(
                    "body of {} not recorded (llmscope's writer fell behind a burst, or a capture cap of 0)",
                    units::bytes(response.body_len)
                )
            } else {
                format!(
                    "recorded {} of {} (capture cap)",
                    units::bytes(response.body.len() as u64),
                    units::bytes(response.body_len)
                )
            };
            lines.push(Line::styled(note, Style::default().fg(Color::Yellow)));
        }
        lines.extend(body::header_lines(&response.headers));
        lines.push(Line::raw(""));
        if !unrecorded {
            lines.extend(body::body_lines(&response.headers, &response.body));
        }
    }
    lines
}

/// The head of a reply in flight, or a note that it has not come yet. Stream events are
/// appended after these lines as they arrive.
pub fn live_head_lines(head: Option<&LiveHead>) -> Vec<Line<'static>> {
    let Some(head) = head else {
        return vec![Line::styled("waiting for the upstream's reply…", dim())];
    };
    let mut lines = vec![status_line(head.status, !(200..300).contains(&head.status))];
    lines.push(Line::styled(
        format!("first byte after {}", units::duration(head.first_byte_ms)),
        dim(),
    ));
    lines.extend(body::header_lines(&head.headers));
    lines.push(Line::raw(""));
    lines
}

/// The body so far of a reply in flight that is not an event stream.
pub fn live_body_lines(live: &LiveExchange) -> Vec<Line<'static>> {
    let headers = live
        .head
        .as_ref()
        .map(|h| h.headers.as_ref().clone())
        .unwrap_or_default();
    if live.body.len() <= LIVE_BODY_PREVIEW {
        body::body_lines(&headers, &live.body)
    } else {
        vec![Line::styled(
            format!(
                "{} received so far; shown when complete",
                units::bytes(live.received)
            ),
            dim(),
        )]
    }
}

/// The reply read as an LLM answer.
pub fn llm_lines(response: &DecodedResponse, timing: &Timing) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if let Some(error) = &response.error {
        lines.push(Line::styled(
            format!("error: {}", body::sanitize(error)),
            Style::default().fg(Color::Red),
        ));
    }
    if let Some(model) = &response.model {
        lines.push(Line::from(vec![label("model"), Span::raw(model.clone())]));
    }
    if !response.thinking.is_empty() {
        lines.push(section("thinking"));
        lines.extend(body::text_lines(
            &response.thinking,
            dim().add_modifier(Modifier::ITALIC),
        ));
    }
    if !response.text.is_empty() {
        lines.push(section("text"));
        lines.extend(body::text_lines(&response.text, Style::default()));
    }
    if !response.tool_calls.is_empty() {
        lines.push(section(&format!(
            "tool calls ({})",
            response.tool_calls.len()
        )));
        for call in &response.tool_calls {
            lines.extend(request_pane::tool_call_lines(call));
        }
    }
    lines.push(Line::raw(""));
    // An error reply has no finish reason to wait for.
    let finish = match (&response.finish_reason, &response.error) {
        (Some(reason), _) => Some(reason.clone()),
        (None, None) => Some("(not given yet)".to_string()),
        (None, Some(_)) => None,
    };
    if let Some(finish) = finish {
        lines.push(Line::from(vec![label("finish reason"), Span::raw(finish)]));
    }
    if let Some(usage) = &response.usage {
        let mut parts = Vec::new();
        let mut add = |name: &str, value: Option<u64>| {
            if let Some(v) = value {
                parts.push(format!("{name} {v}"));
            }
        };
        add("in", usage.input_tokens);
        add("out", usage.output_tokens);
        add("cache read", usage.cache_read_tokens);
        add("cache write", usage.cache_write_tokens);
        lines.push(Line::from(vec![
            label("usage"),
            Span::raw(parts.join(" · ")),
        ]));
    }
    lines.push(timing_line(timing, response.stream_events));
    lines
}

fn status_line(status: u16, failed: bool) -> Line<'static> {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let color = if failed { Color::Red } else { Color::Green };
    Line::styled(
        format!("HTTP {status} {reason}"),
        Style::default().fg(color).add_modifier(Modifier::BOLD),
    )
}

fn failure_line(failure: &Failure) -> Line<'static> {
    Line::styled(
        format!("✖ {}: {}", failure.class, body::sanitize(&failure.message)),
        Style::default().fg(Color::Red),
    )
}

fn timing_line(timing: &Timing, events: Option<u64>) -> Line<'static> {
    let mut parts = Vec::new();
    if let Some(ms) = timing.first_byte_ms {
        parts.push(format!("first byte {}", units::duration(ms)));
    }
    if let Some(ms) = timing.duration_ms {
        parts.push(format!("total {}", units::duration(ms)));
    }
    if let Some(n) = events {
        parts.push(format!("{n} stream events"));
    }
    Line::from(vec![
        label("timing"),
        Span::styled(parts.join(" · "), dim()),
    ])
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
    use crate::llm::{ToolCall, Usage};
    use crate::tui::view::test_util::{app_with_detail, render_text, sample_record, sse_record};
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
