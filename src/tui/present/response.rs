//! The reply as lines: as received (status, headers, body or stream events) or read as an LLM
//! answer, for a finished exchange and for one whose reply is still arriving.

use std::sync::Arc;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use crate::capture::{ExchangeRecord, Failure, HeaderList, Timing};
use crate::llm::DecodedResponse;

use super::body::{self, dim, label, section};
use super::{request, units};

/// A reply in flight that is not a stream is shown as it grows only up to this size; past it
/// the pane waits for the whole body.
const LIVE_BODY_PREVIEW: usize = 256 * 1024;

/// The reply head of an exchange in flight.
#[derive(Debug, Clone)]
pub struct LiveHead {
    pub status: u16,
    pub headers: Arc<HeaderList>,
    pub first_byte_ms: u64,
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

/// The body so far (`kept`, of `received` bytes) of a reply in flight that is not an event
/// stream.
pub fn live_body_lines(head: Option<&LiveHead>, kept: &[u8], received: u64) -> Vec<Line<'static>> {
    let headers = head.map(|h| h.headers.as_ref().clone()).unwrap_or_default();
    if kept.len() <= LIVE_BODY_PREVIEW {
        body::body_lines(&headers, kept)
    } else {
        vec![Line::styled(
            format!(
                "{} received so far; shown when complete",
                units::bytes(received)
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
            lines.extend(request::tool_call_lines(call));
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
