//! Reading a past session's requests in batches, without their replies: what grouping its
//! exchanges into conversations needs, read on a blocking thread after the list is on screen.

use bytes::Bytes;
use rusqlite::params;

use super::columns::{FROM_EXCHANGES, SUMMARY_COLUMNS, SUMMARY_LEN};
use super::db::Store;
use super::error::{SqliteContext, StoreError};
use super::query::{parse_headers, read_summary, RawOutcome};
use super::ExchangeSummary;
use crate::capture::{CapturedRequest, ExchangeId, ExchangeStart, SessionId};
use crate::llm::Usage;

/// A row of the batch before its body is decoded.
struct RequestRow {
    summary: ExchangeSummary,
    outcome: RawOutcome,
    headers: String,
    codec: i64,
    body: Option<Vec<u8>>,
    reference: Option<ExchangeId>,
    captured: Option<u64>,
}

impl Store {
    /// Up to `limit` exchanges of `session` after `after`, in id order: each request as it
    /// started, and the token counts of its reply. A request whose headers or body cannot be
    /// read comes with them empty, so one damaged row does not stop the rest being grouped.
    pub fn request_batch(
        &self,
        session: SessionId,
        after: Option<ExchangeId>,
        limit: usize,
    ) -> Result<Vec<(ExchangeStart, Usage)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {SUMMARY_COLUMNS}, e.request_headers, e.request_body_codec,
                        e.request_body, e.request_body_ref, e.request_body_captured
                   {FROM_EXCHANGES}
                  WHERE e.session_id = ?1 AND e.id > ?2 ORDER BY e.id LIMIT ?3"
            ))
            .during("read requests", &self.path)?;
        let after = after.map_or(-1, |id| i64::try_from(id.0).unwrap_or(i64::MAX));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![session.0, after, limit], |row| {
                let (summary, outcome) = read_summary(row)?;
                Ok(RequestRow {
                    summary,
                    outcome,
                    headers: row.get(SUMMARY_LEN)?,
                    codec: row.get(SUMMARY_LEN + 1)?,
                    body: row.get(SUMMARY_LEN + 2)?,
                    reference: row.get::<_, Option<u64>>(SUMMARY_LEN + 3)?.map(ExchangeId),
                    captured: row.get(SUMMARY_LEN + 4)?,
                })
            })
            .during("read requests", &self.path)?
            .collect::<Result<Vec<_>, _>>()
            .during("read requests", &self.path)?;
        drop(stmt);
        rows.into_iter()
            .map(|row| self.request_start(session, row))
            .collect()
    }

    fn request_start(
        &self,
        session: SessionId,
        row: RequestRow,
    ) -> Result<(ExchangeStart, Usage), StoreError> {
        let summary = self.finish_summary(session, row.summary, row.outcome)?;
        let usage = Usage {
            input_tokens: summary.input_tokens,
            output_tokens: summary.output_tokens,
            cache_read_tokens: summary.cache_read_tokens,
            cache_write_tokens: summary.cache_write_tokens,
        };
        let unrecorded = row.captured.is_some_and(|c| c < summary.request_bytes);
        let body = if unrecorded {
            Bytes::new()
        } else {
            self.request_body(
                session,
                summary.id,
                row.codec,
                row.body,
                summary.request_bytes,
                row.reference,
                0,
            )
            .unwrap_or_default()
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
                headers: parse_headers(&row.headers).unwrap_or_default(),
                body,
            },
            lineage: summary.lineage,
            rewrite: None,
            request_body_unrecorded: unrecorded.then_some(summary.request_bytes),
        };
        Ok((start, usage))
    }
}
