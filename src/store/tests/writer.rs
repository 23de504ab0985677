use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rusqlite::Connection;

use crate::capture::{CaptureBus, CaptureEvent, ExchangeId, ExchangeState, Interest, SessionId};
use crate::store::test_fixtures::{finished, sample_start, session_info};
use crate::store::writer_thread::{spawn_writer_with, WriterConfig};
use crate::store::{spawn_writer, Store, StoreHealth, WriterHandle};

fn open() -> (tempfile::TempDir, Store, SessionId) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::open(tmp.path()).expect("open");
    let session = store.begin_session(&session_info()).expect("session");
    (tmp, store, session)
}

fn quick_config() -> WriterConfig {
    WriterConfig {
        first_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        shutdown_grace: Duration::from_millis(300),
        ..WriterConfig::default()
    }
}

/// Another process's write transaction, held until dropped.
fn hold_write_lock(store: &Store) -> Connection {
    let conn = Connection::open(store.path()).expect("second connection");
    conn.execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    // Waiting for the lock would only slow the test; failing fast is what is under test.
    store.set_busy_timeout(Duration::from_millis(20));
    conn
}

fn wait_until(what: &str, health: &StoreHealth, done: impl Fn(&StoreHealth) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(health) {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn started(session: SessionId, id: u64) -> CaptureEvent {
    CaptureEvent::Started(Arc::new(sample_start(session, id, b"{}".to_vec())))
}

fn done(session: SessionId, id: u64) -> CaptureEvent {
    let record = finished(
        sample_start(session, id, b"{}".to_vec()),
        200,
        b"ok".to_vec(),
        None,
    );
    CaptureEvent::Finished(Arc::new(record))
}

/// `whole` finished exchanges of 100 KB requests and 10 KB replies, then one more whose
/// start and finish are published apart (its reply empty).
fn publish_large_burst(bus: &CaptureBus, session: SessionId, whole: u64) {
    let request = vec![b'q'; 100_000];
    for id in 1..=whole {
        let record = finished(
            sample_start(session, id, request.clone()),
            200,
            vec![b'r'; 10_000],
            None,
        );
        bus.publish(CaptureEvent::Finished(Arc::new(record)));
    }
    let last = Arc::new(sample_start(session, whole + 1, request.clone()));
    bus.publish(CaptureEvent::Started(last.clone()));
    let mut record = finished(sample_start(session, whole + 1, request), 200, vec![], None);
    record.start = last;
    bus.publish(CaptureEvent::Finished(Arc::new(record)));
}

fn states(store: &Store, session: SessionId) -> Vec<(u64, ExchangeState)> {
    store
        .exchange_summaries(session)
        .expect("summaries")
        .into_iter()
        .map(|s| (s.id.0, s.state))
        .collect()
}

/// Joins the writer (the bus must be gone) and reads the session's states back; nothing may
/// have been lost.
fn joined_states(writer: WriterHandle, session: SessionId) -> Vec<(u64, ExchangeState)> {
    let exit = writer.join();
    assert_eq!(exit.events_lost, 0);
    states(&exit.store.expect("store handed back"), session)
}

#[test]
fn writer_stores_events_from_a_real_bus_and_join_returns_once_the_bus_is_gone() {
    let (_tmp, store, session) = open();
    let bus = CaptureBus::new();
    let writer = spawn_writer(store, bus.subscribe());
    let health = writer.health();
    bus.publish(started(session, 1));
    bus.publish(CaptureEvent::ResponseHead {
        id: ExchangeId(1),
        status: 200,
        headers: Arc::default(),
        first_byte_ms: 3,
    });
    bus.publish(CaptureEvent::ResponseChunk {
        id: ExchangeId(1),
        data: Bytes::from_static(b"ok"),
    });
    bus.publish(done(session, 1));
    bus.publish(started(session, 2));
    drop(bus);

    assert_eq!(
        joined_states(writer, session),
        [(1, ExchangeState::Complete), (2, ExchangeState::InFlight)]
    );
    assert_eq!(health.exchanges_written(), 1);
    assert!(!health.is_failing());
}

#[test]
fn writer_keeps_events_through_a_locked_database_and_writes_them_when_it_clears() {
    let (_tmp, store, session) = open();
    let lock = hold_write_lock(&store);
    let bus = CaptureBus::new();
    let writer = spawn_writer_with(store, bus.subscribe(), quick_config());
    let health = writer.health();

    bus.publish(started(session, 1));
    wait_until("the writer reports failing", &health, |h| h.is_failing());
    bus.publish(done(session, 1));
    bus.publish(done(session, 2));
    wait_until("a retry has failed too", &health, |h| {
        h.write_failures() >= 2
    });
    assert!(health
        .last_error()
        .is_some_and(|e| e.contains("database is locked")));
    assert_eq!(health.exchanges_written(), 0);

    drop(lock);
    wait_until("both exchanges are written", &health, |h| {
        h.exchanges_written() == 2
    });
    assert!(!health.is_failing());
    drop(bus);
    assert_eq!(
        joined_states(writer, session),
        [(1, ExchangeState::Complete), (2, ExchangeState::Complete)]
    );
}

#[test]
fn shutdown_on_a_failing_disk_gives_up_after_the_grace_and_counts_the_loss() {
    let (_tmp, store, session) = open();
    let lock = hold_write_lock(&store);
    let bus = CaptureBus::new();
    let writer = spawn_writer_with(store, bus.subscribe(), quick_config());
    let health = writer.health();
    bus.publish(started(session, 1));
    bus.publish(done(session, 1));
    bus.publish(started(session, 2));
    wait_until("the writer reports failing", &health, |h| h.is_failing());
    drop(bus);

    let began = Instant::now();
    let exit = writer.join();
    assert!(began.elapsed() < Duration::from_secs(3), "join is bounded");
    assert_eq!(exit.events_lost, 3);
    assert!(exit.last_error.is_some());
    drop(lock);
    let store = exit.store.expect("store");
    assert!(states(&store, session).is_empty());
}

#[test]
fn backlog_beyond_its_cap_drops_the_oldest_events_and_counts_them() {
    let (_tmp, store, session) = open();
    let lock = hold_write_lock(&store);
    let bus = CaptureBus::new();
    let config = WriterConfig {
        backlog_cap: 4,
        ..quick_config()
    };
    let writer = spawn_writer_with(store, bus.subscribe(), config);
    let health = writer.health();
    for id in 1..=10 {
        bus.publish(started(session, id));
    }
    wait_until("six events were dropped", &health, |h| h.events_lost() == 6);
    drop(lock);
    drop(bus);
    let exit = writer.join();
    assert_eq!(exit.events_lost, 6);
    let ids: Vec<u64> = states(&exit.store.expect("store"), session)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, [7, 8, 9, 10]);
}

#[test]
fn an_event_that_cannot_be_stored_costs_only_itself() {
    let (_tmp, store, session) = open();
    let bus = CaptureBus::new();
    let writer = spawn_writer_with(store, bus.subscribe(), quick_config());
    let health = writer.health();
    // SQLite integers are signed 64-bit; this id cannot be bound.
    bus.publish(done(session, 1));
    bus.publish(started(session, u64::MAX));
    bus.publish(done(session, 3));
    drop(bus);
    let exit = writer.join();
    assert_eq!(exit.events_lost, 1);
    assert_eq!(health.exchanges_written(), 2);
    assert!(!health.is_failing());
    let store = exit.store.expect("store");
    assert_eq!(
        states(&store, session),
        [(1, ExchangeState::Complete), (3, ExchangeState::Complete)]
    );
}

#[test]
fn a_backlog_over_its_memory_budget_keeps_every_exchange_but_not_every_body() {
    let (_tmp, store, session) = open();
    // The disk "falls behind": nothing can be written while events keep coming.
    let lock = hold_write_lock(&store);
    let bus = CaptureBus::new();
    let config = WriterConfig {
        memory_budget: 250_000,
        ..quick_config()
    };
    let writer = spawn_writer_with(store, bus.subscribe(), config);
    let health = writer.health();
    // The sixth's start and finish both come in over the budget: it counts once.
    publish_large_burst(&bus, session, 5);
    wait_until("four exchanges lost their bodies", &health, |h| {
        h.bodies_unrecorded() == 4
    });
    drop(lock);
    drop(bus);
    let exit = writer.join();
    assert_eq!(exit.events_lost, 0);
    let store = exit.store.expect("store");
    let stored = store.exchanges(session).expect("exchanges");
    assert_eq!(stored.len(), 6, "every exchange is in the record");
    for exchange in stored.iter().take(5) {
        let start = &exchange.record.start;
        let response = exchange.record.response.as_ref().expect("reply head");
        assert_eq!(exchange.state, ExchangeState::Complete);
        assert_eq!(response.body_len, 10_000);
        if start.id.0 <= 2 {
            assert_eq!(start.request.body.len(), 100_000);
            assert_eq!(start.request_body_unrecorded, None);
            assert_eq!(response.body.len(), 10_000);
        } else {
            assert!(start.request.body.is_empty());
            assert_eq!(start.request_body_unrecorded, Some(100_000));
            assert_eq!(start.request_body_len(), 100_000);
            assert!(response.body.is_empty() && response.truncated());
        }
    }
}

#[test]
fn what_the_bus_queues_for_the_writer_past_its_byte_limit_is_recorded_without_bodies() {
    let (_tmp, store, session) = open();
    let bus = CaptureBus::new();
    // The writer is not reading yet, as while it writes a long transaction.
    let events = bus.subscribe_with_byte_limit(Interest::Record, 250_000);
    // The fifth's start and finish both come without bodies: one exchange, counted once.
    publish_large_burst(&bus, session, 4);
    let writer = spawn_writer_with(store, events, quick_config());
    let health = writer.health();
    drop(bus);
    let exit = writer.join();
    assert_eq!(exit.events_lost, 0);
    assert_eq!(health.bodies_unrecorded(), 3);
    let stored = exit
        .store
        .expect("store")
        .exchanges(session)
        .expect("exchanges");
    let bodies: Vec<_> = stored
        .iter()
        .map(|exchange| {
            let start = &exchange.record.start;
            let reply = exchange.record.response.as_ref().expect("reply head");
            (
                start.id.0,
                exchange.state,
                start.request.body.len(),
                start.request_body_len(),
                reply.body.len(),
            )
        })
        .collect();
    let complete = ExchangeState::Complete;
    assert_eq!(
        bodies,
        [
            (1, complete, 100_000, 100_000, 10_000),
            (2, complete, 100_000, 100_000, 10_000),
            (3, complete, 0, 100_000, 0),
            (4, complete, 0, 100_000, 0),
            (5, complete, 0, 100_000, 0),
        ]
    );
}

#[test]
fn an_exchange_that_ends_at_once_is_one_row_insert_and_a_long_one_shows_in_flight_meanwhile() {
    let (_tmp, store, session) = open();
    // Every update of an exchange row leaves a line here: the finish of an exchange whose
    // start was written alone.
    let watch = Connection::open(store.path()).expect("second connection");
    watch
        .execute_batch(
            "CREATE TABLE row_updates (id INTEGER);
             CREATE TRIGGER count_updates AFTER UPDATE ON exchanges
             BEGIN INSERT INTO row_updates VALUES (new.id); END;",
        )
        .expect("trigger");
    let config = WriterConfig {
        // Far longer than the test takes between a start and its finish, even on a busy
        // machine; the default is 20 ms.
        hold_starts: Duration::from_millis(400),
        ..quick_config()
    };
    let bus = CaptureBus::new();
    let writer = spawn_writer_with(store, bus.subscribe(), config);
    let health = writer.health();

    bus.publish(started(session, 1));
    std::thread::sleep(Duration::from_millis(15));
    bus.publish(done(session, 1));
    wait_until("the quick exchange is written", &health, |h| {
        h.exchanges_written() == 1
    });

    bus.publish(started(session, 2));
    let in_flight = || -> Option<String> {
        watch
            .query_row("SELECT state FROM exchanges WHERE id = 2", [], |row| {
                row.get(0)
            })
            .ok()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while in_flight().is_none() {
        assert!(
            Instant::now() < deadline,
            "the long exchange's start never reached the disk"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(in_flight().as_deref(), Some("in_flight"));
    bus.publish(done(session, 2));
    drop(bus);
    assert_eq!(
        joined_states(writer, session),
        [(1, ExchangeState::Complete), (2, ExchangeState::Complete)]
    );
    let updated: Vec<i64> = watch
        .prepare("SELECT id FROM row_updates")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("updates");
    assert_eq!(
        updated,
        [2],
        "only the exchange written in two steps was updated"
    );
}
