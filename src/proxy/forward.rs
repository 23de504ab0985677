//! Forwarding one prepared request to the upstream and deciding where its reply goes: to the
//! agent that asked, to a held agent waiting for a fix, or only to the record.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use super::error_reply::failure_whole;
use super::forward_mode::record_host;
use super::guard::{ExchangeGuard, HeadSender, Outgoing};
use super::hold::{claim_held_agent, deliver_if_good, hold_or_pass, may_carry_an_error, park};
use super::relay::{relay_reply, ReplySink};
use super::reply::UpstreamReply;
use super::transport_error::{classify_transport_error, TransportError};
use super::{ProxyState, ResendError, ResendRequest};
use crate::capture::{ExchangeId, ExchangeStart, Failure, FailureClass, Lineage, Origin, Rewrite};
use crate::llm::request_model;

/// Who gets the reply.
pub enum ReplyTo {
    /// The agent connection that sent the request.
    Agent(HeadSender),
    /// The agent held waiting on this exchange's parent, if the reply is a success;
    /// otherwise (or when nobody waits) the reply is only recorded.
    HeldAgentOf(ExchangeId),
    /// The same for an auto-fix; when it fails too and hold-on-error is off, the held agent
    /// gets its original error at once instead of waiting for a user who is not looking.
    AutoFixOf(ExchangeId),
}

pub async fn forward(guard: ExchangeGuard, outgoing: Outgoing, reply_to: ReplyTo) {
    let state = guard.state_arc();
    let destination =
        state.destination_for_exchange(guard.start.id, &outgoing.target, guard.start.dialect);
    let request = state.clients.send(
        outgoing.method,
        destination,
        outgoing.headers,
        outgoing.body,
        outgoing.own_upstream.as_deref(),
    );
    let idle = state.config.idle_timeout;
    let (parent, auto_fix) = match reply_to {
        ReplyTo::Agent(agent) => return forward_for_agent(guard, request, agent).await,
        ReplyTo::HeldAgentOf(parent) => (parent, false),
        ReplyTo::AutoFixOf(parent) => (parent, true),
    };
    let succeeded = match request.await {
        Ok(reply) if reply.status().is_success() && may_carry_an_error(&reply) => {
            deliver_if_good(guard, reply, parent).await
        }
        Ok(reply) if reply.status().is_success() => {
            let sink = match claim_held_agent(&state, parent, guard.start.id).await {
                Some(claimed) => ReplySink::Fixed(claimed),
                None => ReplySink::RecordOnly,
            };
            relay_reply(guard, reply, sink).await;
            true
        }
        Ok(reply) => {
            relay_reply(guard, reply, ReplySink::RecordOnly).await;
            false
        }
        Err(error) => {
            let failure = classify_transport_error(&*error, true, idle);
            guard.finish(None, Some(failure));
            false
        }
    };
    if auto_fix && !succeeded && !state.hold_enabled() {
        state.holds.forward_original(parent);
    }
}

async fn forward_for_agent(
    guard: ExchangeGuard,
    request: impl Future<Output = Result<UpstreamReply, TransportError>>,
    mut agent: HeadSender,
) {
    let sent = tokio::select! {
        sent = request => sent,
        () = agent.closed() => {
            let failure = Failure::new(
                FailureClass::ClientAborted,
                "agent closed the connection while waiting for the upstream",
            );
            guard.finish(None, Some(failure));
            return;
        }
    };
    let state = guard.state_arc();
    // A gateway's call to a provider is never held: the gateway would time out or retry,
    // and the agent's own exchange above it is the one to hold and fix.
    let agent_side = guard.start.request.provider().is_none();
    match sent {
        Ok(reply) if agent_side && (state.hold_enabled() || state.auto_fix_enabled()) => {
            if let Some(job) = hold_or_pass(guard, reply, agent).await {
                let parent = job.parent;
                let (request, rewrite) = job.into_resend();
                let lineage = Lineage::auto_fix_of(parent);
                // The parent's secrets are remembered, so this should not fail; if it does,
                // the agent must not wait on a fix that never went out.
                let spawned = spawn_fix(&state, parent, request, lineage, Some(rewrite));
                if spawned.is_err() && !state.hold_enabled() {
                    state.holds.forward_original(parent);
                }
            }
        }
        Ok(reply) => relay_reply(guard, reply, ReplySink::Agent(agent)).await,
        Err(error) => {
            let failure = classify_transport_error(&*error, true, state.config.idle_timeout);
            let reply = failure_whole(guard.start.dialect, &failure);
            if agent_side && state.hold_enabled() {
                park(guard, None, failure, reply, agent);
            } else {
                // The agent may have left meanwhile; the record is what matters then.
                let _ = agent.send(reply.response());
                guard.finish(None, Some(failure));
            }
        }
    }
}

/// Starts an exchange that llmscope sends itself in place of the held `parent` (a resend, an
/// auto-fix) and forwards it in the background. Returns its id at once.
pub fn spawn_fix(
    state: &Arc<ProxyState>,
    parent: ExchangeId,
    request: ResendRequest,
    lineage: Lineage,
    rewrite: Option<Rewrite>,
) -> Result<ExchangeId, ResendError> {
    let method = http::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| ResendError::Method(request.method.clone()))?;
    if method == http::Method::CONNECT {
        return Err(ResendError::Handshake {
            target: request.uri,
        });
    }
    let mut headers = state.secrets.restore(parent, &request.headers)?;
    // Recorded for forward mode's host; the client sets the one the upstream gets.
    headers.remove(http::header::HOST);
    let target = state.secrets.restore_target(parent, &request.uri);
    let outgoing = Outgoing {
        method,
        target,
        headers,
        body: request.body,
        own_upstream: None,
    };
    let mut captured = outgoing.captured();
    if let Some(origin) = state.intercepted_origin(parent) {
        record_host(&mut captured, &origin);
    }
    let clock = Instant::now();
    let reply_to = match lineage.origin {
        Origin::AutoFix => ReplyTo::AutoFixOf(parent),
        Origin::Agent | Origin::Resend => ReplyTo::HeldAgentOf(parent),
    };
    let start = ExchangeStart {
        id: state.next_exchange_id(),
        session: state.session,
        started_at_ms: chrono::Utc::now().timestamp_millis(),
        dialect: outgoing.dialect(),
        model: request_model(&outgoing.target, &outgoing.body),
        request: captured,
        lineage,
        rewrite: rewrite.map(Arc::new),
        request_body_unrecorded: None,
    };
    let guard = ExchangeGuard::new(state.clone(), start, clock);
    let id = guard.start.id;
    state
        .secrets
        .remember(id, &outgoing.headers, &outgoing.target);
    state.resend_parents.record(id, parent);
    tokio::spawn(forward(guard, outgoing, reply_to));
    Ok(id)
}
