//! Relays an upstream reply to the agent chunk by chunk while teeing a copy into the capture.
//!
//! Nothing here waits on the store or the TUI: capture is a non-blocking publish. The only
//! thing the relay waits on is the agent reading (a bounded channel), so a slow agent slows
//! the upstream read rather than growing memory.

use std::sync::Arc;

use bytes::Bytes;
use http::{header, Response};

use super::body::{full_body, AgentBody, CutBody};
use super::capture_copy::{copy_whole, publish_chunk, CaptureBuffer};
use super::error_reply::{error_in_200_reply, failure_reply};
use super::guard::{ExchangeGuard, HeadSender};
use super::headers::{agent_response_headers, recorded_reply_headers};
use super::held_copies::{Claimed, FixCopies};
use super::relay_body::{RelayBody, RelayEnd, Relayed};
use super::reply::UpstreamReply;
use super::transport_error::classify_transport_error;
use crate::capture::{
    classify_failure, CaptureEvent, CapturedResponse, Failure, FailureClass, HeaderList,
};
use crate::llm::StreamWatch;

/// Replies up to this size, with a known length and not a stream, are read whole before the
/// agent gets them (see [`relay_whole`]).
const WHOLE_REPLY_MAX: u64 = 64 * 1024;

/// Where a relayed reply goes besides the record.
pub enum ReplySink {
    Agent(HeadSender),
    /// The agent held for a fix, and the copies of its request that waited with it.
    Fixed(Claimed),
    /// Nobody is waiting (a resend whose parent's agent is not held): record only.
    RecordOnly,
}

/// The chunks as one body for the agent: the chunk itself when there is one (most small
/// replies), else one copy into a buffer of the exact size.
fn concat(chunks: Vec<Bytes>) -> Bytes {
    match chunks.len() {
        1 => chunks.into_iter().next().unwrap_or_default(),
        _ => copy_whole(&chunks),
    }
}

/// Records the arrival of the reply head and returns it as the record keeps it.
pub fn capture_head(guard: &mut ExchangeGuard, reply: &UpstreamReply) -> HeaderList {
    guard.first_byte_ms = Some(guard.elapsed_ms());
    let headers = recorded_reply_headers(reply.headers());
    if guard.bus().wants_live_detail() {
        guard.bus().publish(CaptureEvent::ResponseHead {
            id: guard.start.id,
            status: reply.status().as_u16(),
            headers: Arc::new(headers.clone()),
            first_byte_ms: guard.first_byte_ms.unwrap_or_default(),
        });
    }
    headers
}

pub fn is_event_stream(reply: &UpstreamReply) -> bool {
    reply
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().starts_with("text/event-stream"))
}

pub async fn relay_reply(mut guard: ExchangeGuard, mut reply: UpstreamReply, sink: ReplySink) {
    let (sink, copies) = match sink {
        ReplySink::Fixed(Claimed { agent, copies }) => {
            let copies = FixCopies::of(&reply, copies);
            (ReplySink::Agent(agent), copies)
        }
        other => (other, None),
    };
    let agent = match sink {
        ReplySink::Agent(agent) if is_small_whole(&reply) => {
            let (response, failure) = relay_whole(&mut guard, reply, agent).await;
            return finish(guard, copies, response, failure);
        }
        ReplySink::Agent(agent) => Some(agent),
        ReplySink::RecordOnly | ReplySink::Fixed(_) => None,
    };
    let headers = capture_head(&mut guard, &reply);
    let watch = is_event_stream(&reply).then(|| StreamWatch::new(guard.start.dialect));
    let mut exchange = Relayed {
        capture: CaptureBuffer::new(guard.state().config.max_capture_bytes),
        guard,
        copies,
        status: reply.status().as_u16(),
        headers,
        watch,
    };
    let Some(agent) = agent else {
        let end = loop {
            match reply.chunk().await {
                Ok(Some(chunk)) => exchange.take(&chunk),
                Ok(None) => break RelayEnd::Complete,
                Err(error) => break RelayEnd::broken(&error, &exchange.guard),
            }
        };
        exchange.finish(end);
        return;
    };
    if agent.is_closed() {
        exchange.finish(RelayEnd::AgentGone);
        return;
    }
    let status = reply.status();
    let agent_headers = agent_response_headers(reply.take_headers());
    // From here the agent connection's task reads the reply, as hyper asks for its body.
    let mut head = Response::new(AgentBody::new(RelayBody::new(reply, exchange)));
    *head.status_mut() = status;
    *head.headers_mut() = agent_headers;
    // Refused only if the agent left just now: the body, dropped, records that.
    let _ = agent.send(head);
}

/// Ends the exchange; copies of a held request that waited with it get the same reply.
fn finish(
    guard: ExchangeGuard,
    copies: Option<FixCopies>,
    response: CapturedResponse,
    failure: Option<Failure>,
) {
    if let Some(copies) = copies {
        copies.answer(guard.start.dialect, &response, failure.as_ref());
    }
    guard.finish(Some(response), failure);
}

/// A small non-stream reply of known length: nothing is gained by streaming it.
fn is_small_whole(reply: &UpstreamReply) -> bool {
    !is_event_stream(reply) && reply.content_length().is_some_and(|n| n <= WHOLE_REPLY_MAX)
}

/// Reads a small reply whole, then hands it to the agent as one body. The exchange then ends
/// in the agent connection's own task (see `detach.rs`): no relay channel, no extra task or
/// wake-up per request. Costs the agent nothing it could notice: at most 64 KiB that was
/// already on its way.
async fn relay_whole(
    guard: &mut ExchangeGuard,
    mut reply: UpstreamReply,
    agent: HeadSender,
) -> (CapturedResponse, Option<Failure>) {
    let status = reply.status();
    let captured_headers = capture_head(guard, &reply);
    let mut capture = CaptureBuffer::new(guard.state().config.max_capture_bytes);
    let mut chunks = Vec::new();
    let idle = guard.state().config.idle_timeout;
    loop {
        let chunk = match reply.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(error) => {
                let failure = classify_transport_error(&*error, false, idle);
                if guard.state().config.readable_replies {
                    // Nothing has reached the agent yet, so it can have the reason: a head
                    // and a cut body read as a bare "connection closed" in every SDK.
                    let _ = agent.send(failure_reply(guard.start.dialect, &failure));
                } else {
                    // What came before the break reaches the agent, then the break itself,
                    // exactly as on the streaming path.
                    let body = CutBody::new(concat(chunks), failure.message.clone());
                    let mut head = Response::new(AgentBody::new(body));
                    *head.status_mut() = status;
                    *head.headers_mut() = agent_response_headers(reply.take_headers());
                    let _ = agent.send(head);
                }
                let response = capture.into_response(status.as_u16(), captured_headers);
                return (response, Some(failure));
            }
        };
        publish_chunk(guard, &chunk);
        capture.push(&chunk);
        chunks.push(chunk);
    }
    let whole = concat(chunks);
    // A 2xx is classified before the agent gets it (cheap: only a body that looks like an
    // error object is parsed), so that an error in a 200 can reach it as the error it is.
    let error_in_200 = status
        .is_success()
        .then(|| classify_failure(status.as_u16(), &whole, None))
        .flatten();
    let head = match &error_in_200 {
        Some(failure) if guard.state().config.readable_replies => {
            error_in_200_reply(guard.start.dialect, &whole, failure).response()
        }
        _ => {
            let mut head = Response::new(full_body(whole));
            *head.status_mut() = status;
            *head.headers_mut() = agent_response_headers(reply.take_headers());
            head
        }
    };
    let delivered = agent.send(head).is_ok();
    let response = capture.into_response(status.as_u16(), captured_headers);
    let failure = if delivered && status.is_success() {
        error_in_200
    } else if delivered {
        classify_failure(status.as_u16(), &response.body, None)
    } else {
        Some(Failure::new(
            FailureClass::ClientAborted,
            "agent closed the connection before the reply ended",
        ))
    };
    (response, failure)
}
