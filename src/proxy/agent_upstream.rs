//! An agent connection's own connection to a plain-http upstream.
//!
//! An agent connection carries one request at a time (HTTP/1.1), so the upstream connection
//! its previous request used is free again when the next one comes. Kept with the agent
//! connection, it is used without hyper-util's pool, whose key hashing, checkout and return
//! cost about 13k of the 45k instructions a bare hyper forwarder spends per request
//! (`benches/instructions.py`: `bare-hyper` against `bare-conn`). Requests with no agent
//! connection behind them (resends, model lists) and those for another upstream than the one
//! kept take the pool.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http::uri::{Authority, PathAndQuery};
use http::{Request, Response, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::client::legacy::connect::HttpConnector;
use tower_service::Service;

use super::transport_error::{ConnectFailed, TransportError};

type Sender = SendRequest<Full<Bytes>>;

/// The upstream connection one agent connection keeps between its requests.
#[derive(Default)]
pub struct AgentUpstream {
    kept: Mutex<Option<Kept>>,
}

struct Kept {
    authority: Authority,
    sender: Sender,
}

impl AgentUpstream {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// The kept connection if it goes to `authority` and can take a request now: not closed,
    /// and not still carrying the previous reply (whose body nobody reads any more, or the
    /// request would wait on it until the idle timeout). It is taken out while a request
    /// uses it; a second request meanwhile (none comes on one HTTP/1.1 connection) would
    /// open a connection of its own.
    fn take(&self, authority: &Authority) -> Option<Sender> {
        let kept = self.lock().take()?;
        (kept.authority == *authority && kept.sender.is_ready()).then_some(kept.sender)
    }

    fn keep(&self, authority: Authority, sender: Sender) {
        *self.lock() = Some(Kept { authority, sender });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Kept>> {
        // Replaced whole: a panic cannot leave it half-written.
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends `request` (its URI absolute, as for the pool) on the kept connection, or on a
    /// new one that is kept afterwards. A request the kept connection could not take (the
    /// upstream closed it between two requests) goes once more on a new connection, as the
    /// pool retries it.
    pub(super) async fn send(
        &self,
        connector: &HttpConnector,
        mut request: Request<Full<Bytes>>,
    ) -> Result<Response<Incoming>, TransportError> {
        let uri = request.uri().clone();
        let authority = uri.authority().cloned().ok_or(NoAuthority)?;
        // A request line names only the path to the server it is sent to.
        *request.uri_mut() = Uri::from(
            uri.path_and_query()
                .cloned()
                .unwrap_or_else(|| PathAndQuery::from_static("/")),
        );
        let (mut sender, mut reused) = match self.take(&authority) {
            Some(sender) => (sender, true),
            None => (connect(connector, &uri).await?, false),
        };
        loop {
            match send_on(&mut sender, request).await {
                Ok(reply) => {
                    self.keep(authority, sender);
                    return Ok(reply);
                }
                Err(Unsent(unsent)) if reused => {
                    request = *unsent;
                    sender = connect(connector, &uri).await?;
                    reused = false;
                }
                Err(Unsent(_)) => return Err(closed_before_sending()),
                Err(Failed(error)) => return Err(error),
            }
        }
    }
}

enum SendError {
    /// The connection was closed before the request went out: it can go on another.
    Unsent(Box<Request<Full<Bytes>>>),
    Failed(TransportError),
}
use SendError::{Failed, Unsent};

async fn send_on(
    sender: &mut Sender,
    request: Request<Full<Bytes>>,
) -> Result<Response<Incoming>, SendError> {
    if sender.ready().await.is_err() {
        return Err(Unsent(Box::new(request)));
    }
    sender
        .try_send_request(request)
        .await
        .map_err(|mut error| match error.take_message() {
            Some(request) => Unsent(Box::new(request)),
            None => Failed(Box::new(error.into_error())),
        })
}

/// A new connection to the upstream, its task spawned on the calling thread's runtime.
///
/// Boxed: the connector's future is large, and a request that reuses its connection would
/// otherwise carry it, and move it with the request's future.
fn connect<'a>(
    connector: &'a HttpConnector,
    uri: &'a Uri,
) -> Pin<Box<dyn Future<Output = Result<Sender, TransportError>> + Send + 'a>> {
    Box::pin(open(connector, uri))
}

async fn open(connector: &HttpConnector, uri: &Uri) -> Result<Sender, TransportError> {
    let io = connector
        .clone()
        .call(uri.clone())
        .await
        .map_err(|error| ConnectFailed(Box::new(error)))?;
    let (sender, connection) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// What a request gets when even a new connection closed before taking it.
fn closed_before_sending() -> TransportError {
    Box::new(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "the upstream closed a new connection before the request was sent",
    ))
}

#[derive(Debug, thiserror::Error)]
#[error("the upstream URI names no host")]
struct NoAuthority;

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    const REPLY: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

    /// An upstream that answers every request on a connection with [`REPLY`], closing the
    /// connection after each reply when `close`; returns its URI and how many connections it
    /// accepted.
    async fn upstream(close: bool) -> (Uri, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let counted = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0; 1];
                    while socket.read(&mut byte).await.is_ok_and(|n| n == 1) {
                        head.push(byte[0]);
                        if head.ends_with(b"\r\n\r\n") {
                            head.clear();
                            if socket.write_all(REPLY).await.is_err() || close {
                                return;
                            }
                        }
                    }
                });
            }
        });
        let uri = format!("http://{addr}/v1/chat/completions")
            .parse()
            .expect("uri");
        (uri, accepted)
    }

    async fn body_of(own: &AgentUpstream, uri: &Uri) -> Bytes {
        let mut request = Request::new(Full::new(Bytes::new()));
        *request.uri_mut() = uri.clone();
        let reply = own
            .send(&HttpConnector::new(), request)
            .await
            .expect("a reply");
        reply.into_body().collect().await.expect("body").to_bytes()
    }

    #[tokio::test]
    async fn an_agent_connections_requests_share_one_upstream_connection() {
        let (uri, accepted) = upstream(false).await;
        let own = AgentUpstream::new();
        for _ in 0..3 {
            assert_eq!(body_of(&own, &uri).await, "ok");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_connection_the_upstream_closed_is_replaced_not_reported() {
        let (uri, accepted) = upstream(true).await;
        let own = AgentUpstream::new();
        assert_eq!(body_of(&own, &uri).await, "ok");
        // The upstream's close reaches the kept connection between the two requests.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(body_of(&own, &uri).await, "ok");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn another_upstream_gets_a_connection_of_its_own() {
        let (first, first_accepted) = upstream(false).await;
        let (second, second_accepted) = upstream(false).await;
        let own = AgentUpstream::new();
        assert_eq!(body_of(&own, &first).await, "ok");
        assert_eq!(body_of(&own, &second).await, "ok");
        assert_eq!(body_of(&own, &second).await, "ok");
        assert_eq!(first_accepted.load(Ordering::SeqCst), 1);
        assert_eq!(second_accepted.load(Ordering::SeqCst), 1);
    }
}
