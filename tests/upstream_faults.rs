//! An upstream that breaks HTTP in every way the mock can script: each time the agent gets
//! the faithful reply or a clear error, the record says what happened, and the proxy serves
//! the next request.

mod common;

use std::time::Duration;

use common::{chat_body, client, json, Harness, WAIT};
use llmscope::capture::{ExchangeState, FailureClass};
use llmscope::mock::{big_byte, MockBehavior};
use llmscope::proxy::RetryStop;

const CHAT: &str = "/v1/chat/completions";
const MESSAGES: &str = "/v1/messages";

async fn post(h: &Harness, path: &str, model: &str, stream: bool) -> reqwest::Response {
    post_with(h, path, model, stream, &[]).await
}

async fn post_with(
    h: &Harness,
    path: &str,
    model: &str,
    stream: bool,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = client()
        .post(h.url(path))
        .header("content-type", "application/json")
        .body(chat_body(model, stream));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("the proxy answers")
}

/// A plain request right after a fault is answered and recorded as a success.
async fn serves_the_next_request(h: &mut Harness) {
    let reply = post(h, CHAT, "mock-ok", false).await;
    assert_eq!(reply.status(), 200, "the next request is served");
    let body = json(&reply.bytes().await.expect("body"));
    assert_eq!(body["object"], "chat.completion");
    let record = h.next_finished().await;
    assert_eq!(record.failure, None, "the next request is a success");
}

/// The class each stored exchange ended with, in order.
fn stored_classes(stored: &[llmscope::store::StoredExchange]) -> Vec<Option<FailureClass>> {
    stored
        .iter()
        .map(|e| {
            assert_eq!(e.state, ExchangeState::Complete);
            e.record.failure.as_ref().map(|f| f.class)
        })
        .collect()
}

#[tokio::test]
async fn headers_over_64_kb_reach_the_agent_intact() {
    let mut h = Harness::start().await;
    let reply = post(&h, CHAT, "mock-huge-headers", false).await;
    assert_eq!(reply.status(), 200);
    let filler: usize = reply
        .headers()
        .get_all("x-mock-filler")
        .iter()
        .map(|v| v.len())
        .sum();
    assert_eq!(filler, 80 * 1024, "every filler header byte arrived");
    let body = json(&reply.bytes().await.expect("body"));
    assert_eq!(body["object"], "chat.completion");

    let record = h.next_finished().await;
    assert_eq!(record.failure, None);
    let response = record.response.as_ref().expect("a reply");
    let recorded: usize = response
        .headers
        .iter()
        .filter(|(name, _)| *name == "x-mock-filler")
        .map(|(_, v)| v.len())
        .sum();
    assert_eq!(recorded, 80 * 1024, "the record keeps the whole head");
    serves_the_next_request(&mut h).await;
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored_classes(&stored), [None, None]);
}

#[tokio::test]
async fn a_head_too_large_to_read_is_a_502_naming_the_malformed_reply() {
    let mut h = Harness::start().await;
    let one_mib = (1024 * 1024).to_string();
    let reply = post_with(
        &h,
        CHAT,
        "mock-huge-headers",
        false,
        &[("x-mock-size", one_mib.as_str())],
    )
    .await;
    assert_eq!(reply.status(), 502);
    assert_eq!(reply.headers()["x-llmscope-error"], "malformed_response");
    let body = json(&reply.bytes().await.expect("body"));
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("llmscope: upstream sent a malformed HTTP response"),
        "{message}"
    );

    let record = h.next_finished().await;
    let failure = record.failure.clone().expect("failed");
    assert_eq!(
        failure.class,
        FailureClass::MalformedResponse,
        "{failure:?}"
    );
    assert!(record.response.is_none(), "no head was accepted");
    serves_the_next_request(&mut h).await;
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(
        stored_classes(&stored),
        [Some(FailureClass::MalformedResponse), None]
    );
}

#[tokio::test]
async fn body_shorter_than_its_content_length_is_a_reset_and_the_agent_is_told_why() {
    let mut h = Harness::start().await;
    let reply = post(&h, CHAT, "mock-short-body", false).await;
    assert_eq!(
        reply.status(),
        502,
        "llmscope's error instead of a cut body"
    );
    assert_eq!(reply.headers()["x-llmscope-error"], "reset");
    let body = json(&reply.bytes().await.expect("a whole body"));
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("llmscope: ") && message.contains("in the middle of its reply"),
        "{body}"
    );
    let record = h.next_finished().await;
    assert_eq!(
        record.failure.as_ref().map(|f| f.class),
        Some(FailureClass::Reset)
    );
    let response = record.response.as_ref().expect("the head arrived");
    assert_eq!(response.status, 200, "the record keeps the upstream's head");
    assert!(json(&response.body)["choices"].is_array(), "and what came");
    serves_the_next_request(&mut h).await;
    h.stop_and_load().await;
}

#[tokio::test]
async fn with_exact_replies_a_body_shorter_than_its_content_length_reaches_the_agent_cut() {
    let mut h = Harness::start_with(|c| c.readable_replies = false).await;
    let reply = post(&h, CHAT, "mock-short-body", false).await;
    assert_eq!(reply.status(), 200, "the upstream's head is passed on");
    assert!(
        reply.bytes().await.is_err(),
        "the agent sees an incomplete body, as it would without llmscope"
    );

    let record = h.next_finished().await;
    let failure = record.failure.clone().expect("failed");
    assert_eq!(failure.class, FailureClass::Reset, "{failure:?}");
    assert!(
        failure.message.contains("in the middle of its reply"),
        "{failure:?}"
    );
    let response = record.response.as_ref().expect("the head arrived");
    let declared: u64 = response
        .headers
        .iter()
        .find(|(name, _)| *name == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .expect("Content-Length recorded");
    assert_eq!(
        response.body_len * 2,
        declared,
        "half the promised bytes came"
    );
    assert!(
        json(&response.body)["choices"].is_array(),
        "what came is kept"
    );
    serves_the_next_request(&mut h).await;
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored_classes(&stored), [Some(FailureClass::Reset), None]);
}

/// The head and the break of a short reply reach the proxy together; hyper must write the
/// head before the agent's body is failed, every time, not a bare close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_reply_broken_with_its_head_always_reaches_the_agent_with_that_head() {
    // Fifty identical failing requests are a retry loop; this is about hyper's writes.
    let mut h = Harness::start_with(|c| {
        c.readable_replies = false;
        c.retry_stop = RetryStop::OFF;
    })
    .await;
    for model in ["mock-short-body", "mock-reset-after-head"] {
        for round in 0..25 {
            let reply = client()
                .post(h.url(CHAT))
                .body(chat_body(model, false))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{model} round {round}: no head, {e}"));
            assert_eq!(reply.status(), 200, "{model} round {round}");
            assert!(reply.bytes().await.is_err(), "{model} round {round}");
            let failure = h.next_finished().await.failure.clone().expect("failed");
            assert_eq!(failure.class, FailureClass::Reset, "{model}: {failure:?}");
        }
    }
    serves_the_next_request(&mut h).await;
    h.stop_and_load().await;
}

#[tokio::test]
async fn bytes_beyond_the_content_length_never_reach_another_request() {
    let mut h = Harness::start().await;
    let http = client();
    // Several rounds: a connection left holding the extra bytes would be reused by one of the
    // requests that follow.
    for round in 0..5 {
        let reply = http
            .post(h.url(CHAT))
            .body(chat_body("mock-long-body", false))
            .send()
            .await
            .expect("answered");
        assert_eq!(reply.status(), 200);
        let body = reply.text().await.expect("body");
        assert!(!body.contains("smuggled"), "round {round}: {body}");
        assert_eq!(json(body.as_bytes())["object"], "chat.completion");
        assert_eq!(h.next_finished().await.failure, None);

        for _ in 0..3 {
            let reply = http
                .post(h.url(CHAT))
                .body(chat_body("mock-ok", false))
                .send()
                .await
                .expect("answered");
            let body = reply.text().await.expect("body");
            assert!(
                !body.contains("smuggled"),
                "round {round}: another request got the extra bytes: {body}"
            );
            assert_eq!(json(body.as_bytes())["object"], "chat.completion");
            assert_eq!(h.next_finished().await.failure, None);
        }
    }
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 20);
    assert!(stored_classes(&stored).iter().all(Option::is_none));
}

#[tokio::test]
async fn bad_chunk_sizes_end_the_stream_with_an_error_event_naming_the_malformed_reply() {
    // The same request each time, failing the same way: a loop llmscope would stop.
    let mut h = Harness::start_with(|c| c.retry_stop = RetryStop::OFF).await;
    let bad_lines = ["zz", "fffffffffffffffffffff", "-1", "4 x", " "];
    for line in bad_lines {
        let reply = post_with(
            &h,
            MESSAGES,
            "mock-bad-chunk",
            true,
            &[("x-mock-chunk-line", line)],
        )
        .await;
        assert_eq!(reply.status(), 200);
        let text = reply.text().await.expect("the agent's stream ends cleanly");
        assert!(text.contains("message_start"), "{line:?}: {text}");
        assert!(text.contains("event: error"), "{line:?}: {text}");
        assert!(
            text.contains("llmscope: upstream sent a malformed HTTP response"),
            "{line:?}: {text}"
        );
        let failure = h.next_finished().await.failure.clone().expect("failed");
        assert_eq!(
            failure.class,
            FailureClass::MalformedResponse,
            "{line:?}: {failure:?}"
        );
        serves_the_next_request(&mut h).await;
    }
    let (stored, _dir) = h.stop_and_load().await;
    let classes = stored_classes(&stored);
    assert_eq!(classes.len(), bad_lines.len() * 2);
    for pair in classes.chunks(2) {
        assert_eq!(pair, [Some(FailureClass::MalformedResponse), None]);
    }
}

#[tokio::test]
async fn reset_right_after_the_head_is_a_reset_for_streams_and_whole_replies() {
    let mut h = Harness::start().await;
    let reply = post(&h, CHAT, "mock-reset-after-head", true).await;
    assert_eq!(reply.status(), 200);
    let text = reply.text().await.expect("the agent's stream ends cleanly");
    let last = text.trim_end().lines().last().unwrap_or_default();
    assert!(last.starts_with("data: {\"error\""), "{text}");
    assert!(
        last.contains("llmscope: upstream connection broke"),
        "{text}"
    );
    let failure = h.next_finished().await.failure.clone().expect("failed");
    assert_eq!(failure.class, FailureClass::Reset, "{failure:?}");
    serves_the_next_request(&mut h).await;

    let reply = post(&h, CHAT, "mock-reset-after-head", false).await;
    assert_eq!(
        reply.status(),
        502,
        "a whole reply cut after its head: the reason"
    );
    let body = json(&reply.bytes().await.expect("a whole body"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("llmscope: upstream connection broke"),
        "{body}"
    );
    let failure = h.next_finished().await.failure.clone().expect("failed");
    assert_eq!(failure.class, FailureClass::Reset, "{failure:?}");
    serves_the_next_request(&mut h).await;

    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(
        stored_classes(&stored),
        [
            Some(FailureClass::Reset),
            None,
            Some(FailureClass::Reset),
            None
        ]
    );
}

#[tokio::test]
async fn stream_that_stalls_after_its_head_times_out_and_the_upstream_is_let_go() {
    let mut h = Harness::start_with(|c| c.idle_timeout = Duration::from_millis(500)).await;
    let reply = post(&h, MESSAGES, "mock-stall", true).await;
    assert_eq!(reply.status(), 200);
    let text = tokio::time::timeout(WAIT, reply.text())
        .await
        .expect("the stream ends instead of hanging")
        .expect("the agent's stream ends cleanly");
    assert!(text.contains("message_start"), "{text}");
    assert!(text.contains("event: error"), "{text}");
    assert!(text.contains("went silent"), "{text}");

    let record = h.next_finished().await;
    let failure = record.failure.clone().expect("failed");
    assert_eq!(failure.class, FailureClass::Timeout, "{failure:?}");
    assert!(
        failure.message.contains("in the middle of its reply"),
        "{failure:?}"
    );
    assert!(
        String::from_utf8_lossy(&record.response.as_ref().expect("head").body)
            .contains("message_start"),
        "the event before the stall is kept"
    );
    wait_for_abandoned(&h, 1).await;
    serves_the_next_request(&mut h).await;
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored_classes(&stored), [Some(FailureClass::Timeout), None]);
}

/// Waits until the mock has seen `n` replies abandoned by the proxy.
pub async fn wait_for_abandoned(h: &Harness, n: usize) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_reply_reaches_the_agent_whole_and_is_recorded_up_to_the_cap() {
    large_reply_is_relayed_whole_and_captured_to(20 * 1024 * 1024, 1024 * 1024).await;
}

/// The size: 200 MB through the proxy, 64 MiB (the default cap) recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "streams 200 MB: cargo test --release --test upstream_faults -- --ignored"]
async fn reply_of_200_mb_reaches_the_agent_whole_and_is_recorded_up_to_the_default_cap() {
    large_reply_is_relayed_whole_and_captured_to(200 * 1000 * 1000, 64 * 1024 * 1024).await;
}

async fn large_reply_is_relayed_whole_and_captured_to(total: usize, cap: usize) {
    let mut h = Harness::start_with(|c| c.max_capture_bytes = cap).await;
    let size = total.to_string();
    let mut reply = post_with(&h, CHAT, "mock-big", false, &[("x-mock-size", &size)]).await;
    assert_eq!(reply.status(), 200);
    let mut received = 0usize;
    let mut mismatches = 0usize;
    while let Some(chunk) = reply.chunk().await.expect("the body reads") {
        mismatches += chunk
            .iter()
            .enumerate()
            .filter(|(i, b)| **b != big_byte(received + i))
            .count();
        received += chunk.len();
    }
    assert_eq!(received, total, "the agent got every byte");
    assert_eq!(mismatches, 0, "the agent got the right bytes");

    let record = h.next_finished().await;
    assert_eq!(record.failure, None);
    let response = record.response.as_ref().expect("reply");
    assert_eq!(response.body_len, total as u64);
    assert_eq!(response.body.len(), cap);
    assert!(response.truncated());
    serves_the_next_request(&mut h).await;

    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored_classes(&stored), [None, None]);
    let kept = stored[0].record.response.as_ref().expect("stored reply");
    assert!(kept.truncated(), "the store marks the truncation");
    assert_eq!(kept.body_len, total as u64);
    assert_eq!(kept.body.len(), cap);
    assert!(kept.body.iter().enumerate().all(|(i, b)| *b == big_byte(i)));
}

/// A reply too large to be read whole before the agent gets it, cut by its upstream part-way:
/// the agent gets every byte that came and then a broken body, never a clean end that would
/// pass a cut reply off as whole.
#[tokio::test]
async fn a_streamed_reply_cut_mid_body_reaches_the_agent_cut_after_every_byte_that_came() {
    a_streamed_reply_cut_at(300 * 1024).await;
}

/// The same with the cut right after the head: the agent still gets the upstream's head, not
/// a bare close.
#[tokio::test]
async fn a_streamed_reply_cut_right_after_its_head_reaches_the_agent_with_that_head() {
    a_streamed_reply_cut_at(0).await;
}

async fn a_streamed_reply_cut_at(cut: usize) {
    let mut h = Harness::start().await;
    let size = 1024 * 1024;
    let headers = [
        ("x-mock-size", size.to_string()),
        ("x-mock-cut", cut.to_string()),
    ];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let mut reply = post_with(&h, CHAT, "mock-big", false, &headers).await;
    assert_eq!(reply.status(), 200, "the upstream's head is passed on");
    let mut received = 0usize;
    let ended = loop {
        match reply.chunk().await {
            Ok(Some(chunk)) => {
                assert!(chunk
                    .iter()
                    .enumerate()
                    .all(|(i, b)| *b == big_byte(received + i)));
                received += chunk.len();
            }
            Ok(None) => break "a clean end",
            Err(_) => break "a broken body",
        }
    };
    assert_eq!(ended, "a broken body");
    assert_eq!(received, cut, "every byte that came reached the agent");

    let record = h.next_finished().await;
    let failure = record.failure.clone().expect("failed");
    assert_eq!(failure.class, FailureClass::Reset, "{failure:?}");
    let response = record.response.as_ref().expect("the head arrived");
    assert_eq!(response.body_len, cut as u64, "the record has what came");
    serves_the_next_request(&mut h).await;
    h.stop_and_load().await;
}

/// Every reply the mock can break, one after another on one proxy: each one ends with its
/// class, and a good request after each is served.
#[tokio::test]
async fn proxy_serves_the_next_request_after_every_kind_of_broken_reply() {
    let mut h = Harness::start_with(|c| c.idle_timeout = Duration::from_millis(500)).await;
    let faults = [
        (
            MockBehavior::Malformed,
            false,
            FailureClass::MalformedResponse,
        ),
        (MockBehavior::Reset, true, FailureClass::Reset),
        (MockBehavior::ResetAfterHead, true, FailureClass::Reset),
        (MockBehavior::ShortBody, false, FailureClass::Reset),
        (
            MockBehavior::BadChunk,
            true,
            FailureClass::MalformedResponse,
        ),
        (MockBehavior::SseTruncated, true, FailureClass::StreamError),
        (MockBehavior::SseError, true, FailureClass::StreamError),
        (MockBehavior::ErrorIn200, false, FailureClass::ErrorIn200),
        (
            MockBehavior::Overloaded529,
            false,
            FailureClass::HttpError(529),
        ),
        (MockBehavior::Hang, false, FailureClass::Timeout),
        (MockBehavior::Stall, true, FailureClass::Timeout),
    ];
    let mut expected = Vec::new();
    for (behavior, stream, class) in faults {
        // The agent always gets a head (the upstream's or llmscope's) and a body that ends,
        // whole or cut.
        let reply = post(&h, CHAT, behavior.name(), stream).await;
        let read = tokio::time::timeout(WAIT, reply.bytes()).await;
        assert!(read.is_ok(), "{behavior}: the agent's body ends");
        let failure = h.next_finished().await.failure.clone();
        assert_eq!(
            failure.as_ref().map(|f| f.class),
            Some(class),
            "{behavior}: {failure:?}"
        );
        serves_the_next_request(&mut h).await;
        expected.extend([Some(class), None]);
    }
    // The status-then-close reply may read as a reset or as a malformed head.
    let reply = post(&h, CHAT, "mock-status-then-close", false).await;
    assert_eq!(reply.status(), 502);
    h.next_finished().await;
    serves_the_next_request(&mut h).await;

    let (stored, _dir) = h.stop_and_load().await;
    let classes = stored_classes(&stored);
    assert_eq!(classes[..expected.len()], expected[..]);
    assert_eq!(classes.len(), expected.len() + 2);
}

/// A reply larger than the bodies the store's writer may have queued, arriving while nothing
/// else is queued: it is stored whole, as `--max-capture-bytes` promises.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_larger_than_the_writers_queue_bound_is_stored_whole() {
    let total = 12 * 1024 * 1024;
    let mut h = Harness::start().await;
    let size = total.to_string();
    let mut reply = post_with(&h, CHAT, "mock-big", false, &[("x-mock-size", &size)]).await;
    assert_eq!(reply.status(), 200);
    let mut received = 0usize;
    while let Some(chunk) = reply.chunk().await.expect("the body reads") {
        received += chunk.len();
    }
    assert_eq!(received, total, "the agent got every byte");
    let record = h.next_finished().await;
    let captured = record.response.as_ref().expect("reply");
    assert_eq!(
        captured.body.len(),
        total,
        "the proxy captured the whole body"
    );
    let (stored, _dir) = h.stop_and_load().await;
    let kept = stored[0].record.response.as_ref().expect("stored reply");
    assert_eq!(kept.body_len, total as u64);
    assert_eq!(kept.body.len(), total, "the store kept the whole body");
    assert!(kept.body.iter().enumerate().all(|(i, b)| *b == big_byte(i)));
}
