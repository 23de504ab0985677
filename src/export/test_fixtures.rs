//! Exchanges shaped like what the proxy records, for the exporters' tests.

use crate::capture::HeaderList;
use std::sync::Arc;

use bytes::Bytes;

use crate::capture::{
    CapturedRequest, CapturedResponse, ExchangeId, ExchangeRecord, ExchangeStart, ExchangeState,
    Failure, FailureClass, SessionId, Timing,
};
use crate::llm::Dialect;
use crate::store::{SessionSummary, StoredExchange};

pub(super) fn session() -> SessionSummary {
    SessionSummary {
        id: SessionId(7),
        started_at_ms: 1_700_000_000_000,
        ended_at_ms: Some(1_700_000_060_000),
        upstream: "http://127.0.0.1:4000".into(),
        listen: "127.0.0.1:8787".into(),
        mode: "reverse".into(),
        pid: 1,
        exchanges: 0,
        errors: 0,
        incomplete: 0,
    }
}

/// A chat request as an OpenAI SDK sends it, already redacted by capture; reverse mode keeps no
/// `Host` (forward mode's kept one says where the request went).
pub(super) fn start(id: u64, uri: &str) -> ExchangeStart {
    let body = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#;
    ExchangeStart {
        id: ExchangeId(id),
        session: SessionId(7),
        started_at_ms: 1_700_000_000_000 + id as i64,
        dialect: Dialect::detect(uri, false),
        model: Some("gpt-4o".into()),
        request: CapturedRequest {
            method: "POST".into(),
            uri: uri.into(),
            headers: HeaderList::from([
                ("content-type", "application/json"),
                ("authorization", "Bearer <redacted>"),
                ("content-length", &body.len().to_string()),
            ]),
            body: Bytes::from_static(body.as_bytes()),
        },
        lineage: Default::default(),
        rewrite: None,
        request_body_unrecorded: None,
    }
}

pub(super) fn finished(start: ExchangeStart, status: u16, body: Vec<u8>) -> ExchangeRecord {
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
            headers: HeaderList::from([("content-type", "application/json")]),
            body: Bytes::from(body),
            body_len,
        }),
        failure: None,
        derived: Default::default(),
    }
}

pub(super) fn failed_before_reply(start: ExchangeStart) -> ExchangeRecord {
    ExchangeRecord {
        timing: Timing {
            started_at_ms: start.started_at_ms,
            first_byte_ms: None,
            duration_ms: Some(15),
        },
        start: Arc::new(start),
        response: None,
        failure: Some(Failure::new(
            FailureClass::Connect,
            "could not connect to the upstream: refused",
        )),
        derived: Default::default(),
    }
}

pub(super) fn stored(record: ExchangeRecord) -> StoredExchange {
    StoredExchange {
        record,
        state: ExchangeState::Complete,
    }
}
