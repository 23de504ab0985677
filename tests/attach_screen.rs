//! `llmscope attach` in a pseudo-terminal against a live `record`: the exchange is on the
//! screen, `H` turns hold-on-error on in the record process (a later failure is held there),
//! `F` sends that failure on, and the screen says when the session ends.

mod common;

use common::recorder::Recorder;
use common::screen::Screen;
use common::{chat_body, client, WAIT};
use llmscope::mock::MockUpstream;

fn agent_request(url: &str, model: &str) -> tokio::task::JoinHandle<reqwest::Response> {
    let request = client()
        .post(format!("{url}/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(chat_body(model, false));
    tokio::spawn(async move { request.send().await.expect("the agent gets an answer") })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_attached_screen_shows_the_session_and_its_keys_drive_the_record_process() {
    let mock = MockUpstream::start().await.expect("mock upstream");
    let scratch = tempfile::tempdir().expect("temp dir");
    let data = scratch.path().join("data");
    let mut record = Recorder::start(&mock.url(), &data);
    let first = agent_request(&record.url, "mock-ok");
    assert_eq!(first.await.expect("agent").status(), 200);

    let mut screen = Screen::start(&["attach"], &data);
    let session = record.session;
    let addr = record.url.trim_start_matches("http://").to_string();
    let shown = screen.wait_for("the attached session and its exchange", |s| {
        s.contains(&format!("attached to session {session} · {addr}"))
            && s.contains("mock-ok")
            && s.contains("1 total")
    });
    assert!(shown.contains("hold off"), "{shown}");

    screen.type_keys(b"H");
    screen.wait_for("hold on", |s| s.contains("hold ON"));
    // The record process holds the next failure now: its agent waits.
    let agent = agent_request(&record.url, "mock-400-model");
    let held = screen.wait_for("the held failure", |s| {
        s.contains("held — the agent is waiting") && s.contains("2 total")
    });
    assert!(held.contains("mock-400-model"), "{held}");
    assert!(!agent.is_finished(), "the agent waits while held");

    screen.type_keys(b"F");
    let reply = tokio::time::timeout(WAIT, agent)
        .await
        .expect("the agent is answered")
        .expect("agent task");
    assert_eq!(reply.status(), 400, "F sent the original failure on");

    record.terminate();
    screen.wait_for("the end of the session", |s| {
        s.contains(&format!("session {session} ended · browsing"))
            && s.contains("the session ended")
    });
    screen.quit();
}
