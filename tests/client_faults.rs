//! A client that misbehaves: bytes that are not HTTP, a head sent a byte at a time, hundreds of
//! idle connections, a body cut short, an agent that leaves mid-reply. The proxy answers what
//! can be answered, records what was an exchange, lets go of the upstream when the agent
//! leaves, and keeps serving everyone else.

mod common;

use std::time::Duration;

use common::{chat_body, client, json, Harness, WAIT};
use llmscope::capture::{ExchangeState, FailureClass};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CHAT: &str = "/v1/chat/completions";

fn proxy_addr(h: &Harness) -> String {
    h.proxy_url.trim_start_matches("http://").to_string()
}

/// Writes `bytes` on a fresh connection and reads until the proxy closes it.
async fn raw_exchange(h: &Harness, bytes: &[u8]) -> Vec<u8> {
    let mut socket = TcpStream::connect(proxy_addr(h)).await.expect("connects");
    // The proxy may answer and close before reading everything; that is not a failure here.
    let _ = socket.write_all(bytes).await;
    read_until_closed(&mut socket).await
}

async fn read_until_closed(socket: &mut TcpStream) -> Vec<u8> {
    let mut reply = Vec::new();
    let read = tokio::time::timeout(WAIT, async {
        let mut buf = [0u8; 4096];
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => reply.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the proxy closes the connection in time");
    reply
}

/// A complete request as raw bytes, closing the connection after its reply.
fn raw_request(model: &str) -> Vec<u8> {
    let body = chat_body(model, false);
    format!(
        "POST {CHAT} HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn serves_a_request(h: &mut Harness) {
    let reply = client()
        .post(h.url(CHAT))
        .header("content-type", "application/json")
        .body(chat_body("mock-ok", false))
        .send()
        .await
        .expect("answered");
    assert_eq!(reply.status(), 200);
    assert_eq!(
        json(&reply.bytes().await.expect("body"))["object"],
        "chat.completion"
    );
    assert_eq!(h.next_finished().await.failure, None);
}

#[tokio::test]
async fn bytes_that_are_not_http_get_a_400_and_are_not_an_exchange() {
    let mut h = Harness::start().await;
    let noise: Vec<u8> = (0..2048u32).map(|n| (n * 131 % 251) as u8).collect();
    let tls_client_hello = [
        0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0xde, 0xad,
    ];
    let inputs: [(&str, &[u8]); 6] = [
        ("binary noise", &noise),
        ("a TLS ClientHello", &tls_client_hello),
        ("an SSH banner", b"SSH-2.0-OpenSSH_9.6\r\n\r\n"),
        (
            "a header without a colon",
            b"POST /v1/chat/completions HTTP/1.1\r\nnocolon\r\n\r\n",
        ),
        (
            "two Content-Lengths",
            b"POST / HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab",
        ),
        ("an unknown version", b"GET / HTTP/7.1\r\n\r\n"),
    ];
    for (what, bytes) in inputs {
        let reply = raw_exchange(&h, bytes).await;
        let text = String::from_utf8_lossy(&reply);
        assert!(
            text.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{what}: the proxy answers 400, got {text:?}"
        );
        serves_a_request(&mut h).await;
    }
    // Garbage is nobody's exchange: only the good requests are in the record.
    assert!(h.mock.received().iter().all(|r| r.target == CHAT));
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), inputs.len());
    assert!(stored.iter().all(|e| e.record.failure.is_none()));
}

#[tokio::test]
async fn a_client_sending_a_byte_a_second_is_still_served() {
    let mut h = Harness::start().await;
    let request = raw_request("mock-ok");
    let mut socket = TcpStream::connect(proxy_addr(&h)).await.expect("connects");
    for byte in &request[..3] {
        socket.write_all(&[*byte]).await.expect("a byte goes out");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    socket
        .write_all(&request[3..])
        .await
        .expect("the rest goes out");
    let reply = read_until_closed(&mut socket).await;
    let text = String::from_utf8_lossy(&reply);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("chat.completion"), "{text}");
    assert_eq!(h.next_finished().await.failure, None);
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 1);
}

#[tokio::test]
async fn a_client_trickling_its_head_past_the_header_timeout_is_cut_off() {
    let mut h = Harness::start_with(|c| c.header_read_timeout = Duration::from_millis(600)).await;
    let request = raw_request("mock-ok");
    let mut socket = TcpStream::connect(proxy_addr(&h)).await.expect("connects");
    let mut cut_off = false;
    // At most 40 bytes over 8 s: far past the timeout, far short of a whole head.
    for byte in &request[..40] {
        if socket.write_all(&[*byte]).await.is_err() {
            cut_off = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut probe = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(1), socket.read(&mut probe)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                cut_off = true;
                break;
            }
            Ok(Ok(n)) => {
                let text = String::from_utf8_lossy(&probe[..n]);
                assert!(
                    !text.contains(" 200 "),
                    "a trickled head was served: {text}"
                );
            }
            Err(_) => {}
        }
    }
    assert!(cut_off, "the proxy closed the trickling connection");
    assert!(h.mock.received().is_empty(), "nothing was forwarded");
    serves_a_request(&mut h).await;
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_idle_connections_do_not_keep_a_request_from_being_served() {
    let mut h = Harness::start().await;
    let addr = proxy_addr(&h);
    let mut idle = Vec::with_capacity(500);
    for n in 0..500 {
        let mut socket = TcpStream::connect(&addr)
            .await
            .expect("idle connection opens");
        // Half say nothing at all, half stop in the middle of a request head.
        if n % 2 == 1 {
            socket
                .write_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
                .await
                .expect("partial head");
        }
        idle.push(socket);
    }
    serves_a_request(&mut h).await;
    let reply = raw_exchange(&h, &raw_request("mock-tool")).await;
    assert!(String::from_utf8_lossy(&reply).starts_with("HTTP/1.1 200 OK\r\n"));
    assert_eq!(h.next_finished().await.failure, None);
    drop(idle);
    serves_a_request(&mut h).await;
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 3, "the idle connections are not exchanges");
}

#[tokio::test]
async fn a_request_body_cut_short_by_the_agent_is_client_aborted_and_not_forwarded() {
    let mut h = Harness::start().await;
    let mut socket = TcpStream::connect(proxy_addr(&h)).await.expect("connects");
    socket
        .write_all(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-length: 1000\r\n\r\n{\"model\":",
        )
        .await
        .expect("head and part of the body");
    socket.shutdown().await.expect("the agent stops sending");
    let _ = read_until_closed(&mut socket).await;

    let record = h.next_finished().await;
    let failure = record.failure.clone().expect("failed");
    assert_eq!(failure.class, FailureClass::ClientAborted, "{failure:?}");
    assert!(
        failure.message.contains("stopped sending its request"),
        "{failure:?}"
    );
    assert!(
        h.mock.received().is_empty(),
        "half a request is not forwarded"
    );
    serves_a_request(&mut h).await;
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(
        stored[0].record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::ClientAborted)
    );
}

/// Waits until the mock has seen `n` replies abandoned by the proxy.
async fn wait_for_abandoned(h: &Harness, n: usize) {
    let waited = tokio::time::timeout(WAIT, async {
        while h.mock.replies_abandoned() < n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "the upstream saw {} of {n} replies abandoned",
        h.mock.replies_abandoned()
    );
}

#[tokio::test]
async fn an_agent_leaving_mid_stream_cancels_the_upstream_request() {
    let mut h = Harness::start().await;
    let mut reply = client()
        .post(h.url(CHAT))
        .body(chat_body("mock-slow-stream", true))
        .send()
        .await
        .expect("answered");
    let first = reply.chunk().await.expect("first chunk reads");
    assert!(first.is_some());
    drop(reply);

    let record = h.next_finished().await;
    let failure = record.failure.clone().expect("failed");
    assert_eq!(failure.class, FailureClass::ClientAborted, "{failure:?}");
    assert!(
        failure.message.contains("before the reply ended"),
        "{failure:?}"
    );
    wait_for_abandoned(&h, 1).await;
    serves_a_request(&mut h).await;
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored[0].state, ExchangeState::Complete);
    assert_eq!(
        stored[0].record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::ClientAborted)
    );
}

#[tokio::test]
async fn an_agent_leaving_before_the_head_cancels_the_upstream_request() {
    let mut h = Harness::start().await;
    for model in ["mock-hang", "mock-stall"] {
        let gave_up = client()
            .post(h.url(CHAT))
            .body(chat_body(model, true))
            .timeout(Duration::from_millis(300))
            .send()
            .await
            .and_then(|r| r.error_for_status());
        // mock-stall's head arrives; then the body read is what times out.
        if let Ok(reply) = gave_up {
            assert!(reply.bytes().await.is_err(), "{model}: the client gave up");
        }
        let failure = h.next_finished().await.failure.clone().expect("failed");
        assert_eq!(
            failure.class,
            FailureClass::ClientAborted,
            "{model}: {failure:?}"
        );
    }
    wait_for_abandoned(&h, 2).await;
    serves_a_request(&mut h).await;
    let (stored, _dir) = h.stop_and_load().await;
    let classes: Vec<_> = stored
        .iter()
        .map(|e| e.record.failure.as_ref().map(|f| f.class))
        .collect();
    assert_eq!(
        classes,
        [
            Some(FailureClass::ClientAborted),
            Some(FailureClass::ClientAborted),
            None
        ]
    );
}
