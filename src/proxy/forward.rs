//! Forwarding one prepared request to the upstream and deciding where its reply goes: to the
//! agent that asked, to a held agent waiting for a fix, or only to the record.

use super::error_reply::failure_whole;
use super::guard::{ExchangeGuard, HeadSender, Outgoing};
use super::hold::{claim_held_agent, hold_or_pass, park};
use super::relay::{relay_reply, ReplySink};
use super::upstream::classify_transport_error;
use crate::capture::{ExchangeId, Failure, FailureClass};

/// Who gets the reply.
pub enum ReplyTo {
    /// The agent connection that sent the request.
    Agent(HeadSender),
    /// The agent held waiting on this exchange's parent, if the reply is a success;
    /// otherwise (or when nobody waits) the reply is only recorded.
    HeldAgentOf(ExchangeId),
}

pub async fn forward(guard: ExchangeGuard, outgoing: Outgoing, reply_to: ReplyTo) {
    let state = guard.state();
    let request = state
        .client
        .request(
            outgoing.method,
            state.config.upstream.url_for(&outgoing.target),
        )
        .headers(outgoing.headers)
        .body(outgoing.body);
    let idle = state.config.idle_timeout;
    match reply_to {
        ReplyTo::Agent(mut agent) => {
            let sent = tokio::select! {
                sent = request.send() => sent,
                () = agent.closed() => {
                    let failure = Failure::new(
                        FailureClass::ClientAborted,
                        "agent closed the connection while waiting for the upstream",
                    );
                    guard.finish(None, Some(failure));
                    return;
                }
            };
            match sent {
                Ok(reply) if guard.state().hold_enabled() => {
                    hold_or_pass(guard, reply, agent).await
                }
                Ok(reply) => relay_reply(guard, reply, ReplySink::Agent(agent)).await,
                Err(error) => {
                    let failure = classify_transport_error(&error, true, idle);
                    let reply = failure_whole(guard.start.dialect, &failure);
                    if guard.state().hold_enabled() {
                        park(guard, None, failure, reply, agent);
                    } else {
                        // The agent may have left meanwhile; the record is what matters then.
                        let _ = agent.send(reply.response());
                        guard.finish(None, Some(failure));
                    }
                }
            }
        }
        ReplyTo::HeldAgentOf(parent) => match request.send().await {
            Ok(reply) if reply.status().is_success() => {
                let sink = match claim_held_agent(guard.state(), parent, guard.start.id).await {
                    Some(claimed) => ReplySink::Fixed(claimed),
                    None => ReplySink::RecordOnly,
                };
                relay_reply(guard, reply, sink).await;
            }
            Ok(reply) => relay_reply(guard, reply, ReplySink::RecordOnly).await,
            Err(error) => {
                let failure = classify_transport_error(&error, true, idle);
                guard.finish(None, Some(failure));
            }
        },
    }
}
