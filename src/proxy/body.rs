//! The body types the listener answers with: a whole body made here, or a stream fed chunk by
//! chunk by the relay task.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use tokio::sync::{mpsc, Notify};

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
    drained: Arc<DrainSignal>,
}

impl ChannelBody {
    pub fn new(rx: mpsc::Receiver<Result<Bytes, BodyError>>, drained: Arc<DrainSignal>) -> Self {
        Self { rx, drained }
    }
}

/// Tells the relay when hyper has taken every chunk sent so far and asked for more. hyper
/// flushes what it buffered right after such a poll, but drops it, the head included, when the
/// body fails instead; so before failing a body on purpose the relay waits for this.
#[derive(Debug, Default)]
pub struct DrainSignal {
    /// The body's last poll found the channel empty.
    waiting: AtomicBool,
    polled_empty: Notify,
}

impl DrainSignal {
    /// Returns once everything queued in `tx` has been taken and the body polled again, or the
    /// agent's side of the body is gone.
    pub async fn until_drained(&self, tx: &mpsc::Sender<Result<Bytes, BodyError>>) {
        loop {
            let polled_empty = self.polled_empty.notified();
            tokio::pin!(polled_empty);
            polled_empty.as_mut().enable();
            let empty = tx.capacity() == tx.max_capacity();
            if tx.is_closed() || (empty && self.waiting.load(Ordering::SeqCst)) {
                return;
            }
            tokio::select! {
                () = polled_empty => {}
                () = tx.closed() => return,
            }
        }
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let polled = self.rx.poll_recv(cx);
        self.drained
            .waiting
            .store(polled.is_pending(), Ordering::SeqCst);
        if polled.is_pending() {
            self.drained.polled_empty.notify_waiters();
        }
        polled.map(|item| item.map(|result| result.map(Frame::data)))
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
