//! Whole-TUI scenarios: synthetic capture events through `update`, then the screen a user
//! would read.

use std::sync::Arc;

use bytes::Bytes;
use crossterm::event::KeyCode;

use super::support::press;
use super::test_util::{record_with, render, render_text, sample_record, start, T0};
use crate::capture::{CaptureEvent, ExchangeId, ExchangeState, HeaderList};
use crate::llm::Dialect;
use crate::tui::state::rows::tests::row;
use crate::tui::*;

fn live_app() -> App {
    let status = StatusInfo {
        listen: Some("127.0.0.1:8787".into()),
        live: true,
        ..StatusInfo::default()
    };
    App::new(status, Vec::new(), T0, (120, 40))
}

/// Switches both panes to the raw view, for assertions on the bytes as recorded.
fn raw_views(app: &mut App) {
    app.request_pane.mode = ViewMode::Raw;
    app.response_pane.mode = ViewMode::Raw;
}

fn capture(app: &mut App, event: CaptureEvent) -> Vec<Command> {
    update(app, AppEvent::Capture(event))
}

fn head(id: u64, content_type: &str) -> CaptureEvent {
    let headers: HeaderList = HeaderList::from([("content-type", content_type)]);
    CaptureEvent::ResponseHead {
        id: ExchangeId(id),
        status: 200,
        headers: Arc::new(headers),
        first_byte_ms: 95,
    }
}

fn chunk(id: u64, data: &str) -> CaptureEvent {
    CaptureEvent::ResponseChunk {
        id: ExchangeId(id),
        data: Bytes::copy_from_slice(data.as_bytes()),
    }
}

#[test]
fn live_stream_shows_its_first_chunks_before_it_finishes() {
    let mut app = live_app();
    let body = br#"{"model":"gpt-4o","stream":true,"messages":[]}"#;
    capture(
        &mut app,
        CaptureEvent::Started(start(1, "/v1/chat/completions", Dialect::OpenAiChat, body)),
    );
    capture(&mut app, head(1, "text/event-stream"));
    capture(
        &mut app,
        chunk(
            1,
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hello\"}}]}\n\n",
        ),
    );
    capture(
        &mut app,
        chunk(
            1,
            "data: {\"choices\":[{\"delta\":{\"content\":\" world\"}}]}\n\ndata: {\"cho",
        ),
    );
    app.now_ms = T0 + 3_500;
    let screen = render_text(&app, 120, 40);
    assert!(screen.contains("receiving 2.5 s"), "{screen}");
    assert!(
        screen.contains("Hello world"),
        "LLM view assembles the deltas: {screen}"
    );
    assert!(
        screen.contains("finish reason: (not given yet)"),
        "{screen}"
    );
    raw_views(&mut app);
    let screen = render_text(&app, 120, 40);
    assert!(
        screen.contains("1 message {\"choices\":[{\"delta\":{\"content\":\"Hello\"}}]}"),
        "{screen}"
    );
    assert!(
        screen.contains("2 message {\"choices\":[{\"delta\":{\"content\":\" world\"}}]}"),
        "{screen}"
    );
    assert!(screen.contains("1 in flight"), "{screen}");
    assert_eq!(
        app.selected_row().map(|r| r.state),
        Some(ExchangeState::InFlight)
    );

    let stream = "data: {\"choices\":[{\"delta\":{\"content\":\"Hello\"}}]}\n\ndata: [DONE]\n\n";
    let record = record_with(
        1,
        "/v1/chat/completions",
        body,
        200,
        "text/event-stream",
        stream.as_bytes(),
    );
    capture(&mut app, CaptureEvent::Finished(Arc::new(record)));
    let screen = render_text(&app, 120, 40);
    assert!(screen.contains("SSE stream, 2 events"), "{screen}");
    assert!(
        screen.contains("0 in flight") && !screen.contains("receiving"),
        "{screen}"
    );
}

#[test]
fn a_batch_gives_the_same_state_as_single_events() {
    let events = || {
        vec![
            CaptureEvent::Started(start(1, "/v1/messages", Dialect::Anthropic, b"{}")),
            head(1, "text/event-stream"),
            chunk(1, "event: ping\ndata: {}\n\n"),
        ]
    };
    let mut one_by_one = live_app();
    for event in events() {
        capture(&mut one_by_one, event);
    }
    let mut batched = live_app();
    update(&mut batched, AppEvent::CaptureBatch(events()));
    assert_eq!(
        render_text(&one_by_one, 120, 40),
        render_text(&batched, 120, 40)
    );
}

#[test]
fn failure_raises_the_banner_until_dismissed_or_fixed() {
    let mut app = live_app();
    let failed = sample_record(
        1,
        b"{}",
        400,
        br#"{"error":{"message":"Invalid model name passed in model=nope"}}"#,
    );
    capture(&mut app, CaptureEvent::Finished(Arc::new(failed)));
    let screen = render_text(&app, 120, 40);
    assert!(screen.contains("✖ HTTP 400"), "{screen}");
    assert!(
        screen.contains("Invalid model name passed in model=nope"),
        "{screen}"
    );

    press(&mut app, KeyCode::Char('d'));
    assert!(app.banner.is_none());
    assert!(app.dismissed.contains(&ExchangeId(1)));

    let again = sample_record(2, b"{}", 500, b"");
    capture(&mut app, CaptureEvent::Finished(Arc::new(again)));
    assert_eq!(app.banner.as_ref().map(|b| b.id), Some(ExchangeId(2)));
    let other_path = record_with(3, "/v1/models", b"", 200, "application/json", b"{}");
    capture(&mut app, CaptureEvent::Finished(Arc::new(other_path)));
    assert!(
        app.banner.is_some(),
        "a success elsewhere does not clear it"
    );
    let fixed = sample_record(4, b"{}", 200, b"{}");
    capture(&mut app, CaptureEvent::Finished(Arc::new(fixed)));
    assert!(app.banner.is_none(), "the same call succeeding clears it");
}

#[test]
fn selecting_an_old_exchange_loads_it() {
    let mut app = App::new(
        StatusInfo::default(),
        vec![row(1, "/a", Some(200)), row(2, "/b", Some(200))],
        T0,
        (120, 40),
    );
    assert_eq!(
        update(
            &mut app,
            AppEvent::Resize {
                width: 120,
                height: 40
            }
        ),
        vec![Command::LoadDetail(ExchangeId(2))]
    );
    assert!(render_text(&app, 120, 40).contains("loading #2…"));
    assert_eq!(
        press(&mut app, KeyCode::Up),
        vec![Command::LoadDetail(ExchangeId(1))]
    );
    update(
        &mut app,
        AppEvent::DetailFailed {
            id: ExchangeId(1),
            reason: "it is not in the store".into(),
        },
    );
    assert!(render_text(&app, 120, 40).contains("#1 cannot be shown: it is not in the store"));
    let record = record_with(
        2,
        "/b",
        br#"{"model":"gpt-4o"}"#,
        200,
        "application/json",
        b"{}",
    );
    update(&mut app, AppEvent::DetailLoaded(Arc::new(record)));
    assert_eq!(
        press(&mut app, KeyCode::Down),
        Vec::<Command>::new(),
        "#2 is in memory now"
    );
    raw_views(&mut app);
    assert!(render_text(&app, 120, 40).contains("\"model\": \"gpt-4o\""));
}

#[test]
fn only_a_bounded_number_of_records_stay_in_memory() {
    let mut app = live_app();
    for id in 1..=(RECENT_RECORDS as u64 + 50) {
        capture(
            &mut app,
            CaptureEvent::Finished(Arc::new(sample_record(id, b"{}", 200, b"{}"))),
        );
    }
    assert_eq!(app.recent.len(), RECENT_RECORDS);
    assert_eq!(app.rows.len(), RECENT_RECORDS + 50);
}

#[test]
fn eighty_by_twenty_four_shows_list_and_banner() {
    let mut app = live_app();
    update(
        &mut app,
        AppEvent::Resize {
            width: 80,
            height: 24,
        },
    );
    for id in 1..=5 {
        capture(
            &mut app,
            CaptureEvent::Finished(Arc::new(sample_record(id, b"{}", 200, b"{}"))),
        );
    }
    let failed = sample_record(6, b"{}", 429, br#"{"error":{"message":"rate limited"}}"#);
    capture(&mut app, CaptureEvent::Finished(Arc::new(failed)));
    let screen = render_text(&app, 80, 24);
    assert!(
        screen.contains("✖ HTTP 429") && screen.contains("rate limited"),
        "{screen}"
    );
    assert!(screen.contains("Exchanges 6/6"), "{screen}");
    assert!(
        screen.contains("/v1/chat/completions") && screen.contains("HTTP 429"),
        "{screen}"
    );
    assert!(
        screen.contains("Request ·") && screen.contains("Response ·"),
        "{screen}"
    );
}

#[test]
fn resizing_to_large_and_tiny_screens_does_not_panic() {
    let mut app = live_app();
    capture(
        &mut app,
        CaptureEvent::Finished(Arc::new(sample_record(1, b"{}", 502, b"bad gateway"))),
    );
    capture(
        &mut app,
        CaptureEvent::Started(start(2, "/v1/chat/completions", Dialect::OpenAiChat, b"{}")),
    );
    for (width, height) in [(200, 50), (40, 10), (1, 1), (0, 0), (80, 3)] {
        update(&mut app, AppEvent::Resize { width, height });
        for focus in [KeyCode::Tab, KeyCode::Tab, KeyCode::Tab] {
            press(&mut app, focus);
            press(&mut app, KeyCode::PageDown);
            render(&app, width, height);
        }
        app.mode = Mode::Help;
        render(&app, width, height);
        app.mode = Mode::Normal;
    }
}

#[test]
fn hundred_thousand_rows_navigate_to_the_end() {
    let rows: Vec<ExchangeRow> = (1..=100_000)
        .map(|id| row(id, "/v1/chat/completions", Some(200)))
        .collect();
    let mut app = App::new(StatusInfo::default(), rows, T0, (120, 40));
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(app.selected, Some(ExchangeId(1)));
    press(&mut app, KeyCode::Char('G'));
    assert_eq!(app.selected, Some(ExchangeId(100_000)));
    assert_eq!(app.selected_position(), Some(99_999));
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(app.selected, Some(ExchangeId(99_999)));
    let screen = render_text(&app, 120, 40);
    assert!(
        screen.contains("99999") && screen.contains("Exchanges 100000/100000"),
        "{screen}"
    );
}

#[test]
fn two_megabyte_body_is_laid_out_once_and_scrolls() {
    let mut app = live_app();
    let big = format!(
        "{{\"messages\":[{}]}}",
        vec!["{\"role\":\"user\",\"content\":\"xxxxxxxxxxxxxxxxxxxxxxxx\"}"; 40_000].join(",")
    );
    assert!(big.len() > 2_000_000);
    let record = sample_record(1, big.as_bytes(), 200, b"{}");
    capture(&mut app, CaptureEvent::Finished(Arc::new(record)));
    raw_views(&mut app);
    press(&mut app, KeyCode::Tab);
    for _ in 0..20 {
        render(&app, 120, 40);
    }
    press(&mut app, KeyCode::Char('G'));
    let screen = render_text(&app, 120, 40);
    assert!(screen.contains("]") && screen.contains("/160"), "{screen}");
    press(&mut app, KeyCode::Char('k'));
    assert!(app.request_pane.scroll < usize::MAX && app.request_pane.scroll > 100_000);
}

#[test]
fn live_llm_view_follows_the_assembled_answer() {
    let mut live = LiveExchange::new(start(5, "/v1/messages", Dialect::Anthropic, b"{}"));
    let headers: HeaderList = HeaderList::from([("content-type", "text/event-stream")]);
    live.set_head(LiveHead {
        status: 200,
        headers: Arc::new(headers),
        first_byte_ms: 80,
    });
    live.push(b"event: content_block_delta\ndata: {\"delta\":{\"text\":\"Hel\"}}\n\n");
    let partial = crate::llm::DecodedResponse {
        text: "Hel".into(),
        ..Default::default()
    };
    let mut view = DetailView::from_live(&live, None, Some(&partial));
    let app = super::test_util::app_with_detail(view.clone());
    let screen = render_text(&app, 160, 40);
    assert!(
        screen.contains("Response · LLM · Anthropic messages"),
        "{screen}"
    );
    assert!(
        screen.contains("Hel") && screen.contains("finish reason: (not given yet)"),
        "{screen}"
    );
    assert!(screen.contains("first byte 80 ms"), "{screen}");

    live.push(b"event: content_block_delta\ndata: {\"delta\":{\"text\":\"lo world\"}}\n\n");
    let more = crate::llm::DecodedResponse {
        text: "Hello world".into(),
        ..Default::default()
    };
    view.refresh_live(&live, Some(&more));
    assert_eq!(
        view.response
            .raw
            .lines
            .iter()
            .filter(|l| l.to_string().contains("content_block_delta"))
            .count(),
        2,
        "new events are appended once"
    );
    let mut app = super::test_util::app_with_detail(view);
    assert!(render_text(&app, 160, 40).contains("Hello world"));
    app.response_pane.mode = ViewMode::Raw;
    assert!(render_text(&app, 160, 40)
        .contains("2 content_block_delta {\"delta\":{\"text\":\"lo world\"}}"));
}
