//! The mock through real loopback sockets: reqwest where a real client says it best, raw
//! `TcpStream` where the wire bytes themselves are the point.

mod dialects;
mod gemini;
mod wire;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::MockUpstream;
use crate::llm::{Dialect, StreamVerdict, StreamWatch};

pub(super) const CHAT: &str = "/v1/chat/completions";
pub(super) const RESPONSES: &str = "/v1/responses";
pub(super) const MESSAGES: &str = "/v1/messages?beta=true";
pub(super) const DIALECT_PATHS: [(&str, Dialect); 3] = [
    (CHAT, Dialect::OpenAiChat),
    (RESPONSES, Dialect::OpenAiResponses),
    (MESSAGES, Dialect::Anthropic),
];

pub(super) fn client() -> reqwest::Client {
    // reqwest is built without a rustls provider; plain HTTP still needs one to build a client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

pub(super) fn request_body(path: &str, model: &str, stream: bool) -> Value {
    if path == RESPONSES {
        json!({"model": model, "stream": stream, "input": [{"role": "user", "content": [{"type": "input_text", "text": "What is in src?"}]}]})
    } else {
        json!({"model": model, "stream": stream, "stream_options": {"include_usage": true},
               "messages": [{"role": "user", "content": "What is in src?"}]})
    }
}

pub(super) async fn post(
    upstream: &MockUpstream,
    path: &str,
    model: &str,
    stream: bool,
) -> reqwest::Response {
    client()
        .post(format!("{}{path}", upstream.url()))
        .header("content-type", "application/json")
        .body(request_body(path, model, stream).to_string())
        .send()
        .await
        .unwrap()
}

/// The body's chunks as they arrived, and whether the body ended without a transport error.
pub(super) async fn collect_chunks(response: reqwest::Response) -> (Vec<bytes::Bytes>, bool) {
    let mut stream = response.bytes_stream();
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => chunks.push(chunk),
            Err(_) => return (chunks, false),
        }
    }
    (chunks, true)
}

pub(super) fn watch(dialect: Dialect, chunks: &[bytes::Bytes]) -> StreamVerdict {
    let mut watch = StreamWatch::new(dialect);
    chunks.iter().for_each(|c| watch.push(c));
    watch.verdict().clone()
}

/// Writes `request` and reads until the mock closes, the connection breaks, or 5 s pass.
pub(super) async fn raw_exchange(
    upstream: &MockUpstream,
    request: &[u8],
) -> (Vec<u8>, Option<std::io::ErrorKind>) {
    let mut socket = TcpStream::connect(upstream.addr()).await.unwrap();
    socket.write_all(request).await.unwrap();
    let mut reply = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.read(&mut buf)).await {
            Ok(Ok(0)) | Err(_) => return (reply, None),
            Ok(Ok(n)) => reply.extend_from_slice(&buf[..n]),
            Ok(Err(error)) => return (reply, Some(error.kind())),
        }
    }
}

pub(super) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
