//! What one exchange is: the request as sent, the reply as received, and how it ended.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::classify::Failure;
use crate::llm::Dialect;

/// Identifies one llmscope run (one proxy process, or one `open` of the past).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SessionId(pub i64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Identifies an exchange within its session; monotonic from 1 in arrival order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExchangeId(pub u64);

impl fmt::Display for ExchangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Header names and values in wire order, duplicates kept. Values that are not UTF-8 are
/// stored lossily: the record is for reading, the wire copy is forwarded untouched.
pub type HeaderList = Vec<(String, String)>;

/// The request as the agent sent it (secret headers already redacted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedRequest {
    pub method: String,
    /// Path and query exactly as the agent sent them, e.g. `/v1/messages?beta=true`.
    pub uri: String,
    pub headers: HeaderList,
    pub body: Bytes,
}

/// The reply as the upstream sent it, as far as it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedResponse {
    pub status: u16,
    pub headers: HeaderList,
    /// The body bytes as received (still compressed if the upstream compressed them), up to the
    /// capture cap.
    pub body: Bytes,
    /// Total bytes the upstream sent, which exceeds `body.len()` when the capture was capped.
    pub body_len: u64,
}

impl CapturedResponse {
    /// Whether the recorded body is shorter than what went to the agent.
    pub fn truncated(&self) -> bool {
        self.body_len > self.body.len() as u64
    }
}

/// When things happened, in milliseconds. `started_at_ms` is wall-clock (Unix epoch); the
/// durations come from a monotonic clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timing {
    pub started_at_ms: i64,
    /// Until the reply's head arrived from the upstream.
    pub first_byte_ms: Option<u64>,
    /// Until the exchange ended (last byte to the agent, or the failure).
    pub duration_ms: Option<u64>,
}

/// How far an exchange got, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeState {
    /// Forwarding is under way.
    InFlight,
    /// The exchange ended and its outcome is known.
    Complete,
    /// The process ended (crash, kill) while the exchange was in flight.
    Incomplete,
}

impl ExchangeState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InFlight => "in_flight",
            Self::Complete => "complete",
            Self::Incomplete => "incomplete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "in_flight" => Some(Self::InFlight),
            "complete" => Some(Self::Complete),
            "incomplete" => Some(Self::Incomplete),
            _ => None,
        }
    }
}

/// Everything known when a request arrives, before it is forwarded.
#[derive(Debug, Clone)]
pub struct ExchangeStart {
    pub id: ExchangeId,
    pub session: SessionId,
    pub started_at_ms: i64,
    pub dialect: Dialect,
    /// The `model` field of a JSON request body, when there is one.
    pub model: Option<String>,
    pub request: CapturedRequest,
}

/// A finished exchange: the start plus how it ended.
#[derive(Debug, Clone)]
pub struct ExchangeRecord {
    pub start: Arc<ExchangeStart>,
    pub timing: Timing,
    /// `None` when no reply head ever arrived (connect failure, malformed reply, …).
    pub response: Option<CapturedResponse>,
    /// `None` when the exchange succeeded.
    pub failure: Option<Failure>,
}

impl ExchangeRecord {
    pub fn id(&self) -> ExchangeId {
        self.start.id
    }
}

/// What the proxy publishes about exchanges, in order per exchange:
/// `Started`, then optionally `ResponseHead` and `ResponseChunk`s, then exactly one `Finished`.
#[derive(Debug, Clone)]
pub enum CaptureEvent {
    /// A request was read from the agent and is about to be forwarded.
    Started(Arc<ExchangeStart>),
    /// The upstream's status line and headers arrived and were passed to the agent.
    ResponseHead {
        id: ExchangeId,
        status: u16,
        headers: Arc<HeaderList>,
        first_byte_ms: u64,
    },
    /// A piece of the reply body went to the agent. Live views use these; they may be dropped
    /// under pressure because `Finished` carries the whole body.
    ResponseChunk { id: ExchangeId, data: Bytes },
    /// The exchange ended, successfully or not. Never dropped.
    Finished(Arc<ExchangeRecord>),
}

impl CaptureEvent {
    pub fn exchange_id(&self) -> ExchangeId {
        match self {
            Self::Started(s) => s.id,
            Self::ResponseHead { id, .. } | Self::ResponseChunk { id, .. } => *id,
            Self::Finished(r) => r.id(),
        }
    }

    /// Whether a subscriber may lose this event without losing the record.
    pub fn is_droppable(&self) -> bool {
        matches!(self, Self::ResponseChunk { .. })
    }
}
