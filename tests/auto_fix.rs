//! `--auto-fix`: a failure whose best quick fix loses nothing is fixed and resent by llmscope,
//! and the agent that is still waiting gets the good reply with no key press. Lossy fixes are
//! left to a person, and an auto-fix that does not help gives the agent the upstream's error.

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use common::{client, json, Harness};
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use llmscope::capture::{CaptureEvent, FailureClass, HoldOutcome, Origin};
use llmscope::proxy::Upstream;

const CHAT: &str = "/v1/chat/completions";
/// What LiteLLM answers when its provider refuses a parameter (TRAFFIC.md).
const REFUSED: &str = r#"{"error":{"message":"litellm.BadRequestError: OpenAIException - Unrecognized request argument supplied: reasoning_effort\n\nLiteLLM: model group 'gpt-4o' failed with the error above. No fallback was attempted.","type":"invalid_request_error","param":null,"code":"400"}}"#;
const CONTEXT: &str = r#"{"error":{"message":"This model's maximum context length is 10 tokens. However, your messages resulted in 40 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}"#;
const REPLY: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Done."},"finish_reason":"stop"}]}"#;

/// A gateway that refuses `reasoning_effort`, every request of a `stubborn` model, and any
/// conversation with more than one turn; it counts what it was sent.
async fn strict_gateway() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let hits = counted.clone();
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let hits = hits.clone();
                async move {
                    hits.fetch_add(1, Ordering::SeqCst);
                    let body = request.into_body().collect().await.map(|b| b.to_bytes());
                    let text = String::from_utf8_lossy(&body.unwrap_or_default()).to_string();
                    let (status, reply) = if text.contains("reasoning_effort") {
                        (400, REFUSED)
                    } else if text.contains("stubborn") || text.matches("\"role\"").count() > 1 {
                        (
                            400,
                            if text.contains("stubborn") {
                                REFUSED
                            } else {
                                CONTEXT
                            },
                        )
                    } else {
                        (200, REPLY)
                    };
                    let mut response = Response::new(Full::new(Bytes::from(reply)));
                    *response.status_mut() = http::StatusCode::from_u16(status).expect("status");
                    response.headers_mut().insert(
                        "content-type",
                        http::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, Infallible>(response)
                }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    (addr, hits)
}

async fn harness(auto_fix: bool, hold: bool) -> (Harness, Arc<AtomicUsize>) {
    let (gateway, hits) = strict_gateway().await;
    let h = Harness::start_with(|c| {
        c.upstream = Upstream::parse(&format!("http://{gateway}")).expect("url");
        c.auto_fix = auto_fix;
        c.hold_errors = hold;
    })
    .await;
    (h, hits)
}

async fn send(h: &Harness, body: serde_json::Value) -> (u16, serde_json::Value) {
    let reply = client()
        .post(h.url(CHAT))
        .header("authorization", "Bearer sk-agent-REAL")
        .body(body.to_string())
        .send()
        .await
        .expect("answered");
    let status = reply.status().as_u16();
    (status, json(&reply.bytes().await.expect("body")))
}

#[tokio::test]
async fn a_refused_parameter_is_removed_and_the_waiting_agent_gets_the_reply() {
    let (mut h, hits) = harness(true, false).await;
    let body = serde_json::json!({
        "model": "gpt-4o",
        "reasoning_effort": "high",
        "messages": [{"role": "user", "content": "Rename the config loader"}],
    });
    let (status, reply) = send(&h, body).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["choices"][0]["message"]["content"], "Done.");
    assert_eq!(hits.load(Ordering::SeqCst), 2, "the original and the fix");
    let ended = h
        .next_event(|e| match e {
            CaptureEvent::HoldEnded { outcome, .. } => Some(*outcome),
            _ => None,
        })
        .await;
    assert!(matches!(ended, HoldOutcome::Delivered { .. }), "{ended:?}");

    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 2);
    assert_eq!(
        stored[0].record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::HttpError(400))
    );
    let fix = &stored[1].record;
    assert_eq!(
        fix.start.lineage.origin,
        Origin::AutoFix,
        "marked as an auto-fix"
    );
    assert_eq!(fix.start.lineage.parent, Some(stored[0].record.start.id));
    assert!(fix.failure.is_none());
    let rewrite = fix.start.rewrite.as_ref().expect("the change is recorded");
    assert_eq!(rewrite.applied, ["auto-fix: remove `reasoning_effort`"]);
    assert!(String::from_utf8_lossy(&rewrite.original.body).contains("reasoning_effort"));
    assert!(!String::from_utf8_lossy(&fix.start.request.body).contains("reasoning_effort"));
    // The fix authenticated as the agent did, though the record holds only <redacted>.
    assert!(fix
        .start
        .request
        .headers
        .iter()
        .any(|(name, value)| name == "authorization" && !value.contains("sk-agent-REAL")));
}

#[tokio::test]
async fn a_lossy_fix_is_not_applied_and_the_agent_gets_the_error_at_once() {
    let (h, hits) = harness(true, false).await;
    let body = serde_json::json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "second"},
        ],
    });
    let (status, reply) = send(&h, body).await;
    assert_eq!(status, 400);
    assert_eq!(reply["error"]["code"], "context_length_exceeded");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "dropping turns is for a person to decide"
    );
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 1);
}

#[tokio::test]
async fn an_auto_fix_that_fails_too_gives_the_agent_the_original_error() {
    let (h, hits) = harness(true, false).await;
    let body = serde_json::json!({
        "model": "stubborn",
        "reasoning_effort": "high",
        "messages": [{"role": "user", "content": "hi"}],
    });
    let (status, reply) = send(&h, body).await;
    assert_eq!(status, 400);
    assert!(reply["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("Unrecognized request argument supplied: reasoning_effort"));
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    let (stored, _dir) = h.stop_and_load().await;
    let origins: Vec<_> = stored
        .iter()
        .map(|e| e.record.start.lineage.origin)
        .collect();
    assert_eq!(origins, [Origin::Agent, Origin::AutoFix]);
}

#[tokio::test]
async fn auto_fix_is_off_unless_asked_for_and_can_be_switched_on() {
    let (h, hits) = harness(false, false).await;
    let body = serde_json::json!({
        "model": "gpt-4o",
        "reasoning_effort": "high",
        "messages": [{"role": "user", "content": "hi"}],
    });
    assert_eq!(send(&h, body.clone()).await.0, 400);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    h.control.set_auto_fix(true);
    assert!(h.control.auto_fix_enabled());
    assert_eq!(send(&h, body).await.0, 200);
    h.stop_and_load().await;
}
