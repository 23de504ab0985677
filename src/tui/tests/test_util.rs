//! Rendering the App into a `TestBackend` and reading the screen back, plus synthetic
//! exchanges for the view and scenario tests.

use crate::capture::HeaderList;
use std::sync::Arc;

use bytes::Bytes;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Style;
use ratatui::Terminal;

use crate::capture::{
    classify_failure, CapturedRequest, CapturedResponse, ExchangeId, ExchangeRecord, ExchangeStart,
    SessionId, Timing,
};
use crate::llm::Dialect;
use crate::tui::state::app::{App, StatusInfo};
use crate::tui::state::detail::{Detail, DetailView};
use crate::tui::state::rows::{row_from_start, row_update_from_record};

pub const T0: i64 = 1_700_000_000_000;

/// The screen `draw` produces for `app` at `width` x `height`.
pub fn render(app: &App, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    terminal
        .draw(|frame| crate::tui::draw(app, frame))
        .expect("drawing into a test backend");
    terminal.backend().buffer().clone()
}

/// The screen as text, one line per row.
pub fn render_text(app: &App, width: u16, height: u16) -> String {
    buffer_text(&render(app, width, height))
}

pub fn buffer_text(buffer: &Buffer) -> String {
    let area = buffer.area;
    (area.top()..area.bottom())
        .map(|y| {
            (area.left()..area.right())
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The style of the first cell of the first place `text` appears on screen.
pub fn find_cell_style(buffer: &Buffer, text: &str) -> Option<Style> {
    let area = buffer.area;
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        let mut starts = Vec::new();
        for x in area.left()..area.right() {
            starts.push((line.len(), x));
            line.push_str(buffer[(x, y)].symbol());
        }
        if let Some(at) = line.find(text) {
            let x = starts.iter().find(|(byte, _)| *byte == at)?.1;
            return Some(buffer[(x, y)].style());
        }
    }
    None
}

pub fn start(id: u64, uri: &str, dialect: Dialect, body: &[u8]) -> Arc<ExchangeStart> {
    Arc::new(ExchangeStart {
        id: ExchangeId(id),
        session: SessionId(1),
        started_at_ms: T0 + id as i64 * 1000,
        dialect,
        model: crate::llm::request_model(uri, body),
        request: CapturedRequest {
            method: "POST".into(),
            uri: uri.into(),
            headers: HeaderList::from([
                ("content-type", "application/json"),
                ("authorization", "[redacted]"),
            ]),
            body: Bytes::copy_from_slice(body),
        },
        lineage: Default::default(),
        rewrite: None,
        request_body_unrecorded: None,
    })
}

/// A finished OpenAI chat exchange, classified like the proxy would.
pub fn sample_record(id: u64, request: &[u8], status: u16, response: &[u8]) -> ExchangeRecord {
    record_with(
        id,
        "/v1/chat/completions",
        request,
        status,
        "application/json",
        response,
    )
}

/// A finished exchange whose reply was the event stream `stream`.
pub fn sse_record(id: u64, stream: &str) -> ExchangeRecord {
    record_with(
        id,
        "/v1/messages",
        b"{}",
        200,
        "text/event-stream",
        stream.as_bytes(),
    )
}

pub fn record_with(
    id: u64,
    uri: &str,
    request: &[u8],
    status: u16,
    content_type: &str,
    response: &[u8],
) -> ExchangeRecord {
    ExchangeRecord {
        start: start(id, uri, Dialect::OpenAiChat, request),
        timing: Timing {
            started_at_ms: T0 + id as i64 * 1000,
            first_byte_ms: Some(120),
            duration_ms: Some(1500),
        },
        response: Some(CapturedResponse {
            status,
            headers: HeaderList::from([("content-type", content_type)]),
            body: Bytes::copy_from_slice(response),
            body_len: response.len() as u64,
        }),
        failure: classify_failure(status, response, None),
        derived: Default::default(),
    }
}

/// An App whose selected exchange shows `view`, as if `update` had built it.
pub fn app_with_detail(view: DetailView) -> App {
    let record = sample_record(view.id.0, b"{}", 200, b"{}");
    let mut row = row_from_start(&record.start);
    row_update_from_record(&mut row, &record);
    let mut app = App::new(StatusInfo::default(), vec![row], T0, (160, 50));
    app.selected = Some(view.id);
    app.detail = Detail::Ready(Box::new(view));
    app
}
