//! Fixes of the content blocks inside the conversation: sending a request without extended
//! thinking, keeping no more `cache_control` breakpoints than allowed, and removing messages
//! whose content is empty.

use serde_json::{Map, Value};

use super::conversation::{self, block_type};
use super::{count, FixOutcome};
use crate::llm::Dialect;

const THINKING_BLOCKS: &[&str] = &["thinking", "redacted_thinking"];

/// Removes `thinking` and every thinking block: with thinking off the API refuses assistant
/// turns that still carry them, so both go together.
pub(super) fn remove_thinking(body: &mut Map<String, Value>) -> FixOutcome {
    let had_param = body.shift_remove("thinking").is_some();
    let mut blocks = 0;
    if let Some(Value::Array(messages)) = body.get_mut("messages") {
        for message in messages.iter_mut() {
            if let Some(Value::Array(content)) = message.get_mut("content") {
                let before = content.len();
                content.retain(|block| !block_type(block).is_some_and(is_thinking));
                blocks += before - content.len();
            }
        }
        // A turn that was only thinking is now empty, which the API refuses too.
        messages.retain(|message| !is_empty_array_content(message));
    }
    if !had_param && blocks == 0 {
        return FixOutcome::unchanged("no `thinking` and no thinking blocks");
    }
    let mut summary = Vec::new();
    if had_param {
        summary.push("removed `thinking`".to_string());
    }
    if blocks > 0 {
        summary.push(format!(
            "removed {}",
            count(blocks, "thinking block", "thinking blocks")
        ));
    }
    FixOutcome::changed(summary.join(" and "))
}

fn is_thinking(kind: &str) -> bool {
    THINKING_BLOCKS.contains(&kind)
}

fn is_empty_array_content(message: &Value) -> bool {
    message
        .get("content")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
}

/// Where every `cache_control` sits, as (top-level key, pointer below it), in the order the
/// API counts prefixes (tools, then system, then each message's blocks), and how many are
/// before the messages.
fn cache_holders(body: &Map<String, Value>) -> (Vec<(&'static str, String)>, usize) {
    let mut holders = Vec::new();
    for key in ["tools", "system"] {
        if let Some(Value::Array(items)) = body.get(key) {
            for (at, item) in items.iter().enumerate() {
                if item.get("cache_control").is_some() {
                    holders.push((key, format!("/{at}")));
                }
            }
        }
    }
    let prefix = holders.len();
    if let Some(Value::Array(messages)) = body.get("messages") {
        for (at, message) in messages.iter().enumerate() {
            if let Some(Value::Array(blocks)) = message.get("content") {
                for (block_at, block) in blocks.iter().enumerate() {
                    if block.get("cache_control").is_some() {
                        holders.push(("messages", format!("/{at}/content/{block_at}")));
                    }
                }
            }
            if message.get("cache_control").is_some() {
                holders.push(("messages", format!("/{at}")));
            }
        }
    }
    (holders, prefix)
}

/// Keeps at most `max` breakpoints. The oldest message breakpoints go first (a later one
/// covers every block before it), then the tools' and system's from the last; the newest
/// message's breakpoint, where the next call's cache starts, goes last of all.
pub(super) fn remove_extra_cache_control(body: &mut Map<String, Value>, max: u64) -> FixOutcome {
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    let (holders, prefix) = cache_holders(body);
    let total = holders.len();
    if total <= max {
        return FixOutcome::unchanged(format!(
            "{} — at most {max} allowed",
            count(total, "cache_control block", "cache_control blocks")
        ));
    }
    let newest = (total > prefix).then(|| total - 1);
    let order = (prefix..total)
        .filter(|at| Some(*at) != newest)
        .chain((0..prefix).rev())
        .chain(newest);
    let excess = total - max;
    for at in order.take(excess) {
        let (key, pointer) = &holders[at];
        let holder = body
            .get_mut(*key)
            .and_then(|list| list.pointer_mut(pointer))
            .and_then(Value::as_object_mut);
        if let Some(holder) = holder {
            holder.shift_remove("cache_control");
        }
    }
    FixOutcome::changed(format!(
        "removed {} (kept {max})",
        count(
            excess,
            "cache_control breakpoint",
            "cache_control breakpoints"
        )
    ))
}

/// Removes empty text blocks and messages with no content, but for the final assistant
/// message (a prefill may be empty) and assistant messages that carry tool calls.
pub(super) fn remove_empty_content(dialect: Dialect, body: &mut Map<String, Value>) -> FixOutcome {
    let dialect = conversation::resolve(dialect, body);
    let key = conversation::items_key(dialect);
    let Some(Value::Array(items)) = body.get_mut(key) else {
        return FixOutcome::unchanged(format!("no `{key}` list"));
    };
    let mut blocks = 0;
    for item in items.iter_mut() {
        if let Some(Value::Array(content)) = item.get_mut("content") {
            let before = content.len();
            content.retain(|block| !is_empty_text_block(block));
            blocks += before - content.len();
        }
    }
    let last = items.len().saturating_sub(1);
    let before = items.len();
    let mut at = 0;
    items.retain(|item| {
        let final_assistant =
            at == last && item.get("role").and_then(Value::as_str) == Some("assistant");
        at += 1;
        final_assistant || !is_empty_message(item)
    });
    let messages = before - items.len();
    if blocks == 0 && messages == 0 {
        return FixOutcome::unchanged("no message has empty content");
    }
    let mut parts = Vec::new();
    if messages > 0 {
        parts.push(count(messages, "empty message", "empty messages"));
    }
    if blocks > 0 {
        parts.push(count(blocks, "empty text block", "empty text blocks"));
    }
    FixOutcome::changed(format!("removed {}", parts.join(" and ")))
}

fn is_empty_text_block(block: &Value) -> bool {
    block_type(block) == Some("text")
        && block
            .get("text")
            .and_then(Value::as_str)
            .is_none_or(|text| text.trim().is_empty())
}

/// A message (not a Responses item of another type) whose content holds nothing, and that
/// makes no tool call.
fn is_empty_message(item: &Value) -> bool {
    let Some(object) = item.as_object() else {
        return false;
    };
    if object.get("type").and_then(Value::as_str).is_some_and(|t| t != "message")
        || !object.contains_key("role")
        // A tool's empty answer still answers its call.
        || object.get("role").and_then(Value::as_str) == Some("tool")
        || object.get("tool_calls").is_some_and(|calls| calls.as_array().is_none_or(|c| !c.is_empty()))
    {
        return false;
    }
    match object.get("content") {
        None | Some(Value::Null) => true,
        Some(Value::String(text)) => text.trim().is_empty(),
        Some(Value::Array(blocks)) => blocks.is_empty(),
        Some(_) => false,
    }
}
