//! `llmscope attach` in a pseudo-terminal against a live `record`: the exchange is on the
//! screen, `H` turns hold-on-error on in the record process (a later failure is held there),
//! `F` sends that failure on, and the screen says when the session ends; a screen that
//! attaches while the store is behind still shows every exchange, once.

mod common;

use common::recorder::{Recorder, Stream};
use common::screen::Screen;
use common::{chat_body, client, load_exchanges, WAIT};
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

async fn burst(url: &str, numbers: std::ops::RangeInclusive<u32>) {
    for n in numbers {
        let reply = agent_request(url, &format!("burst-{n:02}"));
        assert_eq!(reply.await.expect("agent").status(), 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screen_attached_while_the_store_is_behind_shows_every_exchange_once() {
    let mock = MockUpstream::start().await.expect("mock upstream");
    let scratch = tempfile::tempdir().expect("temp dir");
    let data = scratch.path().join("data");
    let mut record = Recorder::start(&mock.url(), &data);
    burst(&record.url, 1..=3).await;
    // Another writer's transaction keeps the store from committing: the next exchanges
    // finish, and wait in the writer's queue, when the screen attaches.
    let lock = rusqlite::Connection::open(data.join("llmscope.db")).expect("second connection");
    lock.execute_batch("BEGIN IMMEDIATE")
        .expect("the write lock");
    burst(&record.url, 4..=7).await;
    tokio::task::block_in_place(|| {
        record.line_containing(Stream::Stderr, "llmscope: capture failing")
    });

    let screen = Screen::start(&["attach"], &data);
    // One row per exchange (a conversation's heading names its newest model too).
    let once = |s: &str, upto: u32| {
        (1..=upto).all(|n| {
            let model = format!("burst-{n:02}");
            s.lines()
                .filter(|l| l.contains("/v1/chat/completions") && l.contains(&model))
                .count()
                == 1
        })
    };
    let shown = screen.wait_for("the seven exchanges so far", |s| s.contains("7 total"));
    assert!(once(&shown, 7), "{shown}");
    // The rest of the burst comes over the socket, still before the store has any of it.
    burst(&record.url, 8..=10).await;
    let shown = screen.wait_for("all ten", |s| s.contains("10 total"));
    assert!(once(&shown, 10), "{shown}");

    drop(lock);
    tokio::task::block_in_place(|| {
        record.line_containing(Stream::Stderr, "llmscope: capture resumed")
    });
    let shown = screen.text();
    assert!(shown.contains("10 total") && once(&shown, 10), "{shown}");
    tokio::task::block_in_place(|| record.terminate());
    screen.quit();
    assert_eq!(load_exchanges(&data, record.session).len(), 10);
}
