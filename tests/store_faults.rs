//! The session database in trouble: locked by another writer, damaged, shared by two
//! llmscope processes, or left mid-write by `kill -9`. Forwarding never stops, and nothing
//! that was captured is lost or mixed up.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::recorder::{Recorder, Stream};
use common::{client, json, load_exchanges, Harness, WAIT};
use llmscope::capture::{ExchangeState, FailureClass};
use llmscope::mock::MockUpstream;
use llmscope::store::{Store, StoredExchange};
use rusqlite::Connection;

const CHAT: &str = "/v1/chat/completions";
const DB_FILE: &str = "llmscope.db";

/// Another process's write transaction on the session database, held until dropped: what a
/// full disk or an unwritable file looks like to SQLite's writer (running as root, file
/// modes would not stop it).
fn hold_write_lock(data_dir: &Path) -> Connection {
    let conn = Connection::open(data_dir.join(DB_FILE)).expect("second connection");
    conn.execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    conn
}

/// Polls `done` until it holds, at most [`WAIT`].
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A body whose model picks the behaviour and whose message names the request, so each
/// stored exchange can be matched to the request that made it.
fn marked_body(model: &str, marker: &str) -> String {
    serde_json::json!({
        "model": model,
        "messages": [{"role": "user", "content": marker}],
    })
    .to_string()
}

fn marker_of(exchange: &StoredExchange) -> String {
    json(&exchange.record.start.request.body)["messages"][0]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn send_marked(base: &str, model: &str, marker: &str) -> u16 {
    let reply = client()
        .post(format!("{base}{CHAT}"))
        .header("content-type", "application/json")
        .body(marked_body(model, marker))
        .send()
        .await
        .expect("answered");
    let status = reply.status().as_u16();
    reply.bytes().await.expect("body reads");
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_does_not_stop_forwarding_and_every_exchange_is_written_after() {
    let h = Harness::start().await;
    let lock = hold_write_lock(&h.data_dir);
    let models = ["mock-ok", "mock-400-context", "mock-tool", "mock-500"];
    let mut sent = 0;
    for round in 0..3 {
        for model in models {
            let status = send_marked(&h.proxy_url, model, &format!("r{round}-{model}")).await;
            let expected = match model {
                "mock-400-context" => 400,
                "mock-500" => 500,
                _ => 200,
            };
            assert_eq!(
                status, expected,
                "{model} is forwarded while capture is stuck"
            );
            sent += 1;
        }
        if round == 0 {
            // The writer has waited out SQLite's busy timeout by now, or soon will.
            wait_until("capture reports failing", || h.health.is_failing()).await;
        }
    }
    assert!(h.health.is_failing());
    assert!(
        h.health
            .last_error()
            .is_some_and(|e| e.contains("database is locked")),
        "{:?}",
        h.health.last_error()
    );
    assert!(h.health.exchanges_written() < sent as u64);

    drop(lock);
    wait_until("every exchange is written", || {
        h.health.exchanges_written() == sent as u64
    })
    .await;
    assert!(!h.health.is_failing(), "capture recovered");
    assert_eq!(h.health.events_lost(), 0);
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), sent);
    for exchange in &stored {
        assert_eq!(exchange.state, ExchangeState::Complete);
        let marker = marker_of(exchange);
        let class = exchange.record.failure.as_ref().map(|f| f.class);
        let expected = if marker.ends_with("400-context") {
            Some(FailureClass::HttpError(400))
        } else if marker.ends_with("500") {
            Some(FailureClass::HttpError(500))
        } else {
            None
        };
        assert_eq!(class, expected, "{marker}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_says_when_capture_fails_and_when_it_resumes() {
    let mock = MockUpstream::start().await.expect("mock");
    let dir = tempfile::tempdir().expect("dir");
    let mut recorder = Recorder::start(&mock.url(), dir.path());
    let lock = hold_write_lock(dir.path());
    for n in 0..5 {
        let status = send_marked(&recorder.url, "mock-ok", &format!("locked-{n}")).await;
        assert_eq!(status, 200);
    }
    let failing = tokio::task::block_in_place(|| {
        recorder.line_containing(Stream::Stderr, "llmscope: capture failing")
    });
    assert!(failing.contains("database is locked"), "{failing}");
    drop(lock);
    tokio::task::block_in_place(|| {
        recorder.line_containing(Stream::Stderr, "llmscope: capture resumed")
    });
    tokio::task::block_in_place(|| recorder.terminate());
    let stored = load_exchanges(dir.path(), recorder.session);
    let markers: Vec<_> = stored.iter().map(marker_of).collect();
    assert_eq!(
        markers,
        ["locked-0", "locked-1", "locked-2", "locked-3", "locked-4"]
    );
    assert!(stored.iter().all(|e| e.state == ExchangeState::Complete));
}

/// A real llmscope database cut after its first two pages, as a copy interrupted midway
/// would leave it.
fn truncated_database() -> Vec<u8> {
    let scratch = tempfile::tempdir().expect("scratch");
    drop(Store::open(scratch.path()).expect("open"));
    let bytes = std::fs::read(scratch.path().join(DB_FILE)).expect("read db");
    assert!(bytes.len() > 8192, "the schema spans more than two pages");
    bytes[..8192].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_database_is_moved_aside_with_a_clear_message_and_a_fresh_one_used() {
    let mock = MockUpstream::start().await.expect("mock");
    let noise: Vec<u8> = (0..16_384u32).map(|n| (n * 31 % 251) as u8).collect();
    let mut header_then_noise = b"SQLite format 3\0".to_vec();
    header_then_noise.extend_from_slice(&noise);
    let damaged: [(&str, Vec<u8>); 3] = [
        ("noise", noise.clone()),
        ("an SQLite header over noise", header_then_noise),
        ("a truncated database", truncated_database()),
    ];
    for (what, bytes) in damaged {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join(DB_FILE), &bytes).expect("write damage");
        let mut recorder = Recorder::start(&mock.url(), dir.path());
        let message = tokio::task::block_in_place(|| {
            recorder.line_containing(Stream::Stderr, "session database was damaged")
        });
        assert!(message.contains("moved to"), "{what}: {message}");
        let moved = message
            .split("moved to ")
            .nth(1)
            .and_then(|rest| rest.split(" and a new one").next())
            .expect("the new name is given");
        assert_eq!(
            std::fs::read(moved).expect("the damaged file is kept"),
            bytes,
            "{what}"
        );
        assert!(
            Path::new(moved)
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("llmscope.db.corrupt-")),
            "{what}: {moved}"
        );

        let status = send_marked(&recorder.url, "mock-ok", "after recovery").await;
        assert_eq!(status, 200);
        tokio::task::block_in_place(|| {
            recorder.line_containing(Stream::Stdout, "mock-ok 200 ok");
            recorder.terminate();
        });
        let store = Store::open(dir.path()).expect("the fresh database opens");
        let sessions = store.list_sessions().expect("sessions");
        assert_eq!(sessions.len(), 1, "{what}: only the new session");
        assert_eq!(sessions[0].exchanges, 1);
        assert!(sessions[0].ended_at_ms.is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_data_dir_keep_each_session_intact() {
    const EACH: usize = 30;
    let mock = MockUpstream::start().await.expect("mock");
    let dir = tempfile::tempdir().expect("dir");
    let mut first = Recorder::start(&mock.url(), dir.path());
    let mut second = Recorder::start(&mock.url(), dir.path());
    assert_ne!(first.session, second.session);

    let mut sends = tokio::task::JoinSet::new();
    for n in 0..EACH {
        for (name, url) in [("first", first.url.clone()), ("second", second.url.clone())] {
            let model = if n % 5 == 4 { "mock-429" } else { "mock-ok" };
            sends.spawn(async move { send_marked(&url, model, &format!("{name}-{n}")).await });
        }
    }
    while let Some(status) = sends.join_next().await {
        assert!(matches!(status.expect("send task"), 200 | 429));
    }
    tokio::task::block_in_place(|| {
        first.terminate();
        second.terminate();
    });

    let store = Store::open(dir.path()).expect("the shared database opens");
    let integrity: String = Connection::open(dir.path().join(DB_FILE))
        .expect("open")
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity check");
    assert_eq!(integrity, "ok");
    for (name, session) in [("first", first.session), ("second", second.session)] {
        let stored = store.exchanges(session).expect("exchanges");
        let ids: Vec<u64> = stored.iter().map(|e| e.record.start.id.0).collect();
        assert_eq!(ids, (1..=EACH as u64).collect::<Vec<_>>(), "{name}");
        let markers: BTreeSet<String> = stored.iter().map(marker_of).collect();
        let expected: BTreeSet<String> = (0..EACH).map(|n| format!("{name}-{n}")).collect();
        assert_eq!(markers, expected, "{name} holds exactly its own requests");
        for exchange in &stored {
            assert_eq!(exchange.state, ExchangeState::Complete);
            let n: usize = marker_of(exchange)
                .rsplit('-')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("marker number");
            let class = exchange.record.failure.as_ref().map(|f| f.class);
            let expected = (n % 5 == 4).then_some(FailureClass::HttpError(429));
            assert_eq!(class, expected, "{name}-{n}");
        }
    }
    let sessions = store.list_sessions().expect("sessions");
    assert_eq!(sessions.len(), 2);
    for summary in &sessions {
        assert_eq!(summary.exchanges, EACH as u64);
        assert_eq!(summary.errors, (EACH / 5) as u64);
        assert_eq!(summary.incomplete, 0);
        assert!(
            summary.ended_at_ms.is_some(),
            "each process ended its own session"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_in_the_middle_of_50_streams_leaves_them_incomplete_in_an_intact_database() {
    const STREAMS: usize = 50;
    let mock = MockUpstream::start().await.expect("mock");
    let dir = tempfile::tempdir().expect("dir");
    let mut recorder = Recorder::start(&mock.url(), dir.path());
    let session = recorder.session;
    let agent = client();
    let (started_tx, mut started_rx) = tokio::sync::mpsc::channel(STREAMS);
    let mut streams = tokio::task::JoinSet::new();
    for n in 0..STREAMS {
        let request = agent
            .post(format!("{}{CHAT}", recorder.url))
            .header("content-type", "application/json")
            .body(
                serde_json::json!({
                    "model": "mock-stall",
                    "stream": true,
                    "messages": [{"role": "user", "content": format!("stream-{n}")}],
                })
                .to_string(),
            );
        let started = started_tx.clone();
        streams.spawn(async move {
            let mut reply = request.send().await.expect("the stream starts");
            let first = reply
                .chunk()
                .await
                .expect("first event")
                .expect("some bytes");
            let _ = started.send(first).await;
            // Reads until the kill cuts the stream.
            while let Ok(Some(_)) = reply.chunk().await {}
        });
    }
    for _ in 0..STREAMS {
        let first = tokio::time::timeout(WAIT, started_rx.recv())
            .await
            .expect("every stream sends its first event in time")
            .expect("stream task alive");
        assert!(String::from_utf8_lossy(&first).contains("data: "));
    }
    wait_until("the 50 streams are in the database as in flight", || {
        let stored = load_exchanges(dir.path(), session);
        stored.len() == STREAMS && stored.iter().all(|e| e.state == ExchangeState::InFlight)
    })
    .await;

    tokio::task::block_in_place(|| recorder.kill_9());
    while streams.join_next().await.is_some() {}

    let mut again = Recorder::start(&mock.url(), dir.path());
    let integrity: String = Connection::open(dir.path().join(DB_FILE))
        .expect("open")
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity check");
    assert_eq!(integrity, "ok");
    let stored = load_exchanges(dir.path(), session);
    assert_eq!(stored.len(), STREAMS);
    let markers: BTreeSet<String> = stored.iter().map(marker_of).collect();
    assert_eq!(
        markers,
        (0..STREAMS).map(|n| format!("stream-{n}")).collect()
    );
    for exchange in &stored {
        assert_eq!(exchange.state, ExchangeState::Incomplete);
        assert_eq!(exchange.record.start.model.as_deref(), Some("mock-stall"));
    }
    tokio::task::block_in_place(|| again.terminate());

    let listing = Command::new(env!("CARGO_BIN_EXE_llmscope"))
        .args(["sessions", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("sessions runs");
    let text = String::from_utf8_lossy(&listing.stdout);
    let killed = text
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{} ", session.0)))
        .unwrap_or_else(|| panic!("the killed session is listed: {text}"));
    let columns: Vec<_> = killed.split_whitespace().collect();
    // id, date, time, mode, exchanges, errors, incomplete, upstream
    assert_eq!(&columns[4..7], ["50", "0", "50"], "{killed}");
}
