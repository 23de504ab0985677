//! When `record`'s log warns that a conversation is filling its model's context window: once
//! it passes 80 %, then once per further 10 %, so a coming context-length 400 is announced turns
//! before it happens without a line per turn.
//!
//! Cheap for the many exchanges far from their window: the price table, then the reply's usage,
//! decide first, and only a request past the first step is decoded to find its conversation.

use std::collections::HashMap;

use super::conversations::{ConversationId, Conversations, RequestShape};
use super::cost::{Gauge, Tokens, CONTEXT_WARNING};
use super::prices::PriceTable;
use crate::capture::ExchangeRecord;
use crate::llm::decode_request;

/// The step of the window `gauge` has reached, in tenths (8 past 80 %, 9 past 90 %, 10 for
/// a full window and beyond), when it is past the first warning and above `warned`, the last
/// step already warned of.
pub fn context_step(gauge: &Gauge, warned: Option<u64>) -> Option<u64> {
    if gauge.window == 0 || gauge.fraction() <= CONTEXT_WARNING {
        return None;
    }
    let step = (gauge.used.saturating_mul(10) / gauge.window).clamp(8, 10);
    warned.is_none_or(|w| step > w).then_some(step)
}

/// The line `record` prints when exchange `record` takes its conversation a step closer to
/// its window.
pub fn context_line(record: &ExchangeRecord, label: &str, gauge: &Gauge, model: &str) -> String {
    format!(
        "llmscope: {} {label} at {} on {model}: a context-length error is a few turns away",
        record.id(),
        gauge.display()
    )
}

/// The steps each conversation has been warned of, and the grouping that says which
/// conversation a request is in.
#[derive(Debug, Default)]
pub struct ContextWarnings {
    prices: PriceTable,
    conversations: Conversations,
    warned: HashMap<ConversationId, u64>,
    /// The last model looked up and its window: an agent asks for one model exchange after
    /// exchange, and the name's canonical form and the table's hash cost more than the rest
    /// of the check.
    last_window: Option<(String, Option<u64>)>,
}

impl ContextWarnings {
    pub fn new(prices: PriceTable) -> Self {
        Self {
            prices,
            ..Self::default()
        }
    }

    /// The warning for a finished exchange, when it takes its conversation past a new step.
    pub fn observe(&mut self, record: &ExchangeRecord) -> Option<String> {
        let start = &record.start;
        // Provider calls beneath a gateway share the agent's context; it is warned of once.
        if start.lineage.beneath.is_some() {
            return None;
        }
        let model = start.model.as_deref()?;
        // A model whose window the table does not know is never warned of: its reply's usage
        // need not be read at all.
        let window = self.window_of(model)?;
        let usage = record.usage()?;
        let used = Tokens::from_usage(start.dialect, &usage).context();
        let gauge = Gauge { used, window };
        context_step(&gauge, None)?;
        let decoded = decode_request(start.dialect, &start.request.body);
        let request = &start.request;
        let shape = RequestShape::of(&request.uri, &request.headers, decoded.as_ref());
        let lineage = &start.lineage;
        let host = lineage.parent.or(lineage.repeats);
        let id = self.conversations.observe(start.id, &shape, host);
        let conversation = self.conversations.get(id)?;
        if !conversation.kind.is_conversation() {
            return None;
        }
        let step = context_step(&gauge, self.warned.get(&id).copied())?;
        self.warned.insert(id, step);
        Some(context_line(record, &conversation.label(), &gauge, model))
    }

    fn window_of(&mut self, model: &str) -> Option<u64> {
        match &self.last_window {
            Some((last, window)) if last == model => *window,
            _ => {
                let window = Gauge::of(&self.prices, Some(model), 0).map(|g| g.window);
                self.last_window = Some((model.to_string(), window));
                window
            }
        }
    }
}

#[cfg(test)]
#[path = "context_warnings_tests.rs"]
mod tests;
