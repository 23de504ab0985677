//! Reading past sessions and exchanges back into the capture types.

use std::sync::Arc;

use bytes::Bytes;
use rusqlite::{params, OptionalExtension, Row};

use super::codec::{self, Codec};
use super::columns::{
    BODY_COLUMNS, FROM_EXCHANGES, SUMMARY_COLUMNS, SUMMARY_COLUMNS_NO_HOST, SUMMARY_LEN,
};
use super::db::Store;
use super::delta::{decode_delta, MAX_DEPTH};
use super::error::{SqliteContext, StoreError};
use super::{ExchangeSummary, SessionSummary, StoredExchange};
use crate::capture::{
    CapturedRequest, CapturedResponse, ExchangeId, ExchangeRecord, ExchangeStart, ExchangeState,
    Failure, FailureClass, HeaderList, Lineage, Origin, Rewrite, SessionId, Timing,
};
use crate::llm::Dialect;

impl Store {
    /// Every session, newest first, with counts of its exchanges.
    pub fn list_sessions(&self) -> Result<Vec<SessionSummary>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.id, s.started_at_ms, s.ended_at_ms, s.upstream, s.listen, s.mode, s.pid,
                        COUNT(e.id), COUNT(e.failure_class),
                        COALESCE(SUM(e.state = 'incomplete'), 0)
                   FROM sessions s LEFT JOIN exchanges e ON e.session_id = s.id
                  GROUP BY s.id
                  ORDER BY s.started_at_ms DESC, s.id DESC",
            )
            .during("list sessions", &self.path)?;
        let rows = stmt
            .query_map([], |row| {
                Ok(SessionSummary {
                    id: SessionId(row.get(0)?),
                    started_at_ms: row.get(1)?,
                    ended_at_ms: row.get(2)?,
                    upstream: row.get(3)?,
                    listen: row.get(4)?,
                    mode: row.get(5)?,
                    pid: row.get(6)?,
                    exchanges: row.get(7)?,
                    errors: row.get(8)?,
                    incomplete: row.get(9)?,
                })
            })
            .during("list sessions", &self.path)?;
        rows.collect::<Result<_, _>>()
            .during("list sessions", &self.path)
    }

    /// The exchanges of a session in id order, without their headers and bodies: enough for a
    /// list of many thousands of rows.
    pub fn exchange_summaries(
        &self,
        session: SessionId,
    ) -> Result<Vec<ExchangeSummary>, StoreError> {
        let columns = if self.keeps_hosts(session)? {
            SUMMARY_COLUMNS
        } else {
            SUMMARY_COLUMNS_NO_HOST
        };
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {columns} {FROM_EXCHANGES} WHERE e.session_id = ?1 ORDER BY e.id"
            ))
            .during("list exchanges", &self.path)?;
        let rows = stmt
            .query_map(params![session.0], read_summary)
            .during("list exchanges", &self.path)?;
        rows.map(|row| {
            let (summary, failure) = row.during("list exchanges", &self.path)?;
            self.finish_summary(session, summary, failure)
        })
        .collect()
    }

    /// Whether `session` ran in forward mode, whose records keep the host they went to. Its
    /// first exchange says: in forward mode every exchange keeps its host but a refused
    /// handshake, which is a `CONNECT` (and names its host in its target); in reverse mode
    /// none keeps one.
    fn keeps_hosts(&self, session: SessionId) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT method = 'CONNECT' OR instr(request_headers, '[\"host\",') > 0
                   FROM exchanges WHERE session_id = ?1 ORDER BY id LIMIT 1",
                params![session.0],
                |row| row.get::<_, bool>(0),
            )
            .optional()
            .map(|found| found.unwrap_or(false))
            .during("list exchanges", &self.path)
    }

    /// Every exchange of a session in id order, bodies decoded.
    pub fn exchanges(&self, session: SessionId) -> Result<Vec<StoredExchange>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {SUMMARY_COLUMNS}, {BODY_COLUMNS} {FROM_EXCHANGES}
                  WHERE e.session_id = ?1 ORDER BY e.id"
            ))
            .during("read exchanges", &self.path)?;
        let rows = stmt
            .query_map(params![session.0], read_full)
            .during("read exchanges", &self.path)?;
        rows.map(|row| {
            let row = row.during("read exchanges", &self.path)?;
            self.rebuild(session, row)
        })
        .collect()
    }

    /// The rules a session had in force when it ended (or now, if it runs), as stored JSON.
    pub fn rules(&self, session: SessionId) -> Result<Vec<serde_json::Value>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT rule FROM rules WHERE session_id = ?1 ORDER BY id")
            .during("read rules", &self.path)?;
        let rows = stmt
            .query_map(params![session.0], |row| row.get::<_, String>(0))
            .during("read rules", &self.path)?;
        rows.map(|row| {
            let text = row.during("read rules", &self.path)?;
            serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
                path: self.path.clone(),
                detail: format!("a stored rule of session {session} is not JSON: {e}"),
            })
        })
        .collect()
    }

    /// One exchange, bodies decoded; `None` if the session has no such exchange.
    pub fn exchange(
        &self,
        session: SessionId,
        id: ExchangeId,
    ) -> Result<Option<StoredExchange>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {SUMMARY_COLUMNS}, {BODY_COLUMNS} {FROM_EXCHANGES}
                  WHERE e.session_id = ?1 AND e.id = ?2"
            ))
            .during("read an exchange", &self.path)?;
        let mut rows = stmt
            .query_map(params![session.0, id.0], read_full)
            .during("read an exchange", &self.path)?;
        match rows.next() {
            None => Ok(None),
            Some(row) => {
                let row = row.during("read an exchange", &self.path)?;
                self.rebuild(session, row).map(Some)
            }
        }
    }

    /// Resolves the text columns that need checking against what this build knows.
    pub(super) fn finish_summary(
        &self,
        session: SessionId,
        mut summary: ExchangeSummary,
        raw: RawOutcome,
    ) -> Result<ExchangeSummary, StoreError> {
        let bad = |detail: String| StoreError::BadRow {
            path: self.path.clone(),
            session,
            exchange: summary.id,
            detail,
        };
        summary.state = ExchangeState::parse(&raw.state)
            .ok_or_else(|| bad(format!("unknown state {:?}", raw.state)))?;
        summary.failure = match raw.failure_class {
            None => None,
            Some(name) => {
                let class = FailureClass::parse(&name, summary.status)
                    .ok_or_else(|| bad(format!("unknown failure class {name:?}")))?;
                Some(Failure::new(class, raw.failure_message.unwrap_or_default()))
            }
        };
        Ok(summary)
    }

    fn rebuild(&self, session: SessionId, row: FullRow) -> Result<StoredExchange, StoreError> {
        let rewrite_applied = row.outcome.rewrite_applied.clone();
        let original_len = row.outcome.original_request_len.unwrap_or(0);
        let summary = self.finish_summary(session, row.summary, row.outcome)?;
        let bad = |detail: String| StoreError::BadRow {
            path: self.path.clone(),
            session,
            exchange: summary.id,
            detail,
        };
        let request_headers = parse_headers(&row.request_headers)
            .map_err(|e| bad(format!("request headers: {e}")))?;
        let unrecorded = row
            .request_body_captured
            .is_some_and(|captured| captured < summary.request_bytes);
        let request_body = if unrecorded {
            Bytes::new()
        } else {
            self.request_body(
                session,
                summary.id,
                row.request_body_codec,
                row.request_body,
                summary.request_bytes,
                row.request_body_ref,
                0,
            )
            .map_err(|e| bad(format!("request body: {e}")))?
        };
        let response = match summary.status {
            None => None,
            Some(status) => {
                let headers = parse_headers(row.response_headers.as_deref().unwrap_or("[]"))
                    .map_err(|e| bad(format!("response headers: {e}")))?;
                let captured = row.response_body_captured.unwrap_or(0);
                let body = decode_body(row.response_body_codec, row.response_body, captured)
                    .map_err(|e| bad(format!("response body: {e}")))?;
                Some(CapturedResponse {
                    status,
                    headers,
                    body: Bytes::from(body),
                    body_len: summary.response_bytes.unwrap_or(captured),
                })
            }
        };
        let rewrite = match rewrite_applied {
            None => None,
            Some(applied) => {
                let applied: Vec<String> = serde_json::from_str(&applied)
                    .map_err(|e| bad(format!("applied rules: {e}")))?;
                let headers =
                    parse_headers(row.original_request_headers.as_deref().unwrap_or("[]"))
                        .map_err(|e| bad(format!("original request headers: {e}")))?;
                let body = decode_body(
                    row.original_request_codec,
                    row.original_request_body,
                    original_len,
                )
                .map_err(|e| bad(format!("original request body: {e}")))?;
                Some(Arc::new(Rewrite {
                    original: CapturedRequest {
                        method: summary.method.clone(),
                        uri: summary.uri.clone(),
                        headers,
                        body: Bytes::from(body),
                    },
                    applied,
                }))
            }
        };
        let start = ExchangeStart {
            id: summary.id,
            session,
            started_at_ms: summary.started_at_ms,
            dialect: summary.dialect,
            model: summary.model,
            request: CapturedRequest {
                method: summary.method,
                uri: summary.uri,
                headers: request_headers,
                body: request_body,
            },
            lineage: summary.lineage,
            rewrite,
            request_body_unrecorded: unrecorded.then_some(summary.request_bytes),
        };
        let timing = Timing {
            started_at_ms: summary.started_at_ms,
            first_byte_ms: summary.first_byte_ms,
            duration_ms: summary.duration_ms,
        };
        let record = ExchangeRecord::new(Arc::new(start), timing, response, summary.failure);
        Ok(StoredExchange {
            record,
            state: summary.state,
        })
    }
}

impl Store {
    /// Decodes a request body, following its delta reference (bounded by the chain depth the
    /// writer allows, so a damaged reference cannot loop). Recently decoded bodies are kept,
    /// so reading a session in order decodes each body once.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn request_body(
        &self,
        session: SessionId,
        id: ExchangeId,
        tag: i64,
        stored: Option<Vec<u8>>,
        expected_len: u64,
        reference: Option<ExchangeId>,
        depth: u32,
    ) -> Result<Bytes, String> {
        if let Some(body) = self.decoded.borrow().get(session, id) {
            return Ok(body);
        }
        let body = if Codec::from_tag(tag) == Some(Codec::Delta) {
            let reference = reference.ok_or("delta without a reference")?;
            if depth > MAX_DEPTH {
                return Err("delta chain longer than llmscope writes".into());
            }
            let base = self.reference_body(session, reference, depth)?;
            decode_delta(stored.as_deref().unwrap_or_default(), &base, expected_len)?
        } else {
            decode_body(tag, stored, expected_len)?
        };
        let body = Bytes::from(body);
        self.decoded.borrow_mut().insert(session, id, body.clone());
        Ok(body)
    }

    fn reference_body(
        &self,
        session: SessionId,
        reference: ExchangeId,
        depth: u32,
    ) -> Result<Bytes, String> {
        if let Some(body) = self.decoded.borrow().get(session, reference) {
            return Ok(body);
        }
        let (tag, stored, len, next) = self
            .conn
            .prepare_cached(
                "SELECT request_body_codec, request_body, request_body_len, request_body_ref
                   FROM exchanges WHERE session_id = ?1 AND id = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![session.0, reference.0], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, Option<Vec<u8>>>(1)?,
                        row.get::<_, u64>(2)?,
                        row.get::<_, Option<u64>>(3)?.map(ExchangeId),
                    ))
                })
            })
            .map_err(|e| format!("reference {reference} unreadable: {e}"))?;
        self.request_body(session, reference, tag, stored, len, next, depth + 1)
    }
}

/// Text columns whose meaning is checked after the row is read, so that a value this build
/// does not know becomes a [`StoreError::BadRow`] naming the exchange.
pub(super) struct RawOutcome {
    state: String,
    failure_class: Option<String>,
    failure_message: Option<String>,
    rewrite_applied: Option<String>,
    original_request_len: Option<u64>,
}

struct FullRow {
    summary: ExchangeSummary,
    outcome: RawOutcome,
    response_body_captured: Option<u64>,
    request_headers: String,
    response_headers: Option<String>,
    request_body_codec: i64,
    response_body_codec: i64,
    original_request_headers: Option<String>,
    original_request_codec: i64,
    request_body: Option<Vec<u8>>,
    response_body: Option<Vec<u8>>,
    original_request_body: Option<Vec<u8>>,
    request_body_ref: Option<ExchangeId>,
    request_body_captured: Option<u64>,
}

pub(super) fn read_summary(row: &Row<'_>) -> rusqlite::Result<(ExchangeSummary, RawOutcome)> {
    let dialect: String = row.get(4)?;
    let summary = ExchangeSummary {
        id: ExchangeId(row.get(0)?),
        started_at_ms: row.get(1)?,
        method: row.get(2)?,
        uri: row.get(3)?,
        dialect: Dialect::parse(&dialect),
        model: row.get(5)?,
        status: row.get(6)?,
        // Placeholders until `finish_summary` checks the raw text.
        state: ExchangeState::InFlight,
        failure: None,
        first_byte_ms: row.get(10)?,
        duration_ms: row.get(11)?,
        request_bytes: row.get(12)?,
        response_bytes: row.get(14)?,
        lineage: Lineage {
            origin: Origin::parse(&row.get::<_, String>(15)?),
            parent: row.get::<_, Option<u64>>(16)?.map(ExchangeId),
            repeats: row.get::<_, Option<u64>>(22)?.map(ExchangeId),
            beneath: row.get::<_, Option<u64>>(23)?.map(ExchangeId),
        },
        hold_outcome: row.get(17)?,
        rewritten: row.get::<_, Option<String>>(18)?.is_some(),
        input_tokens: row.get(20)?,
        output_tokens: row.get(21)?,
        cache_read_tokens: row.get(24)?,
        cache_write_tokens: row.get(25)?,
        host: row.get(26)?,
    };
    let outcome = RawOutcome {
        state: row.get(7)?,
        failure_class: row.get(8)?,
        failure_message: row.get(9)?,
        rewrite_applied: row.get(18)?,
        original_request_len: row.get(19)?,
    };
    Ok((summary, outcome))
}

/// Reads a row of `SELECT {SUMMARY_COLUMNS}, {BODY_COLUMNS}`.
fn read_full(row: &Row<'_>) -> rusqlite::Result<FullRow> {
    let (summary, outcome) = read_summary(row)?;
    Ok(FullRow {
        summary,
        outcome,
        response_body_captured: row.get(13)?,
        request_headers: row.get(SUMMARY_LEN)?,
        response_headers: row.get(SUMMARY_LEN + 1)?,
        request_body_codec: row.get(SUMMARY_LEN + 2)?,
        response_body_codec: row.get(SUMMARY_LEN + 3)?,
        original_request_headers: row.get(SUMMARY_LEN + 4)?,
        original_request_codec: row.get(SUMMARY_LEN + 5)?,
        request_body: row.get(SUMMARY_LEN + 6)?,
        response_body: row.get(SUMMARY_LEN + 7)?,
        original_request_body: row.get(SUMMARY_LEN + 8)?,
        request_body_ref: row.get::<_, Option<u64>>(SUMMARY_LEN + 9)?.map(ExchangeId),
        request_body_captured: row.get(SUMMARY_LEN + 10)?,
    })
}

pub(super) fn parse_headers(json: &str) -> Result<HeaderList, String> {
    serde_json::from_str(json).map_err(|e| e.to_string())
}

fn decode_body(tag: i64, stored: Option<Vec<u8>>, expected_len: u64) -> Result<Vec<u8>, String> {
    let codec = Codec::from_tag(tag).ok_or_else(|| format!("unknown codec tag {tag}"))?;
    codec::decode(codec, stored.as_deref().unwrap_or_default(), expected_len)
}
