//! Agents that retry a failing request on their own, silently: each fault ends with the agent
//! holding a readable error after a bounded number of attempts, the upstream sees a bounded
//! number of them, and every attempt is in the record.
//!
//! The stand-in agent retries the way opencode 1.18.33 was measured to: a 5xx (or 408, 409,
//! 429) or a broken connection again after a doubling backoff, forever; a 200 it cannot parse
//! again at once, forever; any other 4xx ends the turn with the message printed. Its backoff
//! is scaled down from seconds to milliseconds.

mod common;

use std::time::Duration;

use common::{chat_body, client, json, Harness};
use llmscope::capture::FailureClass;
use llmscope::proxy::RetryStop;

const CHAT: &str = "/v1/chat/completions";
const MESSAGES: &str = "/v1/messages";
/// A stand-in that has not been answered readably by then is looping: the test fails.
const SAFETY_BOUND: u32 = 60;

/// How the stand-in agent's turn ended.
#[derive(Debug)]
struct AgentEnd {
    attempts: u32,
    status: u16,
    message: String,
}

/// Sends `body` until the agent would stop: a reply it can use, or an error it does not
/// retry.
async fn opencode_like_agent(h: &Harness, path: &str, body: &str) -> AgentEnd {
    let http = client();
    let mut backoff = Duration::from_millis(2);
    for attempt in 1..=SAFETY_BOUND {
        let sent = http
            .post(h.url(path))
            .header("content-type", "application/json")
            .header("user-agent", "opencode/1.18.33 ai-sdk/provider-utils/3.0.9")
            .body(body.to_string())
            .send()
            .await;
        let Ok(reply) = sent else {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_millis(30));
            continue;
        };
        let status = reply.status().as_u16();
        let Ok(bytes) = reply.bytes().await else {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_millis(30));
            continue;
        };
        let parsed: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if (200..300).contains(&status) {
            if parsed["choices"].is_array() || parsed["content"].is_array() {
                return AgentEnd {
                    attempts: attempt,
                    status,
                    message: String::new(),
                };
            }
            // Not a completion: the SDK's parse fails and the turn is tried again at once.
            continue;
        }
        if status >= 500 || matches!(status, 408 | 409 | 429) {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_millis(30));
            continue;
        }
        return AgentEnd {
            attempts: attempt,
            status,
            message: parsed["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        };
    }
    panic!("the agent was still retrying after {SAFETY_BOUND} attempts");
}

/// Requests the mock received for `model`.
fn upstream_hits(h: &Harness, model: &str) -> usize {
    h.mock
        .received()
        .iter()
        .filter(|r| String::from_utf8_lossy(&r.body).contains(model))
        .count()
}

/// Runs one fault to its end and checks the record holds every attempt.
async fn loop_ends_readably(
    h: Harness,
    model: &str,
    failure: FailureClass,
    failures_before_stop: usize,
    reason: &str,
) {
    let end = opencode_like_agent(&h, CHAT, &chat_body(model, false)).await;
    assert_eq!(end.status, 400, "{model}: {end:?}");
    assert!(
        end.message
            .starts_with("llmscope: stopped a retry loop — the upstream failed this same request"),
        "{model}: {end:?}"
    );
    assert!(end.message.contains(reason), "{model}: {end:?}");
    assert_eq!(end.attempts as usize, failures_before_stop + 1, "{model}");
    assert_eq!(upstream_hits(&h, model), failures_before_stop, "{model}");

    let (stored, _dir) = h.stop_and_load().await;
    let classes: Vec<_> = stored
        .iter()
        .map(|e| e.record.failure.as_ref().map(|f| f.class))
        .collect();
    let mut expected = vec![Some(failure); failures_before_stop];
    expected.push(Some(FailureClass::RetryLoopStopped));
    assert_eq!(classes, expected, "{model}: every attempt is recorded");
}

/// Each fault as the agent meets it, with how many identical failures llmscope lets through
/// and the upstream's words the agent must end up holding. With `exact`, the upstream's
/// bytes are passed on as they came: the agent cannot parse the 200 and resends it at once —
/// the loop that ran 2,338 times in 7 minutes — and is still stopped.
const FAULTS: [(&str, bool, FailureClass, usize, &str); 5] = [
    (
        "mock-error-in-200",
        false,
        FailureClass::ErrorIn200,
        3,
        "quota exhausted",
    ),
    (
        "mock-error-in-200",
        true,
        FailureClass::ErrorIn200,
        3,
        "quota exhausted",
    ),
    (
        "mock-malformed",
        false,
        FailureClass::MalformedResponse,
        3,
        "malformed HTTP response",
    ),
    (
        "mock-500",
        false,
        FailureClass::HttpError(500),
        8,
        "(HTTP 500)",
    ),
    (
        "mock-reset-after-head",
        false,
        FailureClass::Reset,
        8,
        "connection broke",
    ),
];

#[tokio::test]
async fn every_fault_ends_with_the_agent_holding_the_reason_after_bounded_attempts() {
    for (model, exact, class, failures, reason) in FAULTS {
        let h = Harness::start_with(|c| c.readable_replies = !exact).await;
        loop_ends_readably(h, model, class, failures, reason).await;
    }
}

#[tokio::test]
async fn thresholds_are_flags_and_zero_never_stops() {
    let h = Harness::start_with(|c| {
        c.retry_stop = RetryStop {
            incurable_after: 1,
            transient_after: 0,
        }
    })
    .await;
    let end = opencode_like_agent(&h, CHAT, &chat_body("mock-malformed", false)).await;
    assert_eq!((end.status, end.attempts), (400, 2), "{end:?}");

    // Transient failures are never stopped: the agent's own patience is all there is.
    let http = client();
    for _ in 0..12 {
        let reply = http
            .post(h.url(CHAT))
            .body(chat_body("mock-500", false))
            .send()
            .await
            .expect("answered");
        assert_eq!(reply.status(), 500);
    }
    assert_eq!(upstream_hits(&h, "mock-500"), 12);
    h.stop_and_load().await;
}

/// The agent compacting its conversation, or a fix, is a new request: never stopped.
#[tokio::test]
async fn a_changed_request_goes_upstream_and_a_success_ends_the_loop() {
    let h = Harness::start().await;
    let http = client();
    let send = |body: String| {
        let http = http.clone();
        let url = h.url(MESSAGES);
        async move {
            let reply = http.post(url).body(body).send().await.expect("answered");
            let status = reply.status().as_u16();
            (status, json(&reply.bytes().await.expect("body")))
        }
    };
    let failing = chat_body("mock-400-context", false);
    for _ in 0..3 {
        assert_eq!(send(failing.clone()).await.0, 400);
    }
    let (status, body) = send(failing.clone()).await;
    assert_eq!(status, 400);
    assert_eq!(body["type"], "error", "in the agent's dialect: {body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("llmscope: stopped a retry loop"));

    let compacted = failing.replace("Say hello", "Say hi");
    let (status, body) = send(compacted).await;
    assert_eq!(status, 400);
    assert!(
        !body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("llmscope"),
        "the changed request reached the upstream: {body}"
    );
    assert_eq!(upstream_hits(&h, "mock-400-context"), 4);
    h.stop_and_load().await;
}
