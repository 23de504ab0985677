//! What a session cost, by model and in total, and how many conversations it held: the part
//! of `llmscope stats` that needs the price table and the requests' grouping.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::conversations::{ConversationKind, Conversations};
use super::cost::{Cost, Tokens};
use super::prices::PriceTable;
use crate::llm::Usage;
use crate::store::ExchangeSummary;

/// A session's cost by model and in total.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionCost {
    pub total: Cost,
    pub by_model: BTreeMap<String, Cost>,
    /// When the shipped prices were read.
    pub prices_read_on: Option<String>,
}

/// Prices every exchange that reported tokens. A gateway's calls to its providers are left
/// out: the agent's own exchange above each one reports the same tokens.
pub fn session_cost(summaries: &[ExchangeSummary], prices: &PriceTable) -> SessionCost {
    let mut cost = SessionCost {
        prices_read_on: prices.read_on.clone(),
        ..SessionCost::default()
    };
    for summary in summaries.iter().filter(|s| s.lineage.beneath.is_none()) {
        let usage = Usage {
            input_tokens: summary.input_tokens,
            output_tokens: summary.output_tokens,
            cache_read_tokens: summary.cache_read_tokens,
            cache_write_tokens: summary.cache_write_tokens,
        };
        if usage.input_tokens.is_none() && usage.output_tokens.is_none() {
            continue;
        }
        let tokens = Tokens::from_usage(summary.dialect, &usage);
        let model = summary.model.as_deref();
        let one = Cost::of(prices, model, &tokens);
        cost.total += one;
        *cost
            .by_model
            .entry(model.unwrap_or("(no model)").to_string())
            .or_default() += one;
    }
    cost
}

impl SessionCost {
    pub fn to_text(&self) -> String {
        let unpriced = match self.total.unpriced {
            0 => String::new(),
            n => format!("  ({n} exchanges of models without a price)"),
        };
        let mut out = format!("cost      {}{unpriced}\n", self.total.display());
        if !self.by_model.is_empty() {
            let read_on = self
                .prices_read_on
                .as_deref()
                .map_or(String::new(), |d| format!(" (prices read {d})"));
            out.push_str(&format!("\ncost by model{read_on}\n"));
            let width = self.by_model.keys().map(String::len).max().unwrap_or(0);
            for (model, cost) in &self.by_model {
                out.push_str(&format!("  {model:<width$}  {}\n", cost.display()));
            }
            out.push_str(&format!(
                "  {:<width$}  {}\n",
                "total",
                self.total.display()
            ));
        }
        out
    }

    pub fn to_json(&self) -> Value {
        let usd = |c: &Cost| (c.priced > 0).then_some(c.usd);
        let by_model: serde_json::Map<String, Value> = self
            .by_model
            .iter()
            .map(|(model, c)| {
                let value = json!({"usd": usd(c), "priced": c.priced, "unpriced": c.unpriced});
                (model.clone(), value)
            })
            .collect();
        json!({
            "usd": usd(&self.total),
            "priced_exchanges": self.total.priced,
            "unpriced_exchanges": self.total.unpriced,
            "prices_read_on": self.prices_read_on,
            "by_model": by_model,
        })
    }
}

/// How many conversations of each kind a session held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationCounts {
    pub conversations: usize,
    pub sub_agents: usize,
    /// Side requests by label (`title`, `count tokens`, …), as exchanges.
    pub side_requests: BTreeMap<&'static str, usize>,
}

impl ConversationCounts {
    pub fn of(grouping: &Conversations) -> Self {
        let mut counts = Self::default();
        for conversation in grouping.iter() {
            match conversation.kind {
                ConversationKind::Main => counts.conversations += 1,
                ConversationKind::SubAgent => counts.sub_agents += 1,
                ConversationKind::Other => {}
                kind => {
                    *counts.side_requests.entry(kind.label()).or_default() += conversation.turns()
                }
            }
        }
        counts
    }

    pub fn to_text(&self) -> String {
        let mut out = format!("conversations {}", self.conversations);
        if self.sub_agents > 0 {
            out.push_str(&format!("  sub-agents {}", self.sub_agents));
        }
        if !self.side_requests.is_empty() {
            let sides: Vec<String> = self
                .side_requests
                .iter()
                .map(|(label, n)| format!("{label} {n}"))
                .collect();
            out.push_str(&format!("  side requests: {}", sides.join(", ")));
        }
        out.push('\n');
        out
    }

    pub fn to_json(&self) -> Value {
        json!({
            "conversations": self.conversations,
            "sub_agents": self.sub_agents,
            "side_requests": self.side_requests,
        })
    }
}
