//! Bare forwarders made of the crates llmscope is built on (tokio's default runtime, a hyper
//! HTTP/1.1 server) and nothing else: no capture, no store, no log. One forwards with a
//! reqwest client set up as llmscope sets up its own, one with hyper's own client
//! (hyper-util's legacy pooled client, the one reqwest wraps), and one (for
//! `benches/instructions.py` only) with an upstream connection of each agent connection's own,
//! as llmscope forwards to a plain-http upstream. Run as child processes of the
//! bench binary (so their CPU time is their own), they show what those crates alone cost on
//! this machine: the floors under llmscope's figures, and what reqwest adds to hyper.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use futures_util::TryStreamExt;
use http::{header, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as LegacyClient;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// The argument that makes a bench binary serve as the bare reqwest forwarder instead of
/// measuring.
pub const SERVE_ARG: &str = "--serve-bare-forwarder";
/// The same for the forwarder on hyper's own client.
pub const SERVE_HYPER_ARG: &str = "--serve-bare-hyper-forwarder";
/// The same for the forwarder that gives each agent connection an upstream connection of its
/// own (hyper's `client::conn`, no pool).
pub const SERVE_CONN_ARG: &str = "--serve-bare-conn-forwarder";

type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// Serves as a bare forwarder when the process was started for that (`SERVE_ARG UPSTREAM
/// PORT` or `SERVE_HYPER_ARG UPSTREAM PORT`); returns false otherwise.
pub fn serve_if_asked() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let [_, flag, upstream, port] = args.as_slice() else {
        return false;
    };
    if flag != SERVE_ARG && flag != SERVE_HYPER_ARG && flag != SERVE_CONN_ARG {
        return false;
    }
    let port: u16 = port.parse().expect("port number");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let upstream = upstream.trim_end_matches('/').to_string();
    if flag == SERVE_ARG {
        runtime.block_on(serve_reqwest(upstream, port));
    } else if flag == SERVE_CONN_ARG {
        runtime.block_on(serve_conn(upstream, port));
    } else {
        runtime.block_on(serve_hyper(upstream, port));
    }
    true
}

async fn serve_reqwest(upstream: String, port: u16) {
    llmscope::proxy::install_crypto_provider();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("reqwest client");
    accept_on(port, move |stream| {
        let (client, upstream) = (client.clone(), upstream.clone());
        async move {
            let service =
                service_fn(move |request| forward(client.clone(), upstream.clone(), request));
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }
    })
    .await;
}

/// Accepts connections on 127.0.0.1:`port` for ever, each served by `serve` in a task of its
/// own.
async fn accept_on<F, Fut>(port: u16, serve: F)
where
    F: Fn(tokio::net::TcpStream) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .expect("bind the bare forwarder");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(stream));
    }
}

async fn serve_hyper(upstream: String, port: u16) {
    let mut connector = HttpConnector::new();
    // As reqwest sets it: a small request must not wait for Nagle.
    connector.set_nodelay(true);
    let client: HyperClient = LegacyClient::builder(TokioExecutor::new()).build(connector);
    accept_on(port, move |stream| {
        let (client, upstream) = (client.clone(), upstream.clone());
        async move {
            let service =
                service_fn(move |request| forward_hyper(client.clone(), upstream.clone(), request));
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }
    })
    .await;
}

type HyperClient = LegacyClient<HttpConnector, Full<Bytes>>;

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn serve_conn(upstream: String, port: u16) {
    let authority: String = upstream
        .strip_prefix("http://")
        .expect("a plain-http upstream")
        .to_string();
    accept_on(port, move |stream| {
        let authority = authority.clone();
        async move {
            let slot: std::sync::Arc<std::sync::Mutex<Option<Sender>>> = Default::default();
            let service =
                service_fn(move |request| forward_conn(slot.clone(), authority.clone(), request));
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }
    })
    .await;
}

async fn forward_conn(
    slot: std::sync::Arc<std::sync::Mutex<Option<Sender>>>,
    authority: String,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (mut parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|c| c.to_bytes()) else {
        return Ok(status_only(StatusCode::BAD_REQUEST));
    };
    let kept = slot.lock().expect("slot").take();
    let mut sender = match kept {
        Some(sender) if !sender.is_closed() => sender,
        _ => {
            let Ok(stream) = tokio::net::TcpStream::connect(authority.as_str()).await else {
                return Ok(status_only(StatusCode::BAD_GATEWAY));
            };
            let _ = stream.set_nodelay(true);
            let Ok((sender, conn)) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
            else {
                return Ok(status_only(StatusCode::BAD_GATEWAY));
            };
            tokio::spawn(conn);
            sender
        }
    };
    if sender.ready().await.is_err() {
        return Ok(status_only(StatusCode::BAD_GATEWAY));
    }
    parts.headers.insert(
        header::HOST,
        http::HeaderValue::from_str(&authority).expect("authority"),
    );
    let reply = sender
        .send_request(Request::from_parts(parts, Full::new(body)))
        .await;
    *slot.lock().expect("slot") = Some(sender);
    let Ok(reply) = reply else {
        return Ok(status_only(StatusCode::BAD_GATEWAY));
    };
    let (parts, body) = reply.into_parts();
    let body = body.map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>);
    Ok(Response::from_parts(parts, Body::new(body)))
}

async fn forward_hyper(
    client: HyperClient,
    upstream: String,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (mut parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|c| c.to_bytes()) else {
        return Ok(status_only(StatusCode::BAD_REQUEST));
    };
    let target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let Ok(uri) = format!("{upstream}{target}").parse::<http::Uri>() else {
        return Ok(status_only(StatusCode::BAD_REQUEST));
    };
    parts.uri = uri;
    parts.headers.remove(header::HOST);
    let Ok(reply) = client
        .request(Request::from_parts(parts, Full::new(body)))
        .await
    else {
        return Ok(status_only(StatusCode::BAD_GATEWAY));
    };
    let (parts, body) = reply.into_parts();
    let body = body.map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>);
    Ok(Response::from_parts(parts, Body::new(body)))
}

async fn forward(
    client: reqwest::Client,
    upstream: String,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (mut parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|c| c.to_bytes()) else {
        return Ok(status_only(StatusCode::BAD_REQUEST));
    };
    let target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    parts.headers.remove(header::HOST);
    let sent = client
        .request(parts.method, format!("{upstream}{target}"))
        .headers(parts.headers)
        .body(body)
        .send()
        .await;
    let Ok(reply) = sent else {
        return Ok(status_only(StatusCode::BAD_GATEWAY));
    };
    let (status, headers) = (reply.status(), reply.headers().clone());
    let mut response = Response::new(Body::new(StreamBody::new(
        reply
            .bytes_stream()
            .map_ok(Frame::data)
            .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
    )));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

fn status_only(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::new(
        Full::new(Bytes::new()).map_err(|never| match never {}),
    ));
    *response.status_mut() = status;
    response
}
