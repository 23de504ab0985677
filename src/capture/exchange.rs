//! What one exchange is: the request as sent, the reply as received, and how it ended.

use std::fmt;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::classify::Failure;
use super::HeaderList;
use crate::llm::{reply_usage, Dialect, Usage};

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

/// The request as the agent sent it (secret headers already redacted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedRequest {
    pub method: String,
    /// Path and query exactly as the agent sent them, e.g. `/v1/messages?beta=true`.
    pub uri: String,
    pub headers: HeaderList,
    pub body: Bytes,
}

/// Where requests a gateway sends to one of its providers arrive: `/provider/NAME/…`
/// (`--provider NAME=URL`).
pub const PROVIDER_PREFIX: &str = "/provider/";

impl CapturedRequest {
    /// The provider a gateway sent this request to, when it came in on the provider side.
    pub fn provider(&self) -> Option<&str> {
        provider_target(&self.uri).map(|(name, _)| name)
    }
}

/// `/provider/NAME/rest?q` → `("NAME", "/rest?q")`; `None` for an agent's own target.
pub fn provider_target(target: &str) -> Option<(&str, &str)> {
    let rest = target.strip_prefix(PROVIDER_PREFIX)?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (name, path) = rest.split_at(end);
    (!name.is_empty()).then_some((name, path))
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

/// Who sent a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Origin {
    /// The agent, through the proxy.
    #[default]
    Agent,
    /// The user, from llmscope (edited or not), as a fix for `Lineage::parent`.
    Resend,
    /// llmscope itself (`--auto-fix`): `Lineage::parent` with a quick fix that loses nothing.
    AutoFix,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Resend => "resend",
            Self::AutoFix => "auto_fix",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "resend" => Self::Resend,
            "auto_fix" => Self::AutoFix,
            _ => Self::Agent,
        }
    }
}

/// Where an exchange comes from: the agent, or a resend of an earlier exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lineage {
    pub origin: Origin,
    /// The exchange this one was resent from.
    pub parent: Option<ExchangeId>,
    /// The first exchange of the retry loop this request repeats: the agent sent the same
    /// request before and it failed the same way.
    pub repeats: Option<ExchangeId>,
    /// For a gateway's call to a provider: the agent's exchange it served, in flight when it
    /// started and carrying the same conversation.
    pub beneath: Option<ExchangeId>,
}

impl Lineage {
    pub fn resend_of(parent: ExchangeId) -> Self {
        Self {
            origin: Origin::Resend,
            parent: Some(parent),
            repeats: None,
            beneath: None,
        }
    }

    pub fn auto_fix_of(parent: ExchangeId) -> Self {
        Self {
            origin: Origin::AutoFix,
            ..Self::resend_of(parent)
        }
    }
}

/// A request that rules changed before it was forwarded. The exchange's `request` is what was
/// forwarded; this keeps what the agent sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub original: CapturedRequest,
    /// One line per rule that changed the request, e.g. `rule 2: set /model = "gpt-4o"`.
    pub applied: Vec<String>,
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
    /// The request as forwarded to the upstream.
    pub request: CapturedRequest,
    pub lineage: Lineage,
    /// Set when rules changed the agent's request before forwarding.
    pub rewrite: Option<Arc<Rewrite>>,
    /// `Some(length)` when the record holds no request body because llmscope's writer had
    /// fallen too far behind to keep it (a burst faster than the disk; see
    /// [`CaptureEvent::without_bodies`]). The agent's request went upstream whole.
    pub request_body_unrecorded: Option<u64>,
}

impl ExchangeStart {
    /// The request body's length, whether or not the record holds it.
    pub fn request_body_len(&self) -> u64 {
        self.request_body_unrecorded
            .unwrap_or(self.request.body.len() as u64)
    }

    fn without_body(&self) -> Self {
        let mut bare = self.clone();
        if !bare.request.body.is_empty() {
            bare.request_body_unrecorded = Some(bare.request.body.len() as u64);
            bare.request.body = Bytes::new();
        }
        bare
    }
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
    /// What is read from the fields above, once, by the first reader that asks for it.
    /// A record built from another with a different reply needs `Derived::default()`.
    pub derived: Derived,
}

/// Facts read from a record's reply on demand and kept, so that the store, `record`'s log
/// and a screen, which all receive the same `Arc<ExchangeRecord>`, decode the body once
/// between them rather than once each, and never on the forwarding task that built it.
#[derive(Debug, Clone, Default)]
pub struct Derived {
    usage: OnceLock<Option<Usage>>,
}

impl ExchangeRecord {
    pub fn new(
        start: Arc<ExchangeStart>,
        timing: Timing,
        response: Option<CapturedResponse>,
        failure: Option<Failure>,
    ) -> Self {
        Self {
            start,
            timing,
            response,
            failure,
            derived: Derived::default(),
        }
    }

    pub fn id(&self) -> ExchangeId {
        self.start.id
    }

    /// The token counts a successful reply reports, read from its body the first time any
    /// reader asks. `None` for a failed exchange, an unknown API or a reply without usage.
    pub fn usage(&self) -> Option<Usage> {
        *self.derived.usage.get_or_init(|| self.read_usage())
    }

    fn read_usage(&self) -> Option<Usage> {
        let response = self.response.as_ref()?;
        let readable = (200..300).contains(&response.status)
            && self.failure.is_none()
            && self.start.dialect != Dialect::Unknown
            && !response.body.is_empty();
        if !readable {
            return None;
        }
        let content_type = response.headers.value("content-type");
        reply_usage(self.start.dialect, content_type, &response.body)
    }
}

/// What the proxy publishes about exchanges, in order per exchange: `Intercepted` when the
/// request was paused before forwarding, `Started`, then optionally `ResponseHead` and `ResponseChunk`s, then exactly one `Finished`.
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
    /// An agent request matching the intercept pattern was paused before forwarding; the agent
    /// is waiting. `start` is the request as it would go out now; the later `Started` (same id)
    /// carries it as finally sent. Not stored: `Started` writes the row.
    Intercepted {
        start: Arc<ExchangeStart>,
        expires_at_ms: i64,
    },
    /// A failed reply was parked instead of sent (hold-on-error); the agent is still waiting.
    Held { id: ExchangeId, expires_at_ms: i64 },
    /// The user changed the rules applied to later requests (JSON list of rules).
    RulesChanged {
        session: SessionId,
        rules: Arc<serde_json::Value>,
    },
    /// A held exchange was settled and the agent got its answer (or left).
    HoldEnded {
        session: SessionId,
        id: ExchangeId,
        outcome: HoldOutcome,
    },
}

/// How a held exchange was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldOutcome {
    /// A resend succeeded and its reply went to the waiting agent.
    Delivered { from: ExchangeId },
    /// The user sent the original failure on.
    ForwardedOriginal,
    /// The hold time ran out and the original failure was sent on.
    TimedOut,
    /// The agent closed its connection while held.
    AgentGone,
}

impl HoldOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered { .. } => "delivered",
            Self::ForwardedOriginal => "forwarded",
            Self::TimedOut => "timed_out",
            Self::AgentGone => "agent_gone",
        }
    }
}

impl fmt::Display for HoldOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Delivered { from } => write!(f, "fixed by {from}, its reply went to the agent"),
            Self::ForwardedOriginal => f.write_str("original error sent to the agent"),
            Self::TimedOut => f.write_str("hold timed out; original error sent to the agent"),
            Self::AgentGone => f.write_str("the agent left while held"),
        }
    }
}

impl CaptureEvent {
    /// The exchange the event is about; `None` for session-wide events.
    pub fn exchange_id(&self) -> Option<ExchangeId> {
        match self {
            Self::Started(s) | Self::Intercepted { start: s, .. } => Some(s.id),
            Self::ResponseHead { id, .. }
            | Self::ResponseChunk { id, .. }
            | Self::Held { id, .. }
            | Self::HoldEnded { id, .. } => Some(*id),
            Self::Finished(r) => Some(r.id()),
            Self::RulesChanged { .. } => None,
        }
    }

    /// Whether a subscriber may lose this event without losing the record.
    pub fn is_droppable(&self) -> bool {
        matches!(self, Self::ResponseChunk { .. })
    }

    /// Bytes of request and reply bodies this event keeps alive.
    pub fn body_bytes(&self) -> usize {
        match self {
            Self::Started(start) | Self::Intercepted { start, .. } => start.request.body.len(),
            Self::Finished(record) => {
                record.start.request.body.len()
                    + record.response.as_ref().map_or(0, |r| r.body.len())
            }
            Self::ResponseChunk { data, .. } => data.len(),
            _ => 0,
        }
    }

    /// The same event with its request and reply bodies left out (their lengths kept), for a
    /// record that cannot hold them all: every exchange stays in the record, the bodies of a
    /// burst the disk could not keep up with do not. Events without bodies come back as they
    /// are.
    pub fn without_bodies(&self) -> Self {
        match self {
            Self::Started(start) => Self::Started(Arc::new(start.without_body())),
            Self::Finished(record) => {
                let mut bare = ExchangeRecord::clone(record);
                bare.start = Arc::new(record.start.without_body());
                if let Some(response) = &mut bare.response {
                    // `body_len` keeps the length: the record shows the reply as cut.
                    response.body = Bytes::new();
                }
                Self::Finished(Arc::new(bare))
            }
            other => other.clone(),
        }
    }

    /// Live detail of a reply in progress, repeated in full by its `Finished`.
    pub fn is_live_detail(&self) -> bool {
        matches!(self, Self::ResponseHead { .. } | Self::ResponseChunk { .. })
    }
}

#[cfg(test)]
#[path = "exchange_tests.rs"]
mod tests;
