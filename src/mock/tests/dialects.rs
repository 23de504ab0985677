//! What each behaviour says, in each dialect.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;

use super::*;
use crate::llm::{error_object_message, Dialect};
use crate::mock::{play, MockUpstream};

#[tokio::test]
async fn ok_json_reply_quotes_the_prompt_in_each_dialect() {
    let upstream = MockUpstream::start().await.unwrap();
    for (path, dialect) in DIALECT_PATHS {
        let response = post(&upstream, path, "mock-ok", false).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        let reply = match dialect {
            Dialect::OpenAiChat => &body["choices"][0]["message"]["content"],
            Dialect::Anthropic => &body["content"][0]["text"],
            _ => &body["output"][0]["content"][0]["text"],
        };
        assert!(
            reply
                .as_str()
                .unwrap()
                .starts_with("Mock reply to: What is in src?"),
            "{dialect:?}: {body}"
        );
        assert!(body["usage"].is_object());
    }
}

#[tokio::test]
async fn ok_stream_ends_with_its_terminator_in_several_chunks_in_each_dialect() {
    let upstream = MockUpstream::start().await.unwrap();
    for (path, dialect) in DIALECT_PATHS {
        let response = post(&upstream, path, "mock-ok", true).await;
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        assert_eq!(response.headers()["transfer-encoding"], "chunked");
        let (chunks, clean) = collect_chunks(response).await;
        assert!(clean);
        assert!(chunks.len() >= 8, "{dialect:?}: {} chunks", chunks.len());
        let verdict = watch(dialect, &chunks);
        assert!(verdict.terminated, "{dialect:?}");
        assert_eq!(verdict.problem(), None);
    }
}

#[tokio::test]
async fn tool_reply_is_a_read_call_streamed_or_not() {
    let upstream = MockUpstream::start().await.unwrap();
    for (path, dialect) in DIALECT_PATHS {
        let body = post(&upstream, path, "mock-tool", false)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            body.contains("\"read\"") && body.contains("filePath"),
            "{dialect:?}: {body}"
        );
        let (chunks, _) = collect_chunks(post(&upstream, path, "mock-tool", true).await).await;
        let streamed: String = chunks.iter().map(|c| text(c)).collect();
        assert!(streamed.contains("\"read\""), "{dialect:?}");
        assert_eq!(watch(dialect, &chunks).problem(), None);
    }
}

#[tokio::test]
async fn gated_stream_sends_first_event_before_release() {
    let upstream = MockUpstream::start().await.unwrap();
    let response = post(&upstream, MESSAGES, "mock-gated", true).await;
    let mut body = response.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(5), body.next()).await;
    let first = first.unwrap().unwrap().unwrap();
    assert!(text(&first).starts_with("event: message_start"));
    let held = tokio::time::timeout(Duration::from_millis(200), body.next()).await;
    assert!(held.is_err(), "the rest came before the gate opened");
    upstream.release_gate();
    let mut rest = Vec::new();
    while let Some(chunk) = body.next().await {
        rest.push(chunk.unwrap());
    }
    assert!(text(rest.last().unwrap()).contains("message_stop"));
}

#[tokio::test]
async fn release_before_the_stream_reaches_the_gate_is_kept() {
    let upstream = MockUpstream::start().await.unwrap();
    upstream.release_gate();
    let response = post(&upstream, CHAT, "mock-gated", true).await;
    let (chunks, clean) = tokio::time::timeout(Duration::from_secs(5), collect_chunks(response))
        .await
        .unwrap();
    assert!(clean && watch(Dialect::OpenAiChat, &chunks).terminated);
}

#[tokio::test]
async fn slow_stream_sends_twenty_events_over_about_a_second() {
    let upstream = MockUpstream::start().await.unwrap();
    let started = Instant::now();
    let (chunks, _) =
        collect_chunks(post(&upstream, RESPONSES, "mock-slow-stream", false).await).await;
    assert_eq!(watch(Dialect::OpenAiResponses, &chunks).events, 20);
    assert!(started.elapsed() >= Duration::from_millis(19 * 50));
}

#[tokio::test]
async fn scripted_errors_have_their_status_and_the_dialects_shape() {
    let upstream = MockUpstream::start().await.unwrap();
    let cases = [
        ("mock-400-context", 400),
        ("mock-400-param", 400),
        ("mock-400-model", 400),
        ("mock-400-tool", 400),
        ("mock-401", 401),
        ("mock-429", 429),
        ("mock-500", 500),
        ("mock-529", 529),
    ];
    for (model, status) in cases {
        for (path, dialect) in DIALECT_PATHS {
            let response = post(&upstream, path, model, true).await;
            assert_eq!(response.status().as_u16(), status, "{model} {dialect:?}");
            let body = response.bytes().await.unwrap();
            assert!(error_object_message(&body).is_some(), "{model} {dialect:?}");
        }
    }
    let body = post(&upstream, MESSAGES, "mock-400-context", false)
        .await
        .bytes()
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(
        body["error"]["message"],
        "prompt is too long: 210000 tokens > 200000 maximum"
    );
    let body = post(&upstream, CHAT, "mock-400-context", false)
        .await
        .bytes()
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "context_length_exceeded");
}

#[tokio::test]
async fn error_in_200_is_a_json_200_with_an_error_object() {
    let upstream = MockUpstream::start().await.unwrap();
    let response = post(&upstream, CHAT, "mock-error-in-200", true).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = response.bytes().await.unwrap();
    assert_eq!(
        error_object_message(&body).as_deref(),
        Some("Upstream provider returned an error: quota exhausted")
    );
}

#[tokio::test]
async fn broken_streams_end_cleanly_but_fail_the_stream_watch() {
    let upstream = MockUpstream::start().await.unwrap();
    for (path, dialect) in DIALECT_PATHS {
        let (chunks, clean) =
            collect_chunks(post(&upstream, path, "mock-sse-error", true).await).await;
        assert!(clean);
        let verdict = watch(dialect, &chunks);
        assert!(verdict.error.is_some(), "{dialect:?}");
        assert_eq!(verdict.events, 3);

        let (chunks, clean) =
            collect_chunks(post(&upstream, path, "mock-sse-truncated", true).await).await;
        assert!(clean);
        let verdict = watch(dialect, &chunks);
        assert!(!verdict.terminated && verdict.error.is_none() && verdict.events > 1);
    }
}

#[tokio::test]
async fn big_reply_has_the_default_or_requested_size() {
    let upstream = MockUpstream::start().await.unwrap();
    let body = post(&upstream, CHAT, "mock-big", false)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.len(), 2 * 1024 * 1024);
    assert!(body
        .iter()
        .enumerate()
        .all(|(i, b)| *b == play::big_byte(i)));
    let response = client()
        .post(format!("{}/anything", upstream.url()))
        .header("x-mock-behavior", "mock-big")
        .header("x-mock-size", "12345")
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/octet-stream"
    );
    assert_eq!(response.bytes().await.unwrap().len(), 12345);
}
