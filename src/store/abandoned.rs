//! Closing the sessions of llmscope processes that died without ending them: the clean-up
//! every open runs, so a crashed run reads as ended and its in-flight exchanges as incomplete.

use std::path::Path;

use rusqlite::{params, Connection, Transaction, TransactionBehavior};

use super::error::{SqliteContext, StoreError};

/// Ends every open session whose process is gone: its end is the last moment it was known to
/// be working, and exchanges it left in flight become `incomplete`. Sessions of live processes
/// (another llmscope sharing the data dir) are left alone.
pub(super) fn close_abandoned_sessions(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare("SELECT id, pid FROM sessions WHERE ended_at_ms IS NULL")
        .during("find unfinished sessions", path)?;
    let abandoned = stmt
        .query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)))
        .during("find unfinished sessions", path)?
        .filter_map(|row| match row {
            Ok((id, pid)) if !process_is_alive(pid) => Some(Ok(id)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<Vec<i64>, _>>()
        .during("find unfinished sessions", path)?;
    if abandoned.is_empty() {
        return Ok(());
    }
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
        .during("close abandoned sessions", path)?;
    for id in abandoned {
        // `ended_at_ms IS NULL` again: another process opening at the same time may have
        // closed it already, and its answer is as good as ours.
        tx.execute(
            "UPDATE sessions SET ended_at_ms = COALESCE(
                 (SELECT MAX(started_at_ms + COALESCE(duration_ms, 0))
                    FROM exchanges WHERE session_id = ?1),
                 started_at_ms)
             WHERE id = ?1 AND ended_at_ms IS NULL",
            params![id],
        )
        .during("close abandoned sessions", path)?;
        tx.execute(
            "UPDATE exchanges SET state = 'incomplete' WHERE session_id = ?1 AND state = 'in_flight'",
            params![id],
        )
        .during("mark abandoned exchanges incomplete", path)?;
    }
    tx.commit().during("close abandoned sessions", path)
}

fn process_is_alive(pid: i64) -> bool {
    if u32::try_from(pid).is_ok_and(|pid| pid == std::process::id()) {
        return true;
    }
    other_process_is_alive(pid)
}

#[cfg(target_os = "linux")]
fn other_process_is_alive(pid: i64) -> bool {
    pid > 0 && Path::new(&format!("/proc/{pid}")).exists()
}

/// Without /proc there is no dependency-free liveness check, so another process's open
/// session counts as abandoned; if that process is in fact running, its later writes still
/// land (a finish overwrites `incomplete`).
#[cfg(not(target_os = "linux"))]
fn other_process_is_alive(_pid: i64) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{ExchangeId, ExchangeState, SessionId};
    use crate::store::test_fixtures::{sample_start, session_info};
    use crate::store::Store;

    /// No Linux pid can be this large (pid_max is at most 2^22).
    const DEAD_PID: i64 = 0x7fff_fffe;

    fn insert_session_with_pid(store: &Store, pid: i64, started_at_ms: i64) -> SessionId {
        store
            .conn
            .execute(
                "INSERT INTO sessions (started_at_ms, upstream, listen, mode, pid)
                 VALUES (?1, 'http://up', '127.0.0.1:8787', 'reverse', ?2)",
                params![started_at_ms, pid],
            )
            .expect("insert session");
        SessionId(store.conn.last_insert_rowid())
    }

    #[test]
    fn in_flight_exchange_of_a_dead_process_becomes_incomplete_on_reopen() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::open(tmp.path()).expect("open");
        let session = insert_session_with_pid(&store, DEAD_PID, 1_000);
        let mut start = sample_start(session, 1, b"{}".to_vec());
        start.started_at_ms = 5_000;
        store.record_start(&start).expect("start");
        drop(store);

        let store = Store::open(tmp.path()).expect("reopen");
        let stored = store
            .exchange(session, ExchangeId(1))
            .expect("read")
            .expect("row");
        assert_eq!(stored.state, ExchangeState::Incomplete);
        let summary = &store.list_sessions().expect("sessions")[0];
        assert_eq!(summary.ended_at_ms, Some(5_000));
        assert_eq!(summary.incomplete, 1);
    }

    #[test]
    fn dead_session_without_exchanges_ends_when_it_started() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::open(tmp.path()).expect("open");
        insert_session_with_pid(&store, DEAD_PID, 1_234);
        drop(store);
        let store = Store::open(tmp.path()).expect("reopen");
        assert_eq!(
            store.list_sessions().expect("sessions")[0].ended_at_ms,
            Some(1_234)
        );
    }

    #[test]
    fn session_of_our_own_live_process_is_left_open() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::open(tmp.path()).expect("open");
        let session = store.begin_session(&session_info()).expect("session");
        store
            .record_start(&sample_start(session, 1, b"{}".to_vec()))
            .expect("start");
        let _reopened = Store::open(tmp.path()).expect("second open, same process");
        let stored = store
            .exchange(session, ExchangeId(1))
            .expect("read")
            .expect("row");
        assert_eq!(stored.state, ExchangeState::InFlight);
        assert_eq!(
            store.list_sessions().expect("sessions")[0].ended_at_ms,
            None
        );
    }
}
