//! Retry loops: an agent resending the same request (same method, target and body) that keeps
//! failing the same way. Agents do this silently — opencode resends a 200 that carries an
//! error at once and forever, and retries a 5xx for minutes — while the user watches a
//! spinner and a gateway bills every attempt.
//!
//! Each failed agent request is remembered by a hash of what was forwarded. A repeat is marked
//! as such (the screen folds it into the loop's first exchange), and past a threshold of
//! identical failures the next repeat is answered by llmscope itself, never sent upstream,
//! with an error the agent does not retry. A request that changed in any way (the agent
//! compacted, a rule or the user fixed it) has another hash and is a new request.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::capture::{CapturedRequest, ExchangeId, Failure, FailureClass};

/// After this long without a repeat, the next one is sent upstream again even past the
/// threshold: agents' own backoff never waits this long between retries (opencode caps it at
/// 30 s, Claude Code at 32 s), so a pause this long is a person trying again, perhaps after
/// fixing the upstream. If it fails the same way, the loop is stopped again at once.
const QUIET: Duration = Duration::from_secs(60);
/// Bound on the requests remembered; the stalest are forgotten first.
const MAX_LOOPS: usize = 512;

/// How many identical failures in a row llmscope lets through before it answers the next
/// repeat itself; `0` never stops that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryStop {
    /// Failures no retry can cure: a 4xx other than 408/409/429, an error in a 200, a reply
    /// that is not valid HTTP, a TLS failure.
    pub incurable_after: u32,
    /// Failures agents retry on purpose because they often pass: 5xx (529 overloaded
    /// included), 408, 409, 429, resets, timeouts, refused connections, broken streams.
    pub transient_after: u32,
}

impl Default for RetryStop {
    /// Three identical incurable failures are proof enough. Eight transient ones let the
    /// agents' own retries run their course — opencode gives up after 9 attempts over about
    /// 78 s — while Claude Code, which retries for about 180 s, is stopped after about 95 s
    /// (its backoff: 0.5 s doubling to 32 s), inside the two minutes a user will wait.
    fn default() -> Self {
        Self {
            incurable_after: 3,
            transient_after: 8,
        }
    }
}

impl RetryStop {
    pub const OFF: Self = Self {
        incurable_after: 0,
        transient_after: 0,
    };

    fn threshold(self, class: FailureClass) -> Option<u32> {
        let after = if is_incurable(class) {
            self.incurable_after
        } else {
            self.transient_after
        };
        (after > 0).then_some(after)
    }
}

/// Whether retrying the same request cannot change the outcome.
pub fn is_incurable(class: FailureClass) -> bool {
    match class {
        FailureClass::HttpError(status) => {
            (400..500).contains(&status) && !matches!(status, 408 | 409 | 429)
        }
        FailureClass::ErrorIn200 | FailureClass::MalformedResponse | FailureClass::Tls => true,
        FailureClass::StreamError
        | FailureClass::Connect
        | FailureClass::Timeout
        | FailureClass::Reset
        | FailureClass::ClientAborted
        | FailureClass::RetryLoopStopped => false,
    }
}

/// What to do with an agent's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admit {
    /// Send it upstream; `repeats` names the first exchange of the loop it repeats.
    Forward { repeats: Option<ExchangeId> },
    /// Answer it with this stop instead of sending it.
    Stop(Stopped),
}

/// Why a repeat is not sent upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    pub first: ExchangeId,
    pub failures: u32,
    pub class: FailureClass,
    pub reason: String,
}

impl Stopped {
    /// What the agent is told; it names the upstream's own reason so the agent prints it.
    pub fn message(&self) -> String {
        format!(
            "llmscope: stopped a retry loop — the upstream failed this same request {} times ({}): {}",
            self.failures, self.class, self.reason
        )
    }
}

/// Identifies a request by what was forwarded (secrets redacted the same way each time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestKey {
    hash: u64,
    body_len: usize,
}

impl RequestKey {
    fn of(request: &CapturedRequest) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        request.method.hash(&mut hasher);
        request.uri.hash(&mut hasher);
        request.body.hash(&mut hasher);
        Self {
            hash: hasher.finish(),
            body_len: request.body.len(),
        }
    }
}

struct Loop {
    first: ExchangeId,
    class: FailureClass,
    reason: String,
    /// Identical upstream failures in a row.
    failures: u32,
    last_attempt: Instant,
}

#[derive(Default)]
struct Loops {
    by_key: HashMap<RequestKey, Loop>,
    last_pruned: Option<Instant>,
}

impl Loops {
    /// Forgets loops no attempt has touched for a while (the agent compacted, a resend fixed
    /// it), at most once a minute, so that a session goes back to hashing nothing.
    fn prune(&mut self) {
        let due = self.last_pruned.is_none_or(|at| at.elapsed() >= QUIET);
        if due {
            self.by_key
                .retain(|_, found| found.last_attempt.elapsed() < FORGET_AFTER);
            self.last_pruned = Some(Instant::now());
        }
    }
}

/// A loop no attempt touched for this long is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(600);

/// The failing requests of one proxy.
pub struct RetryLoops {
    stop: RetryStop,
    loops: Mutex<Loops>,
    /// Whether any request is remembered: while none is, requests are not even hashed.
    any: AtomicBool,
}

impl RetryLoops {
    pub fn new(stop: RetryStop) -> Self {
        Self {
            stop,
            loops: Mutex::new(Loops::default()),
            any: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Loops> {
        // Entries are replaced whole; a panic cannot leave one half-written.
        self.loops.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Decides on an agent's request as it will be forwarded; the key (when one was worth
    /// computing) goes back to [`settle`](Self::settle) so the body is hashed once.
    pub fn admit(&self, request: &CapturedRequest) -> (Admit, Option<RequestKey>) {
        if !self.any.load(Ordering::Relaxed) {
            return (Admit::Forward { repeats: None }, None);
        }
        let key = RequestKey::of(request);
        let mut loops = self.lock();
        loops.prune();
        self.any.store(!loops.by_key.is_empty(), Ordering::Relaxed);
        let Some(found) = loops.by_key.get_mut(&key) else {
            return (Admit::Forward { repeats: None }, Some(key));
        };
        let quiet = found.last_attempt.elapsed() >= QUIET;
        found.last_attempt = Instant::now();
        let past_threshold = self
            .stop
            .threshold(found.class)
            .is_some_and(|after| found.failures >= after);
        let admit = if past_threshold && !quiet {
            Admit::Stop(Stopped {
                first: found.first,
                failures: found.failures,
                class: found.class,
                reason: found.reason.clone(),
            })
        } else {
            Admit::Forward {
                repeats: Some(found.first),
            }
        };
        (admit, Some(key))
    }

    /// Learns how an agent's request ended (`key` from [`admit`](Self::admit), if it gave
    /// one). A success ends its loop; an aborted or stopped attempt says nothing about the
    /// upstream.
    pub fn settle(
        &self,
        id: ExchangeId,
        key: Option<RequestKey>,
        request: &CapturedRequest,
        failure: Option<&Failure>,
    ) {
        let Some(failure) = failure else {
            if self.any.load(Ordering::Relaxed) {
                let key = key.unwrap_or_else(|| RequestKey::of(request));
                let mut loops = self.lock();
                loops.by_key.remove(&key);
                self.any.store(!loops.by_key.is_empty(), Ordering::Relaxed);
            }
            return;
        };
        if matches!(
            failure.class,
            FailureClass::ClientAborted | FailureClass::RetryLoopStopped
        ) {
            return;
        }
        let key = key.unwrap_or_else(|| RequestKey::of(request));
        let mut loops = self.lock();
        match loops.by_key.get_mut(&key) {
            Some(found) if found.class == failure.class => {
                found.failures = found.failures.saturating_add(1);
                found.reason.clone_from(&failure.message);
            }
            // The same request failing another way: the loop goes on from its first
            // exchange, counting the new failure afresh.
            Some(found) => {
                found.class = failure.class;
                found.failures = 1;
                found.reason.clone_from(&failure.message);
            }
            None => {
                if loops.by_key.len() >= MAX_LOOPS {
                    forget_stalest(&mut loops.by_key);
                }
                loops.by_key.insert(
                    key,
                    Loop {
                        first: id,
                        class: failure.class,
                        reason: failure.message.clone(),
                        failures: 1,
                        last_attempt: Instant::now(),
                    },
                );
            }
        }
        self.any.store(true, Ordering::Relaxed);
    }
}

fn forget_stalest(loops: &mut HashMap<RequestKey, Loop>) {
    let stalest = loops
        .iter()
        .min_by_key(|(_, found)| found.last_attempt)
        .map(|(key, _)| *key);
    if let Some(key) = stalest {
        loops.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::capture::HeaderList;

    fn request(body: &str) -> CapturedRequest {
        CapturedRequest {
            method: "POST".into(),
            uri: "/v1/chat/completions".into(),
            headers: HeaderList::new(),
            body: Bytes::from(body.to_string()),
        }
    }

    fn fail(class: FailureClass) -> Failure {
        Failure::new(class, "quota exhausted")
    }

    /// Sends `request` through admit/settle the way the proxy does; returns what admit said.
    fn attempt(loops: &RetryLoops, id: u64, req: &CapturedRequest, class: FailureClass) -> Admit {
        let (admit, key) = loops.admit(req);
        if matches!(admit, Admit::Forward { .. }) {
            loops.settle(ExchangeId(id), key, req, Some(&fail(class)));
        }
        admit
    }

    #[test]
    fn incurable_failures_are_stopped_after_the_threshold_and_repeats_name_the_first() {
        let loops = RetryLoops::new(RetryStop::default());
        let req = request("{\"model\":\"m\"}");
        let class = FailureClass::ErrorIn200;
        assert_eq!(
            attempt(&loops, 1, &req, class),
            Admit::Forward { repeats: None }
        );
        for id in 2..=3 {
            assert_eq!(
                attempt(&loops, id, &req, class),
                Admit::Forward {
                    repeats: Some(ExchangeId(1))
                }
            );
        }
        let Admit::Stop(stopped) = attempt(&loops, 4, &req, class) else {
            panic!("the fourth identical attempt is stopped");
        };
        assert_eq!(stopped.first, ExchangeId(1));
        assert_eq!(stopped.failures, 3);
        assert!(
            stopped.message().contains("3 times"),
            "{}",
            stopped.message()
        );
        assert!(stopped.message().ends_with(": quota exhausted"));
        assert!(matches!(attempt(&loops, 5, &req, class), Admit::Stop(_)));
    }

    #[test]
    fn transient_failures_get_more_attempts_and_zero_turns_stopping_off() {
        let loops = RetryLoops::new(RetryStop::default());
        let req = request("{}");
        for id in 1..=8 {
            let admit = attempt(&loops, id, &req, FailureClass::HttpError(500));
            assert!(matches!(admit, Admit::Forward { .. }), "attempt {id}");
        }
        let ninth = attempt(&loops, 9, &req, FailureClass::HttpError(500));
        assert!(matches!(ninth, Admit::Stop(_)));

        let off = RetryLoops::new(RetryStop::OFF);
        for id in 1..=50 {
            let admit = attempt(&off, id, &req, FailureClass::HttpError(400));
            assert!(matches!(admit, Admit::Forward { .. }), "attempt {id}");
        }
    }

    #[test]
    fn a_changed_request_a_success_or_another_failure_starts_over() {
        let loops = RetryLoops::new(RetryStop::default());
        let req = request("{\"messages\":[1]}");
        for id in 1..=3 {
            attempt(&loops, id, &req, FailureClass::HttpError(500));
        }
        let compacted = request("{\"messages\":[]}");
        assert_eq!(
            loops.admit(&compacted).0,
            Admit::Forward { repeats: None },
            "a changed body is a new request"
        );
        // The same request failing another way goes on as the same loop, counted afresh:
        // its repeats still fold into the first exchange and join its holds.
        attempt(&loops, 4, &req, FailureClass::Reset);
        assert_eq!(
            loops.admit(&req).0,
            Admit::Forward {
                repeats: Some(ExchangeId(1))
            }
        );
        for id in 5..=11 {
            attempt(&loops, id, &req, FailureClass::Reset);
        }
        assert!(
            matches!(loops.admit(&req).0, Admit::Stop(s) if s.failures == 8 && s.class == FailureClass::Reset),
            "eight resets since the class changed"
        );
        // A success of the same request ends its loop.
        loops.settle(ExchangeId(12), None, &req, None);
        assert_eq!(loops.admit(&req).0, Admit::Forward { repeats: None });
    }

    #[test]
    fn aborted_attempts_neither_count_nor_end_a_loop() {
        let loops = RetryLoops::new(RetryStop::default());
        let req = request("{}");
        attempt(&loops, 1, &req, FailureClass::HttpError(401));
        attempt(&loops, 2, &req, FailureClass::ClientAborted);
        attempt(&loops, 3, &req, FailureClass::HttpError(401));
        attempt(&loops, 4, &req, FailureClass::HttpError(401));
        assert!(matches!(loops.admit(&req).0, Admit::Stop(s) if s.failures == 3));
    }

    #[test]
    fn which_failures_no_retry_cures() {
        for class in [
            FailureClass::HttpError(400),
            FailureClass::HttpError(404),
            FailureClass::ErrorIn200,
            FailureClass::MalformedResponse,
        ] {
            assert!(is_incurable(class), "{class}");
        }
        for class in [
            FailureClass::HttpError(408),
            FailureClass::HttpError(409),
            FailureClass::HttpError(429),
            FailureClass::HttpError(500),
            FailureClass::HttpError(529),
            FailureClass::Reset,
            FailureClass::Timeout,
        ] {
            assert!(!is_incurable(class), "{class}");
        }
    }
}
