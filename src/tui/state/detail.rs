//! The selected exchange's detail: what the request and response panes have to show, kept as
//! built lines and brought up to date as a reply in flight grows, so a frame never rebuilds
//! them.

use crate::capture::{ExchangeId, ExchangeRecord, Timing};
use crate::llm::{DecodedRequest, DecodedResponse};
use crate::tui::present::body;
use crate::tui::present::llm_adapter::{decode_record_response, decode_start};
use crate::tui::present::pane_text::{PaneContent, PaneText};
use crate::tui::present::response;

use super::records::LiveExchange;

/// What the request and response panes have to show for the selected exchange.
#[derive(Debug, Clone, Default)]
pub enum Detail {
    /// Nothing is selected.
    #[default]
    Empty,
    /// The record was asked for with `Command::LoadDetail`.
    Loading(ExchangeId),
    /// The record could not be had.
    Unavailable { id: ExchangeId, reason: String },
    /// Lines ready to draw.
    Ready(Box<DetailView>),
}

impl Detail {
    pub fn id(&self) -> Option<ExchangeId> {
        match self {
            Self::Empty => None,
            Self::Loading(id) | Self::Unavailable { id, .. } => Some(*id),
            Self::Ready(view) => Some(view.id),
        }
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
        Self {
            id: record.id(),
            request: PaneContent::request(&record.start, request),
            response: PaneContent::record_response(record, response),
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
            request: PaneContent::request(&live.start, request),
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
        let mut lines = response::live_head_lines(live.head.as_ref());
        if live.is_event_stream() {
            for (n, event) in live.events.iter().enumerate() {
                lines.extend(body::sse_event_lines(n + 1, event));
            }
        } else if live.head.is_some() {
            lines.extend(response::live_body_lines(
                live.head.as_ref(),
                &live.body,
                live.received,
            ));
        }
        self.response = PaneContent {
            raw: PaneText::raw(lines),
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

fn live_llm_text(live: &LiveExchange, decoded: &DecodedResponse) -> PaneText {
    let timing = Timing {
        started_at_ms: live.start.started_at_ms,
        first_byte_ms: live.head.as_ref().map(|h| h.first_byte_ms),
        duration_ms: None,
    };
    PaneText::llm(live.start.dialect, response::llm_lines(decoded, &timing))
}
