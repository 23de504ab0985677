//! Relays an upstream reply to the agent chunk by chunk while teeing a copy into the capture.
//!
//! Nothing here waits on the store or the TUI: capture is a non-blocking publish. The only
//! thing the relay waits on is the agent reading (a bounded channel), so a slow agent slows
//! the upstream read rather than growing memory.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{header, Response};
use tokio::sync::mpsc;

use super::body::{full_body, AgentBody, BodyError, ChannelBody, DrainSignal};
use super::error_reply::{error_in_200_reply, failure_reply};
use super::guard::{ExchangeGuard, HeadSender};
use super::headers::{agent_response_headers, recorded_reply_headers};
use super::held_copies::{Claimed, FixCopies};
use super::reply::UpstreamReply;
use super::transport_error::classify_transport_error;
use crate::capture::{
    classify_failure, CaptureEvent, CapturedResponse, Failure, FailureClass, HeaderList,
};
use crate::llm::{stream_error_event, StreamWatch};

/// Chunks buffered between the upstream read and the agent's socket.
const AGENT_CHANNEL_CHUNKS: usize = 16;
/// Replies up to this size, with a known length and not a stream, are read whole before the
/// agent gets them (see [`relay_whole`]).
const WHOLE_REPLY_MAX: u64 = 64 * 1024;
/// How long a broken whole reply waits for the agent to take what came before the break.
const DRAIN_LIMIT: Duration = Duration::from_secs(1);

/// Where a relayed reply goes besides the record.
pub enum ReplySink {
    Agent(HeadSender),
    /// The agent held for a fix, and the copies of its request that waited with it.
    Fixed(Claimed),
    /// Nobody is waiting (a resend whose parent's agent is not held): record only.
    RecordOnly,
}

/// The capture copy of a reply body, bounded by the capture cap. It holds the chunks the agent
/// was sent (reference-counted) while the reply lasts and copies them once, when it has ended,
/// into a buffer of the body's own size: a chunk is a slice of the client's read buffer, and a
/// record holding it would keep that whole buffer alive in the writer's queue, unseen by the
/// queue's memory bound.
pub struct CaptureBuffer {
    chunks: Vec<Bytes>,
    kept: usize,
    total: u64,
    cap: usize,
}

impl CaptureBuffer {
    pub fn new(cap: usize) -> Self {
        Self {
            chunks: Vec::new(),
            kept: 0,
            total: 0,
            cap,
        }
    }

    pub fn push(&mut self, chunk: &Bytes) {
        self.total += chunk.len() as u64;
        let room = self.cap.saturating_sub(self.kept);
        if room > 0 && !chunk.is_empty() {
            let kept = chunk.slice(..chunk.len().min(room));
            self.kept += kept.len();
            self.chunks.push(kept);
        }
    }

    pub fn into_response(self, status: u16, headers: HeaderList) -> CapturedResponse {
        CapturedResponse {
            status,
            headers,
            body: copy_whole(&self.chunks),
            body_len: self.total,
        }
    }
}

/// The chunks as one body for the agent: the chunk itself when there is one (most small
/// replies), else one copy into a buffer of the exact size.
fn concat(chunks: Vec<Bytes>) -> Bytes {
    match chunks.len() {
        1 => chunks.into_iter().next().unwrap_or_default(),
        _ => copy_whole(&chunks),
    }
}

/// The chunks copied into one buffer of exactly their size.
fn copy_whole(chunks: &[Bytes]) -> Bytes {
    let len = chunks.iter().map(Bytes::len).sum();
    let mut joined = BytesMut::with_capacity(len);
    for chunk in chunks {
        joined.extend_from_slice(chunk);
    }
    joined.freeze()
}

/// How the relay loop ended.
enum RelayEnd {
    /// The upstream finished its body.
    Complete,
    /// The upstream connection failed mid-body.
    Broken(Failure),
    /// The agent went away.
    AgentGone,
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

/// Publishes a piece of the reply for live views, when any is watching.
fn publish_chunk(guard: &ExchangeGuard, chunk: &Bytes) {
    if guard.bus().wants_live_detail() {
        guard.bus().publish(CaptureEvent::ResponseChunk {
            id: guard.start.id,
            data: chunk.clone(),
        });
    }
}

pub fn is_event_stream(reply: &UpstreamReply) -> bool {
    reply
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().starts_with("text/event-stream"))
}

pub async fn relay_reply(mut guard: ExchangeGuard, reply: UpstreamReply, sink: ReplySink) {
    let (sink, copies) = match sink {
        ReplySink::Fixed(Claimed { agent, copies }) => {
            let copies = FixCopies::of(&reply, copies);
            (ReplySink::Agent(agent), copies)
        }
        other => (other, None),
    };
    let sink = match sink {
        ReplySink::Agent(agent) if is_small_whole(&reply) => {
            let (response, failure) = relay_whole(&mut guard, reply, agent).await;
            return finish(guard, copies, response, failure);
        }
        other => other,
    };
    let status = reply.status();
    let captured_headers = capture_head(&mut guard, &reply);
    let is_sse = is_event_stream(&reply);
    let mut capture = CaptureBuffer::new(guard.state().config.max_capture_bytes);
    let mut watch = is_sse.then(|| StreamWatch::new(guard.start.dialect));

    let drained = Arc::new(DrainSignal::default());
    let (tx, agent_left_at_head) = match sink {
        ReplySink::Agent(agent) => match send_streaming_head(agent, &reply, &drained) {
            Some(tx) => (Some(tx), false),
            None => (None, true),
        },
        ReplySink::RecordOnly | ReplySink::Fixed(_) => (None, false),
    };
    let end = if agent_left_at_head {
        RelayEnd::AgentGone
    } else {
        pump(&guard, reply, tx.as_ref(), &mut capture, watch.as_mut()).await
    };

    // A whole non-stream reply needs nothing more from llmscope: let the agent see its end now
    // rather than after the classification below.
    let tx = match end {
        RelayEnd::Complete if !is_sse => None,
        _ => tx,
    };
    let response = capture.into_response(status.as_u16(), captured_headers);
    let verdict = watch.as_ref().map(StreamWatch::verdict);
    // Only breaks the upstream did not announce itself need llmscope to tell the agent.
    let (failure, tell_agent) = match end {
        RelayEnd::Complete => {
            let failure = classify_failure(status.as_u16(), &response.body, verdict);
            let cut_stream = verdict.is_some_and(|v| v.error.is_none() && !v.terminated);
            let tell = cut_stream
                && failure
                    .as_ref()
                    .is_some_and(|f| f.class == FailureClass::StreamError);
            (failure, tell)
        }
        RelayEnd::Broken(failure) => (Some(failure), true),
        RelayEnd::AgentGone => {
            let failure = Failure::new(
                FailureClass::ClientAborted,
                "agent closed the connection before the reply ended",
            );
            (Some(failure), false)
        }
    };
    if let (true, Some(failure), Some(tx)) = (tell_agent, &failure, &tx) {
        tell_agent_stream_broke(&guard, tx, &drained, is_sse, failure).await;
    }
    drop(tx);
    finish(guard, copies, response, failure);
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

/// Sends the agent the reply head with a body fed through a channel; `None` if the agent is
/// gone.
fn send_streaming_head(
    agent: HeadSender,
    reply: &UpstreamReply,
    drained: &Arc<DrainSignal>,
) -> Option<mpsc::Sender<Result<Bytes, BodyError>>> {
    let (tx, rx) = mpsc::channel::<Result<Bytes, BodyError>>(AGENT_CHANNEL_CHUNKS);
    let body = ChannelBody::new(rx, drained.clone());
    let mut head = Response::new(AgentBody::new(body));
    *head.status_mut() = reply.status();
    *head.headers_mut() = agent_response_headers(reply.headers().clone());
    agent.send(head).ok().map(|()| tx)
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
                    let drained = Arc::new(DrainSignal::default());
                    let so_far = concat(chunks);
                    if let Some(tx) = send_streaming_head(agent, &reply, &drained) {
                        if so_far.is_empty() || tx.send(Ok(so_far)).await.is_ok() {
                            tell_agent_stream_broke(guard, &tx, &drained, false, &failure).await;
                        }
                    }
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

/// Moves body chunks from the upstream to the agent (if any) until one side ends.
async fn pump(
    guard: &ExchangeGuard,
    mut reply: UpstreamReply,
    tx: Option<&mpsc::Sender<Result<Bytes, BodyError>>>,
    capture: &mut CaptureBuffer,
    mut watch: Option<&mut StreamWatch>,
) -> RelayEnd {
    let idle = guard.state().config.idle_timeout;
    loop {
        let agent_closed = async {
            match tx {
                Some(tx) => tx.closed().await,
                None => std::future::pending().await,
            }
        };
        // Upstream first: a reply that has ended is complete even if the agent hung up
        // right after its last byte.
        let next = tokio::select! {
            biased;
            next = reply.chunk() => next,
            () = agent_closed => return RelayEnd::AgentGone,
        };
        let chunk = match next {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return RelayEnd::Complete,
            Err(error) => return RelayEnd::Broken(classify_transport_error(&*error, false, idle)),
        };
        capture.push(&chunk);
        if let Some(watch) = watch.as_deref_mut() {
            watch.push(&chunk);
        }
        publish_chunk(guard, &chunk);
        if let Some(tx) = tx {
            if tx.send(Ok(chunk)).await.is_err() {
                return RelayEnd::AgentGone;
            }
        }
    }
}

/// After a break with the head already sent, tells the agent in the only way left: an error
/// event in its stream's dialect for SSE, or an aborted body otherwise (what a direct
/// connection would have shown).
async fn tell_agent_stream_broke(
    guard: &ExchangeGuard,
    tx: &mpsc::Sender<Result<Bytes, BodyError>>,
    drained: &DrainSignal,
    is_sse: bool,
    failure: &Failure,
) {
    let message = if is_sse {
        let event = stream_error_event(
            guard.start.dialect,
            failure.class.as_str(),
            &format!("llmscope: {}", failure.message),
        );
        Ok(Bytes::from(event))
    } else {
        // Failing the body makes hyper drop what it has not written yet, the reply's head
        // included when the break came with it; without this wait the agent would see a bare
        // close instead of the upstream's head and a cut body.
        let _ = tokio::time::timeout(DRAIN_LIMIT, drained.until_drained(tx)).await;
        Err(failure.message.clone().into())
    };
    // The agent may be gone already; the record keeps the failure either way.
    let _ = tx.send(message).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The record must not pin the client's read buffer the chunks were cut from: the writer's
    /// queue bounds the bytes it holds by the bodies' lengths.
    #[test]
    fn the_recorded_body_is_a_buffer_of_its_own_cut_at_the_cap() {
        let read_buffer = Bytes::from(vec![b'x'; 64 * 1024]);
        let mut capture = CaptureBuffer::new(1500);
        capture.push(&read_buffer.slice(0..1000));
        capture.push(&read_buffer.slice(1000..2000));
        let response = capture.into_response(200, HeaderList::new());
        assert_eq!(response.body.len(), 1500);
        assert_eq!(response.body_len, 2000);
        let range = read_buffer.as_ptr_range();
        assert!(
            !range.contains(&response.body.as_ptr()),
            "a copy, not a slice"
        );

        let mut one = CaptureBuffer::new(1 << 20);
        one.push(&read_buffer.slice(0..1024));
        let response = one.into_response(200, HeaderList::new());
        assert_eq!(&response.body[..], &read_buffer[..1024]);
        assert!(
            !range.contains(&response.body.as_ptr()),
            "a copy, not a slice"
        );
    }
}
