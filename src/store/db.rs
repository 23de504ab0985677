//! Opening the session database: a private directory and file, WAL, an integrity check, the
//! schema, and the clean-up after a crashed run.

use std::cell::RefCell;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::delta::{DecodedBodies, DeltaReferences};
use super::error::{SqliteContext, StoreError};
use super::{abandoned, schema};

/// File name of the database inside the data directory.
pub(super) const DB_FILE: &str = "llmscope.db";

/// Long enough to wait out another llmscope process's write transaction on the same file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How many problems `quick_check` reports before stopping; enough to describe the damage.
const INTEGRITY_PROBLEMS_SHOWN: u32 = 3;

/// One connection to the session database. Reads take `&self`; the capture path writes through
/// the writer thread ([`spawn_writer`](super::spawn_writer)), which owns its own `Store`.
pub struct Store {
    pub(super) conn: Connection,
    pub(super) path: PathBuf,
    /// Recent request bodies written through this connection, the references for deltas.
    pub(super) references: RefCell<DeltaReferences>,
    /// Request bodies this connection decoded recently, to follow delta chains cheaply.
    pub(super) decoded: RefCell<DecodedBodies>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) `llmscope.db` in `data_dir`, checks it, migrates it, and
    /// closes sessions left open by llmscope processes that are no longer running.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        create_private_dir(data_dir)?;
        let path = data_dir.join(DB_FILE);
        create_private_file(&path)?;
        let conn = Connection::open(&path).during("open", &path)?;
        let store = Store::on(conn, path);
        store.configure()?;
        store.check_integrity()?;
        schema::migrate(&store.conn, &store.path)?;
        abandoned::close_abandoned_sessions(&store.conn, &store.path)?;
        restrict_sidecar_files(&store.path)?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file this store opened and checked, for another connection to it later (a reader
    /// beside the writer thread, which owns this one).
    pub fn file(&self) -> StoreFile {
        StoreFile {
            path: self.path.clone(),
        }
    }

    fn on(conn: Connection, path: PathBuf) -> Store {
        Store {
            conn,
            path,
            references: RefCell::default(),
            decoded: RefCell::default(),
        }
    }

    fn configure(&self) -> Result<(), StoreError> {
        let path = &self.path;
        self.conn
            .busy_timeout(BUSY_TIMEOUT)
            .during("set the busy timeout", path)?;
        // WAL lets a second llmscope (or `llmscope sessions`) read while this one writes.
        // Filesystems without shared memory keep the old journal; that still works, slower.
        self.conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
            .during("switch to WAL", path)?;
        // NORMAL in WAL mode can lose the last transactions on power loss but never corrupts.
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .during("set synchronous mode", path)?;
        Ok(())
    }

    fn check_integrity(&self) -> Result<(), StoreError> {
        let path = &self.path;
        let mut stmt = self
            .conn
            .prepare(&format!("PRAGMA quick_check({INTEGRITY_PROBLEMS_SHOWN})"))
            .during("check integrity", path)?;
        let problems = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .during("check integrity", path)?
            .collect::<Result<Vec<_>, _>>()
            .during("check integrity", path)?;
        if problems.len() == 1 && problems[0] == "ok" {
            return Ok(());
        }
        // SQLite words problems as lines under a "*** in database main ***" heading; one line
        // reads better in an error message.
        let found: Vec<&str> = problems
            .iter()
            .flat_map(|problem| problem.lines())
            .filter(|line| !line.starts_with("***"))
            .collect();
        Err(StoreError::Corrupt {
            path: path.clone(),
            detail: format!("integrity check failed: {}", found.join("; ")),
        })
    }

    #[cfg(test)]
    pub(super) fn set_busy_timeout(&self, timeout: Duration) {
        let _ = self.conn.busy_timeout(timeout);
    }
}

/// A database file a [`Store`] opened in this run. Connecting to it again skips what opening
/// did once (the integrity check, the migrations, closing abandoned sessions): the file was
/// put right then.
#[derive(Debug, Clone)]
pub struct StoreFile {
    path: PathBuf,
}

impl StoreFile {
    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Another connection to the file, set up as [`Store::open`] sets up its own. Blocks on
    /// the file: call it off the async runtime. A file that has gone since is an error, not a
    /// new empty database.
    pub fn connect(&self) -> Result<Store, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).during("open", &self.path)?;
        let store = Store::on(conn, self.path.clone());
        store.configure()?;
        Ok(store)
    }
}

/// The data directory holds prompts and replies: only its owner may list or enter it. An
/// existing directory is left as the user made it.
fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| StoreError::io("create the data directory", dir, e))?;
    // The mode given at creation is filtered by the umask; set it outright.
    set_private_mode(dir, 0o700)
}

/// Creates the database file as 0600 before SQLite touches it, so it is never readable by
/// others even for a moment; SQLite then gives its -wal and -shm files the same mode.
fn create_private_file(path: &Path) -> Result<(), StoreError> {
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(|e| StoreError::io("open or create the session database", path, e))?;
    set_private_mode(path, 0o600)
}

/// Belt and braces for files SQLite created itself (a -wal left by an older build, say).
fn restrict_sidecar_files(db: &Path) -> Result<(), StoreError> {
    for suffix in ["-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let sidecar = PathBuf::from(name);
        if sidecar.exists() {
            set_private_mode(&sidecar, 0o600)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn set_private_mode(path: &Path, mode: u32) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| StoreError::io("restrict the permissions of", path, e))
}

#[cfg(not(unix))]
fn set_private_mode(_path: &Path, _mode: u32) -> Result<(), StoreError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode_of(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn data_dir_is_0700_and_database_files_are_0600() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("data").join("llmscope");
        let store = Store::open(&dir).expect("open");
        assert_eq!(mode_of(&dir), 0o700);
        assert_eq!(mode_of(store.path()), 0o600);
        for sidecar in ["llmscope.db-wal", "llmscope.db-shm"] {
            let path = dir.join(sidecar);
            assert!(path.exists(), "{sidecar} exists while the store is open");
            assert_eq!(mode_of(&path), 0o600, "{sidecar}");
        }
    }

    #[test]
    fn reopening_keeps_the_schema_and_uses_wal() {
        let tmp = tempfile::tempdir().expect("tempdir");
        drop(Store::open(tmp.path()).expect("first open"));
        let store = Store::open(tmp.path()).expect("second open");
        let version: i64 = store
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        assert_eq!(version, schema::CURRENT_VERSION);
        let mode: String = store
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .expect("journal mode");
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_second_connection_to_the_file_reads_what_the_first_writes() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::open(tmp.path()).expect("open");
        let reader = store.file().connect().expect("connect");
        assert_eq!(reader.path(), store.path());
        assert!(reader.list_sessions().expect("sessions").is_empty());
        store
            .begin_session(&crate::store::test_fixtures::session_info())
            .expect("session");
        assert_eq!(reader.list_sessions().expect("sessions").len(), 1);
    }

    #[test]
    fn connecting_to_a_file_that_has_gone_fails_without_creating_one() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let file = Store::open(tmp.path()).expect("open").file();
        for name in [DB_FILE, "llmscope.db-wal", "llmscope.db-shm"] {
            let _ = fs::remove_file(tmp.path().join(name));
        }
        assert!(file.connect().is_err());
        assert!(!file.path().exists());
    }

    #[test]
    fn database_from_a_newer_llmscope_is_refused_by_name() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::open(tmp.path()).expect("open");
        store
            .conn
            .pragma_update(None, "user_version", 99)
            .expect("bump version");
        drop(store);
        let err = Store::open(tmp.path()).expect_err("newer schema");
        assert!(
            matches!(err, StoreError::TooNew { found: 99, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("upgrade llmscope"), "{err}");
    }
}
