//! Exchanges and sessions shaped like what the proxy records, for the store's tests.

use crate::capture::HeaderList;
use std::sync::Arc;

use bytes::Bytes;

use super::SessionInfo;
use crate::capture::{
    CapturedRequest, CapturedResponse, ExchangeId, ExchangeRecord, ExchangeStart, Failure,
    SessionId, Timing,
};
use crate::llm::Dialect;

pub(super) fn session_info() -> SessionInfo {
    SessionInfo {
        upstream: "https://litellm.internal:4000".into(),
        listen: "127.0.0.1:8787".into(),
        mode: "reverse".into(),
    }
}

pub(crate) fn sample_start(session: SessionId, id: u64, body: Vec<u8>) -> ExchangeStart {
    ExchangeStart {
        id: ExchangeId(id),
        session,
        started_at_ms: 1_700_000_000_000 + id as i64,
        dialect: Dialect::OpenAiChat,
        model: Some("gpt-4o".into()),
        request: CapturedRequest {
            method: "POST".into(),
            uri: "/v1/chat/completions?x=1".into(),
            headers: HeaderList::from([
                ("content-type", "application/json"),
                ("x-dup", "a"),
                ("x-dup", "b"),
            ]),
            body: Bytes::from(body),
        },
        lineage: Default::default(),
        rewrite: None,
        request_body_unrecorded: None,
    }
}

pub(super) fn finished(
    start: ExchangeStart,
    status: u16,
    body: Vec<u8>,
    failure: Option<Failure>,
) -> ExchangeRecord {
    let body_len = body.len() as u64;
    ExchangeRecord {
        timing: Timing {
            started_at_ms: start.started_at_ms,
            first_byte_ms: Some(120),
            duration_ms: Some(900),
        },
        start: Arc::new(start),
        response: Some(CapturedResponse {
            status,
            headers: HeaderList::from([("content-type", "text/event-stream")]),
            body: Bytes::from(body),
            body_len,
        }),
        failure,
        derived: Default::default(),
    }
}
