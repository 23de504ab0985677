//! Putting things right after a damaged file: opening a fresh database in place of one that
//! fails its integrity check, with the damaged one kept beside it.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::db::Store;
use super::error::StoreError;

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
    use crate::store::db::DB_FILE;
    use crate::store::test_fixtures::{sample_start, session_info};

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
}
