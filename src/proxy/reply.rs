//! An upstream's reply as the relay, hold and copies read it: status, headers and body chunks,
//! from whichever client fetched it (see `clients.rs`).
//!
//! Reading a chunk never waits longer than the idle timeout: reqwest enforces its own read
//! timeout, and the plain-http body is read under the same limit here.

use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt as _;
use http::{HeaderMap, StatusCode};
use http_body::Body as _;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::transport_error::{BodyReadError, IdleTimeout, TransportError};

/// A reply whose head has arrived and whose body is still to be read.
pub struct UpstreamReply(Inner);

enum Inner {
    /// From hyper-util's client: a plain-http upstream.
    Plain {
        reply: http::Response<Incoming>,
        idle: Duration,
    },
    /// From reqwest: an https upstream.
    Tls(reqwest::Response),
}

impl UpstreamReply {
    pub fn plain(reply: http::Response<Incoming>, idle: Duration) -> Self {
        Self(Inner::Plain { reply, idle })
    }

    pub fn tls(reply: reqwest::Response) -> Self {
        Self(Inner::Tls(reply))
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
            Inner::Tls(reply) => reply.content_length(),
        }
    }

    /// The next piece of the body; `None` once it has ended. Trailers are skipped.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, TransportError> {
        match &mut self.0 {
            Inner::Plain { reply, idle } => loop {
                let body = reply.body_mut();
                // A small reply's body is often read with its head: a frame that is ready at
                // once needs no timer, and arming and disarming one costs more than the read.
                let frame = match body.frame().now_or_never() {
                    Some(frame) => frame,
                    None => tokio::time::timeout(*idle, body.frame())
                        .await
                        .map_err(|_| BodyReadError(Box::new(IdleTimeout)))?,
                };
                match frame {
                    None => return Ok(None),
                    Some(frame) => {
                        let frame = frame.map_err(|e| BodyReadError(Box::new(e)))?;
                        if let Ok(data) = frame.into_data() {
                            return Ok(Some(data));
                        }
                    }
                }
            },
            Inner::Tls(reply) => Ok(reply.chunk().await?),
        }
    }
}
