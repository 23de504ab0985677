//! An upstream's reply as the relay, hold and copies read it: status, headers and body chunks,
//! from whichever client fetched it (see `clients.rs`).
//!
//! Reading a chunk never waits longer than the idle timeout: reqwest enforces its own read
//! timeout inside its body, and the plain-http body is read under the same limit here.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use http_body::Body as _;
use hyper::body::Incoming;
use tokio::time::Sleep;

use super::transport_error::{BodyReadError, IdleTimeout, TransportError};

/// A reply whose head has arrived and whose body is still to be read.
pub struct UpstreamReply(Inner);

enum Inner {
    /// From hyper-util's client: a plain-http upstream.
    Plain {
        reply: Response<Incoming>,
        idle: Duration,
        /// Armed while a read waits, dropped when a frame comes: a frame that is ready at once
        /// (a small reply's body often comes with its head) never arms one.
        timer: Option<Pin<Box<Sleep>>>,
    },
    /// From reqwest: an https upstream.
    Tls(Response<reqwest::Body>),
}

impl UpstreamReply {
    pub fn plain(reply: Response<Incoming>, idle: Duration) -> Self {
        Self(Inner::Plain {
            reply,
            idle,
            timer: None,
        })
    }

    /// reqwest's reply as a plain `http::Response`, its body with reqwest's timeouts inside.
    pub fn tls(reply: reqwest::Response) -> Self {
        Self(Inner::Tls(reply.into()))
    }

    pub fn status(&self) -> StatusCode {
        match &self.0 {
            Inner::Plain { reply, .. } => reply.status(),
            Inner::Tls(reply) => reply.status(),
        }
    }

    pub fn headers(&self) -> &HeaderMap {
        match &self.0 {
            Inner::Plain { reply, .. } => reply.headers(),
            Inner::Tls(reply) => reply.headers(),
        }
    }

    /// The headers, moved out: for a reply whose body has been read and whose head goes on to
    /// the agent, which saves copying every name and value (a clone of a `HeaderMap` copies its
    /// tables).
    pub fn take_headers(&mut self) -> HeaderMap {
        match &mut self.0 {
            Inner::Plain { reply, .. } => std::mem::take(reply.headers_mut()),
            Inner::Tls(reply) => std::mem::take(reply.headers_mut()),
        }
    }

    /// The body's length when the head gave it.
    pub fn content_length(&self) -> Option<u64> {
        match &self.0 {
            Inner::Plain { reply, .. } => reply.body().size_hint().exact(),
            Inner::Tls(reply) => reply.body().size_hint().exact(),
        }
    }

    /// The next piece of the body; `None` once it has ended. Trailers are skipped.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, TransportError> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    /// [`Self::chunk`] as a poll, for a body that reads the upstream as hyper asks for more.
    pub fn poll_chunk(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Bytes>, TransportError>> {
        self.poll_next(cx, true)
    }

    /// What the body has ready now, without waiting and without arming the idle timer: for
    /// an exchange settling what it had when the agent left.
    pub fn ready_chunk(&mut self) -> Poll<Result<Option<Bytes>, TransportError>> {
        self.poll_next(&mut Context::from_waker(std::task::Waker::noop()), false)
    }

    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        wait: bool,
    ) -> Poll<Result<Option<Bytes>, TransportError>> {
        loop {
            let frame = match &mut self.0 {
                Inner::Plain { reply, idle, timer } => {
                    match Pin::new(reply.body_mut()).poll_frame(cx) {
                        Poll::Ready(frame) => {
                            *timer = None;
                            frame.map(|f| f.map_err(|e| BodyReadError(Box::new(e)).into()))
                        }
                        Poll::Pending if wait => {
                            let timer =
                                timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(*idle)));
                            ready!(timer.as_mut().poll(cx));
                            let timed_out = BodyReadError(Box::new(IdleTimeout));
                            return Poll::Ready(Err(timed_out.into()));
                        }
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Inner::Tls(reply) => ready!(Pin::new(reply.body_mut()).poll_frame(cx))
                    .map(|f| f.map_err(TransportError::from)),
            };
            match frame {
                None => return Poll::Ready(Ok(None)),
                Some(frame) => {
                    if let Ok(data) = frame?.into_data() {
                        return Poll::Ready(Ok(Some(data)));
                    }
                }
            }
        }
    }
}
