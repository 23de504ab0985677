//! What every stage of an exchange hands on: the request as it goes upstream ([`Outgoing`]),
//! the claim on the record that publishes its outcome exactly once ([`ExchangeGuard`]), and
//! the way back to the waiting agent ([`HeadSender`]).
//!
//! The stages (`exchange`, `intercept`, `forward`, `hold`, `relay`) all import this file and
//! none of each other's types, so the data path reads top to bottom.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::HeaderMap;
use http::Response;
use tokio::sync::oneshot;

use super::agent_upstream::AgentUpstream;
use super::body::AgentBody;
use super::headers::recorded_request_headers;
use super::retry_loop::RequestKey;
use super::ProxyState;
use crate::capture::{
    redact_target, CaptureBus, CaptureEvent, CapturedRequest, CapturedResponse, ExchangeRecord,
    ExchangeStart, Failure, FailureClass, Origin, Timing,
};
use crate::llm::Dialect;

/// Sends the agent's reply head back to the waiting service future.
pub type HeadSender = oneshot::Sender<Response<AgentBody>>;

/// A request ready for the upstream: headers already cleaned of hop-by-hop fields.
pub struct Outgoing {
    pub method: http::Method,
    /// Path and query as they go upstream, credentials included; the record keeps the target
    /// with key-like query values redacted.
    pub target: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The agent connection's own upstream connection, when an agent connection is waiting
    /// for this request (`agent_upstream.rs`); requests llmscope makes itself take the pool.
    pub own_upstream: Option<Arc<AgentUpstream>>,
}

impl Outgoing {
    /// The request as the record keeps it: secrets in headers and the query redacted.
    pub fn captured(&self) -> CapturedRequest {
        CapturedRequest {
            method: self.method.as_str().to_owned(),
            uri: redact_target(&self.target),
            headers: recorded_request_headers(&self.headers),
            body: self.body.clone(),
        }
    }

    /// The API this request speaks, for a request llmscope built itself (a resend, an edit);
    /// an agent's request has its dialect read once, when it arrives.
    pub fn dialect(&self) -> Dialect {
        Dialect::detect(&self.target, self.headers.contains_key("anthropic-version"))
    }
}

/// Owns an exchange until its `Finished` event is published. If the task ends any other way
/// (a panic, the runtime shutting down) the drop still publishes one, so no exchange is left
/// without an outcome in the record.
pub struct ExchangeGuard {
    state: Arc<ProxyState>,
    pub start: Arc<ExchangeStart>,
    pub clock: Instant,
    pub first_byte_ms: Option<u64>,
    /// The retry-loop key of an agent's request, when admitting it computed one.
    pub loop_key: Option<RequestKey>,
    /// Whether its outcome says something about the upstream (a copy answered from a held
    /// request does not).
    pub counts_for_loop: bool,
    finished: bool,
}

impl ExchangeGuard {
    pub(super) fn new(state: Arc<ProxyState>, start: ExchangeStart, clock: Instant) -> Self {
        let start = Arc::new(start);
        if state.has_providers() && is_agent_side(&start) {
            state.agent_calls.enter(&start);
        }
        state.active.enter();
        state.bus.publish(CaptureEvent::Started(start.clone()));
        Self {
            state,
            start,
            clock,
            first_byte_ms: None,
            loop_key: None,
            counts_for_loop: true,
            finished: false,
        }
    }

    pub fn bus(&self) -> &CaptureBus {
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
        if is_agent_side(&self.start) {
            let beneath = self
                .state
                .has_providers()
                .then(|| self.state.agent_calls.leave(self.start.id))
                .flatten();
            if self.counts_for_loop {
                let deepest = deepest_failure(failure.as_ref(), beneath);
                let (id, key) = (self.start.id, self.loop_key);
                let request = &self.start.request;
                self.state
                    .retry_loops
                    .settle(id, key, request, deepest.as_ref());
            }
        } else if let Some(agent) = self.start.lineage.beneath {
            self.state
                .agent_calls
                .provider_ended(agent, failure.as_ref());
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
            derived: Default::default(),
        };
        self.state
            .bus
            .publish(CaptureEvent::Finished(Arc::new(record)));
        self.state.active.leave();
    }
}

/// What a retry loop is judged by: a gateway's 5xx stands for the provider failure beneath it
/// ("Connection error." may be a provider that sends bytes no retry will mend).
fn deepest_failure(failure: Option<&Failure>, beneath: Option<Failure>) -> Option<Failure> {
    let failure = failure?;
    match (failure.class, beneath) {
        (FailureClass::HttpError(500..=599), Some(provider)) => Some(provider),
        _ => Some(failure.clone()),
    }
}

/// An agent's own request: not a resend, not a gateway's call to a provider.
fn is_agent_side(start: &ExchangeStart) -> bool {
    start.lineage.origin == Origin::Agent && start.request.provider().is_none()
}

impl Drop for ExchangeGuard {
    fn drop(&mut self) {
        // Every exchange that ends normally has published already: its drop builds nothing.
        if self.finished {
            return;
        }
        let failure = Failure::new(
            FailureClass::ClientAborted,
            "llmscope stopped before the exchange ended",
        );
        self.publish_finished(None, Some(failure));
    }
}
