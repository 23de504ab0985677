//! Hold-on-error: a failed reply is parked instead of sent, the agent's connection stays open,
//! and the user settles it — a resend whose reply succeeds goes to the waiting agent, or the
//! original failure is forwarded (by the user, or when the hold time runs out).
//!
//! Only failures known before the first reply byte reaches the agent can be held: a non-2xx
//! status, a transport failure before the head, and — read whole first — a small 2xx JSON
//! reply whose body is an error object.

use std::time::Duration;

use http::{header, HeaderValue};
use tokio::sync::oneshot;

use super::auto_fix::{lossless_fix, AutoFixJob};
use super::body::WholeReply;
use super::capture_copy::CaptureBuffer;
use super::error_reply::{error_in_200_reply, failure_whole};
use super::guard::{ExchangeGuard, HeadSender};
use super::headers::agent_response_headers;
use super::held_copies::{answer_all, Claimed, CopyAnswer};
use super::relay::{capture_head, is_event_stream, relay_reply, ReplySink};
use super::reply::UpstreamReply;
use super::transport_error::classify_transport_error;
use super::wait_queue::WaitQueue;
use super::ProxyState;
use crate::capture::{
    classify_failure, CaptureEvent, CapturedResponse, ExchangeId, Failure, FailureClass,
    HoldOutcome,
};

/// 2xx JSON replies up to this size are read whole in hold mode to look for an error object;
/// larger ones, and streams, go to the agent as they arrive.
const ERROR_IN_200_PROBE_BYTES: u64 = 4 * 1024 * 1024;

/// How the user (or the clock) settles a held exchange.
pub enum Settle {
    ForwardOriginal,
    /// Hand the agent's connection, and its waiting copies, to the resend `from`, whose
    /// reply succeeded.
    Deliver {
        from: ExchangeId,
        give: oneshot::Sender<Claimed>,
    },
}

/// The held exchanges, oldest first.
pub type HoldQueue = WaitQueue<Settle>;

impl HoldQueue {
    /// Sends the original failure on to the agent; `false` when `id` is not held.
    pub fn forward_original(&self, id: ExchangeId) -> bool {
        self.settle(id, Settle::ForwardOriginal)
    }
}

/// In hold mode, or with auto-fix: holds a failed reply, or relays a good one. Returns the
/// auto-fix to send for a failure held for one.
pub async fn hold_or_pass(
    mut guard: ExchangeGuard,
    reply: UpstreamReply,
    agent: HeadSender,
) -> Option<AutoFixJob> {
    let status = reply.status();
    let hold = guard.state().hold_enabled();
    // No quick fix cures an error in a 200: only hold mode reads those whole to catch them.
    if status.is_success() && !(hold && may_carry_an_error(&reply)) {
        relay_reply(guard, reply, ReplySink::Agent(agent)).await;
        return None;
    }
    let (response, to_agent) = match read_whole(&mut guard, reply).await {
        Ok(read) => read,
        Err((response, failure)) => {
            // Nothing went to the agent yet, so it gets a clean error reply.
            let reply = failure_whole(guard.start.dialect, &failure);
            if hold {
                park(guard, Some(response), failure, reply, agent);
            } else {
                let _ = agent.send(reply.response());
                guard.finish(Some(response), Some(failure));
            }
            return None;
        }
    };
    match classify_failure(status.as_u16(), &response.body, None) {
        Some(failure) => {
            // What the agent gets if the user forwards it, or the hold times out.
            let to_agent = if failure.class == FailureClass::ErrorIn200
                && guard.state().config.readable_replies
            {
                error_in_200_reply(guard.start.dialect, &response.body, &failure)
            } else {
                to_agent
            };
            let auto_fix = guard
                .state()
                .auto_fix_enabled()
                .then(|| lossless_fix(&guard.start, status.as_u16(), &failure))
                .flatten();
            if auto_fix.is_none() && !hold {
                let _ = agent.send(to_agent.response());
                guard.finish(Some(response), Some(failure));
                return None;
            }
            let job = auto_fix.map(|fixed| AutoFixJob {
                parent: guard.start.id,
                original: guard.start.request.clone(),
                fixed,
            });
            park(guard, Some(response), failure, to_agent, agent);
            job
        }
        None => {
            let _ = agent.send(to_agent.response());
            guard.finish(Some(response), None);
            None
        }
    }
}

/// A 2xx reply small and JSON enough to be an error object in disguise, worth reading whole
/// before anyone gets it.
pub fn may_carry_an_error(reply: &UpstreamReply) -> bool {
    !is_event_stream(reply)
        && is_json(reply)
        && reply
            .content_length()
            .is_some_and(|n| n <= ERROR_IN_200_PROBE_BYTES)
}

/// Reads a reply whole: the record's copy and what the agent gets; or, when it breaks, what
/// came and why.
pub async fn read_whole(
    guard: &mut ExchangeGuard,
    mut reply: UpstreamReply,
) -> Result<(CapturedResponse, WholeReply), (CapturedResponse, Failure)> {
    let status = reply.status();
    let headers = capture_head(guard, &reply);
    let agent_headers = agent_response_headers(reply.headers().clone());
    let mut body = CaptureBuffer::new(guard.state().config.max_capture_bytes);
    let idle = guard.state().config.idle_timeout;
    loop {
        match reply.chunk().await {
            Ok(Some(chunk)) => body.push(&chunk),
            Ok(None) => break,
            Err(error) => {
                let failure = classify_transport_error(&*error, false, idle);
                return Err((body.into_response(status.as_u16(), headers), failure));
            }
        }
    }
    let response = body.into_response(status.as_u16(), headers);
    guard.bus().publish(CaptureEvent::ResponseChunk {
        id: guard.start.id,
        data: response.body.clone(),
    });
    let mut whole = WholeReply {
        status,
        headers: agent_headers,
        body: response.body.clone(),
    };
    // The body may have been cut at the capture cap; say how long it really is.
    if let Ok(len) = HeaderValue::from_str(&response.body.len().to_string()) {
        whole.headers.insert(header::CONTENT_LENGTH, len);
    }
    Ok((response, whole))
}

fn is_json(reply: &UpstreamReply) -> bool {
    reply
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"))
}

/// Records the failure and parks the agent with the reply it would have received.
pub fn park(
    guard: ExchangeGuard,
    response: Option<CapturedResponse>,
    failure: Failure,
    original: WholeReply,
    agent: HeadSender,
) {
    let state = guard.state_arc();
    let id = guard.start.id;
    let timeout = state.config.hold_timeout;
    let expires_at_ms = chrono::Utc::now().timestamp_millis()
        + i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
    let (settle, settled) = oneshot::channel();
    state.holds.insert(id, settle, expires_at_ms);
    let held = Held {
        id,
        root: guard.start.lineage.repeats.unwrap_or(id),
        original: CopyAnswer {
            reply: original,
            failure: Some(failure.clone()),
        },
    };
    state.held_copies.open(held.root, id);
    guard.finish(response, Some(failure));
    state.bus.publish(CaptureEvent::Held { id, expires_at_ms });
    tokio::spawn(watch_held(state, held, agent, settled, timeout));
}

/// A held exchange as its watcher knows it.
struct Held {
    id: ExchangeId,
    /// The first exchange of its retry loop, which copies name.
    root: ExchangeId,
    /// What the agent and its copies get unless a fix arrives.
    original: CopyAnswer,
}

/// Owns the held agent's connection until it is settled, the hold times out or the agent
/// leaves, and records which.
async fn watch_held(
    state: std::sync::Arc<ProxyState>,
    held: Held,
    mut agent: HeadSender,
    settled: oneshot::Receiver<Settle>,
    timeout: Duration,
) {
    let id = held.id;
    let decision = tokio::select! {
        settle = settled => settle.ok(),
        () = tokio::time::sleep(timeout) => None,
        () = agent.closed() => {
            state.holds.take(id);
            // Copies still waiting go upstream on their own.
            drop(state.held_copies.close(held.root, id));
            publish_ended(&state, id, HoldOutcome::AgentGone);
            return;
        }
    };
    let copies = state.held_copies.close(held.root, id);
    let forward_original = |agent: HeadSender, copies| {
        let _ = agent.send(held.original.reply.response());
        answer_all(copies, &held.original);
    };
    let outcome = match decision {
        Some(Settle::Deliver { from, give }) => match give.send(Claimed { agent, copies }) {
            Ok(()) => HoldOutcome::Delivered { from },
            Err(Claimed { agent, copies }) => {
                forward_original(agent, copies);
                HoldOutcome::ForwardedOriginal
            }
        },
        Some(Settle::ForwardOriginal) => {
            forward_original(agent, copies);
            HoldOutcome::ForwardedOriginal
        }
        None => {
            state.holds.take(id);
            forward_original(agent, copies);
            HoldOutcome::TimedOut
        }
    };
    publish_ended(&state, id, outcome);
}

fn publish_ended(state: &ProxyState, id: ExchangeId, outcome: HoldOutcome) {
    state.bus.publish(CaptureEvent::HoldEnded {
        session: state.session,
        id,
        outcome,
    });
}

/// A fix's 2xx reply that may carry an error: read whole and checked before the held agent
/// (and its copies) get it, so that an error in a 200 is recorded as the fix failing, not
/// delivered as the fix. Returns whether it was delivered.
pub async fn deliver_if_good(
    mut guard: ExchangeGuard,
    reply: UpstreamReply,
    parent: ExchangeId,
) -> bool {
    let status = reply.status().as_u16();
    let (response, whole) = match read_whole(&mut guard, reply).await {
        Ok(read) => read,
        Err((response, failure)) => {
            guard.finish(Some(response), Some(failure));
            return false;
        }
    };
    if let Some(failure) = classify_failure(status, &response.body, None) {
        guard.finish(Some(response), Some(failure));
        return false;
    }
    if let Some(Claimed { agent, copies }) =
        claim_held_agent(guard.state(), parent, guard.start.id).await
    {
        let _ = agent.send(whole.response());
        answer_all(
            copies,
            &CopyAnswer {
                reply: whole,
                failure: None,
            },
        );
    }
    guard.finish(Some(response), None);
    true
}

/// Takes the agent held on `parent` for the successful resend `from`, with the copies that
/// wait with it; `None` when nobody is held there any more.
pub async fn claim_held_agent(
    state: &ProxyState,
    parent: ExchangeId,
    from: ExchangeId,
) -> Option<Claimed> {
    // A resend of a failed resend still fixes the agent's original request: the agent is
    // held on the first exchange of the chain.
    let settle = state
        .resend_parents
        .ancestry(parent)
        .find_map(|id| state.holds.take(id))?;
    let (give, given) = oneshot::channel();
    settle.send(Settle::Deliver { from, give }).ok()?;
    given.await.ok()
}
