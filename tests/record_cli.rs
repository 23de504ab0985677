//! The real binary: `llmscope record` prints each exchange, and a `kill -9` in the middle of
//! an exchange leaves an intact database with that exchange marked incomplete.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::recorder::{Recorder, Stream};
use common::{chat_body, client, load_exchanges, WAIT};
use llmscope::capture::ExchangeState;
use llmscope::mock::MockUpstream;

#[tokio::test]
async fn record_prints_one_line_per_exchange() {
    let mock = MockUpstream::start().await.expect("mock");
    let dir = tempfile::tempdir().expect("dir");
    let recorder = Recorder::start(&mock.url(), dir.path());
    let agent = client();
    let ok = agent
        .post(format!("{}/v1/chat/completions", recorder.url))
        .body(chat_body("mock-ok", false))
        .send()
        .await
        .expect("answered");
    assert_eq!(ok.status(), 200);
    ok.bytes().await.expect("body");
    let line = recorder.line_containing(Stream::Stdout, "mock-ok");
    assert!(
        line.contains("POST /v1/chat/completions mock-ok 200 ok"),
        "{line}"
    );
    assert!(line.contains("ttfb="), "{line}");

    agent
        .post(format!("{}/v1/chat/completions", recorder.url))
        .body(chat_body("mock-400-model", false))
        .send()
        .await
        .expect("answered");
    let line = recorder.line_containing(Stream::Stdout, "mock-400-model");
    assert!(line.contains(" 400 http_error "), "{line}");
    assert!(
        line.contains("Invalid model name passed in model=mock-400-model"),
        "{line}"
    );
}

/// An agent resending a request that fails the same way: `record` says so in words, and
/// then that llmscope stopped it, with the upstream's reason.
#[tokio::test]
async fn record_names_a_retry_loop_and_its_stop() {
    let mock = MockUpstream::start().await.expect("mock");
    let dir = tempfile::tempdir().expect("dir");
    let recorder = Recorder::start(&mock.url(), dir.path());
    let agent = client();
    for _ in 0..4 {
        agent
            .post(format!("{}/v1/chat/completions", recorder.url))
            .header("user-agent", "opencode/1.18.33 ai-sdk/provider-utils/3.0.9")
            .body(chat_body("mock-400-model", false))
            .send()
            .await
            .expect("answered")
            .bytes()
            .await
            .expect("body");
    }
    let growing = recorder.line_containing(Stream::Stdout, "is retrying a failing request");
    assert!(
        growing.starts_with("llmscope: opencode is retrying a failing request: 2× in "),
        "{growing}"
    );
    assert!(
        growing.contains("Invalid model name passed in model=mock-400-model"),
        "{growing}"
    );
    let stopped = recorder.line_containing(Stream::Stdout, "stopped opencode's retry loop");
    assert!(
        stopped.starts_with("llmscope: stopped opencode's retry loop after 4 attempts"),
        "{stopped}"
    );
    assert_eq!(
        mock.received().len(),
        3,
        "the stopped attempt never left llmscope"
    );
}

#[tokio::test]
async fn kill_during_an_exchange_leaves_it_incomplete_in_an_intact_database() {
    let mock = MockUpstream::start().await.expect("mock");
    let dir = tempfile::tempdir().expect("dir");
    let mut recorder = Recorder::start(&mock.url(), dir.path());
    let agent = client();
    agent
        .post(format!("{}/v1/chat/completions", recorder.url))
        .body(chat_body("mock-ok", false))
        .send()
        .await
        .expect("answered")
        .bytes()
        .await
        .expect("body read");
    let hanging = tokio::spawn(
        agent
            .post(format!("{}/v1/chat/completions", recorder.url))
            .body(chat_body("mock-hang", false))
            .send(),
    );
    // The in-flight exchange must be on disk before the kill for this to prove anything.
    let deadline = Instant::now() + WAIT;
    while load_exchanges(dir.path(), recorder.session).len() < 2 {
        assert!(Instant::now() < deadline, "exchanges reach the database");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    recorder.kill_9();
    let _ = hanging.await;

    // A new run recovers the killed session on open.
    let again = Recorder::start(&mock.url(), dir.path());
    assert_ne!(again.session, recorder.session);
    let stored = load_exchanges(dir.path(), recorder.session);
    let states: Vec<_> = stored.iter().map(|e| e.state).collect();
    assert_eq!(states, [ExchangeState::Complete, ExchangeState::Incomplete]);
    assert_eq!(stored[1].record.start.model.as_deref(), Some("mock-hang"));

    let listing = Command::new(env!("CARGO_BIN_EXE_llmscope"))
        .args(["sessions", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("sessions runs");
    assert!(listing.status.success());
    let text = String::from_utf8_lossy(&listing.stdout);
    let killed = text
        .lines()
        .find(|l| {
            l.trim_start()
                .starts_with(&format!("{} ", recorder.session))
        })
        .unwrap_or_else(|| panic!("session listed: {text}"));
    let columns: Vec<_> = killed.split_whitespace().collect();
    // id, date, time, mode, exchanges, errors, incomplete, upstream
    assert_eq!(&columns[4..7], ["2", "0", "1"], "{killed}");
}

#[test]
fn headless_demo_plays_every_failure_and_exits() {
    let dir = tempfile::tempdir().expect("dir");
    let output = Command::new(env!("CARGO_BIN_EXE_llmscope"))
        .args(["demo", "--headless", "--pace-ms", "0", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("demo runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    for expected in [
        "claude-sonnet-4-5 200 ok",
        "mock-400-model 400 http_error",
        "llmscope: #4 held — the agent keeps waiting for a reply",
        "set model to `claude-sonnet-4-5` → resend #5",
        "llmscope: #4 hold ended: fixed by #5, its reply went to the agent",
        "agent: the subagent asks for a model the gateway does not serve -> 200 (the fixed reply",
        "agent: turn 3: the subagent's findings come back; the model reads two files -> 200",
        "/v1/messages?beta=true claude-opus-4-1 200 ok",
        "llmscope: auto-fix repairs #8 by itself: remove `top_p`, no key pressed",
        "| auto-fixed #8: remove `top_p`",
        "refuses together -> 200 (auto-fixed by llmscope, no key pressed)",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
    let listing = Command::new(env!("CARGO_BIN_EXE_llmscope"))
        .args(["sessions", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("sessions runs");
    let sessions = String::from_utf8_lossy(&listing.stdout);
    let demo = sessions
        .lines()
        .find(|l| l.contains(" demo "))
        .unwrap_or_else(|| panic!("demo session listed: {sessions}"));
    let columns: Vec<_> = demo.split_whitespace().collect();
    // Nine scripted requests, the resend that fixed the held one and the auto-fix; two
    // failures.
    assert_eq!(&columns[4..7], ["11", "2", "0"], "{demo}");
}
