//! How the mock behaves on the wire: framing, connections, and the replies that break HTTP.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;
use crate::mock::MockUpstream;

#[tokio::test]
async fn reset_cuts_the_stream_with_an_rst() {
    let upstream = MockUpstream::start().await.unwrap();
    let body = r#"{"model":"mock-reset","stream":true}"#;
    let request = format!(
        "POST {CHAT} HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (reply, error) = raw_exchange(&upstream, request.as_bytes()).await;
    let reply = text(&reply);
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"));
    assert_eq!(reply.matches("data: ").count(), 2);
    assert!(!reply.ends_with("0\r\n\r\n"));
    assert_eq!(error, Some(std::io::ErrorKind::ConnectionReset));

    let (_, clean) = collect_chunks(post(&upstream, MESSAGES, "mock-reset", true).await).await;
    assert!(!clean, "reqwest saw a complete body");
}

#[tokio::test]
async fn malformed_reply_makes_reqwest_fail_with_a_parse_error() {
    let upstream = MockUpstream::start().await.unwrap();
    let error = client()
        .post(format!("{}{CHAT}", upstream.url()))
        .header("content-type", "application/json")
        .body(request_body(CHAT, "mock-malformed", false).to_string())
        .send()
        .await
        .unwrap_err();
    let mut chain = format!("{error}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        chain.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    assert!(chain.contains("invalid HTTP version parsed"), "{chain}");
}

#[tokio::test]
async fn status_line_then_close_fails_the_request() {
    let upstream = MockUpstream::start().await.unwrap();
    let (reply, _) = raw_exchange(
        &upstream,
        b"POST /v1/messages HTTP/1.1\r\nx-mock-behavior: mock-status-then-close\r\ncontent-length: 0\r\n\r\n",
    )
    .await;
    assert_eq!(reply, b"HTTP/1.1 200 OK\r\n");
    let result = client()
        .post(format!("{}{MESSAGES}", upstream.url()))
        .header("content-type", "application/json")
        .body(request_body(MESSAGES, "mock-status-then-close", false).to_string())
        .send()
        .await;
    assert!(result.is_err());
}

#[tokio::test]
async fn hang_never_answers_and_drop_closes_the_connection() {
    let upstream = MockUpstream::start().await.unwrap();
    let mut socket = TcpStream::connect(upstream.addr()).await.unwrap();
    let body = br#"{"model":"mock-hang"}"#;
    let head = format!(
        "POST {CHAT} HTTP/1.1\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(body).await.unwrap();
    let mut buf = [0u8; 64];
    let waited = tokio::time::timeout(Duration::from_millis(300), socket.read(&mut buf)).await;
    assert!(waited.is_err(), "the mock answered");
    assert_eq!(upstream.received()[0].body, body);
    drop(upstream);
    let closed = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buf)).await;
    assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))));
}

#[tokio::test]
async fn two_sequential_requests_share_one_connection() {
    let upstream = MockUpstream::start().await.unwrap();
    let client = client();
    for stream in [true, false] {
        let response = client
            .post(format!("{}{CHAT}", upstream.url()))
            .header("content-type", "application/json")
            .body(request_body(CHAT, "mock-ok", stream).to_string())
            .send()
            .await
            .unwrap();
        response.bytes().await.unwrap();
    }
    assert_eq!(upstream.received().len(), 2);
    assert_eq!(upstream.connections_accepted(), 1);
}

#[tokio::test]
async fn head_request_gets_a_head_and_the_connection_stays_usable() {
    let upstream = MockUpstream::start().await.unwrap();
    let client = client();
    let response = client
        .head(format!("{}/", upstream.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.unwrap().is_empty());
    post(&upstream, MESSAGES, "mock-ok", false).await;
    let second = client
        .get(format!("{}/v1/models", upstream.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 200);
    assert_eq!(upstream.received()[0].method, "HEAD");
}

#[tokio::test]
async fn echo_returns_the_body_and_records_headers_in_original_case() {
    let upstream = MockUpstream::start().await.unwrap();
    let request = b"PUT /echo/x?y=1 HTTP/1.1\r\nHost: mock\r\nX-Session-Id: ses_1\r\nContent-Type: application/json\r\nContent-Encoding: identity\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{\"a\":1}";
    let (reply, _) = raw_exchange(&upstream, request).await;
    let reply = text(&reply);
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    for line in [
        "content-type: application/json\r\n",
        "content-encoding: identity\r\n",
        "x-echo-method: PUT\r\n",
        "x-echo-target: /echo/x?y=1\r\n",
        "connection: close\r\n",
    ] {
        assert!(reply.contains(line), "missing {line:?} in {reply}");
    }
    assert!(reply.ends_with("\r\n\r\n{\"a\":1}"));
    let received = &upstream.received()[0];
    let names: Vec<&str> = received.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Host",
            "X-Session-Id",
            "Content-Type",
            "Content-Encoding",
            "Content-Length",
            "Connection"
        ]
    );
    assert_eq!(received.header("x-session-id"), Some("ses_1"));
}

#[tokio::test]
async fn chunked_request_body_is_read_whole() {
    let upstream = MockUpstream::start().await.unwrap();
    let request = b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\nGET /echo HTTP/1.1\r\nConnection: close\r\n\r\n";
    let (reply, _) = raw_exchange(&upstream, request).await;
    let reply = text(&reply);
    assert!(
        reply.contains("content-length: 12\r\n\r\nhello, world"),
        "{reply}"
    );
    assert_eq!(
        reply.matches("HTTP/1.1 200 OK").count(),
        2,
        "pipelined request lost"
    );
    assert_eq!(upstream.received()[0].body, b"hello, world");
}

#[tokio::test]
async fn expect_continue_gets_an_interim_reply_before_the_body() {
    let upstream = MockUpstream::start().await.unwrap();
    let mut socket = TcpStream::connect(upstream.addr()).await.unwrap();
    let head = "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut buf = [0u8; 256];
    let n = socket.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"HTTP/1.1 100 Continue\r\n\r\n");
    socket.write_all(b"body").await.unwrap();
    let n = socket.read(&mut buf).await.unwrap();
    assert!(text(&buf[..n]).ends_with("\r\n\r\nbody"));
}

#[tokio::test]
async fn oversized_head_is_refused_with_431() {
    let upstream = MockUpstream::start().await.unwrap();
    let mut request = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
    request.extend(std::iter::repeat_n(b'a', 70 * 1024));
    request.extend_from_slice(b"\r\n\r\n");
    let (reply, _) = raw_exchange(&upstream, &request).await;
    assert!(text(&reply).starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
    assert!(upstream.received().is_empty());
}
