//! Load on loopback: many agents at once through one proxy, with a share of the upstream's
//! replies broken in every way the mock knows. Every request is forwarded once, every exchange
//! is recorded exactly once with the right class, and none is lost.
//!
//! 2,000 requests at 64 connections take a few seconds and run with `cargo test`; a soak ten
//! times larger is `#[ignore]`d: `cargo test --release --test load -- --ignored`.

mod common;

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{client, Harness};
use llmscope::capture::{ExchangeState, FailureClass};
use llmscope::mock::MockBehavior;

/// Broken replies, with the class each must be recorded with. The status line then a close
/// may read as either of two classes (see `failure_classes.rs`).
const FAULTS: [(MockBehavior, bool, &[FailureClass]); 15] = [
    (
        MockBehavior::ServerError500,
        false,
        &[FailureClass::HttpError(500)],
    ),
    (
        MockBehavior::RateLimited429,
        false,
        &[FailureClass::HttpError(429)],
    ),
    (
        MockBehavior::Overloaded529,
        false,
        &[FailureClass::HttpError(529)],
    ),
    (
        MockBehavior::ContextLength400,
        false,
        &[FailureClass::HttpError(400)],
    ),
    (MockBehavior::ErrorIn200, false, &[FailureClass::ErrorIn200]),
    (MockBehavior::SseError, true, &[FailureClass::StreamError]),
    (
        MockBehavior::SseTruncated,
        true,
        &[FailureClass::StreamError],
    ),
    (
        MockBehavior::Malformed,
        false,
        &[FailureClass::MalformedResponse],
    ),
    (
        MockBehavior::StatusThenClose,
        false,
        &[FailureClass::Reset, FailureClass::MalformedResponse],
    ),
    (MockBehavior::Reset, true, &[FailureClass::Reset]),
    (MockBehavior::ResetAfterHead, false, &[FailureClass::Reset]),
    (MockBehavior::ShortBody, false, &[FailureClass::Reset]),
    (
        MockBehavior::BadChunk,
        true,
        &[FailureClass::MalformedResponse],
    ),
    (MockBehavior::Hang, false, &[FailureClass::Timeout]),
    (MockBehavior::Stall, true, &[FailureClass::Timeout]),
];

/// Good requests: the three dialects, streamed and not, a tool call, a real agent's body.
const GOOD: [(&str, &str, bool); 6] = [
    ("/v1/chat/completions", "mock-ok", false),
    ("/v1/chat/completions", "mock-ok", true),
    ("/v1/messages", "mock-tool", true),
    ("/v1/responses", "mock-ok", true),
    ("/v1/messages", "mock-ok", false),
    ("/v1/chat/completions", "opencode-fixture", true),
];

const OPENCODE_TURN: &str = include_str!("../assets/fixtures/opencode-chat-turn.json");

/// What request `n` is: its path, body, and the classes its record may have (empty for a
/// success).
fn plan(n: usize, fault_every: usize) -> (&'static str, String, &'static [FailureClass]) {
    let body = |model: &str, stream: bool| {
        serde_json::json!({
            "model": model,
            "stream": stream,
            "messages": [{"role": "user", "content": format!("load request {n}")}],
        })
        .to_string()
    };
    if n % fault_every == fault_every / 2 {
        let (behavior, stream, classes) = FAULTS[(n / fault_every) % FAULTS.len()];
        return (
            "/v1/chat/completions",
            body(behavior.name(), stream),
            classes,
        );
    }
    let (path, model, stream) = GOOD[n % GOOD.len()];
    if model == "opencode-fixture" {
        return (path, OPENCODE_TURN.to_string(), &[]);
    }
    (path, body(model, stream), &[])
}

struct Figures {
    requests: usize,
    faulty: usize,
    recorded: usize,
}

async fn run_load(requests: usize, connections: usize, fault_every: usize) -> Figures {
    let h = Harness::start_with(|c| {
        c.idle_timeout = Duration::from_millis(1500);
        // Three serving threads whatever the machine's cores, so connections land on the
        // proxy's runtime and on two threads of their own.
        c.serving_threads = NonZeroUsize::new(3).expect("not zero");
    })
    .await;
    let next = Arc::new(AtomicUsize::new(0));
    let agent = client();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let next = next.clone();
        let agent = agent.clone();
        let base = h.proxy_url.clone();
        workers.spawn(async move {
            let mut problems = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= requests {
                    return problems;
                }
                let (path, body, classes) = plan(n, fault_every);
                let sent = agent
                    .post(format!("{base}{path}"))
                    .header("content-type", "application/json")
                    .header("x-load-id", n.to_string())
                    .body(body)
                    .send()
                    .await;
                // Every request gets a reply head, llmscope's own when the upstream gave none.
                let reply = match sent {
                    Ok(reply) => reply,
                    Err(error) => {
                        problems.push(format!("request {n} got no reply head: {error}"));
                        continue;
                    }
                };
                let status = reply.status();
                let read = reply.bytes().await;
                // A good request gets its whole reply; a broken one may see its body cut (a
                // whole reply that broke after its head) but never a hang, which the client's
                // timeout would report.
                match read {
                    Ok(_) if classes.is_empty() && status != 200 => {
                        problems.push(format!("good request {n} got {status}"));
                    }
                    Err(error) if classes.is_empty() || error.is_timeout() => {
                        problems.push(format!("request {n}: {error}"));
                    }
                    _ => {}
                }
            }
        });
    }
    let mut problems = Vec::new();
    while let Some(done) = workers.join_next().await {
        problems.extend(done.expect("worker"));
    }
    assert!(
        problems.is_empty(),
        "agents saw problems:\n{}",
        problems.join("\n")
    );

    let health = h.health.clone();
    let forwarded = h.mock.received();
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(health.events_lost(), 0, "no capture event was lost");

    let mut forwarded_per_id: BTreeMap<usize, usize> = BTreeMap::new();
    for request in &forwarded {
        let n = request
            .header("x-load-id")
            .and_then(|v| v.parse().ok())
            .expect("load id forwarded");
        *forwarded_per_id.entry(n).or_default() += 1;
    }
    let twice: Vec<_> = forwarded_per_id.iter().filter(|(_, c)| **c != 1).collect();
    assert!(twice.is_empty(), "forwarded more than once: {twice:?}");
    assert_eq!(
        forwarded_per_id.len(),
        requests,
        "every request was forwarded"
    );

    let mut recorded: BTreeMap<usize, Option<FailureClass>> = BTreeMap::new();
    for exchange in &stored {
        assert_eq!(exchange.state, ExchangeState::Complete);
        let n: usize = exchange
            .record
            .start
            .request
            .headers
            .value("x-load-id")
            .and_then(|v| v.parse().ok())
            .expect("load id recorded");
        let class = exchange.record.failure.as_ref().map(|f| f.class);
        assert!(
            recorded.insert(n, class).is_none(),
            "request {n} recorded twice"
        );
    }
    assert_eq!(stored.len(), requests, "one exchange per request");
    let mut faulty = 0;
    for (n, class) in &recorded {
        let (_, _, expected) = plan(*n, fault_every);
        if expected.is_empty() {
            assert_eq!(*class, None, "request {n} is a success");
        } else {
            faulty += 1;
            assert!(
                class.is_some_and(|c| expected.contains(&c)),
                "request {n}: recorded {class:?}, expected one of {expected:?}"
            );
        }
    }
    let ids: Vec<u64> = stored.iter().map(|e| e.record.start.id.0).collect();
    assert_eq!(ids, (1..=requests as u64).collect::<Vec<_>>());
    Figures {
        requests,
        faulty,
        recorded: stored.len(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_requests_at_64_connections_with_5_percent_faults_are_each_recorded_once() {
    let figures = run_load(2000, 64, 20).await;
    assert_eq!(figures.recorded, 2000);
    assert_eq!(figures.faulty, 100);
    eprintln!(
        "load: {} requests, {} with a broken reply, {} exchanges recorded",
        figures.requests, figures.faulty, figures.recorded
    );
}

/// The same at ten times the volume and twice the connections, for a longer soak.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a longer soak: cargo test --release --test load -- --ignored"]
async fn twenty_thousand_requests_at_128_connections_are_each_recorded_once() {
    let figures = run_load(20_000, 128, 20).await;
    assert_eq!(figures.recorded, 20_000);
    assert_eq!(figures.faulty, 1000);
    eprintln!(
        "load: {} requests, {} with a broken reply, {} exchanges recorded",
        figures.requests, figures.faulty, figures.recorded
    );
}
