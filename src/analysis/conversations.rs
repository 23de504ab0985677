//! Which exchanges belong to one conversation of an agent, grouped as they arrive.
//!
//! An agent resends its whole conversation each turn, so a session is dozens of near-identical
//! requests. They are grouped by the agent's own session id where it sends one (opencode's
//! `x-session-id`, Claude Code's `X-Claude-Code-Session-Id`, Codex's `session_id` /
//! `conversation_id` headers and `prompt_cache_key`), else by the same system prompt and a
//! message list that extends an earlier request's. Side requests — title generation, token
//! counting, quota probes, sub-agents — are kept apart and labelled.
//!
//! Grouping is incremental and cheap: each request is reduced once to a hash of its system
//! prompt and a running hash after each message, and matched against the running hash each
//! conversation's requests ended with. Bodies are never compared with each other.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use crate::capture::{ExchangeId, HeaderList};
use crate::llm::{DecodedRequest, Message, Part};

use super::agent_name;

/// Headers agents send to name their conversation, most specific first.
const SESSION_HEADERS: &[&str] = &[
    "x-claude-code-session-id",
    "x-session-id",
    "conversation_id",
    "session_id",
    "x-session-affinity",
];

/// Body fields that carry a conversation id (Codex sends `prompt_cache_key`).
const SESSION_PARAMS: &[&str] = &["prompt_cache_key", "previous_response_id"];

/// A conversation's number in this session, in order of first appearance (from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConversationId(pub u32);

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

/// What a conversation is to the agent: its main work or a request beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConversationKind {
    Main,
    /// A short call that names the conversation (opencode's and Claude Code's titles).
    Title,
    /// `/v1/messages/count_tokens` and the like: no answer, only a count.
    CountTokens,
    /// A one-token call to check the key or quota.
    Probe,
    /// Another system prompt from the same agent, started while its main conversation ran.
    SubAgent,
    /// A request that is not an LLM call (`HEAD /`, a model list).
    Other,
}

impl ConversationKind {
    /// The label the list and `stats` show.
    pub fn label(self) -> &'static str {
        match self {
            Self::Main => "conversation",
            Self::Title => "title",
            Self::CountTokens => "count tokens",
            Self::Probe => "probe",
            Self::SubAgent => "sub-agent",
            Self::Other => "other",
        }
    }

    pub fn is_side(self) -> bool {
        self != Self::Main
    }

    /// Whether it is a conversation of its own (a header with turns beneath) rather than a
    /// request beside one.
    pub fn is_conversation(self) -> bool {
        matches!(self, Self::Main | Self::SubAgent)
    }
}

/// One request reduced to what grouping needs; built once per exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestShape {
    pub agent: String,
    /// The agent's own name for its conversation, when it sends one.
    pub session: Option<String>,
    /// A side request's kind; `None` for the main kind, decided when grouped.
    pub side: Option<ConversationKind>,
    system: u64,
    /// The running hash after each message: `prefixes[k]` covers `messages[..=k]`.
    prefixes: Vec<u64>,
    has_tools: bool,
}

impl RequestShape {
    /// Reads a request's path, headers and decoded body (`None` when it was not an LLM call).
    pub fn of(path: &str, headers: &HeaderList, request: Option<&DecodedRequest>) -> Self {
        let agent = agent_name(headers);
        let session = session_id(headers, request);
        let Some(request) = request else {
            return Self {
                agent,
                session,
                side: Some(if is_count_tokens(path) {
                    ConversationKind::CountTokens
                } else {
                    ConversationKind::Other
                }),
                system: 0,
                prefixes: Vec::new(),
                has_tools: false,
            };
        };
        // OpenAI dialects keep the system prompt among the messages; it scopes the match the
        // same way Anthropic's `system` does.
        let mut system = DefaultHasher::new();
        request.system.hash(&mut system);
        system_messages(request).for_each(|text| text.hash(&mut system));
        let mut running = DefaultHasher::new();
        let prefixes = request
            .messages
            .iter()
            .map(|message| {
                hash_message(message, &mut running);
                running.finish()
            })
            .collect();
        Self {
            side: side_kind(path, request),
            agent,
            session,
            system: system.finish(),
            prefixes,
            has_tools: !request.tools.is_empty(),
        }
    }
}

/// A group of exchanges: one conversation, or one kind of side request of one agent session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: ConversationId,
    pub kind: ConversationKind,
    pub agent: String,
    pub session: Option<String>,
    /// Its exchanges in arrival order.
    pub exchanges: Vec<ExchangeId>,
    /// The agent's own requests among them: retry repeats, resends and a gateway's provider
    /// calls belong to a turn but are not one.
    turns: usize,
    /// The turn each exchange belongs to (from 1), beside `exchanges`.
    turn_of: Vec<usize>,
    system: u64,
}

impl Conversation {
    /// `opencode conversation`, `Claude Code sub-agent`, `opencode title`.
    pub fn label(&self) -> String {
        format!("{} {}", self.agent, self.kind.label())
    }

    pub fn turns(&self) -> usize {
        self.turns
    }

    /// Which turn exchange `id` is (or belongs to, for a resend or a repeat), from 1.
    pub fn turn_of(&self, id: ExchangeId) -> Option<usize> {
        let at = self.exchanges.iter().position(|&e| e == id)?;
        self.turn_of.get(at).copied()
    }
}

/// Every conversation of a session, fed one request at a time.
#[derive(Debug, Clone, Default)]
pub struct Conversations {
    list: Vec<Conversation>,
    of: HashMap<ExchangeId, usize>,
    /// `(agent, session, system)` → conversation, for agents that name their session.
    by_session: HashMap<(String, String, u64), usize>,
    /// `(agent, system, running hash of a request's messages)` → conversation.
    by_tail: HashMap<(String, u64, u64), usize>,
    /// `(agent, session, kind)` → the group of that kind of side request.
    sides: HashMap<(String, Option<String>, ConversationKind), usize>,
    /// The system prompt of each agent's first main conversation.
    main_system: HashMap<String, u64>,
}

impl Conversations {
    /// Files exchange `id` under its conversation, starting one when none fits. `parent` is
    /// the exchange it was resent from, whose conversation a resend joins.
    pub fn observe(
        &mut self,
        id: ExchangeId,
        shape: &RequestShape,
        parent: Option<ExchangeId>,
    ) -> ConversationId {
        if let Some(&known) = self.of.get(&id) {
            return self.list[known].id;
        }
        let at = match parent.and_then(|p| self.of.get(&p).copied()) {
            Some(at) => at,
            None => self.find_or_start(shape),
        };
        if let Some(&tail) = shape.prefixes.last() {
            let conversation = &self.list[at];
            self.by_tail
                .insert((shape.agent.clone(), conversation.system, tail), at);
        }
        let conversation = &mut self.list[at];
        conversation.exchanges.push(id);
        if parent.is_none() {
            conversation.turns += 1;
        }
        conversation.turn_of.push(conversation.turns.max(1));
        self.of.insert(id, at);
        self.list[at].id
    }

    fn find_or_start(&mut self, shape: &RequestShape) -> usize {
        if let Some(kind) = shape.side {
            let key = (shape.agent.clone(), shape.session.clone(), kind);
            if let Some(&at) = self.sides.get(&key) {
                return at;
            }
            let at = self.start(shape, kind);
            self.sides.insert(key, at);
            return at;
        }
        if let Some(session) = &shape.session {
            let key = (shape.agent.clone(), session.clone(), shape.system);
            if let Some(&at) = self.by_session.get(&key) {
                return at;
            }
            let at = self.start(shape, self.main_kind(shape));
            self.by_session.insert(key, at);
            return at;
        }
        // The longest earlier request this one extends, itself included (a resent turn).
        let found = shape.prefixes.iter().rev().find_map(|&prefix| {
            self.by_tail
                .get(&(shape.agent.clone(), shape.system, prefix))
                .copied()
        });
        match found {
            Some(at) => at,
            None => self.start(shape, self.main_kind(shape)),
        }
    }

    fn main_kind(&self, shape: &RequestShape) -> ConversationKind {
        match self.main_system.get(&shape.agent) {
            Some(&system) if system != shape.system && shape.has_tools => {
                ConversationKind::SubAgent
            }
            _ => ConversationKind::Main,
        }
    }

    fn start(&mut self, shape: &RequestShape, kind: ConversationKind) -> usize {
        if kind == ConversationKind::Main {
            self.main_system
                .entry(shape.agent.clone())
                .or_insert(shape.system);
        }
        let at = self.list.len();
        self.list.push(Conversation {
            id: ConversationId(at as u32 + 1),
            kind,
            agent: shape.agent.clone(),
            session: shape.session.clone(),
            exchanges: Vec::new(),
            turns: 0,
            turn_of: Vec::new(),
            system: shape.system,
        });
        at
    }

    /// The conversation exchange `id` was filed under.
    pub fn of(&self, id: ExchangeId) -> Option<&Conversation> {
        self.of.get(&id).map(|&at| &self.list[at])
    }

    pub fn get(&self, id: ConversationId) -> Option<&Conversation> {
        self.list.get((id.0 as usize).checked_sub(1)?)
    }

    /// The exchange before `id` in its conversation: what a turn diff compares it with.
    pub fn previous(&self, id: ExchangeId) -> Option<ExchangeId> {
        let exchanges = &self.of(id)?.exchanges;
        let at = exchanges.iter().position(|&e| e == id)?;
        exchanges.get(at.checked_sub(1)?).copied()
    }

    /// Every conversation in order of first appearance.
    pub fn iter(&self) -> std::slice::Iter<'_, Conversation> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// How many conversations are the agents' main work (side requests left out).
    pub fn main_count(&self) -> usize {
        self.list.iter().filter(|c| !c.kind.is_side()).count()
    }
}

fn session_id(headers: &HeaderList, request: Option<&DecodedRequest>) -> Option<String> {
    let from_header = SESSION_HEADERS.iter().find_map(|wanted| {
        headers
            .iter()
            .find(|(name, value)| name.eq_ignore_ascii_case(wanted) && !value.trim().is_empty())
            .map(|(_, value)| value.trim().to_string())
    });
    from_header.or_else(|| {
        let params = &request?.params;
        SESSION_PARAMS.iter().find_map(|wanted| {
            let (_, value) = params.iter().find(|(name, _)| name == wanted)?;
            let text: String = serde_json::from_str(value).ok()?;
            Some(text).filter(|t| !t.is_empty())
        })
    })
}

fn is_count_tokens(path: &str) -> bool {
    let path = path.split_once('?').map_or(path, |(path, _)| path);
    path.ends_with("/count_tokens") || path.ends_with(":countTokens")
}

fn side_kind(path: &str, request: &DecodedRequest) -> Option<ConversationKind> {
    if is_count_tokens(path) {
        return Some(ConversationKind::CountTokens);
    }
    let max_tokens = request
        .params
        .iter()
        .find(|(name, _)| name == "max_tokens" || name == "max_output_tokens")
        .map(|(_, value)| value.as_str());
    if max_tokens == Some("1") && request.tools.is_empty() {
        return Some(ConversationKind::Probe);
    }
    let asks_for_title = request
        .system
        .iter()
        .map(String::as_str)
        .chain(system_messages(request))
        .any(|text| text.to_ascii_lowercase().contains("title"));
    (asks_for_title && request.tools.is_empty()).then_some(ConversationKind::Title)
}

/// The text of OpenAI-style `system`/`developer` messages, kept among the messages.
fn system_messages(request: &DecodedRequest) -> impl Iterator<Item = &str> {
    request
        .messages
        .iter()
        .take_while(|m| m.role == "system" || m.role == "developer")
        .flat_map(|m| &m.parts)
        .filter_map(|part| match part {
            Part::Text(text) => Some(text.as_str()),
            _ => None,
        })
}

/// Hashes what a message says, not how it was encoded: Claude Code moves `cache_control`
/// marks between turns, and a conversation must still match itself.
fn hash_message(message: &Message, hasher: &mut DefaultHasher) {
    message.role.hash(hasher);
    for part in &message.parts {
        match part {
            Part::Text(text) | Part::Thinking(text) => text.hash(hasher),
            Part::ToolCall(call) => {
                call.id.hash(hasher);
                call.name.hash(hasher);
            }
            Part::ToolResult {
                call_id, content, ..
            } => {
                call_id.hash(hasher);
                content.hash(hasher);
            }
            Part::Other(kind) => kind.hash(hasher),
        }
    }
}

#[cfg(test)]
#[path = "conversations_tests.rs"]
mod tests;
