//! Gemini's API through the real proxy and the mock: replies decoded from the stored record
//! with the model taken from the path, Gemini's errors read for the banner, llmscope's own
//! errors written in Google's shape, `?key=` kept off the disk, and `--upstream-for gemini=`.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{client, files_under, json, Harness};
use llmscope::capture::{CaptureEvent, FailureClass, HeaderList};
use llmscope::llm::{decode_response, diagnose, DiagnosisKind, Dialect, Usage};
use llmscope::mock::MockUpstream;
use llmscope::proxy::{ResendRequest, Upstream};
use llmscope::store::StoredExchange;

const SECRET: &str = "AIzaSyPLANTED-gemini-key-0000";

fn body(with_cache: bool) -> String {
    let mut body = serde_json::json!({
        "contents": [{"role": "user", "parts": [{"text": "What is in src?"}]}],
        "systemInstruction": {"parts": [{"text": "You are a coding agent."}]},
        "generationConfig": {"temperature": 0, "thinkingConfig": {"includeThoughts": true}},
    });
    if with_cache {
        body["cachedContent"] = serde_json::json!("cachedContents/mock-prefix");
    }
    body.to_string()
}

async fn send(h: &Harness, path: &str, body: String) -> reqwest::Response {
    client()
        .post(h.url(path))
        .header("content-type", "application/json")
        .header("x-goog-api-key", SECRET)
        .body(body)
        .send()
        .await
        .expect("answered")
}

/// The stored reply read as Gemini, as the screen reads it.
fn stored_reply(stored: &StoredExchange) -> llmscope::llm::DecodedResponse {
    let response = stored.record.response.as_ref().expect("a reply");
    let content_type = response.headers.value("content-type");
    decode_response(stored.record.start.dialect, content_type, &response.body).expect("decodes")
}

#[tokio::test]
async fn whole_and_streamed_gemini_replies_are_decoded_from_the_record() {
    let h = Harness::start().await;
    let paths = [
        "/v1beta/models/mock-ok:generateContent",
        "/v1beta/models/mock-ok:streamGenerateContent?alt=sse",
        "/v1beta/models/mock-tool:streamGenerateContent",
    ];
    let mut texts = Vec::new();
    for path in paths {
        let reply = send(&h, path, body(true)).await;
        assert_eq!(reply.status(), 200, "{path}");
        texts.push(String::from_utf8_lossy(&reply.bytes().await.expect("body")).into_owned());
    }
    assert!(
        texts[1].starts_with("data: {"),
        "SSE reaches the agent as SSE"
    );
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 3);
    for exchange in &stored {
        assert_eq!(exchange.record.start.dialect, Dialect::Gemini);
        assert!(exchange.record.failure.is_none());
    }
    let models: Vec<Option<&str>> = stored
        .iter()
        .map(|e| e.record.start.model.as_deref())
        .collect();
    assert_eq!(
        models,
        [Some("mock-ok"), Some("mock-ok"), Some("mock-tool")]
    );

    let whole = stored_reply(&stored[0]);
    let streamed = stored_reply(&stored[1]);
    assert!(whole.text.starts_with("Mock reply to: What is in src?"));
    assert_eq!(streamed.text, whole.text, "the chunks concatenate");
    assert_eq!(whole.stream_events, None);
    assert!(streamed.stream_events >= Some(3));
    assert_eq!(streamed.finish_reason.as_deref(), Some("STOP"));
    for reply in [&whole, &streamed] {
        let Some(Usage {
            input_tokens: Some(input),
            output_tokens: Some(output),
            cache_read_tokens: Some(cached),
            ..
        }) = reply.usage
        else {
            panic!("usage with cached tokens: {:?}", reply.usage);
        };
        assert!(
            cached > 0 && cached < input && output > 0,
            "{:?}",
            reply.usage
        );
    }
    let array = stored_reply(&stored[2]);
    assert_eq!(array.tool_calls.len(), 1);
    assert_eq!(array.tool_calls[0].name, "read");
    assert_eq!(
        array.tool_calls[0].arguments,
        r#"{"filePath":"src/main.rs"}"#
    );
}

#[tokio::test]
async fn a_gemini_400_is_classified_with_the_upstreams_message() {
    let mut h = Harness::start().await;
    let reply = send(
        &h,
        "/v1beta/models/mock-400-context:streamGenerateContent?alt=sse",
        body(false),
    )
    .await;
    assert_eq!(reply.status(), 400);
    let passed_on = json(&reply.bytes().await.expect("body"));
    assert_eq!(
        passed_on["error"]["status"], "INVALID_ARGUMENT",
        "unchanged"
    );

    let record = h.next_finished().await;
    let failure = record.failure.clone().expect("failed");
    assert_eq!(failure.class, FailureClass::HttpError(400));
    assert_eq!(
        failure.message,
        "The input token count (1200293) exceeds the maximum number of tokens allowed (1048576)."
    );
    let diagnosis = diagnose(Some(400), &failure.message).expect("diagnosed");
    assert_eq!(
        diagnosis.kind,
        DiagnosisKind::ContextLength {
            limit: Some(1048576),
            requested: Some(1200293)
        }
    );
    assert_eq!(record.start.model.as_deref(), Some("mock-400-context"));
    h.stop_and_load().await;
}

#[tokio::test]
async fn llmscopes_own_replies_to_gemini_are_in_googles_shape() {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let h = Harness::start_with(|c| {
        c.upstream = Upstream::parse(&format!("http://127.0.0.1:{closed_port}")).expect("url");
    })
    .await;
    let reply = send(
        &h,
        "/v1beta/models/gemini-2.5-pro:generateContent",
        body(false),
    )
    .await;
    assert_eq!(reply.status(), 502);
    assert_eq!(reply.headers()["x-llmscope-error"], "connect");
    let error = json(&reply.bytes().await.expect("body"));
    assert_eq!(error["error"]["code"], 502);
    assert_eq!(error["error"]["status"], "UNAVAILABLE");
    let message = error["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("llmscope: ") && message.contains("could not connect to the upstream"),
        "{message}"
    );
    h.stop_and_load().await;

    // A 200 that carries an error, and the stop of a retry loop, speak Google's shape too.
    let h = Harness::start().await;
    let path = "/v1beta/models/mock-error-in-200:generateContent";
    let rewritten = send(&h, path, body(false)).await;
    assert_eq!(rewritten.status(), 502);
    let error = json(&rewritten.bytes().await.expect("body"));
    assert_eq!(error["error"]["status"], "UNAVAILABLE");
    assert!(error["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("quota exhausted")));
    let mut last = None;
    for _ in 0..3 {
        last = Some(send(&h, path, body(false)).await);
    }
    let stopped = last.expect("sent");
    assert_eq!(stopped.status(), 400);
    assert_eq!(stopped.headers()["x-should-retry"], "false");
    let error = json(&stopped.bytes().await.expect("body"));
    assert_eq!(error["error"]["code"], 400);
    assert_eq!(error["error"]["status"], "INVALID_ARGUMENT");
    assert!(error["error"]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("llmscope: stopped a retry loop")));
    h.stop_and_load().await;
}

#[tokio::test]
async fn a_key_in_the_query_never_reaches_the_store() {
    let h = Harness::start().await;
    let path = format!("/v1beta/models/mock-ok:streamGenerateContent?alt=sse&key={SECRET}");
    let reply = client()
        .post(h.url(&path))
        .header("content-type", "application/json")
        .body(body(false))
        .send()
        .await
        .expect("answered");
    assert_eq!(reply.status(), 200);
    let _ = reply.bytes().await;
    assert_eq!(
        h.mock.received()[0].target,
        path,
        "the upstream gets the key"
    );
    let (stored, dir) = h.stop_and_load().await;
    assert_eq!(
        stored[0].record.start.request.uri,
        "/v1beta/models/mock-ok:streamGenerateContent?alt=sse&key=<redacted>"
    );
    assert_eq!(stored[0].record.start.model.as_deref(), Some("mock-ok"));
    for file in files_under(&dir.path) {
        let bytes = std::fs::read(&file).expect("readable");
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(SECRET), "{} holds the key", file.display());
    }
}

#[tokio::test]
async fn upstream_for_gemini_routes_gemini_calls_to_their_own_upstream() {
    let google = MockUpstream::start().await.expect("second upstream");
    let google_url = google.url();
    let h = Harness::start_with(|c| {
        let upstream = Upstream::parse(&google_url).expect("url");
        c.upstream_for = vec![(Dialect::Gemini, upstream)];
    })
    .await;
    let gemini = "/v1beta/models/mock-ok:generateContent";
    assert_eq!(send(&h, gemini, body(false)).await.status(), 200);
    let chat = client()
        .post(h.url("/v1/chat/completions"))
        .body(common::chat_body("mock-ok", false))
        .send()
        .await
        .expect("answered");
    assert_eq!(chat.status(), 200);
    let targets = |mock: &MockUpstream| -> Vec<String> {
        mock.received().into_iter().map(|r| r.target).collect()
    };
    assert_eq!(targets(&google), [gemini]);
    assert_eq!(targets(&h.mock), ["/v1/chat/completions"]);
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 2, "both in one session");
}

/// The model of a Gemini call is in its path: a held 404 for an unknown model is fixed by
/// resending to another model's path, with the `?key=` the record only has as `<redacted>`, and the waiting agent
/// gets the stream.
#[tokio::test]
async fn a_held_gemini_call_is_fixed_by_resending_to_another_models_path() {
    let mut h = Harness::start_with(|c| {
        c.hold_errors = true;
        c.hold_timeout = Duration::from_secs(60);
    })
    .await;
    let request = client()
        .post(h.url(&format!(
            "/v1beta/models/mock-400-model:streamGenerateContent?alt=sse&key={SECRET}"
        )))
        .header("content-type", "application/json")
        .body(body(false));
    let agent = tokio::spawn(async move { request.send().await.expect("answered") });
    let held = h
        .next_event(|e| match e {
            CaptureEvent::Held { id, .. } => Some(*id),
            _ => None,
        })
        .await;
    let recorded = "/v1beta/models/mock-ok:streamGenerateContent?alt=sse&key=<redacted>";
    h.control
        .resend(
            held,
            ResendRequest {
                method: "POST".into(),
                uri: recorded.into(),
                headers: HeaderList::from([("content-type", "application/json")]),
                body: Bytes::from(body(false)),
            },
        )
        .expect("resend starts");
    let reply = agent.await.expect("agent task");
    assert_eq!(reply.status(), 200);
    let text = String::from_utf8_lossy(&reply.bytes().await.expect("body")).into_owned();
    assert!(
        text.starts_with("data: {") && text.contains("\"finishReason\":\"STOP\""),
        "{text}"
    );
    let received = h.mock.received();
    assert_eq!(
        received.last().map(|r| r.target.as_str()),
        Some(format!("/v1beta/models/mock-ok:streamGenerateContent?alt=sse&key={SECRET}").as_str()),
        "the resend carries the agent's key"
    );
    let (stored, _dir) = h.stop_and_load().await;
    let models: Vec<Option<&str>> = stored
        .iter()
        .map(|e| e.record.start.model.as_deref())
        .collect();
    assert_eq!(models, [Some("mock-400-model"), Some("mock-ok")]);
    assert_eq!(
        stored[0].record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::HttpError(404))
    );
}
