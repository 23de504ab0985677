//! Everything behind the request and response panes: the full records kept in memory, the
//! partial state of exchanges in flight, and the display lines of the selected exchange,
//! computed once when it changes so drawing a 2 MB body is a slice, not a re-layout.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use ratatui::text::Line;

use crate::capture::{ExchangeId, ExchangeRecord, ExchangeStart, HeaderList};
use crate::llm::{DecodedRequest, DecodedResponse, Dialect, SseEvent, SseParser};

use super::app::ViewMode;
use super::llm_adapter::{self, LiveAssembler};
use super::view::{body, request_pane, response_pane};

/// How many finished records stay in memory; older ones are loaded again when selected.
pub const RECENT_RECORDS: usize = 256;
/// How much of a reply in flight is kept for the live view; `Finished` brings the whole body.
const LIVE_BODY_CAP: usize = 8 * 1024 * 1024;

/// The most recently finished or viewed records, oldest evicted first.
#[derive(Debug, Default)]
pub struct RecentRecords {
    records: HashMap<ExchangeId, Arc<ExchangeRecord>>,
    order: VecDeque<ExchangeId>,
}

impl RecentRecords {
    pub fn insert(&mut self, record: Arc<ExchangeRecord>) {
        let id = record.id();
        if self.records.insert(id, record).is_some() {
            self.order.retain(|&kept| kept != id);
        }
        self.order.push_back(id);
        while self.order.len() > RECENT_RECORDS {
            if let Some(old) = self.order.pop_front() {
                self.records.remove(&old);
            }
        }
    }

    pub fn get(&self, id: ExchangeId) -> Option<&Arc<ExchangeRecord>> {
        self.records.get(&id)
    }

    /// Marks `id` as just used, so viewing an exchange keeps it in memory longer.
    pub fn touch(&mut self, id: ExchangeId) {
        if self.records.contains_key(&id) {
            self.order.retain(|&kept| kept != id);
            self.order.push_back(id);
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// The reply head of an exchange in flight.
#[derive(Debug, Clone)]
pub struct LiveHead {
    pub status: u16,
    pub headers: Arc<HeaderList>,
    pub first_byte_ms: u64,
}

/// What has arrived so far of an exchange in flight.
#[derive(Debug)]
pub struct LiveExchange {
    pub start: Arc<ExchangeStart>,
    pub head: Option<LiveHead>,
    /// Reply body bytes seen, counting those not kept.
    pub received: u64,
    /// The body so far, for replies that are not event streams (up to the live cap).
    pub body: Vec<u8>,
    /// The events so far, for event streams (up to the live cap of data).
    pub events: Vec<SseEvent>,
    event_bytes: usize,
    sse: Option<SseParser>,
    assembler: LiveAssembler,
}

impl LiveExchange {
    pub fn new(start: Arc<ExchangeStart>) -> Self {
        Self {
            assembler: LiveAssembler::new(start.dialect),
            start,
            head: None,
            received: 0,
            body: Vec::new(),
            events: Vec::new(),
            event_bytes: 0,
            sse: None,
        }
    }

    pub fn set_head(&mut self, head: LiveHead) {
        if body::is_event_stream(&head.headers) {
            self.sse = Some(SseParser::default());
        }
        self.head = Some(head);
    }

    pub fn push(&mut self, data: &[u8]) {
        self.received += data.len() as u64;
        self.assembler.push(data);
        match &mut self.sse {
            Some(parser) => {
                for event in parser.push(data) {
                    if self.event_bytes < LIVE_BODY_CAP {
                        self.event_bytes += event.data.len();
                        self.events.push(event);
                    }
                }
            }
            None => {
                let room = LIVE_BODY_CAP.saturating_sub(self.body.len());
                self.body.extend_from_slice(&data[..data.len().min(room)]);
            }
        }
    }

    pub fn is_event_stream(&self) -> bool {
        self.sse.is_some()
    }

    /// The answer as assembled from the chunks so far.
    pub fn assembled(&self) -> Option<DecodedResponse> {
        self.assembler.snapshot()
    }
}

/// Lines for one mode of a pane, with a label for its title (`raw`, `LLM · Anthropic messages`).
#[derive(Debug, Clone, Default)]
pub struct PaneText {
    pub label: String,
    pub lines: Vec<Line<'static>>,
}

/// Both readings of one side of an exchange; `llm` is `None` when the body did not decode.
#[derive(Debug, Clone, Default)]
pub struct PaneContent {
    pub raw: PaneText,
    pub llm: Option<PaneText>,
}

impl PaneContent {
    /// The text to show in `mode`, and whether it had to fall back to raw.
    pub fn shown(&self, mode: ViewMode) -> (&PaneText, bool) {
        match (mode, &self.llm) {
            (ViewMode::Llm, Some(llm)) => (llm, false),
            (ViewMode::Llm, None) => (&self.raw, true),
            (ViewMode::Raw, _) => (&self.raw, false),
        }
    }

    pub fn line_count(&self, mode: ViewMode) -> usize {
        self.shown(mode).0.lines.len()
    }
}

/// How much of an exchange in flight the response lines already show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LiveProgress {
    head_seen: bool,
    events_shown: usize,
}

/// The display lines of the selected exchange.
#[derive(Debug, Clone)]
pub struct DetailView {
    pub id: ExchangeId,
    pub request: PaneContent,
    pub response: PaneContent,
    live: Option<LiveProgress>,
}

impl DetailView {
    /// Lines for a finished exchange; the decoded values are what the LLM views show.
    pub fn from_record(
        record: &ExchangeRecord,
        request: Option<&DecodedRequest>,
        response: Option<&DecodedResponse>,
    ) -> Self {
        let dialect = record.start.dialect;
        Self {
            id: record.id(),
            request: request_content(&record.start, request),
            response: PaneContent {
                raw: raw_text(response_pane::record_lines(record)),
                llm: response.map(|decoded| {
                    llm_text(dialect, response_pane::llm_lines(decoded, &record.timing))
                }),
            },
            live: None,
        }
    }

    /// Lines for an exchange in flight; `response` is the answer assembled so far.
    pub fn from_live(
        live: &LiveExchange,
        request: Option<&DecodedRequest>,
        response: Option<&DecodedResponse>,
    ) -> Self {
        let mut view = Self {
            id: live.start.id,
            request: request_content(&live.start, request),
            response: PaneContent::default(),
            live: None,
        };
        view.rebuild_live_response(live, response);
        view
    }

    /// Whether these lines were built from an exchange still in flight.
    pub fn is_live(&self) -> bool {
        self.live.is_some()
    }

    /// Brings the response lines up to date with what arrived since they were built: new
    /// stream events are appended, everything else is rebuilt.
    pub fn refresh_live(&mut self, live: &LiveExchange, response: Option<&DecodedResponse>) {
        let Some(progress) = self.live else {
            return self.rebuild_live_response(live, response);
        };
        if progress.head_seen != live.head.is_some() || !live.is_event_stream() {
            return self.rebuild_live_response(live, response);
        }
        for (n, event) in live.events.iter().enumerate().skip(progress.events_shown) {
            self.response
                .raw
                .lines
                .extend(body::sse_event_lines(n + 1, event));
        }
        self.live = Some(LiveProgress {
            events_shown: live.events.len(),
            ..progress
        });
        self.response.llm = response.map(|d| live_llm_text(live, d));
    }

    fn rebuild_live_response(&mut self, live: &LiveExchange, response: Option<&DecodedResponse>) {
        let mut lines = response_pane::live_head_lines(live.head.as_ref());
        if live.is_event_stream() {
            for (n, event) in live.events.iter().enumerate() {
                lines.extend(body::sse_event_lines(n + 1, event));
            }
        } else if live.head.is_some() {
            lines.extend(response_pane::live_body_lines(live));
        }
        self.response = PaneContent {
            raw: raw_text(lines),
            llm: response.map(|d| live_llm_text(live, d)),
        };
        self.live = Some(LiveProgress {
            head_seen: live.head.is_some(),
            events_shown: live.events.len(),
        });
    }

    /// Decodes a finished exchange through the LLM adapter and builds its lines.
    pub fn decode_record(record: &ExchangeRecord) -> Self {
        let request = decode_start(&record.start);
        let response = decode_record_response(record);
        Self::from_record(record, request.as_ref(), response.as_ref())
    }

    /// Decodes an exchange in flight through the LLM adapter and builds its lines.
    pub fn decode_live(live: &LiveExchange) -> Self {
        let request = decode_start(&live.start);
        Self::from_live(live, request.as_ref(), live.assembled().as_ref())
    }
}

/// The reply of a finished exchange read as an LLM answer.
pub fn decode_record_response(record: &ExchangeRecord) -> Option<DecodedResponse> {
    let response = record.response.as_ref()?;
    let content_type = body::header_value(&response.headers, "content-type");
    llm_adapter::decode_response(record.start.dialect, content_type, &response.body)
}

fn decode_start(start: &ExchangeStart) -> Option<DecodedRequest> {
    llm_adapter::decode_request(start.dialect, &start.request.body)
}

fn request_content(start: &ExchangeStart, decoded: Option<&DecodedRequest>) -> PaneContent {
    PaneContent {
        raw: raw_text(request_pane::raw_lines(
            &start.request,
            start.request_body_unrecorded,
        )),
        llm: decoded.map(|d| llm_text(start.dialect, request_pane::llm_lines(d))),
    }
}

fn live_llm_text(live: &LiveExchange, decoded: &DecodedResponse) -> PaneText {
    let timing = crate::capture::Timing {
        started_at_ms: live.start.started_at_ms,
        first_byte_ms: live.head.as_ref().map(|h| h.first_byte_ms),
        duration_ms: None,
    };
    llm_text(
        live.start.dialect,
        response_pane::llm_lines(decoded, &timing),
    )
}

fn raw_text(lines: Vec<Line<'static>>) -> PaneText {
    PaneText {
        label: "raw".to_string(),
        lines,
    }
}

fn llm_text(dialect: Dialect, lines: Vec<Line<'static>>) -> PaneText {
    PaneText {
        label: format!("LLM · {dialect}"),
        lines,
    }
}
