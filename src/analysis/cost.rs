//! Tokens as each API counts them, made comparable, and what they cost; the context gauge.
//!
//! OpenAI counts cached prompt tokens inside `prompt_tokens` / `input_tokens`; Anthropic
//! counts them beside `input_tokens`. [`Tokens`] holds them apart in every dialect, so a
//! price applies once to each token and the context in use is the sum of the three.

use std::ops::AddAssign;

use super::prices::{Price, PriceTable};
use crate::llm::{Dialect, Usage};

/// Past this share of its window, a conversation's gauge turns amber.
pub const CONTEXT_WARNING: f64 = 0.8;

/// One exchange's tokens (or a sum of them), each counted once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokens {
    /// Prompt tokens neither read from nor written to the cache.
    pub fresh_input: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub output: u64,
}

impl Tokens {
    /// The reply's usage as the `dialect` reports it.
    pub fn from_usage(dialect: Dialect, usage: &Usage) -> Self {
        let input = usage.input_tokens.unwrap_or(0);
        let cache_read = usage.cache_read_tokens.unwrap_or(0);
        let cache_write = usage.cache_write_tokens.unwrap_or(0);
        let fresh_input = match dialect {
            Dialect::Anthropic => input,
            // LiteLLM in front of Anthropic reports Anthropic's cache counts in an OpenAI
            // body whose `prompt_tokens` includes them; so does OpenAI itself.
            _ => input.saturating_sub(cache_read + cache_write),
        };
        Self {
            fresh_input,
            cache_read,
            cache_write,
            output: usage.output_tokens.unwrap_or(0),
        }
    }

    /// Every prompt token: what the request filled of the model's context.
    pub fn context(&self) -> u64 {
        self.fresh_input + self.cache_read + self.cache_write
    }

    /// Prompt tokens as a provider's usage page sums them.
    pub fn input(&self) -> u64 {
        self.context()
    }

    /// US dollars at `price`.
    pub fn cost(&self, price: &Price) -> f64 {
        let per_token = |n: u64, per_million: f64| n as f64 * per_million / 1_000_000.0;
        per_token(self.fresh_input, price.input)
            + per_token(self.cache_read, price.cache_read.unwrap_or(price.input))
            + per_token(self.cache_write, price.cache_write.unwrap_or(price.input))
            + per_token(self.output, price.output)
    }
}

impl AddAssign for Tokens {
    fn add_assign(&mut self, other: Self) {
        self.fresh_input += other.fresh_input;
        self.cache_read += other.cache_read;
        self.cache_write += other.cache_write;
        self.output += other.output;
    }
}

/// The cost of a set of exchanges: the priced ones summed, the unpriced ones counted.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cost {
    pub usd: f64,
    pub priced: usize,
    /// Exchanges with tokens whose model the table does not name.
    pub unpriced: usize,
}

impl Cost {
    /// The cost of one exchange of `model` that used `tokens`.
    pub fn of(prices: &PriceTable, model: Option<&str>, tokens: &Tokens) -> Self {
        match model.and_then(|m| prices.price(m)) {
            Some(price) => Self {
                usd: tokens.cost(price),
                priced: 1,
                unpriced: 0,
            },
            None => Self {
                usd: 0.0,
                priced: 0,
                unpriced: 1,
            },
        }
    }

    /// `$0.0421`; `unpriced` when nothing was priced; `$0.0421+` when some exchanges were
    /// not, so the sum is known to be short.
    pub fn display(&self) -> String {
        if self.priced == 0 {
            return if self.unpriced == 0 {
                "—".to_string()
            } else {
                "unpriced".to_string()
            };
        }
        let amount = if self.usd >= 1.0 {
            format!("${:.2}", self.usd)
        } else {
            format!("${:.4}", self.usd)
        };
        if self.unpriced > 0 {
            format!("{amount}+")
        } else {
            amount
        }
    }
}

impl AddAssign for Cost {
    fn add_assign(&mut self, other: Self) {
        self.usd += other.usd;
        self.priced += other.priced;
        self.unpriced += other.unpriced;
    }
}

/// How full a conversation's context is: its latest request's prompt tokens against its
/// model's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gauge {
    pub used: u64,
    pub window: u64,
}

impl Gauge {
    /// The gauge for a request of `model` that filled `used` tokens; `None` when the table
    /// does not know the model's window.
    pub fn of(prices: &PriceTable, model: Option<&str>, used: u64) -> Option<Self> {
        let window = model.and_then(|m| prices.price(m))?.context_window?;
        (window > 0).then_some(Self { used, window })
    }

    pub fn fraction(&self) -> f64 {
        self.used as f64 / self.window as f64
    }

    /// Whole percent, rounded down so 99.6 % never reads as full.
    pub fn percent(&self) -> u64 {
        self.used.saturating_mul(100) / self.window
    }

    /// Near enough to the window that a context-length error is a few turns away.
    pub fn is_warning(&self) -> bool {
        self.fraction() > CONTEXT_WARNING
    }

    /// `ctx ▇▇▇▇▇▅▁▁ 71% of 200k`: eight cells, the last one filled in part so a gauge
    /// that climbs a few percent a turn is seen to climb.
    pub fn display(&self) -> String {
        const CELLS: usize = 8;
        const PARTS: [&str; 7] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇"];
        let cells = (self.fraction() * CELLS as f64).min(CELLS as f64);
        let full = cells as usize;
        let mut bar = "▇".repeat(full);
        if full < CELLS {
            let part = ((cells - full as f64) * PARTS.len() as f64) as usize;
            bar.push_str(PARTS[part.min(PARTS.len() - 1)]);
            bar.push_str(&"▁".repeat(CELLS - full - 1));
        }
        format!("ctx {bar} {}% of {}", self.percent(), window(self.window))
    }
}

/// `200k`, `128k`, `1.0M`: a window as model pages write it.
fn window(tokens: u64) -> String {
    if tokens >= 1_000_000 {
        format!("{:.1}M", tokens as f64 / 1_000_000.0)
    } else {
        format!("{}k", tokens / 1000)
    }
}

#[cfg(test)]
#[path = "cost_tests.rs"]
mod tests;
