//! The statements a write runs, each taken from the connection's statement cache once per
//! transaction and reused for every row of it.
//!
//! `prepare_cached` hashes the SQL text to find a statement, and handing the statement back
//! clears its bindings and files it again (hashing the text once more): about 3,500
//! instructions a use for the exchange insert, a quarter of what SQLite spends on the insert
//! itself, paid by every exchange. A batch of tens of exchanges now pays it once.

use rusqlite::{CachedStatement, Connection, Statement, ToSql};

/// The SQL of the writes an exchange can make.
#[derive(Debug, Clone, Copy)]
pub(super) enum Sql {
    /// An exchange's row, with its outcome when it has finished.
    InsertExchange,
    /// How an exchange whose start is stored ended.
    UpdateOutcome,
    /// The tokens a reply reported.
    InsertUsage,
    /// An exchange's retry-loop and gateway links.
    InsertLinks,
    /// How a held exchange was settled.
    UpdateHoldOutcome,
}

impl Sql {
    const COUNT: usize = 5;

    fn text(self) -> &'static str {
        match self {
            Self::InsertExchange => {
                "INSERT INTO exchanges (session_id, id, started_at_ms, method, uri, dialect, model,
                     state, origin, parent_id, rewrite_applied, original_request_len,
                     request_body_len, request_headers, request_body_codec, request_body,
                     original_request_headers, original_request_codec, original_request_body,
                     request_body_ref, status, failure_class, failure_message, first_byte_ms,
                     duration_ms, response_body_captured, response_body_len, response_headers,
                     response_body_codec, response_body, request_body_captured)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                         ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30,
                         ?31)
                 ON CONFLICT (session_id, id) DO NOTHING"
            }
            Self::UpdateOutcome => {
                "UPDATE exchanges SET status = ?3, state = ?4, failure_class = ?5,
                     failure_message = ?6, first_byte_ms = ?7, duration_ms = ?8,
                     response_body_captured = ?9, response_body_len = ?10,
                     response_headers = ?11, response_body_codec = ?12, response_body = ?13
                 WHERE session_id = ?1 AND id = ?2"
            }
            Self::InsertUsage => {
                "INSERT OR REPLACE INTO usage (session_id, id, input_tokens, output_tokens,
                     cache_read_tokens, cache_write_tokens)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            }
            Self::InsertLinks => {
                "INSERT OR IGNORE INTO links (session_id, id, repeats_id, beneath_id)
                 VALUES (?1, ?2, ?3, ?4)"
            }
            Self::UpdateHoldOutcome => {
                "UPDATE exchanges SET hold_outcome = ?3, hold_delivered_from = ?4
                  WHERE session_id = ?1 AND id = ?2"
            }
        }
    }
}

/// The statements one transaction has taken from the cache so far. They go back to it when
/// this is dropped, which must happen before the transaction commits (a statement is reset
/// after each execution, so none is left running).
pub(super) struct Statements<'c> {
    conn: &'c Connection,
    taken: [Option<CachedStatement<'c>>; Sql::COUNT],
}

impl<'c> Statements<'c> {
    pub(super) fn new(conn: &'c Connection) -> Self {
        Self {
            conn,
            taken: Default::default(),
        }
    }

    /// The statement for `sql`, prepared (or found in the cache) on its first use here.
    pub(super) fn get(&mut self, sql: Sql) -> rusqlite::Result<&mut Statement<'c>> {
        let slot = &mut self.taken[sql as usize];
        let statement = match slot.take() {
            Some(statement) => statement,
            None => self.conn.prepare_cached(sql.text())?,
        };
        Ok(slot.insert(statement))
    }
}

/// Binds one row's values to a statement in the order of its parameters, then runs it.
///
/// Bindings outlast a run, so the statement's are cleared first and a missing value (`None`)
/// is simply not bound: it reads as NULL. An ordinary exchange leaves a third of its columns
/// empty, and each bind through the generic `execute(params![…])` costs a dynamic call and
/// one of SQLite's mutex-taking API calls.
pub(super) struct Row<'s, 'c> {
    statement: &'s mut Statement<'c>,
    bound: usize,
}

impl<'s, 'c> Row<'s, 'c> {
    pub(super) fn new(statement: &'s mut Statement<'c>) -> Self {
        statement.clear_bindings();
        Self {
            statement,
            bound: 0,
        }
    }

    /// The next parameter's value.
    pub(super) fn value<T: ToSql>(mut self, value: T) -> rusqlite::Result<Self> {
        self.bound += 1;
        self.statement.raw_bind_parameter(self.bound, value)?;
        Ok(self)
    }

    /// The next parameter's value, NULL when there is none.
    pub(super) fn maybe<T: ToSql>(mut self, value: Option<T>) -> rusqlite::Result<Self> {
        match value {
            Some(value) => self.value(value),
            None => {
                self.bound += 1;
                Ok(self)
            }
        }
    }

    /// Runs the statement with the values given, which must be one per parameter.
    pub(super) fn execute(self) -> rusqlite::Result<usize> {
        let expected = self.statement.parameter_count();
        if self.bound != expected {
            return Err(rusqlite::Error::InvalidParameterCount(self.bound, expected));
        }
        self.statement.raw_execute()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_prepares_against_the_current_schema() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = crate::store::Store::open(dir.path()).expect("open");
        let mut statements = Statements::new(&store.conn);
        for sql in [
            Sql::InsertExchange,
            Sql::UpdateOutcome,
            Sql::InsertUsage,
            Sql::InsertLinks,
            Sql::UpdateHoldOutcome,
        ] {
            statements
                .get(sql)
                .unwrap_or_else(|e| panic!("{sql:?} does not prepare: {e}"));
        }
    }

    #[test]
    fn a_row_binds_in_order_leaves_missing_values_null_and_refuses_a_short_row() {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch("CREATE TABLE t (a INTEGER, b TEXT, c INTEGER)")
            .expect("table");
        let mut insert = conn
            .prepare("INSERT INTO t VALUES (?1, ?2, ?3)")
            .expect("prepare");
        let row = Row::new(&mut insert).value(1).expect("a");
        let row = row.maybe(Some("x")).expect("b").maybe(Some(7)).expect("c");
        row.execute().expect("first row");
        // The second row's missing value must not keep the first row's binding.
        let row = Row::new(&mut insert).value(2).expect("a");
        let row = row.maybe(None::<&str>).expect("b").value(8).expect("c");
        row.execute().expect("second row");
        let short = Row::new(&mut insert).value(3).expect("a").execute();
        assert!(
            matches!(short, Err(rusqlite::Error::InvalidParameterCount(1, 3))),
            "{short:?}"
        );
        let rows: Vec<(i64, Option<String>, i64)> = conn
            .prepare("SELECT a, b, c FROM t ORDER BY a")
            .expect("select")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(rows, [(1, Some("x".into()), 7), (2, None, 8)]);
    }
}
