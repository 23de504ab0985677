//! The write transaction of a batch, begun and committed through cached statements.
//!
//! rusqlite's `Transaction` runs `BEGIN` and `COMMIT` with `execute_batch`, which parses the
//! SQL every time: about 5,000 instructions a batch, as much as a small exchange's insert
//! when a quiet proxy's batches hold one or two events. The statements prepared once and
//! reused cost a fraction of that.

use std::ops::Deref;

use rusqlite::Connection;

/// An open `BEGIN IMMEDIATE` transaction: rolled back when dropped uncommitted, so an error
/// part-way through a batch leaves nothing of it behind.
pub(super) struct WriteTx<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> WriteTx<'c> {
    /// Takes SQLite's write lock at once, so waiting for another process is governed by the
    /// busy timeout instead of failing half-way through a batch.
    pub(super) fn begin(conn: &'c Connection) -> rusqlite::Result<Self> {
        conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        Ok(Self { conn, open: true })
    }

    pub(super) fn commit(mut self) -> rusqlite::Result<()> {
        self.conn.prepare_cached("COMMIT")?.execute([])?;
        self.open = false;
        Ok(())
    }
}

impl Deref for WriteTx<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for WriteTx<'_> {
    fn drop(&mut self) {
        // A failed COMMIT (SQLITE_BUSY) can leave the transaction open; SQLite may also have
        // rolled it back itself already, and then ROLLBACK's error means nothing is open.
        if self.open && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Connection {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch("CREATE TABLE t (x INTEGER)")
            .expect("table");
        conn
    }

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .expect("count")
    }

    #[test]
    fn committed_rows_stay_and_dropped_ones_go() {
        let conn = table();
        for _ in 0..3 {
            let tx = WriteTx::begin(&conn).expect("begin");
            tx.execute("INSERT INTO t VALUES (1)", []).expect("insert");
            tx.commit().expect("commit");
        }
        {
            let tx = WriteTx::begin(&conn).expect("begin");
            tx.execute("INSERT INTO t VALUES (2)", []).expect("insert");
        }
        assert_eq!(count(&conn), 3);
        assert!(conn.is_autocommit(), "no transaction is left open");
        // The cached BEGIN works again after a rollback.
        let tx = WriteTx::begin(&conn).expect("begin after a rollback");
        tx.execute("INSERT INTO t VALUES (3)", []).expect("insert");
        tx.commit().expect("commit");
        assert_eq!(count(&conn), 4);
    }
}
