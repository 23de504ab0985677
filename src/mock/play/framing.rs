//! How a request asks for its reply to be framed — streamed or not, and for Gemini as SSE or
//! as one JSON array — and the writing of streamed replies in that framing.

use std::io;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::{After, Exchange, GATE_LIMIT};
use crate::llm::Dialect;
use crate::mock::http::{encode_head, Connection};
use crate::mock::replies::ReplyPlan;
use crate::mock::streams::{sse_events, DEFAULT_DELTAS};

impl Exchange<'_> {
    pub(super) fn wants_stream(&self) -> bool {
        let asked = self
            .json
            .as_ref()
            .and_then(|j| j.get("stream")?.as_bool())
            .unwrap_or(false);
        // Gemini asks by method, not by a body field.
        let gemini = self.gemini_method() == Some("streamGenerateContent");
        (asked || gemini) && !self.head_only
    }

    pub(super) fn path_model(&self) -> Option<&str> {
        crate::llm::gemini_path_model(&self.request.target)
    }

    /// `generateContent`, `streamGenerateContent`, `countTokens` of a Gemini path.
    pub(super) fn gemini_method(&self) -> Option<&str> {
        if self.dialect != Dialect::Gemini {
            return None;
        }
        let path = self.request.target.split('?').next().unwrap_or_default();
        path.rsplit_once(':').map(|(_, method)| method)
    }

    /// Gemini streams as one JSON array unless asked for `?alt=sse`.
    pub(super) fn gemini_array_stream(&self) -> bool {
        let sse = self
            .request
            .target
            .split_once('?')
            .is_some_and(|(_, query)| query.split('&').any(|pair| pair == "alt=sse"));
        self.gemini_method().is_some() && !sse
    }

    pub(super) async fn write_stream_head(&self, conn: &mut Connection) -> io::Result<()> {
        let content_type = if self.gemini_array_stream() {
            "application/json; charset=UTF-8"
        } else {
            "text/event-stream"
        };
        let headers = self.with_behavior_header(vec![
            ("content-type", content_type.to_string()),
            ("cache-control", "no-cache".to_string()),
        ]);
        conn.write_all(&encode_head(200, &headers, None, self.close))
            .await
    }

    /// A complete chunked SSE reply, one HTTP chunk per event, `pause` between events.
    pub(super) async fn stream(
        &self,
        conn: &mut Connection,
        events: &[String],
        pause: Duration,
    ) -> io::Result<After> {
        self.write_stream_head(conn).await?;
        if self.head_only {
            return Ok(self.after());
        }
        let array = self.gemini_array_stream();
        for (i, event) in events.iter().enumerate() {
            if i > 0 && !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
            if array {
                let element = event.trim_start_matches("data: ").trim_end();
                let separator = if i == 0 { "[" } else { ",\r\n" };
                conn.write_chunk(format!("{separator}{element}").as_bytes())
                    .await?;
            } else {
                conn.write_chunk(event.as_bytes()).await?;
            }
        }
        if array {
            let close = if events.is_empty() { "[]" } else { "]" };
            conn.write_chunk(close.as_bytes()).await?;
        }
        conn.finish_chunks().await?;
        Ok(self.after())
    }

    pub(super) async fn gated_stream(
        &self,
        conn: &mut Connection,
        plan: &ReplyPlan,
        gate: &Semaphore,
    ) -> io::Result<After> {
        let events = sse_events(plan, DEFAULT_DELTAS);
        let (first, rest) = events.split_at(1.min(events.len()));
        self.write_stream_head(conn).await?;
        if self.head_only {
            return Ok(self.after());
        }
        for event in first {
            conn.write_chunk(event.as_bytes()).await?;
        }
        if let Ok(Ok(permit)) = tokio::time::timeout(GATE_LIMIT, gate.acquire()).await {
            // Each release lets exactly one gated stream through.
            permit.forget();
        }
        for event in rest {
            conn.write_chunk(event.as_bytes()).await?;
        }
        conn.finish_chunks().await?;
        Ok(self.after())
    }
}
