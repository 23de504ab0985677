//! One test per failure class: what the agent receives, and what the record holds.

mod common;

use std::time::Duration;

use common::{chat_body, client, json, Harness, WAIT};
use llmscope::capture::{ExchangeState, FailureClass};
use llmscope::proxy::Upstream;

const CHAT: &str = "/v1/chat/completions";
const MESSAGES: &str = "/v1/messages";

async fn post(h: &Harness, path: &str, body: String) -> reqwest::Response {
    client()
        .post(h.url(path))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the proxy answers")
}

#[tokio::test]
async fn upstream_400_reaches_agent_unchanged_and_is_recorded_with_its_message() {
    let mut h = Harness::start().await;
    let reply = post(&h, CHAT, chat_body("mock-400-context", false)).await;
    assert_eq!(reply.status(), 400);
    let body = json(&reply.bytes().await.expect("body"));
    assert_eq!(body["error"]["code"], "context_length_exceeded");

    let live = h.next_finished().await;
    let failure = live.failure.clone().expect("recorded as failed");
    assert_eq!(failure.class, FailureClass::HttpError(400));
    assert!(failure
        .message
        .contains("maximum context length is 128000 tokens"));

    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].state, ExchangeState::Complete);
    let record = &stored[0].record;
    assert_eq!(record.response.as_ref().map(|r| r.status), Some(400));
    assert_eq!(
        record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::HttpError(400))
    );
    assert_eq!(record.start.model.as_deref(), Some("mock-400-context"));
}

/// The agent gets the error as an HTTP error it can act on; the record keeps the upstream's
/// 200 as it came.
#[tokio::test]
async fn ok_reply_with_error_body_is_error_in_200_and_reaches_the_agent_as_an_error() {
    let mut h = Harness::start().await;
    let reply = post(&h, CHAT, chat_body("mock-error-in-200", false)).await;
    assert_eq!(reply.status(), 502, "the body names no HTTP status");
    assert_eq!(reply.headers()["x-llmscope-error"], "error_in_200");
    let body = json(&reply.bytes().await.expect("body"));
    assert_eq!(
        body["error"]["message"], "Upstream provider returned an error: quota exhausted",
        "the upstream's own words"
    );

    let record = h.next_finished().await;
    let failure = record.failure.clone().expect("failed");
    assert_eq!(failure.class, FailureClass::ErrorIn200);
    assert_eq!(record.response.as_ref().map(|r| r.status), Some(200));
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(
        stored[0].record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::ErrorIn200)
    );
    let kept = json(&stored[0].record.response.as_ref().expect("reply").body);
    assert_eq!(
        kept["error"]["code"], "quota",
        "the record keeps the original body"
    );
}

#[tokio::test]
async fn an_error_in_200_reaches_an_anthropic_agent_in_anthropics_shape() {
    let mut h = Harness::start().await;
    let reply = post(&h, MESSAGES, chat_body("mock-error-in-200", false)).await;
    let status = reply.status();
    let body = json(&reply.bytes().await.expect("body"));
    assert_eq!(body["type"], "error", "Anthropic's error shape: {body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("quota exhausted"));
    assert_eq!(status, 502);
    h.next_finished().await;
    h.stop_and_load().await;
}

#[tokio::test]
async fn with_exact_replies_an_error_in_200_reaches_the_agent_as_the_upstream_sent_it() {
    let mut h = Harness::start_with(|c| c.readable_replies = false).await;
    let reply = post(&h, CHAT, chat_body("mock-error-in-200", false)).await;
    assert_eq!(reply.status(), 200);
    assert!(reply.headers().get("x-llmscope-error").is_none());
    let body = json(&reply.bytes().await.expect("body"));
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("quota exhausted"));
    let failure = h.next_finished().await.failure.clone().expect("failed");
    assert_eq!(failure.class, FailureClass::ErrorIn200);
    h.stop_and_load().await;
}

#[tokio::test]
async fn sse_error_event_passes_through_and_is_a_stream_error() {
    let mut h = Harness::start().await;
    let reply = post(&h, MESSAGES, chat_body("mock-sse-error", true)).await;
    assert_eq!(reply.status(), 200);
    let text = reply.text().await.expect("stream reads to its end");
    assert!(text.contains("event: error"));
    assert!(text.contains("Overloaded"));

    let failure = h.next_finished().await.failure.clone().expect("failed");
    assert_eq!(failure.class, FailureClass::StreamError);
    assert!(
        failure.message.contains("Overloaded"),
        "{}",
        failure.message
    );
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(
        stored[0].record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::StreamError)
    );
}

#[tokio::test]
async fn stream_without_terminator_gets_an_error_event_for_the_agent() {
    let mut h = Harness::start().await;
    let reply = post(&h, CHAT, chat_body("mock-sse-truncated", true)).await;
    let text = reply.text().await.expect("stream reads to its end");
    assert!(!text.lines().any(|l| l == "data: [DONE]"));
    let last = text.trim_end().lines().last().unwrap_or_default();
    assert!(last.starts_with("data: {\"error\""), "last line: {last}");
    assert!(last.contains("without its terminator"));

    let failure = h.next_finished().await.failure.clone().expect("failed");
    assert_eq!(failure.class, FailureClass::StreamError);
    assert!(failure.message.contains("[DONE]"));
    h.stop_and_load().await;
}

#[tokio::test]
async fn unreachable_upstream_is_connect_with_an_openai_502() {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let mut h = Harness::start_with(|c| {
        c.upstream = Upstream::parse(&format!("http://127.0.0.1:{closed_port}")).expect("url");
    })
    .await;
    let reply = post(&h, CHAT, chat_body("mock-ok", false)).await;
    assert_eq!(reply.status(), 502);
    assert_eq!(reply.headers()["x-llmscope-error"], "connect");
    let body = json(&reply.bytes().await.expect("body"));
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("could not connect to the upstream"),
        "{message}"
    );

    let record = h.next_finished().await;
    assert_eq!(
        record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::Connect)
    );
    assert!(record.response.is_none());
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(
        stored[0].record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::Connect)
    );
}

#[tokio::test]
async fn tls_handshake_failure_is_tls() {
    // The mock speaks plain HTTP, so a TLS handshake with it fails.
    let mut h = Harness::start_with(|c| {
        let https = c.upstream.to_string().replace("http://", "https://");
        c.upstream = Upstream::parse(&https).expect("url");
    })
    .await;
    let reply = post(&h, CHAT, chat_body("mock-ok", false)).await;
    assert_eq!(reply.status(), 502);
    assert_eq!(reply.headers()["x-llmscope-error"], "tls");
    let failure = h.next_finished().await.failure.clone().expect("failed");
    assert_eq!(failure.class, FailureClass::Tls, "{failure:?}");
    assert!(failure
        .message
        .contains("TLS handshake with 127.0.0.1 failed"));
    h.stop_and_load().await;
}

#[tokio::test]
async fn silent_upstream_is_a_timeout_with_a_504() {
    let mut h = Harness::start_with(|c| c.idle_timeout = Duration::from_millis(500)).await;
    let reply = post(&h, MESSAGES, chat_body("mock-hang", false)).await;
    assert_eq!(reply.status(), 504);
    let body = json(&reply.bytes().await.expect("body"));
    assert_eq!(body["type"], "error", "Anthropic dialect for /v1/messages");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("did not answer"));
    let failure = h.next_finished().await.failure.clone().expect("failed");
    assert_eq!(failure.class, FailureClass::Timeout);
    h.stop_and_load().await;
}

#[tokio::test]
async fn bytes_that_are_not_http_become_a_502_naming_the_malformed_reply() {
    let mut h = Harness::start().await;
    let reply = post(&h, CHAT, chat_body("mock-malformed", false)).await;
    assert_eq!(reply.status(), 502);
    assert_eq!(reply.headers()["x-llmscope-error"], "malformed_response");
    let body = json(&reply.bytes().await.expect("body"));
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("upstream sent a malformed HTTP response"),
        "{message}"
    );

    let failure = h.next_finished().await.failure.clone().expect("failed");
    assert_eq!(failure.class, FailureClass::MalformedResponse);
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(
        stored[0].record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::MalformedResponse)
    );
}

#[tokio::test]
async fn status_line_then_close_is_answered_not_dropped() {
    let mut h = Harness::start().await;
    let reply = post(&h, CHAT, chat_body("mock-status-then-close", false)).await;
    assert_eq!(reply.status(), 502);
    let failure = h.next_finished().await.failure.clone().expect("failed");
    assert!(
        matches!(
            failure.class,
            FailureClass::Reset | FailureClass::MalformedResponse
        ),
        "{failure:?}"
    );
    h.stop_and_load().await;
}

#[tokio::test]
async fn reset_mid_stream_ends_the_agents_stream_with_an_error_event() {
    let mut h = Harness::start().await;
    let reply = post(&h, MESSAGES, chat_body("mock-reset", true)).await;
    assert_eq!(reply.status(), 200);
    let text = reply
        .text()
        .await
        .expect("stream ends cleanly for the agent");
    assert!(text.contains("message_start"));
    assert!(text.trim_end().ends_with('}'));
    assert!(text.contains("event: error"), "{text}");
    assert!(
        text.contains("llmscope: upstream connection broke"),
        "{text}"
    );

    let record = h.next_finished().await;
    assert_eq!(
        record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::Reset)
    );
    let captured = record.response.as_ref().expect("head was received");
    assert!(String::from_utf8_lossy(&captured.body).contains("message_start"));
    h.stop_and_load().await;
}

#[tokio::test]
async fn agent_hanging_up_mid_stream_is_client_aborted() {
    let mut h = Harness::start().await;
    let mut reply = post(&h, CHAT, chat_body("mock-gated", true)).await;
    let first = tokio::time::timeout(WAIT, reply.chunk())
        .await
        .expect("first chunk in time")
        .expect("chunk reads");
    assert!(first.is_some());
    drop(reply);
    let record = h.next_finished().await;
    assert_eq!(
        record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::ClientAborted)
    );
    h.mock.release_gate();
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(
        stored[0].record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::ClientAborted)
    );
}

#[tokio::test]
async fn agent_hanging_up_before_the_reply_is_client_aborted() {
    let mut h = Harness::start().await;
    let request = client()
        .post(h.url(CHAT))
        .body(chat_body("mock-hang", false))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(request.is_err(), "the client gave up");
    let record = h.next_finished().await;
    assert_eq!(
        record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::ClientAborted)
    );
    h.stop_and_load().await;
}

#[tokio::test]
async fn request_over_the_size_cap_is_refused_with_a_413_in_the_agents_dialect() {
    let mut h = Harness::start_with(|c| c.max_request_bytes = 1024).await;
    let reply = post(&h, MESSAGES, "x".repeat(4096)).await;
    assert_eq!(reply.status(), 413);
    let body = json(&reply.bytes().await.expect("body"));
    assert_eq!(body["type"], "error");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("larger than the 1024 byte limit"),
        "{message}"
    );
    assert!(h.mock.received().is_empty(), "nothing reached the upstream");
    let record = h.next_finished().await;
    assert_eq!(
        record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::HttpError(413))
    );
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 1, "the refused request is in the record");
    let kept = &stored[0];
    assert_eq!(kept.state, ExchangeState::Complete);
    assert_eq!(kept.record.response.as_ref().map(|r| r.status), Some(413));
    let failure = kept.record.failure.as_ref().expect("recorded as failed");
    assert_eq!(failure.class, FailureClass::HttpError(413));
    assert!(
        failure.message.contains("--max-request-bytes"),
        "{failure:?}"
    );
}
