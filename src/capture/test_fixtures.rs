//! An agent's request as the proxy captures it, for the tests of the layers that read records
//! (analysis, proxy, fix): one place that knows every field of an [`ExchangeStart`].

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
            headers: Vec::new(),
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
    }
}
