//! The conversation of a request as the fixes see it: one entry per message (or Responses
//! item) with its role, the tool calls it makes and the tool calls it answers, and where each
//! API expects a result to sit relative to its call.
//!
//! The three dialects pair calls and results differently: OpenAI chat wants the `tool`
//! messages right after the assistant message that made the calls, Anthropic wants the
//! `tool_result` blocks in the very next message, the Responses API only wants the output
//! somewhere after its `function_call` item.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::llm::Dialect;

/// The dialect whose rules apply to a body. A request on an unrecognised path is read by its
/// shape, so that a gateway with an unusual route still gets its fixes.
pub(super) fn resolve(dialect: Dialect, body: &Map<String, Value>) -> Dialect {
    if dialect != Dialect::Unknown {
        return dialect;
    }
    if body.get("input").is_some_and(Value::is_array) {
        return Dialect::OpenAiResponses;
    }
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return Dialect::Unknown;
    };
    let anthropic_blocks = messages.iter().any(|message| {
        blocks(message)
            .iter()
            .any(|block| matches!(block_type(block), Some("tool_use" | "tool_result")))
    });
    if anthropic_blocks || body.contains_key("system") {
        Dialect::Anthropic
    } else {
        Dialect::OpenAiChat
    }
}

/// The field that holds the conversation.
pub(super) fn items_key(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::OpenAiResponses => "input",
        _ => "messages",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// System and developer prompts: never dropped.
    System,
    User,
    Other,
}

/// What one message or item means for turns and tool pairing.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub role: Role,
    /// A user message that opens a turn; Anthropic's user messages that carry tool results
    /// continue the turn before them.
    pub starts_turn: bool,
    /// Ids of the tool calls this entry makes (calls without an id cannot be paired).
    pub calls: Vec<String>,
    /// Ids of the calls this entry answers; an empty id when a result names none.
    pub results: Vec<String>,
}

pub(super) fn entries(dialect: Dialect, items: &[Value]) -> Vec<Entry> {
    items.iter().map(|item| entry(dialect, item)).collect()
}

fn entry(dialect: Dialect, item: &Value) -> Entry {
    let role_name = item.get("role").and_then(Value::as_str).unwrap_or("");
    let role = match role_name {
        "system" | "developer" => Role::System,
        "user" => Role::User,
        _ => Role::Other,
    };
    let mut entry = Entry {
        role,
        starts_turn: false,
        calls: Vec::new(),
        results: Vec::new(),
    };
    match dialect {
        Dialect::OpenAiResponses => {
            let kind = item
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("message");
            let call_id = || string_field(item, "call_id");
            match kind {
                "message" => entry.starts_turn = role == Role::User,
                "function_call" | "custom_tool_call" => entry.calls.extend(call_id()),
                "function_call_output" | "custom_tool_call_output" => {
                    entry.results.push(call_id().unwrap_or_default());
                }
                _ => {}
            }
        }
        Dialect::Anthropic => {
            for block in blocks(item) {
                match block_type(block) {
                    Some("tool_use") => entry.calls.extend(string_field(block, "id")),
                    Some("tool_result") => entry
                        .results
                        .push(string_field(block, "tool_use_id").unwrap_or_default()),
                    _ => {}
                }
            }
            entry.starts_turn = role == Role::User && entry.results.is_empty();
        }
        Dialect::OpenAiChat | Dialect::Gemini | Dialect::Unknown => {
            let calls = item.get("tool_calls").and_then(Value::as_array);
            let ids = calls.into_iter().flatten();
            entry
                .calls
                .extend(ids.filter_map(|call| string_field(call, "id")));
            if role_name == "tool" {
                entry
                    .results
                    .push(string_field(item, "tool_call_id").unwrap_or_default());
            }
            entry.starts_turn = role == Role::User;
        }
    }
    entry
}

/// The content blocks of an Anthropic message (none for string content).
pub(super) fn blocks(message: &Value) -> &[Value] {
    message
        .get("content")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

pub(super) fn block_type(block: &Value) -> Option<&str> {
    block.get("type").and_then(Value::as_str)
}

fn string_field(value: &Value, name: &str) -> Option<String> {
    value
        .get(name)
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_string)
}

/// A result entry in OpenAI chat: a `tool` message.
fn is_chat_result(entry: &Entry) -> bool {
    !entry.results.is_empty()
}

/// Tool calls with no result where the dialect wants it, as (entry index, call id), in order.
pub(super) fn unanswered_calls(dialect: Dialect, entries: &[Entry]) -> Vec<(usize, String)> {
    let mut unanswered = Vec::new();
    for (at, entry) in entries.iter().enumerate() {
        if entry.calls.is_empty() {
            continue;
        }
        let answers: HashSet<&str> = match dialect {
            Dialect::Anthropic => entries
                .get(at + 1)
                .map(|next| next.results.iter().map(String::as_str).collect())
                .unwrap_or_default(),
            Dialect::OpenAiResponses => entries[at + 1..]
                .iter()
                .flat_map(|later| later.results.iter().map(String::as_str))
                .collect(),
            Dialect::OpenAiChat | Dialect::Gemini | Dialect::Unknown => entries[at + 1..]
                .iter()
                .take_while(|later| is_chat_result(later))
                .flat_map(|later| later.results.iter().map(String::as_str))
                .collect(),
        };
        for call in &entry.calls {
            if !answers.contains(call.as_str()) {
                unanswered.push((at, call.clone()));
            }
        }
    }
    unanswered
}

/// Tool results that answer no call where the dialect wants it, as (entry index, call id).
pub(super) fn orphan_results(dialect: Dialect, entries: &[Entry]) -> Vec<(usize, String)> {
    let mut orphans = Vec::new();
    let mut calls_so_far: HashSet<&str> = HashSet::new();
    for (at, entry) in entries.iter().enumerate() {
        let caller = match dialect {
            Dialect::Anthropic => at.checked_sub(1).map(|before| &entries[before]),
            Dialect::OpenAiResponses => None,
            Dialect::OpenAiChat | Dialect::Gemini | Dialect::Unknown => entries[..at]
                .iter()
                .rev()
                .find(|before| !is_chat_result(before)),
        };
        for result in &entry.results {
            let answered = match dialect {
                Dialect::OpenAiResponses => calls_so_far.contains(result.as_str()),
                _ => caller.is_some_and(|caller| caller.calls.contains(result)),
            };
            if !answered {
                orphans.push((at, result.clone()));
            }
        }
        calls_so_far.extend(entry.calls.iter().map(String::as_str));
    }
    orphans
}

/// Indices where the conversation may be cut (everything before dropped, system entries
/// aside): the start of a user turn that no call before it still waits on for a result.
pub(super) fn turn_starts(entries: &[Entry]) -> Vec<usize> {
    // A cut at `i` separates a call at `c` from its result at `r` exactly when c < i <= r.
    let mut last_result: HashMap<&str, usize> = HashMap::new();
    for (at, entry) in entries.iter().enumerate() {
        for result in &entry.results {
            last_result.insert(result.as_str(), at);
        }
    }
    let mut blocked = vec![0i64; entries.len() + 1];
    for (call_at, entry) in entries.iter().enumerate() {
        for call in &entry.calls {
            match last_result.get(call.as_str()) {
                Some(&result_at) if result_at > call_at => {
                    blocked[call_at + 1] += 1;
                    blocked[result_at + 1] -= 1;
                }
                _ => {}
            }
        }
    }
    let mut open_pairs = 0;
    let mut starts = Vec::new();
    for (at, entry) in entries.iter().enumerate() {
        open_pairs += blocked[at];
        if entry.starts_turn && open_pairs == 0 {
            starts.push(at);
        }
    }
    starts
}
