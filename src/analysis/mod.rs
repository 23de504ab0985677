//! What a session's records mean taken together, rather than one exchange at a time. Pure
//! functions of the records: the screen, `record` and exports read the same answers.

mod agent;
mod context_warnings;
mod conversations;
mod cost;
mod gateway;
mod prices;
mod retry_loops;
mod session_cost;
mod stats;
mod turn_diff;

pub use agent::agent_name;
pub use context_warnings::{context_line, context_step, ContextWarnings};
pub use conversations::{
    Conversation, ConversationId, ConversationKind, Conversations, RequestShape,
};
pub use cost::{Cost, Gauge, Tokens, CONTEXT_WARNING};
pub use gateway::{ProviderCauses, ProviderFailure};
pub use prices::{canonical_model, Price, PriceError, PriceTable};
pub use retry_loops::{RetryLoop, RetryLoops};
pub use session_cost::{session_cost, ConversationCounts, SessionCost};
pub use stats::{session_stats, Figures, LoopFigures, SessionStats};
pub use turn_diff::TurnDiff;
