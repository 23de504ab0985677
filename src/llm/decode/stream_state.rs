//! What a stream's events build up: the answer so far, where each streamed tool call sits in
//! it, and usage merged across events. The assembler owns one; each dialect applies its events
//! to it.

use crate::llm::{DecodedResponse, ToolCall, Usage};

/// The answer being built, plus where each streamed tool call lives in it.
#[derive(Debug, Default)]
pub(super) struct StreamState {
    pub(super) response: DecodedResponse,
    /// The stream's own key for a tool call (OpenAI `tool_calls[].index`, Anthropic content
    /// block index, Responses `output_index`) → position in `response.tool_calls`.
    tool_slots: Vec<(u64, usize)>,
}

impl StreamState {
    /// The tool call the stream calls `key`, started empty on first mention: deltas may name
    /// a call before (or without) the event that introduces it.
    pub(super) fn tool(&mut self, key: u64) -> &mut ToolCall {
        let calls = self.response.tool_calls.len();
        let known = self
            .tool_slots
            .iter()
            .find(|(slot, _)| *slot == key)
            .map(|&(_, position)| position)
            .filter(|&position| position < calls);
        let position = known.unwrap_or_else(|| {
            self.tool_slots.push((key, calls));
            self.response.tool_calls.push(empty_call());
            calls
        });
        &mut self.response.tool_calls[position]
    }

    /// For streams that give no key: a call with a new id starts a new call, anything else
    /// continues the last one.
    pub(super) fn unkeyed_tool(&mut self, id: Option<&str>) -> &mut ToolCall {
        let calls = &mut self.response.tool_calls;
        let continues = match (id, calls.last()) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(id), Some(last)) => last.id.as_deref().is_none_or(|last_id| last_id == id),
        };
        if !continues {
            calls.push(empty_call());
        }
        let last = calls.len() - 1;
        &mut calls[last]
    }

    /// Replaces the assembled calls with an authoritative list (a final response object).
    pub(super) fn replace_tools(&mut self, calls: Vec<ToolCall>) {
        self.response.tool_calls = calls;
        self.tool_slots.clear();
    }

    /// The first error is the cause; later ones are usually its echoes.
    pub(super) fn note_error(&mut self, message: String) {
        self.response.error.get_or_insert(message);
    }
}

fn empty_call() -> ToolCall {
    ToolCall {
        id: None,
        name: String::new(),
        arguments: String::new(),
    }
}

/// Streams report usage piecemeal (Anthropic's input counts at the start, output at the end):
/// later reports overwrite only the counts they carry.
pub(super) fn merge_usage(into: &mut Option<Usage>, from: Usage) {
    let usage = into.get_or_insert_with(Usage::default);
    usage.input_tokens = from.input_tokens.or(usage.input_tokens);
    usage.output_tokens = from.output_tokens.or(usage.output_tokens);
    usage.cache_read_tokens = from.cache_read_tokens.or(usage.cache_read_tokens);
    usage.cache_write_tokens = from.cache_write_tokens.or(usage.cache_write_tokens);
}
