//! Dropping tool calls that got no result: the other way to pair a conversation whose agent
//! was interrupted mid-tool, when a placeholder answer would mislead the model more than
//! the call's absence.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::conversation::block_type;
use super::tool_results;
use super::{count, FixOutcome};
use crate::llm::Dialect;

pub(super) fn drop_unanswered_calls(dialect: Dialect, body: &mut Map<String, Value>) -> FixOutcome {
    let (dialect, items, _, unanswered) = match tool_results::unanswered(dialect, body) {
        Ok(found) => found,
        Err(nothing_to_do) => return nothing_to_do,
    };
    let ids: HashSet<&str> = unanswered.iter().map(|(_, id)| id.as_str()).collect();
    let mut at = 0;
    // Only the entries that made the unanswered calls change; the same id elsewhere is
    // another call.
    let callers: HashSet<usize> = unanswered.iter().map(|(at, _)| *at).collect();
    items.retain_mut(|item| {
        let keep = !callers.contains(&at) || !drop_calls(dialect, item, &ids);
        at += 1;
        keep
    });
    FixOutcome::changed(format!(
        "dropped {} that got no result",
        count(unanswered.len(), "tool call", "tool calls")
    ))
}

/// Removes the calls in `ids` from one entry; whether the entry is now empty and goes.
fn drop_calls(dialect: Dialect, item: &mut Value, ids: &HashSet<&str>) -> bool {
    let id_of = |value: &Value, key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .is_some_and(|id| ids.contains(id))
    };
    match dialect {
        // A Responses call is an item of its own.
        Dialect::OpenAiResponses => id_of(item, "call_id"),
        Dialect::Anthropic => {
            let Some(Value::Array(blocks)) = item.get_mut("content") else {
                return false;
            };
            blocks.retain(|block| !(block_type(block) == Some("tool_use") && id_of(block, "id")));
            blocks.is_empty()
        }
        Dialect::OpenAiChat | Dialect::Gemini | Dialect::Unknown => {
            let Some(message) = item.as_object_mut() else {
                return false;
            };
            if let Some(Value::Array(calls)) = message.get_mut("tool_calls") {
                calls.retain(|call| !id_of(call, "id"));
                if calls.is_empty() {
                    message.shift_remove("tool_calls");
                }
            }
            let says_nothing = match message.get("content") {
                None | Some(Value::Null) => true,
                Some(Value::String(text)) => text.trim().is_empty(),
                Some(Value::Array(parts)) => parts.is_empty(),
                Some(_) => false,
            };
            says_nothing && !message.contains_key("tool_calls")
        }
    }
}
