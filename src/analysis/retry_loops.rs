//! Retry loops as the user is told about them: the repeats of one failing agent request,
//! gathered under the loop's first exchange from the `repeats` link the proxy puts in each
//! repeat's lineage, with who is retrying, how often, for how long and why it fails.

use std::collections::{BTreeMap, HashMap};

use crate::capture::{ExchangeId, ExchangeRecord, FailureClass, Origin};

use super::agent_name;

/// Failed agent exchanges remembered as possible loop starts; older ones are forgotten.
const MAX_CANDIDATES: usize = 4096;

/// One failing request and its repeats so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryLoop {
    pub first: ExchangeId,
    pub agent: String,
    /// Every attempt, the first and those llmscope answered itself included.
    pub attempts: u32,
    /// Attempts llmscope answered itself instead of sending them.
    pub stopped: u32,
    pub first_at_ms: i64,
    pub last_at_ms: i64,
    /// The upstream's reason, from its latest failure.
    pub reason: String,
}

impl RetryLoop {
    /// One line for the banner and `record`, e.g. `opencode is retrying a failing request:
    /// 2,338× in 7 min — quota exhausted`.
    pub fn headline(&self) -> String {
        let count = thousands(self.attempts);
        let span = span(self.last_at_ms.saturating_sub(self.first_at_ms));
        if self.stopped > 0 {
            format!(
                "llmscope stopped {}'s retry loop after {count} attempts in {span} — {}",
                self.agent, self.reason
            )
        } else {
            format!(
                "{} is retrying a failing request: {count}× in {span} — {}",
                self.agent, self.reason
            )
        }
    }
}

/// The loops of one session, fed one finished exchange at a time.
#[derive(Debug, Default)]
pub struct RetryLoops {
    loops: HashMap<ExchangeId, RetryLoop>,
    /// Failed agent exchanges that a later repeat may name as its first.
    candidates: BTreeMap<ExchangeId, Candidate>,
}

#[derive(Debug)]
struct Candidate {
    at_ms: i64,
    agent: String,
    reason: String,
}

impl RetryLoops {
    /// Takes a finished exchange into account; returns its loop when it is a repeat.
    pub fn observe(&mut self, record: &ExchangeRecord) -> Option<&RetryLoop> {
        let start = &record.start;
        if start.lineage.origin != Origin::Agent {
            return None;
        }
        let failure = record.failure.as_ref()?;
        let stopped = failure.class == FailureClass::RetryLoopStopped;
        let Some(first) = start.lineage.repeats else {
            if !stopped && failure.class != FailureClass::ClientAborted {
                self.remember(record);
            }
            return None;
        };
        let entry = self.loops.entry(first).or_insert_with(|| {
            let known = self.candidates.remove(&first);
            RetryLoop {
                first,
                agent: known
                    .as_ref()
                    .map_or_else(|| agent_name(&start.request.headers), |c| c.agent.clone()),
                attempts: 1,
                stopped: 0,
                first_at_ms: known.as_ref().map_or(start.started_at_ms, |c| c.at_ms),
                last_at_ms: start.started_at_ms,
                reason: known.map(|c| c.reason).unwrap_or_default(),
            }
        });
        entry.attempts += 1;
        entry.last_at_ms = entry.last_at_ms.max(start.started_at_ms);
        if stopped {
            entry.stopped += 1;
        } else {
            entry.reason.clone_from(&failure.message);
        }
        Some(entry)
    }

    pub fn get(&self, first: ExchangeId) -> Option<&RetryLoop> {
        self.loops.get(&first)
    }

    fn remember(&mut self, record: &ExchangeRecord) {
        if self.candidates.len() >= MAX_CANDIDATES {
            self.candidates.pop_first();
        }
        let failure = record.failure.as_ref().map(|f| f.message.clone());
        self.candidates.insert(
            record.start.id,
            Candidate {
                at_ms: record.start.started_at_ms,
                agent: agent_name(&record.start.request.headers),
                reason: failure.unwrap_or_default(),
            },
        );
    }
}

/// `2338` → `2,338`.
fn thousands(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn span(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    match secs {
        0 => format!("{} ms", ms.max(0)),
        1..=119 => format!("{secs} s"),
        120..=7199 => format!("{} min", (secs + 30) / 60),
        _ => format!("{} h", (secs + 1800) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::capture::test_fixtures::{agent_start, failed};
    use crate::capture::Failure;
    use crate::capture::HeaderList;

    fn record(id: u64, at_s: i64, repeats: Option<u64>, class: FailureClass) -> ExchangeRecord {
        let mut start = agent_start(id, "/v1/chat/completions", "{}");
        start.started_at_ms = at_s * 1000;
        start.request.headers = HeaderList::from([("user-agent", "opencode/1.18.33")]);
        start.lineage.repeats = repeats.map(ExchangeId);
        let message = match class {
            FailureClass::RetryLoopStopped => "llmscope: stopped a retry loop",
            _ => "quota exhausted",
        };
        failed(start, Failure::new(class, message))
    }

    #[test]
    fn repeats_gather_under_the_first_exchange_and_the_headline_says_who_and_why() {
        let mut loops = RetryLoops::default();
        assert_eq!(
            loops.observe(&record(7, 0, None, FailureClass::ErrorIn200)),
            None
        );
        for (n, id) in (8..=2344).enumerate() {
            let at = i64::try_from(n).unwrap_or_default() * 420 / 2337;
            loops.observe(&record(id, at, Some(7), FailureClass::ErrorIn200));
        }
        let found = loops.get(ExchangeId(7)).expect("a loop").clone();
        assert_eq!(found.attempts, 2338);
        assert_eq!(
            found.headline(),
            "opencode is retrying a failing request: 2,338× in 7 min — quota exhausted"
        );

        let after = loops
            .observe(&record(2345, 421, Some(7), FailureClass::RetryLoopStopped))
            .expect("the stop belongs to the loop");
        assert_eq!(after.stopped, 1);
        assert_eq!(
            after.headline(),
            "llmscope stopped opencode's retry loop after 2,339 attempts in 7 min — quota exhausted",
            "the reason stays the upstream's"
        );
    }

    #[test]
    fn successes_and_resends_are_not_loops() {
        let mut loops = RetryLoops::default();
        let mut ok = record(1, 0, None, FailureClass::ErrorIn200);
        ok.failure = None;
        assert_eq!(loops.observe(&ok), None);
        let mut resend = record(2, 1, Some(1), FailureClass::ErrorIn200);
        Arc::make_mut(&mut resend.start).lineage.origin = Origin::Resend;
        assert_eq!(loops.observe(&resend), None);
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
