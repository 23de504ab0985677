//! Intercept before sending: a matching agent request is paused before it reaches the
//! upstream, then sent as the user edited it, as the agent sent it, or unchanged when the hold
//! time runs out; the record keeps the agent's version beside the one forwarded.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{chat_body, client, json, Harness};
use llmscope::capture::{CaptureEvent, ExchangeId, ExchangeStart, FailureClass, HeaderList};
use llmscope::proxy::{InterceptPattern, ResendRequest};

const CHAT: &str = "/v1/chat/completions";

async fn intercepting(pattern: &str, timeout: Duration) -> Harness {
    let pattern = InterceptPattern::parse(pattern);
    Harness::start_with(move |c| {
        c.intercept = pattern;
        c.hold_timeout = timeout;
    })
    .await
}

fn agent_request(
    h: &Harness,
    path: &str,
    body: String,
) -> tokio::task::JoinHandle<reqwest::Response> {
    let request = client()
        .post(h.url(path))
        .header("authorization", "Bearer sk-agent-REAL")
        .header("content-type", "application/json")
        .body(body);
    tokio::spawn(async move { request.send().await.expect("the agent gets an answer") })
}

async fn next_intercepted(h: &mut Harness) -> Arc<ExchangeStart> {
    h.next_event(|e| match e {
        CaptureEvent::Intercepted { start, .. } => Some(start.clone()),
        _ => None,
    })
    .await
}

/// The intercepted request as the user edits it: another model, the credential still
/// reading `<redacted>` as the editor shows it.
fn edited(model: &str) -> ResendRequest {
    ResendRequest {
        method: "POST".into(),
        uri: CHAT.into(),
        headers: HeaderList::from([
            ("authorization", "Bearer <redacted>"),
            ("content-type", "application/json"),
        ]),
        body: Bytes::from(chat_body(model, false)),
    }
}

async fn reply_model(reply: reqwest::Response) -> String {
    assert_eq!(reply.status(), 200);
    let body = json(&reply.bytes().await.expect("body"));
    body["model"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn an_intercepted_request_waits_and_goes_out_as_the_user_edited_it() {
    let mut h = intercepting("chat", Duration::from_secs(60)).await;
    let agent = agent_request(&h, CHAT, chat_body("gpt-4o-mini", false));
    let start = next_intercepted(&mut h).await;
    assert_eq!(start.model.as_deref(), Some("gpt-4o-mini"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!agent.is_finished(), "the agent is still waiting");
    assert!(h.mock.received().is_empty(), "nothing reached the upstream");
    assert_eq!(h.control.intercepted().len(), 1);

    let released = h
        .control
        .release_intercepted(start.id, Some(edited("mock-ok")));
    assert_eq!(released, Ok(true));
    assert_eq!(
        reply_model(agent.await.expect("agent task")).await,
        "mock-ok"
    );
    let received = h.mock.received();
    assert_eq!(received.len(), 1);
    assert_eq!(json(&received[0].body)["model"], "mock-ok");
    assert_eq!(
        received[0].header("authorization"),
        Some("Bearer sk-agent-REAL"),
        "the redacted credential was restored"
    );
    assert!(h.control.intercepted().is_empty());

    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 1);
    let record = &stored[0].record;
    assert_eq!(record.id(), start.id);
    assert_eq!(record.start.model.as_deref(), Some("mock-ok"));
    assert!(record.failure.is_none());
    let rewrite = record.start.rewrite.as_ref().expect("the edit is marked");
    assert_eq!(json(&rewrite.original.body)["model"], "gpt-4o-mini");
    assert_eq!(rewrite.applied, vec!["edited by the user before sending"]);
}

#[tokio::test]
async fn released_unchanged_it_goes_out_as_the_agent_sent_it() {
    let mut h = intercepting("POST /v1/CHAT", Duration::from_secs(60)).await;
    let sent = chat_body("mock-ok", false);
    let agent = agent_request(&h, CHAT, sent.clone());
    let start = next_intercepted(&mut h).await;
    assert_eq!(h.control.release_intercepted(start.id, None), Ok(true));
    assert_eq!(
        reply_model(agent.await.expect("agent task")).await,
        "mock-ok"
    );
    assert_eq!(h.mock.received()[0].body, sent.as_bytes());
    let (stored, _dir) = h.stop_and_load().await;
    assert!(
        stored[0].record.start.rewrite.is_none(),
        "nothing was changed"
    );
}

#[tokio::test]
async fn when_the_hold_time_runs_out_it_is_sent_unchanged() {
    let mut h = intercepting("mock-ok", Duration::from_millis(300)).await;
    let agent = agent_request(&h, CHAT, chat_body("mock-ok", false));
    let start = next_intercepted(&mut h).await;
    assert_eq!(
        reply_model(agent.await.expect("agent task")).await,
        "mock-ok"
    );
    assert_eq!(h.mock.received().len(), 1);
    assert_eq!(
        h.control.release_intercepted(start.id, None),
        Ok(false),
        "too late: it went out"
    );
    h.stop_and_load().await;
}

#[tokio::test]
async fn a_request_that_does_not_match_passes_straight_through() {
    let mut h = intercepting("/v1/messages", Duration::from_secs(60)).await;
    let agent = agent_request(&h, CHAT, chat_body("mock-ok", false));
    assert_eq!(
        reply_model(agent.await.expect("agent task")).await,
        "mock-ok"
    );
    let record = h.next_finished().await;
    assert!(record.start.rewrite.is_none());
    assert!(h.control.intercepted().is_empty());
    h.stop_and_load().await;
}

#[tokio::test]
async fn the_agent_leaving_while_intercepted_is_recorded_as_aborted() {
    let mut h = intercepting("*", Duration::from_secs(60)).await;
    let request = client()
        .post(h.url(CHAT))
        .body(chat_body("mock-ok", false))
        .timeout(Duration::from_millis(500))
        .send();
    let gave_up = tokio::spawn(request);
    let start = next_intercepted(&mut h).await;
    assert!(gave_up.await.expect("task").is_err(), "the agent timed out");
    let record = h.next_finished().await;
    assert_eq!(record.id(), start.id);
    assert_eq!(
        record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::ClientAborted)
    );
    assert!(h.control.intercepted().is_empty());
    assert!(h.mock.received().is_empty(), "it never went out");
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::ClientAborted)
    );
}

#[tokio::test]
async fn two_intercepted_requests_are_released_in_either_order() {
    let mut h = intercepting("chat", Duration::from_secs(60)).await;
    let first = agent_request(&h, CHAT, chat_body("mock-ok", false));
    let first_id = next_intercepted(&mut h).await.id;
    let second = agent_request(&h, CHAT, chat_body("mock-ok", false));
    let second_id = next_intercepted(&mut h).await.id;
    let queue: Vec<ExchangeId> = h.control.intercepted().iter().map(|w| w.id).collect();
    assert_eq!(queue, vec![first_id, second_id], "oldest first");

    let released = h
        .control
        .release_intercepted(second_id, Some(edited("mock-tool")));
    assert_eq!(released, Ok(true));
    assert_eq!(reply_model(second.await.expect("agent")).await, "mock-tool");
    assert!(!first.is_finished(), "the first still waits");
    assert_eq!(h.control.release_intercepted(first_id, None), Ok(true));
    assert_eq!(reply_model(first.await.expect("agent")).await, "mock-ok");

    let (stored, _dir) = h.stop_and_load().await;
    let ids: Vec<ExchangeId> = stored.iter().map(|s| s.record.id()).collect();
    assert!(
        ids.contains(&first_id) && ids.contains(&second_id),
        "{ids:?}"
    );
}

#[tokio::test]
async fn a_bad_edited_header_is_refused_and_the_request_stays_intercepted() {
    let mut h = intercepting("chat", Duration::from_secs(60)).await;
    let agent = agent_request(&h, CHAT, chat_body("mock-ok", false));
    let id = next_intercepted(&mut h).await.id;
    let mut bad = edited("mock-ok");
    bad.headers.push("bad name", "x");
    assert!(h.control.release_intercepted(id, Some(bad)).is_err());
    assert_eq!(h.control.intercepted().len(), 1);
    assert_eq!(h.control.release_intercepted(id, None), Ok(true));
    assert_eq!(reply_model(agent.await.expect("agent")).await, "mock-ok");
    h.stop_and_load().await;
}

#[tokio::test]
async fn intercepting_can_be_turned_on_and_off_while_running() {
    let mut h = Harness::start().await;
    assert_eq!(h.control.intercept(), None);
    h.control.set_intercept(Some("chat"));
    assert_eq!(h.control.intercept().as_deref(), Some("chat"));
    let agent = agent_request(&h, CHAT, chat_body("mock-ok", false));
    let id = next_intercepted(&mut h).await.id;
    h.control.set_intercept(None);
    assert_eq!(
        h.control.intercepted().len(),
        1,
        "already intercepted stays so"
    );
    assert_eq!(h.control.release_intercepted(id, None), Ok(true));
    assert_eq!(reply_model(agent.await.expect("agent")).await, "mock-ok");
    h.stop_and_load().await;
}
