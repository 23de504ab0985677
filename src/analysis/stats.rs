//! A session in numbers, for `llmscope stats`: exchanges, failures by class, retry loops,
//! tokens, and latency and time to first byte at p50/p95, overall and by model. Computed from
//! the store's summaries alone, so it never decodes a body.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::capture::{ExchangeId, FailureClass, Origin};
use crate::store::ExchangeSummary;

/// The figures for a set of exchanges (a session, or one model's share of it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub exchanges: usize,
    pub failed: usize,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Prompt tokens the provider read from its cache, and wrote to it.
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// Exchanges whose reply reported no token counts.
    pub without_usage: usize,
    latencies_ms: Vec<u64>,
    first_bytes_ms: Vec<u64>,
}

impl Figures {
    fn add(&mut self, summary: &ExchangeSummary) {
        self.exchanges += 1;
        if summary.failure.is_some() {
            self.failed += 1;
        }
        match (summary.input_tokens, summary.output_tokens) {
            (None, None) => self.without_usage += 1,
            (input, output) => {
                self.input_tokens += input.unwrap_or(0);
                self.output_tokens += output.unwrap_or(0);
            }
        }
        self.cache_read_tokens += summary.cache_read_tokens.unwrap_or(0);
        self.cache_write_tokens += summary.cache_write_tokens.unwrap_or(0);
        self.latencies_ms.extend(summary.duration_ms);
        self.first_bytes_ms.extend(summary.first_byte_ms);
    }

    /// Latency at percentile `p` (0–100), nearest rank; `None` with no finished exchange.
    pub fn latency_ms(&self, p: u8) -> Option<u64> {
        percentile(&self.latencies_ms, p)
    }

    /// Time to the reply's first byte — for a stream, its first token — at percentile `p`.
    pub fn first_byte_ms(&self, p: u8) -> Option<u64> {
        percentile(&self.first_bytes_ms, p)
    }

    fn sort(&mut self) {
        self.latencies_ms.sort_unstable();
        self.first_bytes_ms.sort_unstable();
    }

    fn to_json(&self) -> Value {
        json!({
            "exchanges": self.exchanges,
            "failed": self.failed,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "exchanges_without_usage": self.without_usage,
            "latency_ms": {"p50": self.latency_ms(50), "p95": self.latency_ms(95)},
            "first_byte_ms": {"p50": self.first_byte_ms(50), "p95": self.first_byte_ms(95)},
        })
    }
}

/// A retry loop as the record holds it: the agent resent a failing request unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopFigures {
    pub first: ExchangeId,
    /// Every attempt, the first included.
    pub attempts: usize,
    /// Attempts llmscope answered itself.
    pub stopped: usize,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionStats {
    pub all: Figures,
    pub by_model: BTreeMap<String, Figures>,
    /// Failures by class name (`http_error 429` for HTTP errors), most frequent first.
    pub by_class: Vec<(String, usize)>,
    pub retry_loops: Vec<LoopFigures>,
    /// Exchanges llmscope sent itself (resends, auto-fixes).
    pub resends: usize,
}

pub fn session_stats(summaries: &[ExchangeSummary]) -> SessionStats {
    let mut stats = SessionStats::default();
    let mut classes: BTreeMap<String, usize> = BTreeMap::new();
    let mut loops: BTreeMap<ExchangeId, LoopFigures> = BTreeMap::new();
    let reasons: BTreeMap<ExchangeId, &str> = summaries
        .iter()
        .filter_map(|s| Some((s.id, s.failure.as_ref()?.message.as_str())))
        .collect();
    for summary in summaries {
        stats.all.add(summary);
        let model = summary.model.clone().unwrap_or_else(|| "(no model)".into());
        stats.by_model.entry(model).or_default().add(summary);
        if summary.lineage.origin != Origin::Agent {
            stats.resends += 1;
        }
        if let Some(failure) = &summary.failure {
            let name = match failure.class {
                FailureClass::HttpError(status) => format!("http_error {status}"),
                class => class.as_str().to_string(),
            };
            *classes.entry(name).or_default() += 1;
        }
        if let Some(first) = summary.lineage.repeats {
            let entry = loops.entry(first).or_insert_with(|| LoopFigures {
                first,
                attempts: 1,
                stopped: 0,
                reason: reasons.get(&first).copied().unwrap_or_default().to_string(),
            });
            entry.attempts += 1;
            match &summary.failure {
                Some(f) if f.class == FailureClass::RetryLoopStopped => entry.stopped += 1,
                Some(f) => entry.reason.clone_from(&f.message),
                None => {}
            }
        }
    }
    stats.all.sort();
    stats.by_model.values_mut().for_each(Figures::sort);
    stats.by_class = classes.into_iter().collect();
    stats
        .by_class
        .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    stats.retry_loops = loops.into_values().collect();
    stats
        .retry_loops
        .sort_by(|a, b| b.attempts.cmp(&a.attempts).then(a.first.cmp(&b.first)));
    stats
}

impl SessionStats {
    /// Plain text, one fact per line, for a terminal or a bug report.
    pub fn to_text(&self) -> String {
        let all = &self.all;
        let mut out = format!(
            "exchanges {}  failed {}  sent by llmscope {}\n",
            all.exchanges, all.failed, self.resends
        );
        out.push_str(&format!(
            "tokens    in {}  out {}  cache read {}  cache write {}{}\n",
            all.input_tokens,
            all.output_tokens,
            all.cache_read_tokens,
            all.cache_write_tokens,
            unreported(all.without_usage)
        ));
        out.push_str(&format!(
            "latency   p50 {}  p95 {}   first byte p50 {}  p95 {}\n",
            ms(all.latency_ms(50)),
            ms(all.latency_ms(95)),
            ms(all.first_byte_ms(50)),
            ms(all.first_byte_ms(95))
        ));
        if !self.by_class.is_empty() {
            out.push_str("\nfailures\n");
            for (class, n) in &self.by_class {
                out.push_str(&format!("  {n:>6}  {class}\n"));
            }
        }
        if !self.retry_loops.is_empty() {
            out.push_str("\nretry loops (the same request resent after the same failure)\n");
            for found in &self.retry_loops {
                let stopped = if found.stopped > 0 {
                    format!(", {} stopped by llmscope", found.stopped)
                } else {
                    String::new()
                };
                out.push_str(&format!(
                    "  {}: {} attempts{stopped} — {}\n",
                    found.first,
                    found.attempts,
                    one_line(&found.reason)
                ));
            }
        }
        out.push_str("\nby model\n");
        for (model, f) in &self.by_model {
            out.push_str(&format!(
                "  {model}: {} exchanges, {} failed, tokens in {} out {}, latency p50 {} p95 {}\n",
                f.exchanges,
                f.failed,
                f.input_tokens,
                f.output_tokens,
                ms(f.latency_ms(50)),
                ms(f.latency_ms(95))
            ));
        }
        out
    }

    /// The same figures for scripts.
    pub fn to_json(&self) -> Value {
        let by_model: serde_json::Map<String, Value> = self
            .by_model
            .iter()
            .map(|(model, f)| (model.clone(), f.to_json()))
            .collect();
        let failures: serde_json::Map<String, Value> = self
            .by_class
            .iter()
            .map(|(class, n)| (class.clone(), json!(n)))
            .collect();
        let loops: Vec<Value> = self
            .retry_loops
            .iter()
            .map(|l| {
                json!({
                    "first": l.first.0, "attempts": l.attempts,
                    "stopped": l.stopped, "reason": l.reason,
                })
            })
            .collect();
        json!({
            "all": self.all.to_json(),
            "sent_by_llmscope": self.resends,
            "failures": failures,
            "retry_loops": loops,
            "by_model": by_model,
        })
    }
}

fn percentile(sorted: &[u64], p: u8) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (usize::from(p.min(100)) * sorted.len()).div_ceil(100);
    sorted.get(rank.saturating_sub(1)).copied()
}

fn ms(value: Option<u64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v} ms"))
}

fn unreported(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => "  (1 exchange reported none)".to_string(),
        n => format!("  ({n} exchanges reported none)"),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{ExchangeState, Failure, Lineage};
    use crate::llm::Dialect;

    fn summary(id: u64, model: &str, ms: u64, failure: Option<FailureClass>) -> ExchangeSummary {
        ExchangeSummary {
            id: ExchangeId(id),
            started_at_ms: 0,
            method: "POST".into(),
            uri: "/v1/chat/completions".into(),
            dialect: Dialect::OpenAiChat,
            model: Some(model.into()),
            status: Some(if failure.is_some() { 500 } else { 200 }),
            failure: failure.map(|class| Failure::new(class, "Internal server error")),
            first_byte_ms: Some(ms / 2),
            duration_ms: Some(ms),
            request_bytes: 100,
            response_bytes: Some(100),
            state: ExchangeState::Complete,
            lineage: Lineage::default(),
            hold_outcome: None,
            rewritten: false,
            input_tokens: failure.is_none().then_some(1000),
            output_tokens: failure.is_none().then_some(50),
            cache_read_tokens: failure.is_none().then_some(800),
            cache_write_tokens: None,
            host: None,
        }
    }

    #[test]
    fn counts_percentiles_failures_and_loops() {
        let mut summaries: Vec<_> = (1..=10)
            .map(|id| summary(id, "gpt-4o", id * 100, None))
            .collect();
        let http = FailureClass::HttpError(500);
        summaries.push(summary(11, "claude", 50, Some(http)));
        for id in 12..=13 {
            let mut repeat = summary(id, "claude", 50, Some(http));
            repeat.lineage.repeats = Some(ExchangeId(11));
            summaries.push(repeat);
        }
        let mut stop = summary(14, "claude", 0, Some(FailureClass::RetryLoopStopped));
        stop.lineage.repeats = Some(ExchangeId(11));
        summaries.push(stop);

        let stats = session_stats(&summaries);
        assert_eq!((stats.all.exchanges, stats.all.failed), (14, 4));
        assert_eq!(stats.all.input_tokens, 10_000);
        assert_eq!(stats.all.cache_read_tokens, 8_000);
        assert_eq!(stats.all.without_usage, 4);
        let gpt = &stats.by_model["gpt-4o"];
        assert_eq!(
            (gpt.latency_ms(50), gpt.latency_ms(95)),
            (Some(500), Some(1000))
        );
        assert_eq!(
            stats.by_class,
            [
                ("http_error 500".to_string(), 3),
                ("retry_loop_stopped".to_string(), 1)
            ]
        );
        assert_eq!(
            stats.retry_loops,
            [LoopFigures {
                first: ExchangeId(11),
                attempts: 4,
                stopped: 1,
                reason: "Internal server error".into(),
            }]
        );
        let text = stats.to_text();
        assert!(text.contains("exchanges 14  failed 4"), "{text}");
        assert!(
            text.contains("#11: 4 attempts, 1 stopped by llmscope — Internal server error"),
            "{text}"
        );
        assert_eq!(
            stats.to_json()["by_model"]["gpt-4o"]["latency_ms"]["p95"],
            1000
        );
    }

    #[test]
    fn an_empty_session_has_no_percentiles() {
        let stats = session_stats(&[]);
        assert_eq!(stats.all.latency_ms(50), None);
        assert!(stats.to_text().contains("latency   p50 -  p95 -"));
    }
}
