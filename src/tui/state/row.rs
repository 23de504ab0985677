//! One row of the exchange list: what it shows about an exchange, and where a held one
//! stands. No bodies, so a session of 100,000 exchanges stays cheap to hold.

use crate::analysis::{ConversationId, ConversationKind};
use crate::capture::{ExchangeId, ExchangeState, Failure, HoldOutcome};
use crate::llm::Dialect;

/// What the list shows about one exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeRow {
    pub id: ExchangeId,
    /// Wall clock, Unix ms.
    pub started_at_ms: i64,
    pub method: String,
    /// Path and query as the agent sent them.
    pub uri: String,
    /// The host the agent asked for, in forward mode (where one session holds several
    /// APIs' calls); `None` in reverse mode, where every call goes to the upstream.
    pub host: Option<String>,
    pub model: Option<String>,
    pub dialect: Dialect,
    /// `None` until the reply head arrives, and for good when none ever did.
    pub status: Option<u16>,
    pub failure: Option<Failure>,
    pub first_byte_ms: Option<u64>,
    pub duration_ms: Option<u64>,
    pub request_bytes: u64,
    /// Bytes of the reply body seen so far (the whole length once finished).
    pub response_bytes: u64,
    pub tokens_in: Option<u64>,
    pub tokens_out: Option<u64>,
    pub state: ExchangeState,
    /// The exchange this one was resent from.
    pub parent: Option<ExchangeId>,
    /// llmscope resent it by itself, with a fix that loses nothing (`--auto-fix`).
    pub auto_fix: bool,
    /// Set once the proxy held this exchange's failure.
    pub hold: Option<HoldMark>,
    /// Rules changed the agent's request before it was forwarded.
    pub rewritten: bool,
    /// Paused before forwarding, until the user sends it or `expires_at_ms` (Unix ms), when it
    /// goes out unchanged. Cleared when the exchange starts for real.
    pub intercepted_until_ms: Option<i64>,
    /// The first exchange of the retry loop this one repeats; the list folds it into that row.
    pub repeats: Option<ExchangeId>,
    /// On a loop's first row: how many repeats are folded into it.
    pub repeated: u32,
    /// For a gateway's call to a provider: the agent's exchange it served, whose row it is
    /// folded into.
    pub beneath: Option<ExchangeId>,
    /// On an agent's row: how many provider calls are folded into it.
    pub provider_calls: u32,
    /// The conversation it belongs to, and what that conversation is (main, title, …);
    /// `None` until grouped: a past session's rows are grouped after the first frame, as
    /// their requests are read in the background.
    pub conversation: Option<(ConversationId, ConversationKind)>,
}

/// Where a held exchange stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldMark {
    /// The agent is waiting, until `expires_at_ms` (Unix ms) at the latest.
    Waiting { expires_at_ms: i64 },
    /// Settled while this screen watched.
    Ended(HoldOutcome),
    /// Settled, as a past session recorded it (`delivered`, `forwarded`, …).
    Recorded(String),
}

impl HoldMark {
    pub fn is_waiting(&self) -> bool {
        matches!(self, Self::Waiting { .. })
    }

    /// Whole seconds left before the hold times out, at `now_ms`.
    pub fn seconds_left(expires_at_ms: i64, now_ms: i64) -> i64 {
        ((expires_at_ms - now_ms).max(0) + 999) / 1000
    }
}

impl ExchangeRow {
    /// The path without its query string: what the banner compares to decide that a later
    /// exchange "is the same call" and succeeded.
    pub fn path(&self) -> &str {
        self.uri.split_once('?').map_or(&self.uri, |(path, _)| path)
    }

    pub fn is_failed(&self) -> bool {
        self.failure.is_some()
    }

    /// The conversation whose header this row sits under; side requests stand alone.
    pub fn tree_conversation(&self) -> Option<ConversationId> {
        match self.conversation {
            Some((id, kind)) if kind.is_conversation() => Some(id),
            _ => None,
        }
    }

    /// The side request's label (`title`, `count tokens`, …), for a row that stands alone.
    pub fn side_label(&self) -> Option<&'static str> {
        match self.conversation {
            Some((_, ConversationKind::Other)) => None,
            Some((_, kind)) if self.tree_conversation().is_none() => Some(kind.label()),
            _ => None,
        }
    }
}
