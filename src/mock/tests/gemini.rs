//! The mock speaking Gemini: the model from the path, replies whole, as SSE and as a JSON
//! array, Google's error objects, `countTokens` and the model list.

use serde_json::{json, Value};

use super::*;
use crate::llm::{decode_response, error_object_message, Dialect};
use crate::mock::MockUpstream;

fn gemini_body() -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": "What is in src?"}]}],
           "generationConfig": {"temperature": 0}})
}

async fn gemini(upstream: &MockUpstream, path: &str, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{}{path}", upstream.url()))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn gemini_replies_whole_and_streamed_for_the_model_in_the_path() {
    let upstream = MockUpstream::start().await.unwrap();
    let whole = gemini(
        &upstream,
        "/v1beta/models/mock-ok:generateContent",
        &gemini_body(),
    )
    .await;
    assert_eq!(whole.status(), 200);
    let body: Value = serde_json::from_slice(&whole.bytes().await.unwrap()).unwrap();
    let text = body["candidates"][0]["content"]["parts"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(text.starts_with("Mock reply to: What is in src?"), "{body}");
    assert_eq!(body["modelVersion"], "mock-ok");
    assert_eq!(body["candidates"][0]["finishReason"], "STOP");
    assert!(body["usageMetadata"]["promptTokenCount"].as_u64() > Some(0));

    let sse = gemini(
        &upstream,
        "/v1beta/models/mock-ok:streamGenerateContent?alt=sse",
        &gemini_body(),
    )
    .await;
    assert_eq!(sse.headers()["content-type"], "text/event-stream");
    let (chunks, clean) = collect_chunks(sse).await;
    assert!(clean && chunks.len() >= 3, "{} chunks", chunks.len());
    let verdict = watch(Dialect::Gemini, &chunks);
    assert!(verdict.terminated);
    let joined: Vec<u8> = chunks.concat();
    let streamed = decode_response(Dialect::Gemini, Some("text/event-stream"), &joined).unwrap();
    assert_eq!(streamed.text, text);

    let array = gemini(
        &upstream,
        "/v1beta/models/mock-ok:streamGenerateContent",
        &gemini_body(),
    )
    .await;
    assert!(array.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let bytes = array.bytes().await.unwrap();
    let elements: Vec<Value> = serde_json::from_slice(&bytes).expect("one JSON array");
    assert!(elements.len() >= 3);
    let read = decode_response(Dialect::Gemini, Some("application/json"), &bytes).unwrap();
    assert_eq!(read.text, text);
    assert_eq!(read.finish_reason.as_deref(), Some("STOP"));
}

#[tokio::test]
async fn gemini_tool_call_and_cached_usage() {
    let upstream = MockUpstream::start().await.unwrap();
    let mut body = gemini_body();
    body["cachedContent"] = json!("cachedContents/mock-1");
    let reply = gemini(
        &upstream,
        "/v1beta/models/mock-tool:streamGenerateContent?alt=sse",
        &body,
    )
    .await;
    let (chunks, _) = collect_chunks(reply).await;
    let read =
        decode_response(Dialect::Gemini, Some("text/event-stream"), &chunks.concat()).unwrap();
    assert_eq!(read.tool_calls.len(), 1);
    assert_eq!(read.tool_calls[0].name, "read");
    assert_eq!(
        read.tool_calls[0].arguments,
        r#"{"filePath":"src/main.rs"}"#
    );
    let usage = read.usage.unwrap();
    assert!(usage.cache_read_tokens > Some(0));
    assert!(usage.cache_read_tokens < usage.input_tokens);
}

#[tokio::test]
async fn gemini_errors_are_in_googles_shape() {
    let upstream = MockUpstream::start().await.unwrap();
    let reply = gemini(
        &upstream,
        "/v1beta/models/mock-400-context:generateContent",
        &gemini_body(),
    )
    .await;
    assert_eq!(reply.status(), 400);
    let bytes = reply.bytes().await.unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"]["code"], 400);
    assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
    assert!(error_object_message(&bytes)
        .unwrap_or_default()
        .starts_with("The input token count (1200293) exceeds"));
    let unknown = gemini(
        &upstream,
        "/v1beta/models/mock-400-model:generateContent",
        &gemini_body(),
    )
    .await;
    assert_eq!(unknown.status(), 404);
    let message = error_object_message(&unknown.bytes().await.unwrap()).unwrap_or_default();
    assert!(
        message.starts_with("models/mock-400-model is not found"),
        "{message}"
    );

    let cut = gemini(
        &upstream,
        "/v1beta/models/mock-sse-truncated:streamGenerateContent?alt=sse",
        &gemini_body(),
    )
    .await;
    let (chunks, _) = collect_chunks(cut).await;
    assert!(watch(Dialect::Gemini, &chunks).problem().is_some());
}

#[tokio::test]
async fn gemini_lists_models_and_counts_tokens() {
    let upstream = MockUpstream::start().await.unwrap();
    let list = client()
        .get(format!("{}/v1beta/models", upstream.url()))
        .send()
        .await
        .unwrap();
    let list: Value = serde_json::from_slice(&list.bytes().await.unwrap()).unwrap();
    assert_eq!(list["models"][0]["name"], "models/mock-ok");
    // The Python SDK lists at /v1/models; its headers say it is Google's.
    let sdk = client()
        .get(format!("{}/v1/models", upstream.url()))
        .header(
            "x-goog-api-client",
            "google-genai-sdk/1.30.0 gl-python/3.11.7",
        )
        .send()
        .await
        .unwrap();
    let sdk: Value = serde_json::from_slice(&sdk.bytes().await.unwrap()).unwrap();
    assert_eq!(sdk["models"][1]["name"], "models/mock-tool");
    let openai = client()
        .get(format!("{}/v1/models", upstream.url()))
        .send()
        .await
        .unwrap();
    let openai: Value = serde_json::from_slice(&openai.bytes().await.unwrap()).unwrap();
    assert_eq!(openai["data"][0]["id"], "mock-ok");
    let count = gemini(
        &upstream,
        "/v1beta/models/mock-ok:countTokens",
        &gemini_body(),
    )
    .await;
    let count: Value = serde_json::from_slice(&count.bytes().await.unwrap()).unwrap();
    assert!(count["totalTokens"].as_u64() > Some(0), "{count}");
}
