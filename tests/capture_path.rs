//! What the proxy skips or defers on its forwarding path for speed never changes what a user
//! sees: with only the record listening (`llmscope record`) and with a live screen as well,
//! every exchange is recorded whole, its secrets redacted, its reply as the agent got it.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use common::{chat_body, client, WAIT};
use llmscope::capture::{CaptureEvent, ExchangeRecord, Interest, Subscription};
use llmscope::mock::MockUpstream;
use llmscope::proxy::{ProxyConfig, Upstream};
use llmscope::recorder::Recording;

/// What the agent got back.
struct Received {
    status: u16,
    content_type: Option<String>,
    body: Bytes,
}

async fn send(proxy: &str, model: &str, stream: bool) -> Received {
    let reply = client()
        .post(format!(
            "{proxy}/v1/chat/completions?trace=on&api_key=sk-query-PLANTED"
        ))
        .header("Authorization", "Bearer sk-live-PLANTED")
        .header("x-portkey-virtual-key", "vk-PLANTED")
        .header("content-type", "application/json")
        .body(chat_body(model, stream))
        .send()
        .await
        .expect("answered");
    let status = reply.status().as_u16();
    let content_type = reply
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = reply.bytes().await.expect("whole reply");
    Received {
        status,
        content_type,
        body,
    }
}

async fn next_finished(events: &mut Subscription) -> Arc<ExchangeRecord> {
    loop {
        let event = tokio::time::timeout(WAIT, events.recv())
            .await
            .expect("an event in time")
            .expect("bus open");
        if let CaptureEvent::Finished(record) = event {
            return record;
        }
    }
}

/// The record shows the request with its secrets redacted and the reply as the agent got it.
fn assert_recorded_as_received(
    record: &ExchangeRecord,
    received: &Received,
    model: &str,
    stream: bool,
) {
    let request = &record.start.request;
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.uri,
        "/v1/chat/completions?trace=on&api_key=<redacted>"
    );
    let header = |name: &str| request.headers.value(name);
    assert_eq!(header("authorization"), Some("Bearer <redacted>"));
    assert_eq!(header("x-portkey-virtual-key"), Some("<redacted>"));
    assert_eq!(header("content-type"), Some("application/json"));
    assert_eq!(request.body, chat_body(model, stream));
    assert_eq!(record.start.model.as_deref(), Some(model));
    let response = record.response.as_ref().expect("a reply was recorded");
    assert_eq!(response.status, received.status);
    assert_eq!(
        response.body, received.body,
        "the record holds the agent's reply"
    );
    assert_eq!(response.body_len, received.body.len() as u64);
    let recorded_type = response.headers.value("content-type").map(str::to_string);
    assert_eq!(recorded_type, received.content_type);
    assert!(record.failure.is_none(), "{:?}", record.failure);
}

#[tokio::test]
async fn records_are_the_same_with_only_the_record_listening_and_with_a_live_screen() {
    let mock = MockUpstream::start().await.expect("mock starts");
    let upstream = Upstream::parse(&mock.url()).expect("mock URL");
    let config = ProxyConfig::new("127.0.0.1:0".parse().expect("addr"), upstream);
    let scratch = tempfile::tempdir().expect("temp dir");
    let recording = Recording::start(config, &scratch.path().join("data"), "test")
        .await
        .expect("recording starts");
    let proxy = format!("http://{}", recording.local_addr());
    let mut record_only = recording.subscribe_to(Interest::Record);
    let bus = recording.bus.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(recording.serve_until(async {
        let _ = stopped.await;
    }));

    // A small whole reply, a 2 MiB reply relayed in many chunks, and a stream; first with no
    // live subscriber (the proxy builds no live detail), then with one.
    let cases = [("mock-ok", false), ("mock-big", false), ("mock-ok", true)];
    for (model, stream) in cases {
        let received = send(&proxy, model, stream).await;
        assert_eq!(received.status, 200);
        let record = next_finished(&mut record_only).await;
        assert_recorded_as_received(&record, &received, model, stream);
        if model == "mock-big" {
            assert_eq!(received.body.len(), 2 * 1024 * 1024);
        }
    }

    let mut live = bus.subscribe();
    for (model, stream) in cases {
        let received = send(&proxy, model, stream).await;
        let record = next_finished(&mut record_only).await;
        assert_recorded_as_received(&record, &received, model, stream);
        // The live screen saw the head and every byte of the body as it came.
        let mut head = None;
        let mut chunks = Vec::new();
        let live_record = loop {
            match tokio::time::timeout(WAIT, live.recv()).await {
                Ok(Some(CaptureEvent::ResponseHead { status, .. })) => head = Some(status),
                Ok(Some(CaptureEvent::ResponseChunk { data, .. })) => chunks.push(data),
                Ok(Some(CaptureEvent::Finished(record))) => break record,
                Ok(Some(_)) => {}
                other => panic!("live events ended early: {:?}", other.is_ok()),
            }
        };
        assert_eq!(live_record.id(), record.id());
        assert_eq!(head, Some(200));
        assert_eq!(chunks.concat(), received.body.to_vec(), "{model}");
    }

    let _ = stop.send(());
    tokio::time::timeout(WAIT, serving)
        .await
        .expect("stops in time")
        .expect("joins")
        .expect("serves cleanly");
}

#[tokio::test]
async fn a_capped_record_keeps_the_start_of_the_reply_and_its_real_length() {
    let mock = MockUpstream::start().await.expect("mock starts");
    let upstream = Upstream::parse(&mock.url()).expect("mock URL");
    let mut config = ProxyConfig::new("127.0.0.1:0".parse().expect("addr"), upstream);
    config.max_capture_bytes = 100_000;
    let scratch = tempfile::tempdir().expect("temp dir");
    let recording = Recording::start(config, &scratch.path().join("data"), "test")
        .await
        .expect("recording starts");
    let proxy = format!("http://{}", recording.local_addr());
    let mut events = recording.subscribe_to(Interest::Record);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(recording.serve_until(async {
        let _ = stopped.await;
    }));

    let received = send(&proxy, "mock-big", false).await;
    assert_eq!(
        received.body.len(),
        2 * 1024 * 1024,
        "the agent gets all of it"
    );
    let record = next_finished(&mut events).await;
    let response = record.response.as_ref().expect("reply recorded");
    assert_eq!(response.body.len(), 100_000);
    assert_eq!(response.body, received.body.slice(..100_000));
    assert_eq!(response.body_len, 2 * 1024 * 1024);
    assert!(response.truncated());

    let _ = stop.send(());
    tokio::time::timeout(WAIT, serving)
        .await
        .expect("stops in time")
        .expect("joins")
        .expect("serves cleanly");
}
