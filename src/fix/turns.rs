//! Dropping the oldest turns of a conversation that no longer fits the model's context.
//!
//! A turn is a user message and everything up to the next one. System and developer prompts
//! are kept wherever they were, and the conversation is only cut where no tool call waits on
//! a result after the cut, so the API never sees half a pair.

use serde_json::{Map, Value};

use super::conversation::{self, Entry, Role};
use super::{count, FixOutcome};
use crate::llm::Dialect;

/// Drops up to `turns` of the oldest turns, always keeping the last one.
pub(super) fn drop_oldest_turns(
    dialect: Dialect,
    body: &mut Map<String, Value>,
    turns: usize,
) -> FixOutcome {
    let dialect = conversation::resolve(dialect, body);
    let key = conversation::items_key(dialect);
    let Some(Value::Array(items)) = body.get_mut(key) else {
        return FixOutcome::unchanged(format!("no `{key}` list to drop turns from"));
    };
    let entries = conversation::entries(dialect, items);
    let starts = conversation::turn_starts(&entries);
    if starts.len() < 2 {
        return FixOutcome::unchanged("only one user turn; nothing to drop");
    }
    if turns == 0 {
        return FixOutcome::unchanged("asked to drop no turns");
    }
    let dropped_turns = turns.min(starts.len() - 1);
    let cut = starts[dropped_turns];
    let mut old = std::mem::take(items).into_iter();
    let system: Vec<Value> = entries[..cut]
        .iter()
        .zip(old.by_ref().take(cut))
        .filter(|(entry, _)| entry.role == Role::System)
        .map(|(_, item)| item)
        .collect();
    let mut kept: Vec<Value> = old.collect();
    // Anthropic wants the conversation to open with the user, and Claude Code's
    // mid-conversation system messages follow a user message: keep them right behind one.
    let at = match dialect {
        Dialect::Anthropic => kept.len().min(1),
        _ => 0,
    };
    let dropped_messages = cut - system.len();
    kept.splice(at..at, system);
    *items = kept;
    let mut summary = format!(
        "dropped {} ({})",
        count(dropped_turns, "oldest turn", "oldest turns"),
        count(dropped_messages, "message", "messages")
    );
    if dropped_turns < turns {
        summary.push_str("; the last turn is always kept");
    }
    FixOutcome::changed(summary)
}

/// The serialized size in bytes of each turn that could be dropped, oldest first; the
/// conversation's last turn is not in the list. `None` when the body has no conversation.
pub(super) fn droppable_turn_bytes(
    dialect: Dialect,
    body: &Map<String, Value>,
) -> Option<Vec<u64>> {
    let dialect = conversation::resolve(dialect, body);
    let items = body.get(conversation::items_key(dialect))?.as_array()?;
    let entries = conversation::entries(dialect, items);
    let starts = conversation::turn_starts(&entries);
    let mut sizes = Vec::new();
    let mut from = 0;
    for &until in starts.iter().skip(1) {
        sizes.push(bytes_of(&entries[from..until], &items[from..until]));
        from = until;
    }
    Some(sizes)
}

fn bytes_of(entries: &[Entry], items: &[Value]) -> u64 {
    entries
        .iter()
        .zip(items)
        .filter(|(entry, _)| entry.role != Role::System)
        .map(|(_, item)| item.to_string().len() as u64)
        .sum()
}
