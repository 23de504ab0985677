//! The database schema and its migrations, versioned with `PRAGMA user_version`.
//!
//! Migrations only ever append: `MIGRATIONS[n]` takes a file from version `n` to `n + 1`.
//! Edit a released migration and files already at that version will never see the change.

use std::path::Path;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::error::{SqliteContext, StoreError};

/// v1: sessions, exchanges and the rules of a session.
///
/// A request body stored as a delta (codec 2) names its reference in `request_body_ref`, an
/// earlier exchange of the same session.
///
/// In `exchanges` the small columns come first and the bodies last: SQLite decodes a row's
/// columns in order, so list views that stop before the bodies never read their overflow
/// pages. Bodies carry a codec tag (see `codec.rs`); an empty body is NULL. `origin` and
/// `parent_id` link a resend to the exchange it fixes; `rewrite_applied` lists the rules that
/// changed a request, whose original headers and body are kept in the `original_request_*`
/// columns; `hold_outcome` says how a held failure was settled.
const V1: &str = "
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at_ms INTEGER NOT NULL,
    ended_at_ms   INTEGER,
    upstream      TEXT NOT NULL,
    listen        TEXT NOT NULL,
    mode          TEXT NOT NULL,
    pid           INTEGER NOT NULL
);

CREATE TABLE exchanges (
    session_id             INTEGER NOT NULL,
    id                     INTEGER NOT NULL,
    started_at_ms          INTEGER NOT NULL,
    method                 TEXT NOT NULL,
    uri                    TEXT NOT NULL,
    dialect                TEXT NOT NULL,
    model                  TEXT,
    status                 INTEGER,
    state                  TEXT NOT NULL,
    failure_class          TEXT,
    failure_message        TEXT,
    first_byte_ms          INTEGER,
    duration_ms            INTEGER,
    origin                 TEXT NOT NULL DEFAULT 'agent',
    parent_id              INTEGER,
    hold_outcome           TEXT,
    hold_delivered_from    INTEGER,
    rewrite_applied        TEXT,
    original_request_len   INTEGER,
    request_body_len       INTEGER NOT NULL,
    request_body_ref       INTEGER,
    response_body_captured INTEGER,
    response_body_len      INTEGER,
    request_headers        TEXT NOT NULL,
    response_headers       TEXT,
    request_body_codec     INTEGER NOT NULL DEFAULT 0,
    response_body_codec    INTEGER NOT NULL DEFAULT 0,
    original_request_headers TEXT,
    original_request_codec INTEGER NOT NULL DEFAULT 0,
    request_body           BLOB,
    response_body          BLOB,
    original_request_body  BLOB,
    PRIMARY KEY (session_id, id)
);

CREATE INDEX exchanges_by_failure ON exchanges (session_id, failure_class);

CREATE TABLE rules (
    session_id INTEGER NOT NULL,
    id         INTEGER NOT NULL,
    enabled    INTEGER NOT NULL,
    rule       TEXT NOT NULL,
    PRIMARY KEY (session_id, id)
);
";

/// v2: `request_body_captured` is the number of request body bytes the row holds when that is
/// less than `request_body_len` (0: the writer fell too far behind to keep the body); NULL
/// when the whole body is stored. `usage` holds the token counts a reply reported, in a table
/// of its own so that lists read them without stepping over the bodies stored at the end of
/// each `exchanges` row.
const V2: &str = "
ALTER TABLE exchanges ADD COLUMN request_body_captured INTEGER;

CREATE TABLE usage (
    session_id    INTEGER NOT NULL,
    id            INTEGER NOT NULL,
    input_tokens  INTEGER,
    output_tokens INTEGER,
    PRIMARY KEY (session_id, id)
) WITHOUT ROWID;
";

/// v3: `links` ties an exchange to others besides its resend parent: `repeats_id`, the first
/// exchange of the retry loop an agent request repeats (the same request, failed the same
/// way); `beneath_id`, the agent's exchange a gateway's call to a provider served. A table of
/// its own like `usage`, and a row only for exchanges that have a link. `usage` gains the
/// prompt-cache counts a reply reported (read from the cache, written to it).
const V3: &str = "
ALTER TABLE usage ADD COLUMN cache_read_tokens INTEGER;
ALTER TABLE usage ADD COLUMN cache_write_tokens INTEGER;

CREATE TABLE links (
    session_id INTEGER NOT NULL,
    id         INTEGER NOT NULL,
    repeats_id INTEGER,
    beneath_id INTEGER,
    PRIMARY KEY (session_id, id)
) WITHOUT ROWID;
";

/// v4: no index on `(session_id, failure_class)`. No query ever filtered on the class (the
/// lists count failures per session, which the primary key's index serves as well), and the
/// index cost every exchange's insert, and every finish written as an update, a B-tree write.
const V4: &str = "
DROP INDEX IF EXISTS exchanges_by_failure;
";

const MIGRATIONS: &[&str] = &[V1, V2, V3, V4];

/// The schema version this build writes.
pub(super) const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the file up to [`CURRENT_VERSION`], refusing files from a newer llmscope.
pub(super) fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    if check_version(conn, path)? == CURRENT_VERSION {
        return Ok(());
    }
    // IMMEDIATE takes the write lock up front; re-reading the version under it means two
    // processes opening a fresh directory at once migrate it exactly once.
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
        .during("start the schema migration", path)?;
    let found = check_version(&tx, path)?;
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(sql).during("migrate the schema", path)?;
        tx.pragma_update(None, "user_version", from as i64 + 1)
            .during("record the schema version", path)?;
    }
    tx.commit().during("commit the schema migration", path)
}

fn check_version(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .during("read the schema version", path)?;
    if found > CURRENT_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            supported: CURRENT_VERSION,
        });
    }
    // A negative version can only come from damage; treating it as 0 would re-run v1 on top
    // of existing tables.
    if found < 0 {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("schema version {found} is not valid"),
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database file as a release writing schema `version` left it.
    fn file_at_version(version: usize) -> (tempfile::TempDir, std::path::PathBuf, Connection) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join(format!("v{version}.sqlite"));
        let conn = Connection::open(&path).expect("open");
        for sql in &MIGRATIONS[..version] {
            conn.execute_batch(sql).expect("old schema");
        }
        conn.pragma_update(None, "user_version", version as i64)
            .expect("version");
        (tmp, path, conn)
    }

    /// A file written by the last release (v2) takes the new columns and table, and keeps
    /// what it held.
    #[test]
    fn a_version_2_file_is_brought_up_to_date_with_its_rows() {
        let (_tmp, path, conn) = file_at_version(2);
        conn.execute(
            "INSERT INTO usage (session_id, id, input_tokens, output_tokens) VALUES (1, 1, 10, 2)",
            [],
        )
        .expect("old row");

        migrate(&conn, &path).expect("migrates");
        let row: (i64, Option<i64>) = conn
            .query_row(
                "SELECT input_tokens, cache_read_tokens FROM usage WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("the row survives");
        assert_eq!(row, (10, None));
        conn.execute(
            "INSERT INTO links (session_id, id, repeats_id) VALUES (1, 2, 1)",
            [],
        )
        .expect("links exists");
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("version");
        assert_eq!(version, CURRENT_VERSION);
    }

    /// A v3 file loses the unused failure index and keeps its exchanges; the sessions list
    /// still finds a session's exchanges by the primary key.
    #[test]
    fn a_version_3_file_drops_the_failure_index_and_keeps_its_rows() {
        let (_tmp, path, conn) = file_at_version(3);
        conn.execute(
            "INSERT INTO exchanges (session_id, id, started_at_ms, method, uri, dialect, state,
                 request_body_len, request_headers, failure_class)
             VALUES (1, 1, 0, 'POST', '/v1/messages', 'anthropic', 'complete', 0, '[]', 'http_4xx')",
            [],
        )
        .expect("old row");

        migrate(&conn, &path).expect("migrates");
        let indexes: Vec<String> = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'exchanges'",
            )
            .expect("prepares")
            .query_map([], |r| r.get(0))
            .expect("queries")
            .collect::<Result<_, _>>()
            .expect("reads");
        assert!(
            !indexes.iter().any(|name| name == "exchanges_by_failure"),
            "{indexes:?}"
        );
        let failed: i64 = conn
            .query_row(
                "SELECT COUNT(failure_class) FROM exchanges WHERE session_id = 1",
                [],
                |r| r.get(0),
            )
            .expect("the row survives");
        assert_eq!(failed, 1);
    }
}
