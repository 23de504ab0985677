//! The body types the listener answers with: a whole body made here, or a stream fed chunk by
//! chunk by the relay task.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use tokio::sync::mpsc;

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

/// Streams what the relay sends over a channel. Bounded, so a slow agent slows the upstream
/// read instead of growing memory.
pub struct ChannelBody {
    rx: mpsc::Receiver<Result<Bytes, BodyError>>,
}

impl ChannelBody {
    pub fn new(rx: mpsc::Receiver<Result<Bytes, BodyError>>) -> Self {
        Self { rx }
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        self.rx
            .poll_recv(cx)
            .map(|item| item.map(|result| result.map(Frame::data)))
    }
}
