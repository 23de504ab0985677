//! The agent's body for a streamed reply: each time hyper asks for more, the next chunk is
//! read from the upstream in the agent connection's own task, teed into the capture and
//! handed on; the reply's end, its break, or the agent leaving finishes the exchange.
//!
//! Pulling, where a relay task used to push through a channel, spares a task per streamed
//! reply and two wake-ups per chunk, and keeps the upstream read at the agent's pace: hyper
//! asks for a chunk only when it has room to write it.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame};

use super::body::{BodyError, FailAfterFlush};
use super::capture_copy::{publish_chunk, CaptureBuffer};
use super::guard::ExchangeGuard;
use super::held_copies::FixCopies;
use super::reply::UpstreamReply;
use super::transport_error::{classify_transport_error, TransportError};
use crate::capture::{classify_failure, CapturedResponse, Failure, FailureClass, HeaderList};
use crate::llm::{stream_error_event, Dialect, StreamVerdict, StreamWatch};

/// How relaying a reply's body ended.
pub enum RelayEnd {
    /// The upstream finished its body.
    Complete,
    /// The upstream connection failed mid-body.
    Broken(Failure),
    /// The agent went away.
    AgentGone,
}

impl RelayEnd {
    pub fn broken(error: &TransportError, guard: &ExchangeGuard) -> Self {
        Self::Broken(classify_transport_error(
            &**error,
            false,
            guard.state().config.idle_timeout,
        ))
    }
}

/// An exchange whose reply body is on its way: what finishing it needs.
pub struct Relayed {
    pub guard: ExchangeGuard,
    /// Copies of a held request that waited with it; they get the same reply.
    pub copies: Option<FixCopies>,
    pub status: u16,
    pub headers: HeaderList,
    pub capture: CaptureBuffer,
    /// Set for an SSE reply, which is judged by its events.
    pub watch: Option<StreamWatch>,
}

impl Relayed {
    pub fn take(&mut self, chunk: &Bytes) {
        self.capture.push(chunk);
        if let Some(watch) = self.watch.as_mut() {
            watch.push(chunk);
        }
        publish_chunk(&self.guard, chunk);
    }

    /// An SSE reply whose body ended without the dialect's end marker or an error event.
    fn stream_was_cut(&self) -> bool {
        self.watch
            .as_ref()
            .map(StreamWatch::verdict)
            .is_some_and(StreamVerdict::was_cut)
    }

    /// Publishes the outcome. Returns the failure the agent still has to be told of, with
    /// the dialect to tell it in: only breaks the upstream did not announce itself.
    pub fn finish(self, end: RelayEnd) -> Option<(Dialect, Failure)> {
        let Self {
            guard,
            copies,
            status,
            headers,
            capture,
            watch,
        } = self;
        let response = capture.into_response(status, headers);
        let verdict = watch.as_ref().map(StreamWatch::verdict);
        let (failure, tell) = judge(end, &response, verdict);
        let dialect = guard.start.dialect;
        let told = failure.clone().filter(|_| tell).map(|f| (dialect, f));
        if let Some(copies) = copies {
            copies.answer(dialect, &response, failure.as_ref());
        }
        guard.finish(Some(response), failure);
        told
    }
}

/// The exchange's failure, if any, and whether the agent has yet to hear of it.
fn judge(
    end: RelayEnd,
    response: &CapturedResponse,
    verdict: Option<&StreamVerdict>,
) -> (Option<Failure>, bool) {
    match end {
        RelayEnd::Complete => {
            let failure = classify_failure(response.status, &response.body, verdict);
            let cut_stream = verdict.is_some_and(StreamVerdict::was_cut);
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
    }
}

/// An SSE error event in the stream's dialect naming what broke it.
fn stream_broke_event(dialect: Dialect, failure: &Failure) -> Bytes {
    Bytes::from(stream_error_event(
        dialect,
        failure.class.as_str(),
        &format!("llmscope: {}", failure.message),
    ))
}

enum Phase {
    Relaying,
    /// A non-SSE reply broke: the agent sees what it had, then an aborted body.
    Failing(FailAfterFlush),
    Ended,
}

/// The streamed reply's body as the agent receives it.
pub struct RelayBody {
    reply: UpstreamReply,
    phase: Phase,
    /// Until the outcome is published: at the reply's end when the agent must be told of a
    /// break, else when hyper lets go of the body (right after its end, or when the agent
    /// leaves), so that the agent sees the end before the record is made.
    exchange: Option<Relayed>,
    /// How the reply ended, once it has, for the outcome published on drop.
    end: Option<RelayEnd>,
}

impl RelayBody {
    pub fn new(reply: UpstreamReply, exchange: Relayed) -> Self {
        Self {
            reply,
            phase: Phase::Relaying,
            exchange: Some(exchange),
            end: None,
        }
    }

    fn ended(
        &mut self,
        end: RelayEnd,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        self.phase = Phase::Ended;
        let Some(exchange) = self.exchange.take() else {
            return Poll::Ready(None);
        };
        let must_tell = !matches!(end, RelayEnd::Complete) || exchange.stream_was_cut();
        if !must_tell {
            self.end = Some(end);
            self.exchange = Some(exchange);
            return Poll::Ready(None);
        }
        let is_sse = exchange.watch.is_some();
        match exchange.finish(end) {
            Some((dialect, failure)) if is_sse => {
                Poll::Ready(Some(Ok(Frame::data(stream_broke_event(dialect, &failure)))))
            }
            Some((_, failure)) => {
                let mut failing = FailAfterFlush::new(failure.message);
                let polled = failing.poll(cx);
                self.phase = Phase::Failing(failing);
                polled
            }
            None => Poll::Ready(None),
        }
    }
}

impl Body for RelayBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        match &mut this.phase {
            Phase::Ended => return Poll::Ready(None),
            Phase::Failing(failing) => {
                let polled = failing.poll(cx);
                if let Poll::Ready(None) = polled {
                    this.phase = Phase::Ended;
                }
                return polled;
            }
            Phase::Relaying => {}
        }
        let next = match this.reply.poll_chunk(cx) {
            Poll::Ready(next) => next,
            Poll::Pending => return Poll::Pending,
        };
        match next {
            Ok(Some(chunk)) => {
                if let Some(exchange) = this.exchange.as_mut() {
                    exchange.take(&chunk);
                }
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            Ok(None) => this.ended(RelayEnd::Complete, cx),
            Err(error) => {
                let end = match this.exchange.as_ref() {
                    Some(exchange) => RelayEnd::broken(&error, &exchange.guard),
                    None => RelayEnd::AgentGone,
                };
                this.ended(end, cx)
            }
        }
    }
}

impl Drop for RelayBody {
    fn drop(&mut self) {
        let Some(mut exchange) = self.exchange.take() else {
            return;
        };
        let end = match self.end.take() {
            Some(end) => end,
            // hyper lets go of the body when the agent leaves, which may come just as the
            // reply ends: a reply whose end had already arrived is complete.
            None => settle_ready(&mut self.reply, &mut exchange),
        };
        exchange.finish(end);
    }
}

/// Takes what the upstream has ready now and says how the reply stands without the agent.
fn settle_ready(reply: &mut UpstreamReply, exchange: &mut Relayed) -> RelayEnd {
    loop {
        match reply.ready_chunk() {
            Poll::Ready(Ok(Some(chunk))) => exchange.take(&chunk),
            Poll::Ready(Ok(None)) => return RelayEnd::Complete,
            Poll::Ready(Err(error)) => return RelayEnd::broken(&error, &exchange.guard),
            Poll::Pending => return RelayEnd::AgentGone,
        }
    }
}
