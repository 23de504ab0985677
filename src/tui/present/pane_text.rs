//! One side of an exchange as built lines, in both readings (raw and LLM), and which reading a
//! pane shows: what the request and response panes draw, computed once per change so drawing
//! a 2 MB body is a slice, not a re-layout.

use ratatui::text::Line;

use crate::capture::{ExchangeRecord, ExchangeStart};
use crate::llm::{DecodedRequest, DecodedResponse, Dialect};

use super::{request, response};

/// How a pane shows its side of the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ViewMode {
    /// Read as an LLM call; falls back to raw when the body does not decode.
    #[default]
    Llm,
    /// Start line, headers and body as they went over the wire.
    Raw,
}

impl ViewMode {
    pub fn toggled(self) -> Self {
        match self {
            Self::Llm => Self::Raw,
            Self::Raw => Self::Llm,
        }
    }
}

/// Lines for one mode of a pane, with a label for its title (`raw`, `LLM · Anthropic messages`).
#[derive(Debug, Clone, Default)]
pub struct PaneText {
    pub label: String,
    pub lines: Vec<Line<'static>>,
}

impl PaneText {
    pub fn raw(lines: Vec<Line<'static>>) -> Self {
        Self {
            label: "raw".to_string(),
            lines,
        }
    }

    pub fn llm(dialect: Dialect, lines: Vec<Line<'static>>) -> Self {
        Self {
            label: format!("LLM · {dialect}"),
            lines,
        }
    }
}

/// Both readings of one side of an exchange; `llm` is `None` when the body did not decode.
#[derive(Debug, Clone, Default)]
pub struct PaneContent {
    pub raw: PaneText,
    pub llm: Option<PaneText>,
}

impl PaneContent {
    /// The request of `start`; `decoded` is what the LLM reading shows.
    pub fn request(start: &ExchangeStart, decoded: Option<&DecodedRequest>) -> Self {
        Self {
            raw: PaneText::raw(request::raw_lines(
                &start.request,
                start.request_body_unrecorded,
            )),
            llm: decoded.map(|d| PaneText::llm(start.dialect, request::llm_lines(d))),
        }
    }

    /// The reply of a finished exchange; `decoded` is what the LLM reading shows.
    pub fn record_response(record: &ExchangeRecord, decoded: Option<&DecodedResponse>) -> Self {
        Self {
            raw: PaneText::raw(response::record_lines(record)),
            llm: decoded.map(|decoded| {
                PaneText::llm(
                    record.start.dialect,
                    response::llm_lines(decoded, &record.timing),
                )
            }),
        }
    }

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
