//! Repairing tool call / tool result pairing: removing results that answer nothing, and
//! answering calls that got no result (an agent interrupted mid-tool, a conversation trimmed
//! by hand) with a placeholder the model can read as "this tool did not answer".

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Map, Value};

use super::conversation::{self, block_type, Entry};
use super::{count, FixOutcome, MISSING_TOOL_RESULT};
use crate::llm::Dialect;

/// Whether the body has results that answer no call, and calls with no result.
pub(super) fn pairing_problems(dialect: Dialect, body: &Map<String, Value>) -> (bool, bool) {
    let dialect = conversation::resolve(dialect, body);
    let Some(items) = body
        .get(conversation::items_key(dialect))
        .and_then(Value::as_array)
    else {
        return (false, false);
    };
    let entries = conversation::entries(dialect, items);
    (
        !conversation::orphan_results(dialect, &entries).is_empty(),
        !conversation::unanswered_calls(dialect, &entries).is_empty(),
    )
}

pub(super) fn remove_orphan_results(dialect: Dialect, body: &mut Map<String, Value>) -> FixOutcome {
    let dialect = conversation::resolve(dialect, body);
    let key = conversation::items_key(dialect);
    let Some(Value::Array(items)) = body.get_mut(key) else {
        return FixOutcome::unchanged(format!("no `{key}` list"));
    };
    let entries = conversation::entries(dialect, items);
    let orphans = conversation::orphan_results(dialect, &entries);
    if orphans.is_empty() {
        return FixOutcome::unchanged("every tool result answers a call");
    }
    let mut by_item: BTreeMap<usize, HashSet<String>> = BTreeMap::new();
    for (at, id) in &orphans {
        by_item.entry(*at).or_default().insert(id.clone());
    }
    let mut removed_messages = 0;
    // From the end, so that removing an item leaves the indices still to visit valid.
    for (&at, ids) in by_item.iter().rev() {
        let emptied = match dialect {
            Dialect::Anthropic => remove_result_blocks(&mut items[at], ids),
            _ => true,
        };
        if emptied {
            items.remove(at);
            removed_messages += 1;
        }
    }
    let mut summary = format!(
        "removed {} answering no call",
        count(orphans.len(), "tool result", "tool results")
    );
    if dialect == Dialect::Anthropic && removed_messages > 0 {
        summary.push_str(&format!(
            " ({} left empty removed)",
            count(removed_messages, "message", "messages")
        ));
    }
    FixOutcome::changed(summary)
}

/// Removes the orphan `tool_result` blocks of an Anthropic message; whether it is now empty.
fn remove_result_blocks(message: &mut Value, ids: &HashSet<String>) -> bool {
    let Some(Value::Array(blocks)) = message.get_mut("content") else {
        return false;
    };
    blocks.retain(|block| {
        let id = block
            .get("tool_use_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        block_type(block) != Some("tool_result") || !ids.contains(id)
    });
    blocks.is_empty()
}

pub(super) fn add_missing_results(dialect: Dialect, body: &mut Map<String, Value>) -> FixOutcome {
    let (dialect, items, entries, unanswered) = match unanswered(dialect, body) {
        Ok(found) => found,
        Err(nothing_to_do) => return nothing_to_do,
    };
    let mut by_call: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (at, id) in &unanswered {
        by_call.entry(*at).or_default().push(id.clone());
    }
    for (&at, ids) in by_call.iter().rev() {
        match dialect {
            Dialect::Anthropic => answer_in_next_message(items, at, ids),
            Dialect::OpenAiResponses => {
                let output_type = match items[at].get("type").and_then(Value::as_str) {
                    Some("custom_tool_call") => "custom_tool_call_output",
                    _ => "function_call_output",
                };
                let outputs = ids.iter().map(
                    |id| json!({"type": output_type, "call_id": id, "output": MISSING_TOOL_RESULT}),
                );
                let after = end_of_tool_run(&entries, at, true);
                items.splice(after..after, outputs);
            }
            Dialect::OpenAiChat | Dialect::Gemini | Dialect::Unknown => {
                let results = ids.iter().map(|id| {
                    json!({"role": "tool", "tool_call_id": id, "content": MISSING_TOOL_RESULT})
                });
                let after = end_of_tool_run(&entries, at, false);
                items.splice(after..after, results);
            }
        }
    }
    FixOutcome::changed(format!(
        "added {} for unanswered tool calls",
        count(
            unanswered.len(),
            "placeholder result",
            "placeholder results"
        )
    ))
}

/// The calls that got no result.
type Unanswered<'a> = (
    Dialect,
    &'a mut Vec<Value>,
    Vec<Entry>,
    Vec<(usize, String)>,
);

/// A body's conversation (dialect, items, entries) and its calls that got no result, for
/// the fixes that answer or drop them; `Err` says why there is nothing to do.
pub(super) fn unanswered(
    dialect: Dialect,
    body: &mut Map<String, Value>,
) -> Result<Unanswered<'_>, FixOutcome> {
    let dialect = conversation::resolve(dialect, body);
    let key = conversation::items_key(dialect);
    let Some(Value::Array(items)) = body.get_mut(key) else {
        return Err(FixOutcome::unchanged(format!("no `{key}` list")));
    };
    let entries = conversation::entries(dialect, items);
    let unanswered = conversation::unanswered_calls(dialect, &entries);
    if unanswered.is_empty() {
        return Err(FixOutcome::unchanged("every tool call has its result"));
    }
    Ok((dialect, items, entries, unanswered))
}

/// Where results for the calls of entry `at` go: after the results that follow it (and, in
/// the Responses API, where parallel calls are separate items, after the calls too), so
/// that results already there stay right behind their calls.
fn end_of_tool_run(entries: &[Entry], at: usize, calls_too: bool) -> usize {
    let run = entries[at + 1..]
        .iter()
        .take_while(|entry| !entry.results.is_empty() || (calls_too && !entry.calls.is_empty()))
        .count();
    at + 1 + run
}

/// Anthropic wants the results first in the next message, which must be the user's: add
/// them after the results already there, or add a user message for them.
fn answer_in_next_message(messages: &mut Vec<Value>, at: usize, ids: &[String]) {
    let results: Vec<Value> = ids
        .iter()
        .map(|id| json!({"type": "tool_result", "tool_use_id": id, "content": MISSING_TOOL_RESULT}))
        .collect();
    let next_is_user = messages
        .get(at + 1)
        .and_then(|next| next.get("role"))
        .and_then(Value::as_str)
        == Some("user");
    if !next_is_user {
        messages.insert(at + 1, json!({"role": "user", "content": results}));
        return;
    }
    let Some(Value::Object(next)) = messages.get_mut(at + 1) else {
        return;
    };
    let content = next.entry("content").or_insert(Value::Null);
    let mut blocks = match content.take() {
        Value::Array(blocks) => blocks,
        Value::String(text) if text.is_empty() => Vec::new(),
        Value::String(text) => vec![json!({"type": "text", "text": text})],
        Value::Null => Vec::new(),
        other => vec![other],
    };
    let leading_results = blocks
        .iter()
        .take_while(|block| block_type(block) == Some("tool_result"))
        .count();
    blocks.splice(leading_results..leading_results, results);
    *content = Value::Array(blocks);
}
