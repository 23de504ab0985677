//! One exchange from the agent's request to the end of the reply: read the request, publish
//! it, forward it, and hand the reply head to the listener. The relay of the body continues
//! in `relay`.
//!
//! An exchange is polled inside hyper's service future and moves to a task of its own when
//! hyper lets go of it (see `detach.rs`), so an agent that hangs up is noticed and recorded
//! (`ClientAborted`) instead of the work being dropped silently with the future.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use tokio::sync::oneshot;

use super::body::AgentBody;
use super::error_reply::refusal_reply;
use super::forward::{forward, Outgoing, ReplyTo};
use super::headers::{header_list, upstream_request_headers};
use super::intercept::park_request;
use super::{ProxyState, ResendError, ResendRequest};
use crate::capture::{
    redact_headers, redact_target, CaptureEvent, CapturedRequest, CapturedResponse, ExchangeId,
    ExchangeRecord, ExchangeStart, Failure, FailureClass, Lineage, Timing,
};
use crate::llm::{request_model, Dialect};

/// Sends the agent's reply head back to the waiting service future.
pub type HeadSender = oneshot::Sender<Response<AgentBody>>;

/// Owns an exchange until its `Finished` event is published. If the task ends any other way
/// (a panic, the runtime shutting down) the drop still publishes one, so no exchange is left
/// without an outcome in the record.
pub struct ExchangeGuard {
    state: Arc<ProxyState>,
    pub start: Arc<ExchangeStart>,
    pub clock: Instant,
    pub first_byte_ms: Option<u64>,
    finished: bool,
}

impl ExchangeGuard {
    pub(super) fn new(state: Arc<ProxyState>, start: ExchangeStart, clock: Instant) -> Self {
        let start = Arc::new(start);
        state.active.enter();
        state.bus.publish(CaptureEvent::Started(start.clone()));
        Self {
            state,
            start,
            clock,
            first_byte_ms: None,
            finished: false,
        }
    }

    pub fn bus(&self) -> &crate::capture::CaptureBus {
        &self.state.bus
    }

    pub fn state(&self) -> &ProxyState {
        &self.state
    }

    pub fn state_arc(&self) -> Arc<ProxyState> {
        self.state.clone()
    }

    pub fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.clock.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Publishes the outcome. Consumes the guard: an exchange finishes once.
    pub fn finish(mut self, response: Option<CapturedResponse>, failure: Option<Failure>) {
        self.publish_finished(response, failure);
    }

    fn publish_finished(&mut self, response: Option<CapturedResponse>, failure: Option<Failure>) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        let record = ExchangeRecord {
            start: self.start.clone(),
            timing: Timing {
                started_at_ms: self.start.started_at_ms,
                first_byte_ms: self.first_byte_ms,
                duration_ms: Some(self.elapsed_ms()),
            },
            response,
            failure,
        };
        self.state
            .bus
            .publish(CaptureEvent::Finished(Arc::new(record)));
        self.state.active.leave();
    }
}

impl Drop for ExchangeGuard {
    fn drop(&mut self) {
        let failure = Failure::new(
            FailureClass::ClientAborted,
            "llmscope stopped before the exchange ended",
        );
        self.publish_finished(None, Some(failure));
    }
}

/// Runs one agent exchange to its end. The reply head goes to `head_tx` as soon as it is
/// known (or, with hold-on-error, once a held failure is settled).
pub async fn run_exchange(state: Arc<ProxyState>, request: Request<Incoming>, head_tx: HeadSender) {
    let clock = Instant::now();
    let started_at_ms = chrono::Utc::now().timestamp_millis();
    let (parts, body) = request.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_string(), |pq| pq.as_str().to_string());
    let dialect = Dialect::detect(&target, parts.headers.contains_key("anthropic-version"));
    let read = Limited::new(body, state.config.max_request_bytes)
        .collect()
        .await;
    let (body, read_failure) = match read {
        Ok(collected) => (collected.to_bytes(), None),
        Err(error) => (Bytes::new(), Some(error)),
    };
    let mut headers = upstream_request_headers(parts.headers);
    let mut body = body;
    let mut request = CapturedRequest {
        method: parts.method.to_string(),
        uri: redact_target(&target),
        headers: redact_headers(header_list(&headers)),
        body: body.clone(),
    };
    let mut rewrite = None;
    if read_failure.is_none() {
        if let Some(rewritten) = state.rules.rewrite(dialect, &request, &headers) {
            let forwarded = rewritten.captured(&request);
            headers = rewritten.headers;
            body = rewritten.body;
            request = forwarded;
            rewrite = Some(Arc::new(rewritten.rewrite));
        }
    }
    let mut start = ExchangeStart {
        id: state.next_exchange_id(),
        session: state.session,
        started_at_ms,
        dialect,
        model: request_model(&body),
        request,
        lineage: Lineage::default(),
        rewrite,
        request_body_unrecorded: None,
    };
    if let Some(error) = read_failure {
        let guard = ExchangeGuard::new(state.clone(), start, clock);
        refuse_unread_request(guard, &*error, head_tx);
        return;
    }
    let mut outgoing = Outgoing {
        method: parts.method,
        target,
        headers,
        body,
    };
    let mut head_tx = head_tx;
    if state.intercepts_request(&start) {
        match park_request(&state, start, outgoing, head_tx, clock).await {
            Some(released) => (start, outgoing, head_tx) = released,
            None => return,
        }
    }
    let guard = ExchangeGuard::new(state.clone(), start, clock);
    state
        .secrets
        .remember(guard.start.id, &outgoing.headers, &outgoing.target);
    forward(guard, outgoing, ReplyTo::Agent(head_tx)).await;
}

/// Starts an exchange that llmscope sends itself (a resend) and forwards it in the
/// background. Returns its id at once.
pub fn spawn_resend(
    state: Arc<ProxyState>,
    parent: ExchangeId,
    request: ResendRequest,
) -> Result<ExchangeId, ResendError> {
    let method = http::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| ResendError::Method(request.method.clone()))?;
    let headers = state.secrets.restore(parent, &request.headers)?;
    let target = state.secrets.restore_target(parent, &request.uri);
    let clock = Instant::now();
    let dialect = Dialect::detect(&target, headers.contains_key("anthropic-version"));
    let start = ExchangeStart {
        id: state.next_exchange_id(),
        session: state.session,
        started_at_ms: chrono::Utc::now().timestamp_millis(),
        dialect,
        model: request_model(&request.body),
        request: CapturedRequest {
            method: method.to_string(),
            uri: redact_target(&target),
            headers: redact_headers(header_list(&headers)),
            body: request.body.clone(),
        },
        lineage: Lineage::resend_of(parent),
        rewrite: None,
        request_body_unrecorded: None,
    };
    let guard = ExchangeGuard::new(state.clone(), start, clock);
    let id = guard.start.id;
    state.secrets.remember(id, &headers, &target);
    let outgoing = Outgoing {
        method,
        target,
        headers,
        body: request.body,
    };
    state.resend_parents.record(id, parent);
    tokio::spawn(forward(guard, outgoing, ReplyTo::HeldAgentOf(parent)));
    Ok(id)
}

/// The request body could not be read: too large (413) or the agent went away.
fn refuse_unread_request(
    guard: ExchangeGuard,
    error: &(dyn std::error::Error + Send + Sync + 'static),
    head_tx: HeadSender,
) {
    let too_large = error.is::<http_body_util::LengthLimitError>();
    if !too_large {
        let failure = Failure::new(
            FailureClass::ClientAborted,
            format!("agent stopped sending its request: {error}"),
        );
        guard.finish(None, Some(failure));
        return;
    }
    let limit = guard.state().config.max_request_bytes;
    let message = format!(
        "request body is larger than the {limit} byte limit (raise it with --max-request-bytes)"
    );
    let reply = refusal_reply(
        StatusCode::PAYLOAD_TOO_LARGE,
        guard.start.dialect,
        "request_too_large",
        &message,
    );
    let captured = CapturedResponse {
        status: reply.status().as_u16(),
        headers: header_list(reply.headers()),
        body: Bytes::new(),
        body_len: 0,
    };
    let _ = head_tx.send(reply);
    let failure = Failure::new(FailureClass::HttpError(413), message);
    guard.finish(Some(captured), Some(failure));
}
