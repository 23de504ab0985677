//! An agent's request as the proxy captures it, for the tests of the layers that read records
//! (analysis, proxy, fix): one place that knows every field of an [`ExchangeStart`].

use crate::capture::HeaderList;
use std::sync::Arc;

use bytes::Bytes;

use super::{
    CapturedRequest, ExchangeId, ExchangeRecord, ExchangeStart, Failure, SessionId, Timing,
};
use crate::llm::Dialect;

/// Exchange `id` of session 1: `POST uri` with `body`, from an OpenAI chat agent.
pub(crate) fn agent_start(id: u64, uri: &str, body: &str) -> ExchangeStart {
    ExchangeStart {
        id: ExchangeId(id),
        session: SessionId(1),
        started_at_ms: 0,
        dialect: Dialect::OpenAiChat,
        model: None,
        request: CapturedRequest {
            method: "POST".into(),
            uri: uri.into(),
            headers: HeaderList::new(),
            body: Bytes::from(body.to_string()),
        },
        lineage: Default::default(),
        rewrite: None,
        request_body_unrecorded: None,
    }
}

/// `start` finished with `failure` and no reply.
pub(crate) fn failed(start: ExchangeStart, failure: Failure) -> ExchangeRecord {
    ExchangeRecord {
        start: Arc::new(start),
        timing: Timing::default(),
        response: None,
        failure: Some(failure),
        derived: Default::default(),
    }
}

/// The recorded-looking agent sessions in `assets/fixtures/`: opencode (chat completions),
/// Claude Code (messages) and Codex (Responses), streamed and not.
pub(crate) const OPENCODE_TWO_SESSIONS: &str =
    include_str!("../../assets/fixtures/opencode-two-sessions.json");
pub(crate) const CLAUDE_CODE_SESSION: &str =
    include_str!("../../assets/fixtures/claude-code-session.json");
pub(crate) const CODEX_SESSION: &str =
    include_str!("../../assets/fixtures/codex-responses-session.json");

/// Every exchange of a fixture session as a finished record, numbered from `#1`, one second
/// apart.
pub(crate) fn fixture_session(fixture: &str) -> Vec<ExchangeRecord> {
    let value: serde_json::Value = serde_json::from_str(fixture).unwrap_or_default();
    let exchanges = value["exchanges"].as_array().cloned().unwrap_or_default();
    exchanges
        .iter()
        .enumerate()
        .map(|(at, exchange)| fixture_record(at as u64 + 1, exchange))
        .collect()
}

fn fixture_record(id: u64, exchange: &serde_json::Value) -> ExchangeRecord {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let headers: super::HeaderList = exchange["headers"]
        .as_object()
        .map(|map| map.iter().map(|(k, v)| (k.clone(), text(v))).collect())
        .unwrap_or_default();
    let uri = text(&exchange["path"]);
    let has_version = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("anthropic-version"));
    let body = exchange["body"].to_string();
    let dialect = Dialect::detect(&uri, has_version);
    let response = &exchange["response"];
    let reply = text(&response["body"]);
    let started_at_ms = 1_764_590_000_000 + id as i64 * 1000;
    ExchangeRecord {
        start: Arc::new(ExchangeStart {
            id: ExchangeId(id),
            session: SessionId(1),
            started_at_ms,
            dialect,
            model: crate::llm::request_model(&uri, body.as_bytes()),
            request: CapturedRequest {
                method: text(&exchange["method"]),
                uri,
                headers,
                body: Bytes::from(body),
            },
            lineage: Default::default(),
            rewrite: None,
            request_body_unrecorded: None,
        }),
        timing: Timing {
            started_at_ms,
            first_byte_ms: Some(300),
            duration_ms: Some(2000),
        },
        response: Some(super::CapturedResponse {
            status: response["status"].as_u64().unwrap_or(200) as u16,
            headers: HeaderList::from([("content-type", text(&response["content_type"]))]),
            body_len: reply.len() as u64,
            body: Bytes::from(reply),
        }),
        failure: None,
        derived: Default::default(),
    }
}
