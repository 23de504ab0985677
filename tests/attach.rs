//! `llmscope attach` from a second process: the real `record` binary serves its session on a
//! Unix socket, and screens in this test process follow it and drive its proxy through the
//! library's client — see the exchanges live, fix a held failure, and the agent that was
//! waiting gets the good reply.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use bytes::Bytes;
use common::recorder::{Recorder, Stream};
use common::{chat_body, client, json, WAIT};
use llmscope::capture::{CaptureEvent, ExchangeId, HeaderList, HoldOutcome, Subscription};
use llmscope::mock::MockUpstream;
use llmscope::proxy::ResendRequest;
use llmscope::remote::wire::Hello;
use llmscope::remote::{self, connect_live, RemoteControl, RemoteError};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

const CHAT: &str = "/v1/chat/completions";
const SECRET: &str = "sk-attach-SECRET-1234";

async fn attach(data: &Path) -> (Hello, RemoteControl, Subscription) {
    let attachment = tokio::time::timeout(WAIT, connect_live(data, None))
        .await
        .expect("attach in time")
        .expect("a live session to attach to");
    let hello = attachment.hello.clone();
    let (control, events) = attachment.start(Vec::new());
    (hello, control, events)
}

/// The next event `pick` accepts, within [`WAIT`].
async fn next<T>(events: &mut Subscription, pick: impl Fn(&CaptureEvent) -> Option<T>) -> T {
    tokio::time::timeout(WAIT, async {
        loop {
            let event = events.recv().await.expect("the session is still live");
            if let Some(found) = pick(&event) {
                return found;
            }
        }
    })
    .await
    .expect("the event arrives in time")
}

fn finished_model(event: &CaptureEvent) -> Option<(ExchangeId, Option<String>, Option<u16>)> {
    match event {
        CaptureEvent::Finished(record) => Some((
            record.id(),
            record.start.model.clone(),
            record.response.as_ref().map(|r| r.status),
        )),
        _ => None,
    }
}

fn agent_request(url: &str, model: &str) -> tokio::task::JoinHandle<reqwest::Response> {
    let request = client()
        .post(format!("{url}{CHAT}"))
        .header("authorization", format!("Bearer {SECRET}"))
        .header("content-type", "application/json")
        .body(chat_body(model, false));
    tokio::spawn(async move { request.send().await.expect("the agent gets an answer") })
}

/// Every line a raw connection receives, until the server hangs up.
fn collect_lines(read: tokio::net::unix::OwnedReadHalf) -> tokio::task::JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(read).lines();
        let mut all = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            all.push(line);
        }
        all
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_sees_the_session_live_and_fixes_a_held_failure() {
    let mock = MockUpstream::start().await.expect("mock upstream");
    let scratch = tempfile::tempdir().expect("temp dir");
    let data = scratch.path().join("data");
    let mut record = Recorder::start_with(
        &mock.url(),
        &data,
        &["--listen", "127.0.0.1:0", "--hold-errors"],
    );
    let told = record.line_containing(Stream::Stdout, "open the screen from another terminal");
    assert!(
        told.ends_with(&format!("llmscope attach --data-dir {}", data.display())),
        "{told}"
    );

    // Only the user can reach the socket.
    let socket = remote::socket_path(&data, record.session);
    let mode = |p: &Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&socket), 0o600, "socket mode");
    assert_eq!(mode(socket.parent().expect("dir")), 0o700, "directory mode");

    let (hello, control, mut events) = attach(&data).await;
    assert_eq!(hello.session, record.session);
    assert!(hello.state.hold, "hold-on-error is on, as the flag said");
    assert_eq!(format!("http://{}", hello.listen), record.url);
    let (_second, _control_2, mut events_2) = attach(&data).await;

    // A raw connection, as a broken screen would make one: garbage gets an error, and the
    // server goes on serving it and everyone else.
    let (read, mut write) = UnixStream::connect(&socket)
        .await
        .expect("raw connect")
        .into_split();
    let raw_lines = collect_lines(read);
    write.write_all(b"this is not json\n").await.expect("write");
    write
        .write_all(b"{\"call\":9,\"command\":\"launch_missiles\"}\n")
        .await
        .expect("write");

    // Both screens see a new exchange.
    let ok = agent_request(&record.url, "mock-ok");
    assert_eq!(ok.await.expect("agent").status(), 200);
    let (_, model, status) = next(&mut events, finished_model).await;
    assert_eq!((model.as_deref(), status), (Some("mock-ok"), Some(200)));
    let (_, model_2, _) = next(&mut events_2, finished_model).await;
    assert_eq!(model_2.as_deref(), Some("mock-ok"));

    // One screen leaves; the proxy and the other screen go on.
    drop(events_2);
    drop(_control_2);
    drop(_second);

    let agent = agent_request(&record.url, "mock-400-model");
    let held = next(&mut events, |e| match e {
        CaptureEvent::Held { id, .. } => Some(*id),
        _ => None,
    })
    .await;
    assert!(!agent.is_finished(), "the agent is waiting while held");

    // The user's edit: another model, the credential left as the screen shows it.
    let fixed = ResendRequest {
        method: "POST".into(),
        uri: CHAT.into(),
        headers: HeaderList::from([
            ("authorization", "Bearer <redacted>"),
            ("content-type", "application/json"),
        ]),
        body: Bytes::from(chat_body("mock-ok", false)),
    };
    let child = tokio::time::timeout(WAIT, control.resend(held, &fixed))
        .await
        .expect("an answer in time")
        .expect("the session answers")
        .expect("the resend starts");
    let reply = tokio::time::timeout(WAIT, agent)
        .await
        .expect("the agent is answered in time")
        .expect("agent task");
    assert_eq!(
        reply.status(),
        200,
        "the waiting agent gets the fixed reply"
    );
    let body = json(&reply.bytes().await.expect("body"));
    assert!(
        body["choices"][0]["message"]["content"].is_string(),
        "{body}"
    );
    let ended = next(&mut events, |e| match e {
        CaptureEvent::HoldEnded { id, outcome, .. } => Some((*id, *outcome)),
        _ => None,
    })
    .await;
    assert_eq!(ended, (held, HoldOutcome::Delivered { from: child }));

    // The switches work over the socket too, and the proxy itself changes.
    let hold = tokio::time::timeout(WAIT, control.set_hold(false)).await;
    assert!(!hold.expect("in time").expect("answer"));
    let failing = agent_request(&record.url, "mock-400-model");
    assert_eq!(
        failing.await.expect("agent").status(),
        400,
        "no longer held"
    );

    record.terminate();
    // The session is over: the screen's events end, and the socket is gone.
    tokio::time::timeout(WAIT, async { while events.recv().await.is_some() {} })
        .await
        .expect("the attached screen hears the end");
    assert!(!socket.exists(), "socket removed on a clean exit");
    let after_end = tokio::time::timeout(WAIT, control.set_hold(true)).await;
    assert!(matches!(after_end, Ok(Err(RemoteError::Ended))));

    let raw = tokio::time::timeout(WAIT, raw_lines)
        .await
        .expect("hang-up")
        .expect("reader");
    let kinds: Vec<serde_json::Value> = raw
        .iter()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    assert_eq!(kinds[0]["type"], "hello");
    let errors: Vec<&serde_json::Value> = kinds.iter().filter(|m| m["type"] == "error").collect();
    assert_eq!(errors.len(), 2, "one error per bad line: {errors:?}");
    assert!(errors[0]["call"].is_null());
    assert_eq!(errors[1]["call"], 9, "the call of a JSON line is answered");
    assert!(
        kinds
            .iter()
            .any(|m| m["type"] == "event" && m["event"]["kind"] == "hold_ended"),
        "the raw connection kept receiving events after its garbage"
    );
    assert!(
        raw.iter().all(|l| !l.contains(SECRET)),
        "no credential crosses the socket"
    );
}

#[tokio::test]
async fn attach_says_when_no_session_is_live_and_clears_a_dead_ones_socket() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let live = remote::live_dir(scratch.path());
    std::fs::create_dir_all(&live).expect("dir");
    let stale = live.join("7.sock");
    // A socket nobody listens on any more, as a killed process leaves it.
    drop(std::os::unix::net::UnixListener::bind(&stale).expect("bind"));
    assert!(stale.exists());

    let error = connect_live(scratch.path(), None)
        .await
        .err()
        .expect("nothing to attach to");
    let text = error.to_string();
    assert!(text.starts_with("no live session in "), "{text}");
    assert!(text.contains("llmscope record --upstream URL"), "{text}");
    assert!(!stale.exists(), "the dead session's socket is removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screen_that_stops_reading_never_holds_up_the_proxy() {
    let mock = MockUpstream::start().await.expect("mock upstream");
    let scratch = tempfile::tempdir().expect("temp dir");
    let data = scratch.path().join("data");
    let record = Recorder::start(&mock.url(), &data);
    // Connected, then never read: the server's writes to it soon find a full socket.
    let socket = remote::socket_path(&data, record.session);
    let _stuck = UnixStream::connect(&socket).await.expect("raw connect");
    let (_, _control, mut events) = attach(&data).await;

    // Each exchange sends its 200 KB request body to every screen twice (started, finished):
    // far more than a socket buffers.
    let padding = "x".repeat(200 * 1024);
    let body = serde_json::json!({
        "model": "mock-ok",
        "messages": [{"role": "user", "content": padding}],
    })
    .to_string();
    let http = client();
    for n in 0..30 {
        let reply = tokio::time::timeout(
            WAIT,
            http.post(format!("{}{CHAT}", record.url))
                .header("content-type", "application/json")
                .body(body.clone())
                .send(),
        )
        .await
        .unwrap_or_else(|_| panic!("request {n} answered in time"))
        .expect("answer");
        assert_eq!(reply.status(), 200, "request {n}");
    }
    // The screen that reads saw every one of them.
    for n in 1..=30u64 {
        let (id, _, status) = next(&mut events, finished_model).await;
        assert_eq!((id, status), (ExchangeId(n), Some(200)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_intercepts_and_an_attached_screen_sends_the_edited_request_on() {
    let mock = MockUpstream::start().await.expect("mock upstream");
    let scratch = tempfile::tempdir().expect("temp dir");
    let data = scratch.path().join("data");
    let mut record = Recorder::start_with(
        &mock.url(),
        &data,
        &["--listen", "127.0.0.1:0", "--intercept", "chat"],
    );
    let told = record.line_containing(Stream::Stdout, "requests matching `chat`");
    assert!(
        told.contains(&format!(
            "wait for `llmscope attach --data-dir {}`",
            data.display()
        )),
        "{told}"
    );

    // The agent's request pauses before any screen is attached; `record` says so.
    let agent = agent_request(&record.url, "mock-400-model");
    let paused = record.line_containing(Stream::Stdout, "intercepted:");
    assert!(
        paused.contains("POST /v1/chat/completions mock-400-model"),
        "{paused}"
    );
    let (hello, control, _events) = attach(&data).await;
    let [waiting] = hello.intercepted.as_slice() else {
        panic!("one request waits: {:?}", hello.intercepted);
    };
    assert!(!agent.is_finished(), "the agent waits while intercepted");
    assert!(mock.received().is_empty(), "nothing forwarded yet");

    // The user's edit: another model, the credential as the screen shows it.
    let edited = ResendRequest {
        method: "POST".into(),
        uri: CHAT.into(),
        headers: HeaderList::from([
            ("authorization", "Bearer <redacted>"),
            ("content-type", "application/json"),
        ]),
        body: Bytes::from(chat_body("mock-ok", false)),
    };
    let released = tokio::time::timeout(
        WAIT,
        control.release_intercepted(waiting.start.id, Some(&edited)),
    )
    .await
    .expect("an answer in time")
    .expect("the session answers");
    assert_eq!(released, Ok(true));
    let reply = tokio::time::timeout(WAIT, agent)
        .await
        .expect("the agent is answered in time")
        .expect("agent task");
    assert_eq!(reply.status(), 200, "the edited request got a good reply");
    let body = json(&reply.bytes().await.expect("body"));
    assert!(
        body["choices"][0]["message"]["content"].is_string(),
        "{body}"
    );
    let forwarded = mock.received();
    let [sent] = forwarded.as_slice() else {
        panic!("forwarded once: {} requests", forwarded.len());
    };
    assert_eq!(json(&sent.body)["model"], "mock-ok");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {SECRET}").as_str()),
        "the agent's own credential went out"
    );
    record.terminate();
}
