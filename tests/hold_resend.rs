//! Hold-on-error and resend: a failed reply is parked, the user fixes and resends the
//! request, and the agent that is still waiting receives the good reply.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{chat_body, client, json, Harness};
use llmscope::capture::{CaptureEvent, ExchangeId, FailureClass, HeaderList, HoldOutcome, Origin};
use llmscope::proxy::ResendRequest;

const CHAT: &str = "/v1/chat/completions";

async fn held_harness(timeout: Duration) -> Harness {
    Harness::start_with(|c| {
        c.hold_errors = true;
        c.hold_timeout = timeout;
    })
    .await
}

/// Sends like an agent, in the background, with a secret the resend must reuse.
fn agent_request(h: &Harness, body: String) -> tokio::task::JoinHandle<reqwest::Response> {
    let request = client()
        .post(h.url(CHAT))
        .header("authorization", "Bearer sk-agent-REAL")
        .header("content-type", "application/json")
        .body(body);
    tokio::spawn(async move { request.send().await.expect("the agent gets an answer") })
}

async fn next_held(h: &mut Harness) -> ExchangeId {
    h.next_event(|e| match e {
        CaptureEvent::Held { id, .. } => Some(*id),
        _ => None,
    })
    .await
}

async fn next_hold_end(h: &mut Harness) -> (ExchangeId, HoldOutcome) {
    h.next_event(|e| match e {
        CaptureEvent::HoldEnded { id, outcome, .. } => Some((*id, *outcome)),
        _ => None,
    })
    .await
}

/// The held request with its model fixed, as the user would edit it: the credential still
/// reads `<redacted>`, as in the record.
fn fixed(stream: bool) -> ResendRequest {
    ResendRequest {
        method: "POST".into(),
        uri: CHAT.into(),
        headers: HeaderList::from([
            ("authorization", "Bearer <redacted>"),
            ("content-type", "application/json"),
        ]),
        body: Bytes::from(chat_body("mock-ok", stream)),
    }
}

#[tokio::test]
async fn held_400_is_fixed_by_a_resend_and_the_waiting_agent_gets_the_200() {
    let mut h = held_harness(Duration::from_secs(60)).await;
    let agent = agent_request(&h, chat_body("mock-400-context", false));
    let held = next_held(&mut h).await;
    assert_eq!(h.control.held().len(), 1);
    assert!(!agent.is_finished(), "the agent is still waiting");

    let child = h.control.resend(held, fixed(false)).expect("resend starts");
    let reply = agent.await.expect("agent task");
    assert_eq!(reply.status(), 200);
    let body = json(&reply.bytes().await.expect("body"));
    assert!(body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .starts_with("Mock reply to: Say hello"));
    assert_eq!(
        next_hold_end(&mut h).await,
        (held, HoldOutcome::Delivered { from: child })
    );
    // The resend authenticated like the agent did, though the record only has <redacted>.
    let received = h.mock.received();
    let resent = received.last().expect("the resend reached the upstream");
    assert_eq!(resent.header("authorization"), Some("Bearer sk-agent-REAL"));

    let session = h.session;
    let (stored, dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 2);
    let parent = &stored[0].record;
    assert_eq!(
        parent.failure.as_ref().map(|f| f.class),
        Some(FailureClass::HttpError(400))
    );
    let summaries = llmscope::store::Store::open(&dir.path)
        .expect("store")
        .exchange_summaries(session)
        .expect("summaries");
    assert_eq!(summaries[0].hold_outcome.as_deref(), Some("delivered"));
    let child_record = &stored[1].record;
    assert_eq!(child_record.start.lineage.origin, Origin::Resend);
    assert_eq!(child_record.start.lineage.parent, Some(held));
    assert!(child_record.failure.is_none());
}

#[tokio::test]
async fn held_streaming_request_gets_a_valid_stream_from_the_resend() {
    let mut h = held_harness(Duration::from_secs(60)).await;
    let agent = agent_request(&h, chat_body("mock-400-context", true));
    let held = next_held(&mut h).await;
    h.control.resend(held, fixed(true)).expect("resend starts");
    let reply = agent.await.expect("agent task");
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers()["content-type"], "text/event-stream");
    let text = reply.text().await.expect("stream");
    assert!(text.contains("chat.completion.chunk"), "{text}");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    h.stop_and_load().await;
}

#[tokio::test]
async fn a_resend_that_fails_again_leaves_the_agent_held() {
    let mut h = held_harness(Duration::from_secs(60)).await;
    let agent = agent_request(&h, chat_body("mock-400-context", false));
    let held = next_held(&mut h).await;
    let mut still_wrong = fixed(false);
    still_wrong.body = Bytes::from(chat_body("mock-400-model", false));
    h.control.resend(held, still_wrong).expect("resend starts");
    let failed = h.next_finished().await;
    assert_eq!(failed.start.lineage.parent, Some(held));
    assert_eq!(
        failed.failure.as_ref().map(|f| f.class),
        Some(FailureClass::HttpError(400))
    );
    assert!(!agent.is_finished());
    assert_eq!(h.control.held().len(), 1, "still held after a failed fix");

    h.control.resend(held, fixed(false)).expect("second try");
    assert_eq!(agent.await.expect("agent task").status(), 200);
    h.stop_and_load().await;
}

#[tokio::test]
async fn forwarding_the_original_gives_the_agent_the_upstream_error() {
    let mut h = held_harness(Duration::from_secs(60)).await;
    let agent = agent_request(&h, chat_body("mock-400-context", false));
    let held = next_held(&mut h).await;
    assert!(h.control.forward_held(held));
    let reply = agent.await.expect("agent task");
    assert_eq!(reply.status(), 400);
    let body = json(&reply.bytes().await.expect("body"));
    assert_eq!(body["error"]["code"], "context_length_exceeded");
    assert_eq!(
        next_hold_end(&mut h).await,
        (held, HoldOutcome::ForwardedOriginal)
    );
    assert!(!h.control.forward_held(held), "settled once");
    h.stop_and_load().await;
}

#[tokio::test]
async fn hold_timeout_forwards_the_original() {
    let mut h = held_harness(Duration::from_millis(300)).await;
    let agent = agent_request(&h, chat_body("mock-400-context", false));
    let held = next_held(&mut h).await;
    assert_eq!(agent.await.expect("agent task").status(), 400);
    assert_eq!(next_hold_end(&mut h).await, (held, HoldOutcome::TimedOut));
    h.stop_and_load().await;
}

#[tokio::test]
async fn agent_leaving_while_held_is_recorded() {
    let mut h = held_harness(Duration::from_secs(60)).await;
    let request = client()
        .post(h.url(CHAT))
        .body(chat_body("mock-400-context", false))
        .timeout(Duration::from_millis(500))
        .send();
    let gave_up = tokio::spawn(request);
    let held = next_held(&mut h).await;
    assert!(gave_up.await.expect("task").is_err(), "the agent timed out");
    assert_eq!(next_hold_end(&mut h).await, (held, HoldOutcome::AgentGone));
    assert!(h.control.held().is_empty());
    h.stop_and_load().await;
}

#[tokio::test]
async fn malformed_upstream_reply_is_held_and_fixed() {
    let mut h = held_harness(Duration::from_secs(60)).await;
    let agent = agent_request(&h, chat_body("mock-malformed", false));
    let held = next_held(&mut h).await;
    h.control.resend(held, fixed(false)).expect("resend starts");
    assert_eq!(agent.await.expect("agent task").status(), 200);
    h.stop_and_load().await;
}

#[tokio::test]
async fn error_in_200_is_held_in_hold_mode() {
    let mut h = held_harness(Duration::from_secs(60)).await;
    let agent = agent_request(&h, chat_body("mock-error-in-200", false));
    let held = next_held(&mut h).await;
    assert!(!agent.is_finished(), "the agent is still waiting");
    assert!(h.control.forward_held(held));
    let reply = agent.await.expect("agent task");
    assert_eq!(reply.status(), 502, "forwarded as the error it is");
    assert_eq!(reply.headers()["x-llmscope-error"], "error_in_200");
    let body = json(&reply.bytes().await.expect("body"));
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("quota"));
    h.stop_and_load().await;
}

#[tokio::test]
async fn good_replies_pass_straight_through_in_hold_mode() {
    let mut h = held_harness(Duration::from_secs(60)).await;
    let reply = agent_request(&h, chat_body("mock-ok", true))
        .await
        .expect("task");
    assert_eq!(reply.status(), 200);
    assert!(reply.text().await.expect("stream").contains("[DONE]"));
    assert!(h.next_finished().await.failure.is_none());
    assert!(h.control.held().is_empty());
    h.stop_and_load().await;
}

#[tokio::test]
async fn resend_without_a_held_agent_is_recorded_as_a_child() {
    let mut h = Harness::start().await;
    let reply = agent_request(&h, chat_body("mock-400-context", false))
        .await
        .expect("task");
    assert_eq!(reply.status(), 400);
    let parent = h.next_finished().await.id();
    let child = h.control.resend(parent, fixed(false)).expect("resend");
    let record = h.next_finished().await;
    assert_eq!(record.id(), child);
    assert_eq!(record.start.lineage.parent, Some(parent));
    assert_eq!(record.response.as_ref().map(|r| r.status), Some(200));
    assert!(record.failure.is_none());
    h.stop_and_load().await;
}

#[tokio::test]
async fn a_resend_of_a_failed_resend_still_reaches_the_held_agent() {
    let mut h = held_harness(Duration::from_secs(60)).await;
    let agent = agent_request(&h, chat_body("mock-400-context", false));
    let held = next_held(&mut h).await;
    let mut still_wrong = fixed(false);
    still_wrong.body = Bytes::from(chat_body("mock-400-model", false));
    let first_try = h.control.resend(held, still_wrong).expect("resend starts");
    let failed = h.next_finished().await;
    assert_eq!(failed.id(), first_try);
    // The user fixes the failed resend, not the original: the agent is still found.
    let second_try = h
        .control
        .resend(first_try, fixed(false))
        .expect("second try");
    assert_eq!(agent.await.expect("agent task").status(), 200);
    assert_eq!(
        next_hold_end(&mut h).await,
        (held, HoldOutcome::Delivered { from: second_try })
    );
    h.stop_and_load().await;
}

/// The agent gives up on its held request and sends it again, twice: the copies wait with
/// the held one instead of going upstream or stacking holds, and one fix answers all three.
#[tokio::test]
async fn repeats_of_a_held_request_wait_with_it_and_one_fix_answers_every_copy() {
    let mut h = held_harness(Duration::from_secs(60)).await;
    let failing = chat_body("mock-400-context", true);
    let first = agent_request(&h, failing.clone());
    let held = next_held(&mut h).await;
    let copies = [
        agent_request(&h, failing.clone()),
        agent_request(&h, failing.clone()),
    ];
    for _ in &copies {
        let started = h
            .next_event(|e| match e {
                CaptureEvent::Started(start) => Some(start.clone()),
                _ => None,
            })
            .await;
        assert_eq!(
            started.lineage.repeats,
            Some(held),
            "a repeat of the held one"
        );
    }
    assert_eq!(h.control.held().len(), 1, "one hold, not three");
    let upstream_hits = |h: &Harness| {
        h.mock
            .received()
            .iter()
            .filter(|r| String::from_utf8_lossy(&r.body).contains("mock-400-context"))
            .count()
    };
    assert_eq!(upstream_hits(&h), 1, "the copies were not sent upstream");

    h.control.resend(held, fixed(true)).expect("resend starts");
    let mut texts = Vec::new();
    for agent in [first].into_iter().chain(copies) {
        let reply = agent.await.expect("agent task");
        assert_eq!(reply.status(), 200);
        texts.push(reply.text().await.expect("body"));
    }
    for text in &texts {
        assert!(text.contains("chat.completion.chunk"), "{text}");
        assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    }
    assert!(
        texts.iter().all(|text| *text == texts[0]),
        "every copy gets the fixed reply"
    );
    assert_eq!(upstream_hits(&h), 1);

    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 4, "the held one, its two copies and the fix");
    let copies_recorded: Vec<_> = stored
        .iter()
        .filter(|e| e.record.start.lineage.repeats == Some(held))
        .map(|e| {
            (
                e.record.response.as_ref().map(|r| r.status),
                e.record.failure.is_none(),
            )
        })
        .collect();
    assert_eq!(copies_recorded, [(Some(200), true), (Some(200), true)]);
}

#[tokio::test]
async fn copies_of_a_held_request_get_its_original_error_when_it_is_forwarded() {
    let mut h = held_harness(Duration::from_secs(60)).await;
    let failing = chat_body("mock-400-model", false);
    let first = agent_request(&h, failing.clone());
    let held = next_held(&mut h).await;
    let copy = agent_request(&h, failing);
    h.next_event(|e| matches!(e, CaptureEvent::Started(_)).then_some(()))
        .await;
    assert!(h.control.forward_held(held));
    for agent in [first, copy] {
        let reply = agent.await.expect("agent task");
        assert_eq!(reply.status(), 400);
        let body = json(&reply.bytes().await.expect("body"));
        assert!(body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Invalid model name"));
    }
    // The copy never reached the upstream, so it does not count towards a retry loop: with
    // hold off, two more identical attempts still reach the upstream (the stop comes after
    // three upstream failures).
    h.control.set_hold(false);
    for attempt in 3..=4 {
        let reply = agent_request(&h, chat_body("mock-400-model", false))
            .await
            .expect("agent task");
        let body = json(&reply.bytes().await.expect("body"));
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("/chat/completions: Invalid model name"),
            "attempt {attempt} is the upstream's answer, not a stop: {message}"
        );
    }
    let (stored, _dir) = h.stop_and_load().await;
    let classes: Vec<_> = stored
        .iter()
        .map(|e| e.record.failure.as_ref().map(|f| f.class))
        .collect();
    assert_eq!(classes, [Some(FailureClass::HttpError(400)); 4]);
}

/// A fix whose 200 carries an error object is the fix failing: the agent stays held, and the
/// next fix that works is the one it gets.
#[tokio::test]
async fn a_resend_answered_with_an_error_in_a_200_leaves_the_agent_held() {
    let mut h = held_harness(Duration::from_secs(60)).await;
    let agent = agent_request(&h, chat_body("mock-400-model", false));
    let held = next_held(&mut h).await;
    let mut not_a_fix = fixed(false);
    not_a_fix.body = Bytes::from(chat_body("mock-error-in-200", false));
    h.control.resend(held, not_a_fix).expect("resend starts");
    let record = h
        .next_event(|e| match e {
            CaptureEvent::Finished(r) if r.start.lineage.parent == Some(held) => Some(r.clone()),
            _ => None,
        })
        .await;
    assert_eq!(
        record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::ErrorIn200)
    );
    assert!(!agent.is_finished(), "the agent is still waiting");
    assert_eq!(h.control.held().len(), 1);

    h.control.resend(held, fixed(false)).expect("resend starts");
    let reply = agent.await.expect("agent task");
    assert_eq!(reply.status(), 200);
    let body = json(&reply.bytes().await.expect("body"));
    assert!(body["choices"].is_array(), "{body}");
    h.stop_and_load().await;
}
