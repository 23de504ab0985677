//! The HTTP clients that take requests upstream: for plain-http upstreams, the agent
//! connection's own upstream connection (`agent_upstream.rs`) or else hyper-util's pooled
//! client, which cost half as much per request as reqwest; and reqwest for https upstreams
//! (its TLS set-up and `--upstream-ca`) and llmscope's other outgoing calls (model lists,
//! forward mode's pass-through).
//!
//! All are set up alike (an agent connection's own connection is opened by the pool's
//! connector): no redirects followed (the agent sees them), no decompression
//! (bodies pass through as sent), no environment proxy, TCP_NODELAY, the same connect timeout,
//! and the same idle timeout before the head and between body chunks.

use std::num::NonZeroUsize;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, ACCEPT, HOST};
use http::{HeaderMap, Method, Request};
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::agent_upstream::AgentUpstream;
use super::reply::UpstreamReply;
use super::serving_threads;
use super::transport_error::{IdleTimeout, TransportError};
use super::upstream::{takes_plain_client, Destination};
use super::upstream_ca::UpstreamCa;

/// How long an unused kept-alive upstream connection stays in either client's pool.
const POOL_IDLE: Duration = Duration::from_secs(90);

/// hyper-util's client, for plain-http upstreams.
type PlainClient = Client<HttpConnector, Full<Bytes>>;

/// Every upstream call goes through one of these two clients.
pub struct UpstreamClients {
    /// One per serving thread: a pooled connection's task runs where it was opened, and an
    /// exchange on another thread would wake that one twice per request.
    plain: Vec<PlainClient>,
    /// The pool's connector, for the connections agent connections keep (`agent_upstream.rs`).
    connector: HttpConnector,
    tls: reqwest::Client,
    idle: Duration,
}

impl UpstreamClients {
    /// `extra_ca` is trusted besides the platform's roots.
    pub fn build(
        serving_threads: NonZeroUsize,
        connect_timeout: Duration,
        idle_timeout: Duration,
        extra_ca: Option<&UpstreamCa>,
    ) -> Result<Self, reqwest::Error> {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(connect_timeout));
        let plain = (0..serving_threads.get())
            .map(|_| {
                Client::builder(TokioExecutor::new())
                    .timer(TokioTimer::new())
                    .pool_timer(TokioTimer::new())
                    .pool_idle_timeout(POOL_IDLE)
                    .build(connector.clone())
            })
            .collect();
        Ok(Self {
            plain,
            connector,
            tls: build_reqwest(connect_timeout, idle_timeout, extra_ca)?,
            idle: idle_timeout,
        })
    }

    /// reqwest, for calls that are not an exchange's request: model lists, forward mode's
    /// pass-through of hosts it does not intercept.
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.tls
    }

    /// Sends an exchange's request and waits for the reply's head, at most the idle timeout.
    /// `own` is the agent connection's own upstream connection, for a plain-http upstream.
    pub async fn send(
        &self,
        method: Method,
        destination: Destination,
        headers: HeaderMap,
        body: Bytes,
        own: Option<&AgentUpstream>,
    ) -> Result<UpstreamReply, TransportError> {
        match destination {
            Destination::Plain(uri) => self.send_plain(method, uri, headers, body, own).await,
            Destination::Url(url) if takes_plain_client(&url) => {
                let uri = http::Uri::try_from(url.as_str())?;
                self.send_plain(method, uri, headers, body, own).await
            }
            Destination::Url(url) => self.send_tls(method, url, headers, body).await,
        }
    }

    async fn send_tls(
        &self,
        method: Method,
        url: reqwest::Url,
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<UpstreamReply, TransportError> {
        let request = self.tls.request(method, url).headers(headers).body(body);
        Ok(UpstreamReply::tls(request.send().await?))
    }

    async fn send_plain(
        &self,
        method: Method,
        uri: http::Uri,
        headers: HeaderMap,
        body: Bytes,
        own: Option<&AgentUpstream>,
    ) -> Result<UpstreamReply, TransportError> {
        let host = uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok());
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        let headers = request.headers_mut();
        // What reqwest sends when the agent named nothing: both clients send the same.
        headers
            .entry(ACCEPT)
            .or_insert(HeaderValue::from_static("*/*"));
        // hyper-util would add the same `Host` (the URI's authority, which leaves out a
        // default port), but by formatting host and port anew for every request: 2,600
        // instructions against 200 for copying the authority's text.
        if let Some(host) = host {
            headers.entry(HOST).or_insert(host);
        }
        let reply = match own {
            // Boxed, as the pool's future is: unboxed, it would make every exchange's
            // future larger, and that future is moved whole when it is detached.
            Some(own) => {
                tokio::time::timeout(self.idle, Box::pin(own.send(&self.connector, request)))
                    .await
                    .map_err(|_| IdleTimeout)??
            }
            None => tokio::time::timeout(self.idle, self.plain().request(request))
                .await
                .map_err(|_| IdleTimeout)??,
        };
        Ok(UpstreamReply::plain(reply, self.idle))
    }

    /// The calling serving thread's own client. Calls off the serving threads (a resend from
    /// the screen) run on the proxy's runtime and take thread 0's.
    fn plain(&self) -> &PlainClient {
        let thread = serving_threads::current();
        self.plain.get(thread).unwrap_or(&self.plain[0])
    }
}

/// reqwest set up as the module doc says.
fn build_reqwest(
    connect_timeout: Duration,
    idle_timeout: Duration,
    extra_ca: Option<&UpstreamCa>,
) -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    let mut builder = reqwest::Client::builder();
    if let Some(ca) = extra_ca {
        builder = builder.tls_certs_merge(ca.certificates());
    }
    builder
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(connect_timeout)
        .read_timeout(idle_timeout)
        .pool_idle_timeout(POOL_IDLE)
        .build()
}

/// rustls needs one process-wide crypto provider; ring keeps the build free of C++/CMake.
pub fn install_crypto_provider() {
    // Err only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;
    use crate::capture::Failure;
    use crate::proxy::transport_error::classify_transport_error;

    const IDLE: Duration = Duration::from_millis(300);

    /// An upstream that answers every connection with `reply`, then hangs up, or stays
    /// silent when `hang`.
    async fn faulty_upstream(reply: &'static [u8], hang: bool) -> reqwest::Url {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut request = vec![0; 64 * 1024];
                    let _ = socket.read(&mut request).await;
                    let _ = socket.write_all(reply).await;
                    if hang {
                        tokio::time::sleep(Duration::from_secs(10)).await;
                    }
                });
            }
        });
        format!("http://{addr}/v1/chat/completions")
            .parse()
            .expect("url")
    }

    /// What the exchange records when its reply comes through `send`, read to its end.
    async fn outcome(
        send: impl Future<Output = Result<UpstreamReply, TransportError>>,
    ) -> Option<Failure> {
        let mut reply = match send.await {
            Ok(reply) => reply,
            Err(error) => return Some(classify_transport_error(&*error, true, IDLE)),
        };
        loop {
            match reply.chunk().await {
                Ok(Some(_)) => {}
                Ok(None) => return None,
                Err(error) => return Some(classify_transport_error(&*error, false, IDLE)),
            }
        }
    }

    /// The outcome of one request through each client: the pool, an agent connection's own
    /// upstream connection, reqwest.
    async fn every_client(url: reqwest::Url) -> [Option<Failure>; 3] {
        let clients = UpstreamClients::build(NonZeroUsize::MIN, Duration::from_secs(2), IDLE, None)
            .expect("clients");
        let own = AgentUpstream::new();
        let send = |client: usize| {
            let (method, url, body) = (Method::POST, url.clone(), Bytes::from_static(b"{}"));
            let (clients, own) = (&clients, &own);
            async move {
                if client == 2 {
                    clients.send_tls(method, url, HeaderMap::new(), body).await
                } else {
                    let uri = http::Uri::try_from(url.as_str()).expect("a valid URI");
                    let own = (client == 1).then_some(&**own);
                    clients
                        .send_plain(method, uri, HeaderMap::new(), body, own)
                        .await
                }
            }
        };
        [
            outcome(send(0)).await,
            outcome(send(1)).await,
            outcome(send(2)).await,
        ]
    }

    #[test]
    fn plain_http_without_credentials_takes_the_plain_client() {
        let takes = |url: &str| takes_plain_client(&url.parse().expect("url"));
        assert!(takes("http://127.0.0.1:4000/v1/chat/completions"));
        assert!(!takes("https://api.openai.com/v1/chat/completions"));
        assert!(!takes("http://user:secret@gw.internal:4000/v1/messages"));
        assert!(!takes("http://user@gw.internal:4000/v1/messages"));
    }

    #[tokio::test]
    async fn every_client_gives_a_fault_the_same_class_and_words() {
        let refused = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("address");
            drop(listener);
            format!("http://{addr}/").parse().expect("url")
        };
        let faults: [(&str, reqwest::Url); 8] = [
            ("refused", refused),
            ("closed", faulty_upstream(b"", false).await),
            (
                "garbage",
                faulty_upstream(b"SMTP ready\r\n\r\n", false).await,
            ),
            ("silent", faulty_upstream(b"", true).await),
            (
                "cut",
                faulty_upstream(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc", false).await,
            ),
            (
                "bad chunk",
                faulty_upstream(
                    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
                    false,
                )
                .await,
            ),
            (
                "silent mid-body",
                faulty_upstream(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc", true).await,
            ),
            (
                "whole",
                faulty_upstream(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}", false).await,
            ),
        ];
        for (name, url) in faults {
            let [pooled, own, reqwest] = every_client(url).await;
            assert_eq!(pooled, reqwest, "{name}");
            assert_eq!(
                own, reqwest,
                "{name}: the agent connection's own upstream connection"
            );
            assert_eq!(pooled.is_none(), name == "whole", "{name}: {pooled:?}");
        }
    }
}
