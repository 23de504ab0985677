//! One exchange from the agent's request to the end of the reply: read the request, publish
//! it, forward it, and hand the reply head to the listener. The relay of the body continues
//! in `relay`, and for a streamed reply in the agent's body (`relay_body`).
//!
//! An exchange is polled inside hyper's service future and moves to a task of its own when
//! hyper lets go of it (see `detach.rs`), so an agent that hangs up is noticed and recorded
//! (`ClientAborted`) instead of the work being dropped silently with the future.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use tokio::sync::oneshot;

use super::agent_upstream::AgentUpstream;
use super::error_reply::{loop_stopped_reply, refusal_reply};
use super::forward::{forward, spawn_fix, ReplyTo};
use super::forward_mode::{record_host, InterceptedOrigin};
use super::guard::{ExchangeGuard, HeadSender, Outgoing};
use super::headers::{recorded_reply_headers, upstream_request_headers};
use super::held_copies::CopyAnswer;
use super::intercept::park_request;
use super::retry_loop::{Admit, RequestKey, Stopped};
use super::{ProxyState, ResendError, ResendRequest};
use crate::capture::{CapturedResponse, ExchangeId, ExchangeStart, Failure, FailureClass, Lineage};
use crate::llm::{request_model, Dialect};

/// Runs one agent exchange to its end. The reply head goes to `head_tx` as soon as it is
/// known (or, with hold-on-error, once a held failure is settled). `dialect` was read from
/// the request's head by the listener.
pub async fn run_exchange(
    state: Arc<ProxyState>,
    request: Request<Incoming>,
    dialect: Dialect,
    head_tx: HeadSender,
    own_upstream: Option<Arc<AgentUpstream>>,
) {
    let clock = Instant::now();
    let started_at_ms = chrono::Utc::now().timestamp_millis();
    let (parts, body) = request.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_string(), |pq| pq.as_str().to_string());
    let read = Limited::new(body, state.config.max_request_bytes)
        .collect()
        .await;
    let (body, read_failure) = match read {
        Ok(collected) => (collected.to_bytes(), None),
        Err(error) => (Bytes::new(), Some(error)),
    };
    let mut outgoing = Outgoing {
        method: parts.method,
        target,
        headers: upstream_request_headers(parts.headers),
        body,
        own_upstream,
    };
    let mut request = outgoing.captured();
    let mut rewrite = None;
    if read_failure.is_none() {
        if let Some(rewritten) = state.rules.rewrite(dialect, &request, &outgoing.headers) {
            outgoing.headers = rewritten.headers;
            outgoing.body = rewritten.body;
            request = outgoing.captured();
            rewrite = Some(Arc::new(rewritten.rewrite));
        }
    }
    let origin = parts.extensions.get::<InterceptedOrigin>();
    if let Some(origin) = origin {
        record_host(&mut request, &origin.0);
    }
    let mut start = ExchangeStart {
        id: state.next_exchange_id(),
        session: state.session,
        started_at_ms,
        dialect,
        model: request_model(&outgoing.target, &outgoing.body),
        request,
        lineage: Lineage::default(),
        rewrite,
        request_body_unrecorded: None,
    };
    if let Some(origin) = origin {
        state.origins.remember(start.id, origin);
    }
    if let Some(error) = read_failure {
        let guard = ExchangeGuard::new(state.clone(), start, clock);
        refuse_unread_request(guard, &*error, head_tx);
        return;
    }
    let mut head_tx = head_tx;
    if state.intercepts_request(&start) {
        match park_request(&state, start, outgoing, head_tx, clock).await {
            Some(released) => (start, outgoing, head_tx) = released,
            None => return,
        }
    }
    // Whatever becomes of it, a later resend of this exchange (or a model list asked with
    // its credentials) needs its secrets.
    state
        .secrets
        .remember(start.id, &outgoing.headers, &outgoing.target);
    let (next, loop_key) = decide(&state, &mut start);
    let mut guard = ExchangeGuard::new(state.clone(), start, clock);
    guard.loop_key = loop_key;
    match next {
        Next::Forward => forward(guard, outgoing, ReplyTo::Agent(head_tx)).await,
        Next::WaitWithHeld(answer) => {
            // Answered from the held one, a copy says nothing more about the upstream.
            guard.counts_for_loop = false;
            wait_with_held_copy(guard, answer, outgoing, head_tx).await;
        }
        Next::Stop(stopped) => answer_stopped_repeat(guard, &stopped, head_tx),
    }
}

/// What becomes of an agent's request once it is ready to go.
enum Next {
    Forward,
    /// A copy of a held request: it waits for the held one's answer.
    WaitWithHeld(oneshot::Receiver<CopyAnswer>),
    /// A repeat of a request that keeps failing the same way: llmscope answers it.
    Stop(Stopped),
}

/// Decides [`Next`] and links the request to what it repeats or serves; the retry-loop key
/// goes on to the exchange's guard.
fn decide(state: &ProxyState, start: &mut ExchangeStart) -> (Next, Option<RequestKey>) {
    if start.request.provider().is_some() {
        // A gateway's call to a provider: shown under the agent's exchange it serves; the
        // gateway's retries are its own business, never stopped.
        start.lineage.beneath = state.agent_calls.served_by(&start.request);
        return (Next::Forward, None);
    }
    let (admit, key) = state.retry_loops.admit(&start.request);
    let root = match &admit {
        Admit::Forward { repeats } => *repeats,
        Admit::Stop(stopped) => Some(stopped.first),
    };
    start.lineage.repeats = root;
    // Whatever holds it (hold-on-error, an auto-fix in flight), a held request is the one
    // to wait with, even past the loop's threshold: the user may be fixing it.
    if let Some(answer) = root.and_then(|root| state.held_copies.join(root)) {
        return (Next::WaitWithHeld(answer), key);
    }
    let next = match admit {
        Admit::Forward { .. } => Next::Forward,
        Admit::Stop(stopped) => Next::Stop(stopped),
    };
    (next, key)
}

/// A repeat of a request that is held: it waits for the held one's answer instead of going
/// upstream, which would only fail the same way, and of stacking a second hold.
async fn wait_with_held_copy(
    guard: ExchangeGuard,
    answer: oneshot::Receiver<CopyAnswer>,
    outgoing: Outgoing,
    mut head_tx: HeadSender,
) {
    let answer = tokio::select! {
        answer = answer => answer,
        () = head_tx.closed() => {
            let failure = Failure::new(
                FailureClass::ClientAborted,
                "agent closed the connection while its request waited with the held copy",
            );
            guard.finish(None, Some(failure));
            return;
        }
    };
    let Ok(answer) = answer else {
        // The held one ended without an answer for its copies (its agent left): this copy
        // goes its own way, and counts as an attempt again.
        let mut guard = guard;
        guard.counts_for_loop = true;
        forward(guard, outgoing, ReplyTo::Agent(head_tx)).await;
        return;
    };
    let _ = head_tx.send(answer.reply.response());
    guard.finish(Some(answer.reply.recorded()), answer.failure);
}

/// A repeat of a request that keeps failing the same way: answered here, never sent, and
/// recorded like any exchange so the loop's every attempt is in the record.
fn answer_stopped_repeat(guard: ExchangeGuard, stopped: &Stopped, head_tx: HeadSender) {
    let reply = loop_stopped_reply(guard.start.dialect, stopped);
    let _ = head_tx.send(reply.response());
    let failure = Failure::new(FailureClass::RetryLoopStopped, stopped.message());
    guard.finish(Some(reply.recorded()), Some(failure));
}

/// Starts an exchange that llmscope sends itself (a resend) and forwards it in the
/// background. Returns its id at once.
pub fn spawn_resend(
    state: Arc<ProxyState>,
    parent: ExchangeId,
    request: ResendRequest,
) -> Result<ExchangeId, ResendError> {
    spawn_fix(&state, parent, request, Lineage::resend_of(parent), None)
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
        headers: recorded_reply_headers(reply.headers()),
        body: Bytes::new(),
        body_len: 0,
    };
    let _ = head_tx.send(reply);
    let failure = Failure::new(FailureClass::HttpError(413), message);
    guard.finish(Some(captured), Some(failure));
}
