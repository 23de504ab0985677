//! Forwarding fidelity: what the upstream receives and what the agent gets back are what a
//! direct connection would have carried.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{chat_body, client, Harness, WAIT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn method_query_headers_and_binary_body_arrive_unchanged() {
    let mut h = Harness::start().await;
    let body: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let reply = client()
        .patch(h.url("/echo/v1/things?x=1&y=%2F&beta=true"))
        .header("Authorization", "Bearer sk-test-passthrough")
        .header("X-Session-Id", "ses_abc")
        .header("anthropic-beta", "a,b")
        .header("content-type", "application/octet-stream")
        .body(body.clone())
        .send()
        .await
        .expect("answered");
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers()["x-echo-method"], "PATCH");
    assert_eq!(reply.bytes().await.expect("body").as_ref(), body.as_slice());

    let received = h.mock.received();
    assert_eq!(received.len(), 1);
    let got = &received[0];
    assert_eq!(got.method, "PATCH");
    assert_eq!(got.target, "/echo/v1/things?x=1&y=%2F&beta=true");
    assert_eq!(got.body, body);
    let header = |name: &str| {
        got.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    // The upstream needs the real credential; only the record is redacted.
    assert_eq!(
        header("authorization").as_deref(),
        Some("Bearer sk-test-passthrough")
    );
    assert_eq!(header("x-session-id").as_deref(), Some("ses_abc"));
    assert_eq!(header("anthropic-beta").as_deref(), Some("a,b"));
    let host = header("host").expect("host sent");
    assert_eq!(host, h.mock.addr().to_string(), "Host names the upstream");

    let record = h.next_finished().await;
    assert!(record.failure.is_none());
    assert_eq!(
        record.start.request.uri,
        "/echo/v1/things?x=1&y=%2F&beta=true"
    );
    h.stop_and_load().await;
}

#[tokio::test]
async fn upstream_path_prefix_is_kept() {
    let mut h = Harness::start_with(|c| {
        let prefixed = format!("{}/litellm", c.upstream);
        c.upstream = llmscope::proxy::Upstream::parse(&prefixed).expect("url");
    })
    .await;
    let reply = client()
        .post(h.url("/v1/chat/completions"))
        .body(chat_body("mock-ok", false))
        .send()
        .await
        .expect("answered");
    assert_eq!(reply.status(), 200);
    assert_eq!(h.mock.received()[0].target, "/litellm/v1/chat/completions");
    h.next_finished().await;
    h.stop_and_load().await;
}

#[tokio::test]
async fn two_megabyte_bodies_pass_both_ways_and_are_recorded() {
    let mut h = Harness::start().await;
    let body: Vec<u8> = (0..2 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let reply = client()
        .post(h.url("/echo"))
        .body(body.clone())
        .send()
        .await
        .expect("answered");
    let echoed = reply.bytes().await.expect("body");
    assert_eq!(echoed.len(), body.len());
    assert!(echoed.as_ref() == body.as_slice());
    h.next_finished().await;
    let (stored, _dir) = h.stop_and_load().await;
    let record = &stored[0].record;
    assert_eq!(record.start.request.body.as_ref(), body.as_slice());
    let response = record.response.as_ref().expect("response recorded");
    assert_eq!(response.body.as_ref(), body.as_slice());
    assert!(!response.truncated());
}

#[tokio::test]
async fn gzip_reply_passes_through_compressed() {
    let mut h = Harness::start().await;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(br#"{"choices":[{"message":{"content":"compressed hello"}}]}"#)
        .expect("gzip");
    let gzipped = encoder.finish().expect("gzip");
    let reply = client()
        .post(h.url("/echo"))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gzipped.clone())
        .send()
        .await
        .expect("answered");
    assert_eq!(reply.headers()["content-encoding"], "gzip");
    assert_eq!(
        reply.bytes().await.expect("body").as_ref(),
        gzipped.as_slice()
    );
    let record = h.next_finished().await;
    let response = record.response.as_ref().expect("recorded");
    assert_eq!(
        response.body.as_ref(),
        gzipped.as_slice(),
        "recorded as received"
    );
    h.stop_and_load().await;
}

#[tokio::test]
async fn chunked_request_body_is_forwarded_whole() {
    let mut h = Harness::start().await;
    let addr = h.proxy_url.trim_start_matches("http://").to_string();
    let mut socket = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let request = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    socket.write_all(request.as_bytes()).await.expect("write");
    let mut reply = Vec::new();
    tokio::time::timeout(WAIT, socket.read_to_end(&mut reply))
        .await
        .expect("in time")
        .expect("read");
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.ends_with("hello world"), "{reply}");
    assert_eq!(h.mock.received()[0].body, b"hello world");
    h.next_finished().await;
    h.stop_and_load().await;
}

#[tokio::test]
async fn keep_alive_reuses_connections_on_both_sides() {
    let mut h = Harness::start().await;
    let agent = client();
    for _ in 0..3 {
        let reply = agent
            .post(h.url("/v1/chat/completions"))
            .body(chat_body("mock-ok", false))
            .send()
            .await
            .expect("answered");
        assert_eq!(reply.status(), 200);
        reply.bytes().await.expect("body");
        h.next_finished().await;
    }
    assert_eq!(h.mock.connections_accepted(), 1);
    h.stop_and_load().await;
}

#[tokio::test]
async fn first_sse_chunk_reaches_the_agent_while_upstream_holds_the_rest() {
    let mut h = Harness::start().await;
    let mut reply = client()
        .post(h.url("/v1/chat/completions"))
        .body(chat_body("mock-gated", true))
        .send()
        .await
        .expect("head arrives before the stream ends");
    assert_eq!(reply.headers()["content-type"], "text/event-stream");
    let first = tokio::time::timeout(Duration::from_secs(5), reply.chunk())
        .await
        .expect("first chunk arrives while the upstream is gated")
        .expect("reads")
        .expect("a chunk");
    assert!(String::from_utf8_lossy(&first).starts_with("data: "));
    h.mock.release_gate();
    let mut rest = Vec::new();
    while let Some(chunk) = reply.chunk().await.expect("stream continues") {
        rest.extend_from_slice(&chunk);
    }
    assert!(String::from_utf8_lossy(&rest).contains("data: [DONE]"));
    let record = h.next_finished().await;
    assert!(record.failure.is_none(), "{:?}", record.failure);
    h.stop_and_load().await;
}

#[tokio::test]
async fn streamed_reply_matches_a_direct_connection_byte_for_byte() {
    let h = Harness::start().await;
    let body = chat_body("mock-ok", true);
    let direct = client()
        .post(format!("{}/v1/chat/completions", h.mock.url()))
        .body(body.clone())
        .send()
        .await
        .expect("direct")
        .bytes()
        .await
        .expect("direct body");
    let proxied = client()
        .post(h.url("/v1/chat/completions"))
        .body(body)
        .send()
        .await
        .expect("proxied")
        .bytes()
        .await
        .expect("proxied body");
    assert_eq!(direct, proxied);
    h.stop_and_load().await;
}
