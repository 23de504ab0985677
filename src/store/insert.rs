//! The SQL that records sessions and exchanges: the inserts and updates for a session's
//! start and end, an exchange's start and finish, holds and rule changes, and a batch of
//! capture events in one transaction.
//!
//! Writes take SQLite's write lock at `BEGIN` (IMMEDIATE, see `write_tx.rs`).

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use foldhash::HashSet;
use rusqlite::{params, Connection};

use super::codec;
use super::db::Store;
use super::delta::DeltaReferences;
use super::error::{SqliteContext, StoreError};
use super::statements::{Row, Sql, Statements};
use super::write_tx::WriteTx;
use super::SessionInfo;
use crate::capture::{
    CaptureEvent, ExchangeId, ExchangeRecord, ExchangeStart, ExchangeState, HeaderList,
    HoldOutcome, SessionId,
};
use crate::give_way::GiveWay;
use crate::llm::Usage;

impl Store {
    /// Records the start of a run of this process and returns its id.
    pub fn begin_session(&self, info: &SessionInfo) -> Result<SessionId, StoreError> {
        self.conn
            .execute(
                "INSERT INTO sessions (started_at_ms, upstream, listen, mode, pid)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    now_ms(),
                    info.upstream,
                    info.listen,
                    info.mode,
                    std::process::id()
                ],
            )
            .during("begin a session", &self.path)?;
        Ok(SessionId(self.conn.last_insert_rowid()))
    }

    /// Marks a session ended now. Exchanges still in flight can no longer finish, so they
    /// become `incomplete`; a finish written later still wins.
    pub fn end_session(&self, session: SessionId) -> Result<(), StoreError> {
        let tx = self.write_tx("end a session")?;
        tx.execute(
            "UPDATE sessions SET ended_at_ms = ?2 WHERE id = ?1",
            params![session.0, now_ms()],
        )
        .during("end a session", &self.path)?;
        tx.execute(
            "UPDATE exchanges SET state = 'incomplete' WHERE session_id = ?1 AND state = 'in_flight'",
            params![session.0],
        )
        .during("end a session", &self.path)?;
        tx.commit().during("end a session", &self.path)
    }

    /// Stores a request as `in_flight`. A row that already exists (its finish arrived first)
    /// is left as it is.
    pub fn record_start(&self, start: &ExchangeStart) -> Result<(), StoreError> {
        let written = insert_start(&mut Statements::new(&self.conn), &self.references, start)
            .during("record an exchange start", &self.path);
        self.forget_references_unless(written.is_ok());
        written
    }

    /// Stores how an exchange ended, inserting the whole exchange if its start was never
    /// written.
    pub fn record_finish(&self, record: &ExchangeRecord) -> Result<(), StoreError> {
        let written = self.write_finish_tx(record);
        self.forget_references_unless(written.is_ok());
        written
    }

    fn write_finish_tx(&self, record: &ExchangeRecord) -> Result<(), StoreError> {
        let tx = self.write_tx("record an exchange")?;
        write_finish(&mut Statements::new(&tx), &self.references, record, true)
            .during("record an exchange", &self.path)?;
        tx.commit().during("record an exchange", &self.path)
    }

    /// A failed write may have rolled back rows that delta references point at.
    fn forget_references_unless(&self, written: bool) {
        if !written {
            self.references.borrow_mut().clear();
        }
    }

    /// Applies a batch of events of `session` in one transaction and returns how many
    /// exchanges it finished. Reply heads and chunks are for live views and are skipped; so
    /// is a start whose finish is in the same batch, since the finish writes the whole row.
    pub fn record_events(&self, events: &[CaptureEvent]) -> Result<u64, StoreError> {
        let written = self.write_events(events);
        self.forget_references_unless(written.is_ok());
        written
    }

    fn write_events(&self, events: &[CaptureEvent]) -> Result<u64, StoreError> {
        let finished: HashSet<(SessionId, ExchangeId)> = events
            .iter()
            .filter_map(|event| match event {
                CaptureEvent::Finished(record) => Some((record.start.session, record.id())),
                _ => None,
            })
            .collect();
        let started: HashSet<(SessionId, ExchangeId)> = events
            .iter()
            .filter_map(|event| match event {
                CaptureEvent::Started(start) => Some((start.session, start.id)),
                _ => None,
            })
            .collect();
        let tx = self.write_tx("record exchanges")?;
        // The statements go back to the cache before the commit.
        let mut statements = Statements::new(&tx);
        let mut give_way = GiveWay::start(codec::effort() == codec::Effort::Hurried);
        for event in events {
            give_way.now_and_then();
            let written = match event {
                CaptureEvent::Started(start) if !finished.contains(&(start.session, start.id)) => {
                    insert_start(&mut statements, &self.references, start)
                }
                CaptureEvent::Finished(record) => {
                    // A start in this batch was skipped above: no row to update yet.
                    let start_written = !started.contains(&(record.start.session, record.id()));
                    write_finish(&mut statements, &self.references, record, start_written)
                }
                CaptureEvent::HoldEnded {
                    session,
                    id,
                    outcome,
                } => write_hold_outcome(&mut statements, *session, *id, *outcome),
                CaptureEvent::RulesChanged { session, rules } => write_rules(&tx, *session, rules),
                _ => Ok(()),
            };
            written.during("record exchanges", &self.path)?;
        }
        drop(statements);
        tx.commit().during("record exchanges", &self.path)?;
        Ok(finished.len() as u64)
    }

    fn write_tx(&self, operation: &'static str) -> Result<WriteTx<'_>, StoreError> {
        WriteTx::begin(&self.conn).during(operation, &self.path)
    }
}

fn insert_start(
    statements: &mut Statements<'_>,
    references: &RefCell<DeltaReferences>,
    start: &ExchangeStart,
) -> rusqlite::Result<()> {
    insert_exchange(statements, references, start, None)
}

/// Inserts an exchange's row: its request, and its `outcome` when it has finished (one
/// statement instead of an insert and an update when the start and the finish are written
/// together).
fn insert_exchange(
    statements: &mut Statements<'_>,
    references: &RefCell<DeltaReferences>,
    start: &ExchangeStart,
    outcome: Option<&Outcome<'_>>,
) -> rusqlite::Result<()> {
    let request = &start.request;
    let encoded = references
        .borrow()
        .encode(start.session, &request.uri, start.id, &request.body);
    let body = encoded.body;
    let rewrite = start.rewrite.as_deref();
    let original_body = rewrite.map(|r| codec::encode_body(&r.original.body));
    let state = if outcome.is_some() {
        ExchangeState::Complete
    } else {
        ExchangeState::InFlight
    };
    Row::new(statements.get(Sql::InsertExchange)?)
        .value(start.session.0)?
        .value(start.id.0)?
        .value(start.started_at_ms)?
        .value(&request.method)?
        .value(&request.uri)?
        .value(start.dialect.as_str())?
        .maybe(start.model.as_deref())?
        .value(state.as_str())?
        .value(start.lineage.origin.as_str())?
        .maybe(start.lineage.parent.map(|p| p.0))?
        .maybe(rewrite.map(|r| serde_json::Value::from(r.applied.clone()).to_string()))?
        .maybe(rewrite.map(|r| r.original.body.len() as u64))?
        .value(start.request_body_len())?
        .value(headers_json(&request.headers))?
        .value(body.codec.tag())?
        .maybe(body.stored())?
        .maybe(rewrite.map(|r| headers_json(&r.original.headers)))?
        .value(original_body.as_ref().map_or(0, |b| b.codec.tag()))?
        .maybe(original_body.as_ref().and_then(|b| b.stored()))?
        .maybe(encoded.reference.map(|r| r.0))?
        .maybe(outcome.and_then(|o| o.status))?
        .maybe(outcome.and_then(|o| o.failure_class))?
        .maybe(outcome.and_then(|o| o.failure_message))?
        .maybe(outcome.and_then(|o| o.first_byte_ms))?
        .maybe(outcome.and_then(|o| o.duration_ms))?
        .maybe(outcome.and_then(|o| o.body_captured))?
        .maybe(outcome.and_then(|o| o.body_len))?
        .maybe(outcome.and_then(|o| o.headers.as_deref()))?
        .value(outcome.map_or(0, Outcome::body_codec))?
        .maybe(
            outcome
                .and_then(|o| o.body.as_ref())
                .and_then(|b| b.stored()),
        )?
        .maybe(start.request_body_unrecorded.map(|_| 0u64))?
        .execute()?;
    // A body the row does not hold cannot be the reference of a later delta.
    if start.request_body_unrecorded.is_none() {
        references.borrow_mut().remember(encoded.candidate);
    }
    let lineage = &start.lineage;
    if lineage.repeats.is_some() || lineage.beneath.is_some() {
        statements.get(Sql::InsertLinks)?.execute(params![
            start.session.0,
            start.id.0,
            lineage.repeats.map(|id| id.0),
            lineage.beneath.map(|id| id.0)
        ])?;
    }
    Ok(())
}

/// The outcome columns of a finished exchange, encoded once for either statement.
struct Outcome<'a> {
    status: Option<u16>,
    failure_class: Option<&'static str>,
    failure_message: Option<&'a str>,
    first_byte_ms: Option<u64>,
    duration_ms: Option<u64>,
    body_captured: Option<u64>,
    body_len: Option<u64>,
    headers: Option<String>,
    body: Option<codec::EncodedBody<'a>>,
}

impl<'a> Outcome<'a> {
    fn of(record: &'a ExchangeRecord) -> Self {
        let response = record.response.as_ref();
        let body = response.map(|r| codec::encode_body(&r.body));
        Self {
            status: response.map(|r| r.status),
            failure_class: record.failure.as_ref().map(|f| f.class.as_str()),
            failure_message: record.failure.as_ref().map(|f| f.message.as_str()),
            first_byte_ms: record.timing.first_byte_ms,
            duration_ms: record.timing.duration_ms,
            body_captured: response.map(|r| r.body.len() as u64),
            body_len: response.map(|r| r.body_len),
            headers: response.map(|r| headers_json(&r.headers)),
            body,
        }
    }

    fn body_codec(&self) -> i64 {
        self.body.as_ref().map_or(0, |b| b.codec.tag())
    }
}

/// Replaces a session's rules with `rules` (a JSON list of rules, each with `id` and
/// `enabled`), so that the record says which rules were in force.
fn write_rules(
    conn: &Connection,
    session: SessionId,
    rules: &serde_json::Value,
) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM rules WHERE session_id = ?1")?
        .execute(params![session.0])?;
    let mut insert = conn.prepare_cached(
        "INSERT OR REPLACE INTO rules (session_id, id, enabled, rule) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (position, rule) in rules.as_array().into_iter().flatten().enumerate() {
        let id = rule
            .get("id")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(position as u64);
        let enabled = rule
            .get("enabled")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(true);
        insert.execute(params![session.0, id, enabled, rule.to_string()])?;
    }
    Ok(())
}

/// Records how a held exchange was settled.
fn write_hold_outcome(
    statements: &mut Statements<'_>,
    session: SessionId,
    id: ExchangeId,
    outcome: HoldOutcome,
) -> rusqlite::Result<()> {
    let from = match outcome {
        HoldOutcome::Delivered { from } => Some(from.0),
        _ => None,
    };
    statements.get(Sql::UpdateHoldOutcome)?.execute(params![
        session.0,
        id.0,
        outcome.as_str(),
        from
    ])?;
    Ok(())
}

/// Writes how an exchange ended. With its start already written (`start_written`), the row
/// is updated, so the (often large) request body is compressed once, at its start; a row that
/// turns out missing is inserted whole.
fn write_finish(
    statements: &mut Statements<'_>,
    references: &RefCell<DeltaReferences>,
    record: &ExchangeRecord,
    start_written: bool,
) -> rusqlite::Result<()> {
    let outcome = Outcome::of(record);
    if !start_written || update_outcome(statements, record, &outcome)? == 0 {
        insert_exchange(statements, references, &record.start, Some(&outcome))?;
    }
    write_usage(statements, record)
}

/// Records the tokens a successful LLM reply reported using, for the lists of past sessions.
fn write_usage(statements: &mut Statements<'_>, record: &ExchangeRecord) -> rusqlite::Result<()> {
    let Some(usage) = reply_usage(record) else {
        return Ok(());
    };
    if usage == Usage::default() {
        return Ok(());
    }
    Row::new(statements.get(Sql::InsertUsage)?)
        .value(record.start.session.0)?
        .value(record.id().0)?
        .maybe(usage.input_tokens)?
        .maybe(usage.output_tokens)?
        .maybe(usage.cache_read_tokens)?
        .maybe(usage.cache_write_tokens)?
        .execute()?;
    Ok(())
}

fn reply_usage(record: &ExchangeRecord) -> Option<Usage> {
    // Decoding a reply costs the writer about as much as compressing it; a writer behind
    // leaves it to whoever else reads the record.
    if codec::effort() != codec::Effort::Normal {
        return None;
    }
    record.usage()
}

fn update_outcome(
    statements: &mut Statements<'_>,
    record: &ExchangeRecord,
    outcome: &Outcome<'_>,
) -> rusqlite::Result<usize> {
    Row::new(statements.get(Sql::UpdateOutcome)?)
        .value(record.start.session.0)?
        .value(record.id().0)?
        .maybe(outcome.status)?
        .value(ExchangeState::Complete.as_str())?
        .maybe(outcome.failure_class)?
        .maybe(outcome.failure_message)?
        .maybe(outcome.first_byte_ms)?
        .maybe(outcome.duration_ms)?
        .maybe(outcome.body_captured)?
        .maybe(outcome.body_len)?
        .maybe(outcome.headers.as_deref())?
        .value(outcome.body_codec())?
        .maybe(outcome.body.as_ref().and_then(|b| b.stored()))?
        .execute()
}

/// `[["name","value"],…]`: keeps order and duplicates, which a JSON object would not. Built
/// by hand into a buffer of the right size: header text rarely needs escaping, and the
/// generic serialiser's growing buffer cost more than the rest of the row's encoding.
pub(super) fn headers_json(headers: &HeaderList) -> String {
    let len: usize = headers.iter().map(|(n, v)| n.len() + v.len() + 8).sum();
    let mut out = String::with_capacity(len + 2);
    out.push('[');
    for (i, (name, value)) in headers.iter().enumerate() {
        out.push_str(if i == 0 { "[" } else { ",[" });
        push_json_string(&mut out, name);
        out.push(',');
        push_json_string(&mut out, value);
        out.push(']');
    }
    out.push(']');
    out
}

fn push_json_string(out: &mut String, text: &str) {
    if needs_escape(text) {
        // Serialising a string cannot fail.
        out.push_str(&serde_json::to_string(text).unwrap_or_default());
    } else {
        out.push('"');
        out.push_str(text);
        out.push('"');
    }
}

/// Whether `text` holds a byte JSON escapes. A fold without an early exit, so that the
/// compiler checks many bytes per instruction: header text nearly never needs escaping, and
/// every byte of it is checked.
fn needs_escape(text: &str) -> bool {
    text.bytes().fold(false, |found, b| {
        found | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
