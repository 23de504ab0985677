//! Putting things right after trouble: sessions whose process died, and damaged files.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Transaction, TransactionBehavior};

use super::db::Store;
use super::error::{SqliteContext, StoreError};

impl Store {
    /// Like [`Store::open`], but a damaged database is renamed to
    /// `llmscope.db.corrupt-<unix-seconds>` (with its -wal and -shm) and a fresh one is
    /// created. Returns the path the damaged file was moved to, if one was.
    pub fn open_or_recover(data_dir: &Path) -> Result<(Store, Option<PathBuf>), StoreError> {
        match Store::open(data_dir) {
            Err(StoreError::Corrupt { path, .. }) => {
                let moved = move_aside(&path)?;
                Ok((Store::open(data_dir)?, Some(moved)))
            }
            other => other.map(|store| (store, None)),
        }
    }
}

/// Ends every open session whose process is gone: its end is the last moment it was known to
/// be working, and exchanges it left in flight become `incomplete`. Sessions of live processes
/// (another llmscope sharing the data dir) are left alone.
pub(super) fn close_abandoned_sessions(store: &Store) -> Result<(), StoreError> {
    let path = &store.path;
    let mut stmt = store
        .conn
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
    let tx = Transaction::new_unchecked(&store.conn, TransactionBehavior::Immediate)
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

/// Renames the damaged database and its sidecars out of the way; returns the new name of the
/// database file.
fn move_aside(db: &Path) -> Result<PathBuf, StoreError> {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let base = with_suffix(db, &format!(".corrupt-{stamp}"));
    // Two recoveries within a second must not overwrite the first one's evidence.
    let target = (0..)
        .map(|n| match n {
            0 => base.clone(),
            n => with_suffix(&base, &format!(".{n}")),
        })
        .find(|candidate| !candidate.exists())
        .unwrap_or(base);
    fs::rename(db, &target)
        .map_err(|e| StoreError::io("move aside the damaged database", db, e))?;
    for suffix in ["-wal", "-shm"] {
        let sidecar = with_suffix(db, suffix);
        if sidecar.exists() {
            // Kept next to the moved file under SQLite's naming so the pair still opens together.
            fs::rename(&sidecar, with_suffix(&target, suffix))
                .map_err(|e| StoreError::io("move aside the damaged database's", &sidecar, e))?;
        }
    }
    Ok(target)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{ExchangeId, ExchangeState, SessionId};
    use crate::store::db::DB_FILE;
    use crate::store::test_fixtures::{sample_start, session_info};

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
    fn garbage_file_is_reported_as_damaged_with_what_to_do() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let garbage: Vec<u8> = (0..8192u32).map(|n| (n * 31 % 251) as u8).collect();
        fs::write(tmp.path().join(DB_FILE), garbage).expect("write garbage");
        let err = Store::open(tmp.path()).expect_err("garbage is not a database");
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("llmscope.db is damaged"), "{message}");
        assert!(message.contains("move it aside or delete it"), "{message}");
    }

    #[test]
    fn damaged_pages_in_a_real_database_are_reported_as_damaged() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::open(tmp.path()).expect("open");
        let session = store.begin_session(&session_info()).expect("session");
        let mut seed = 0x2545_f491_u32;
        for n in 1..=100 {
            // Noise, so compression leaves many pages to damage.
            let body = (0..3000)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (seed >> 16) as u8
                })
                .collect();
            store
                .record_start(&sample_start(session, n, body))
                .expect("start");
        }
        drop(store);
        let path = tmp.path().join(DB_FILE);
        let mut bytes = fs::read(&path).expect("read db");
        assert!(bytes.len() > 64 * 1024, "db is big enough to damage");
        for byte in &mut bytes[4096 * 2..4096 * 12] {
            *byte = 0xA5;
        }
        fs::write(&path, bytes).expect("write damage");
        let err = Store::open(tmp.path()).expect_err("damaged");
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
        assert!(!err.to_string().contains('\n'), "one line: {err}");
    }

    #[test]
    fn open_or_recover_moves_a_damaged_file_aside_and_starts_fresh() {
        let tmp = tempfile::tempdir().expect("tempdir");
        fs::write(
            tmp.path().join(DB_FILE),
            b"this is not sqlite, not even close!!!",
        )
        .expect("write garbage");
        let (store, moved) = Store::open_or_recover(tmp.path()).expect("recover");
        let moved = moved.expect("a file was moved aside");
        let name = moved
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        assert!(name.starts_with("llmscope.db.corrupt-"), "{name}");
        assert_eq!(
            fs::read(&moved).expect("moved file"),
            b"this is not sqlite, not even close!!!"
        );
        assert!(store.list_sessions().expect("fresh db").is_empty());
        drop(store);
        let (_, moved_again) = Store::open_or_recover(tmp.path()).expect("healthy reopen");
        assert_eq!(moved_again, None);
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
