//! The body types the listener answers with besides the relayed stream (`relay_body.rs`): a
//! whole body made here, and a body that ends in the break its upstream reply ended in.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};

/// Error type of the agent-facing body; an error makes hyper abort the connection, which is how
/// a broken non-SSE upstream reply is passed on faithfully.
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// The body of every reply llmscope sends to the agent.
pub type AgentBody = http_body_util::combinators::BoxBody<Bytes, BodyError>;

pub fn full_body(bytes: impl Into<Bytes>) -> AgentBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// Fails a body on purpose, which makes hyper abort the connection: how a break in a non-SSE
/// reply whose head has gone out reaches the agent, as a direct connection would have shown
/// it. hyper drops what it has buffered, the head included, when a body fails, and flushes it
/// after a poll that finds nothing ready; so the first poll only wakes the task again, and the
/// second fails.
#[derive(Debug)]
pub struct FailAfterFlush {
    error: Option<BodyError>,
    flushed: bool,
}

impl FailAfterFlush {
    pub fn new(error: impl Into<BodyError>) -> Self {
        Self {
            error: Some(error.into()),
            flushed: false,
        }
    }

    pub fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        if !std::mem::replace(&mut self.flushed, true) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(self.error.take().map(Err))
    }
}

/// What an upstream sent before its reply broke, then the break.
pub struct CutBody {
    before: Option<Bytes>,
    then: FailAfterFlush,
}

impl CutBody {
    pub fn new(before: Bytes, error: impl Into<BodyError>) -> Self {
        Self {
            before: (!before.is_empty()).then_some(before),
            then: FailAfterFlush::new(error),
        }
    }
}

impl Body for CutBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.before.take() {
            Some(data) => Poll::Ready(Some(Ok(Frame::data(data)))),
            None => self.then.poll(cx),
        }
    }
}

/// A reply held whole in memory, which can be given to the agent, or to every waiting copy
/// of a held request, as many times as needed.
#[derive(Debug, Clone)]
pub struct WholeReply {
    pub status: http::StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl WholeReply {
    pub fn response(&self) -> http::Response<AgentBody> {
        let mut response = http::Response::new(full_body(self.body.clone()));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        response
    }

    /// The reply as the record keeps it.
    pub fn recorded(&self) -> crate::capture::CapturedResponse {
        crate::capture::CapturedResponse {
            status: self.status.as_u16(),
            headers: super::headers::recorded_reply_headers(&self.headers),
            body_len: self.body.len() as u64,
            body: self.body.clone(),
        }
    }
}
