//! A scriptable fake LLM upstream on a real loopback socket, for integration tests, benchmarks
//! and `llmscope demo`.
//!
//! It speaks OpenAI chat completions, the OpenAI Responses API, Anthropic messages and Gemini (the
//! dialect comes from the request path), and each request picks a [`MockBehavior`] by its
//! `model`: good replies, streams that are slow, gated or broken, the error bodies real
//! gateways send, and replies that are not HTTP at all. `mock-validate` (or an
//! `x-mock-validate` header) makes it a strict upstream that refuses a request with a named
//! defect, in a real provider's words, until the defect is fixed. It writes HTTP/1.1 by hand
//! because an HTTP library would refuse to produce the broken replies llmscope has to survive.
//!
//! Everything is deterministic: the same request gets the same bytes. It never touches the
//! network beyond 127.0.0.1 and holds nothing after it is dropped.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use llmscope::mock::MockUpstream;
//!
//! let upstream = MockUpstream::start().await?;
//! // Point the proxy at upstream.url() and send e.g. {"model":"mock-sse-error","stream":true}
//! // to /v1/messages; then look at what arrived:
//! for request in upstream.received() {
//!     println!("{} {}", request.method, request.target);
//! }
//! # Ok(())
//! # }
//! ```

mod behavior;
mod error_bodies;
mod gateway;
mod gemini;
mod http;
mod play;
mod replies;
mod request;
mod streams;
#[cfg(test)]
mod tests;
mod validate;
mod validate_checks;
mod validate_tools;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};

pub use behavior::{MockBehavior, VALIDATE_MODEL_PREFIX};
pub use gateway::MockGateway;
pub use play::big_byte;
pub use validate::{validate_case_names, LIMIT_HEADER, VALIDATE_HEADER};

use http::{encode_head, Connection};
use play::{play, After};
use request::ReadError;

/// A running fake upstream. Dropping it stops the accept loop and closes every open
/// connection, including streams in flight.
#[derive(Debug)]
pub struct MockUpstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_loop: JoinHandle<()>,
}

/// A request as the mock read it off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRequest {
    pub method: String,
    /// Path and query exactly as received, e.g. `/v1/messages?beta=true`.
    pub target: String,
    /// In wire order, names in their original case.
    pub headers: Vec<(String, String)>,
    /// The body after removing any chunked framing (content codings are left as sent).
    pub body: Vec<u8>,
}

impl ReceivedRequest {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        request::header(&self.headers, name)
    }
}

/// State the accept loop and connection tasks share with the handle.
#[derive(Debug)]
struct Shared {
    received: Mutex<Vec<ReceivedRequest>>,
    /// Permits for gated streams; a permit added before a stream waits is kept for it.
    gate: Semaphore,
    connections: AtomicUsize,
    abandoned: AtomicUsize,
}

impl Shared {
    fn new() -> Self {
        Self {
            received: Mutex::new(Vec::new()),
            gate: Semaphore::new(0),
            connections: AtomicUsize::new(0),
            abandoned: AtomicUsize::new(0),
        }
    }

    fn record(&self, request: ReceivedRequest) {
        // A panicking test thread must not hide the requests from the others.
        let mut received = self.received.lock().unwrap_or_else(|e| e.into_inner());
        received.push(request);
    }
}

impl MockUpstream {
    /// Binds 127.0.0.1 on a free port and starts serving. Must be called inside a Tokio runtime.
    pub async fn start() -> io::Result<MockUpstream> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Like [`start`](Self::start) on a chosen address (`llmscope mock-upstream`).
    pub async fn start_on(addr: SocketAddr) -> io::Result<MockUpstream> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new());
        let accept_loop = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(MockUpstream {
            addr,
            shared,
            accept_loop,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to configure as the upstream, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request read so far, across all connections, in the order they were read.
    pub fn received(&self) -> Vec<ReceivedRequest> {
        self.shared
            .received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Lets one `mock-gated` stream send the rest of its events. A release made before the
    /// stream reaches its gate is kept, so tests need not race the stream.
    pub fn release_gate(&self) {
        self.shared.gate.add_permits(1);
    }

    /// How many TCP connections were accepted, to check that a client reuses them.
    pub fn connections_accepted(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// How many replies the client stopped waiting for or reading before their end: it closed
    /// or reset the connection mid-reply. A proxy that cancels the upstream request when its
    /// own client leaves shows up here.
    pub fn replies_abandoned(&self) -> usize {
        self.shared.abandoned.load(Ordering::SeqCst)
    }
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        // The connection tasks live in the accept loop's JoinSet, which aborts them when the
        // loop is dropped.
        self.accept_loop.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    shared.connections.fetch_add(1, Ordering::SeqCst);
                    // Streams are many small writes; each must leave at once.
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve_connection(stream, Arc::clone(&shared)));
                }
                // Out of file descriptors and the like: wait instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Serves requests on one connection until the client closes it or a behaviour ends it.
async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let mut conn = Connection::new(stream);
    loop {
        let (request, framing) = match conn.read_request().await {
            Ok(Some(read)) => read,
            Ok(None) => return,
            Err(error) => {
                if refuse(&mut conn, &error).await.is_ok() {
                    conn.close().await;
                }
                return;
            }
        };
        shared.record(request.clone());
        match play(&mut conn, &request, framing.keep_alive, &shared.gate).await {
            Ok(After::Continue) => {}
            Ok(After::Close) => return conn.close().await,
            Ok(After::Reset) => return conn.reset(),
            // The client went away mid-reply; nothing is left to tell it.
            Err(_) => {
                shared.abandoned.fetch_add(1, Ordering::SeqCst);
                return;
            }
        }
    }
}

/// Answers a request that could not be read, the way a strict server would.
async fn refuse(conn: &mut Connection, error: &ReadError) -> io::Result<()> {
    let status = match error {
        ReadError::HeadTooLarge => 431,
        ReadError::BodyTooLarge => 413,
        ReadError::Malformed(_) => 400,
        ReadError::Truncated | ReadError::Io(_) => {
            return Err(io::Error::other("connection already gone"))
        }
    };
    let body = format!("{error}\n");
    let headers = [("content-type", "text/plain; charset=utf-8".to_string())];
    let mut reply = encode_head(status, &headers, Some(body.len()), true);
    reply.extend_from_slice(body.as_bytes());
    conn.write_all(&reply).await
}
