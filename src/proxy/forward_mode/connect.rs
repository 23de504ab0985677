//! The forward proxy's own connection: each request is a `CONNECT` (to intercept or to
//! tunnel), an absolute-form `http://` request (recorded for an intercepted host, passed on
//! otherwise) or a request to llmscope itself (reverse mode, when `--upstream` is given).

use std::convert::Infallible;
use std::sync::Arc;

use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};

use super::address::authority;
use super::origins::InterceptedOrigin;
use super::{plain, tls, tunnel};
use crate::llm::Dialect;
use crate::proxy::body::{full_body, AgentBody};
use crate::proxy::error_reply::refusal_reply;
use crate::proxy::serve::serve_exchange;
use crate::proxy::{ProxyState, Upstream};

pub async fn serve_connection(state: Arc<ProxyState>, stream: tokio::net::TcpStream) {
    let header_read_timeout = state.config.header_read_timeout;
    let service = service_fn(move |request| route(state.clone(), request));
    let _ = http1::Builder::new()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
}

async fn route(
    state: Arc<ProxyState>,
    mut request: Request<Incoming>,
) -> Result<Response<AgentBody>, Infallible> {
    let Some(mode) = state.config.forward.as_ref() else {
        return serve_exchange(state, request, None).await;
    };
    if request.method() == Method::CONNECT {
        return Ok(connect(state.clone(), request));
    }
    let Some(host) = request.uri().host().map(str::to_string) else {
        if mode.serve_origin_form {
            return serve_exchange(state, request, None).await;
        }
        return Ok(not_a_proxy_request(&state, &request));
    };
    if request.uri().scheme_str() != Some("http") {
        return Ok(plain_refusal(
            StatusCode::BAD_REQUEST,
            "only http:// URLs are proxied in absolute form; https goes through CONNECT",
        ));
    }
    if !mode.intercepts(&host) {
        return Ok(plain::pass_on(&state, request).await);
    }
    let port = request.uri().port_u16().unwrap_or(80);
    match Upstream::parse(&format!("http://{}", authority(&host, port))) {
        Ok(origin) => {
            request
                .extensions_mut()
                .insert(InterceptedOrigin(Arc::new(origin)));
            serve_exchange(state, request, None).await
        }
        Err(error) => Ok(plain_refusal(StatusCode::BAD_REQUEST, &error.to_string())),
    }
}

/// `CONNECT host:port`: 200 at once, then the connection is intercepted or tunnelled once
/// hyper hands it over.
fn connect(state: Arc<ProxyState>, request: Request<Incoming>) -> Response<AgentBody> {
    let Some((host, port)) = request
        .uri()
        .authority()
        .and_then(|a| Some((a.host().to_string(), a.port_u16()?)))
    else {
        return plain_refusal(StatusCode::BAD_REQUEST, "CONNECT needs host:port");
    };
    let intercepted = state
        .config
        .forward
        .as_ref()
        .is_some_and(|mode| mode.intercepts(&host));
    tokio::spawn(async move {
        let upgraded = match hyper::upgrade::on(request).await {
            Ok(upgraded) => TokioIo::new(upgraded),
            // The client left before the tunnel opened: nothing was sent, nothing to record.
            Err(_) => return,
        };
        if intercepted {
            tls::intercept(state, upgraded, host, port).await;
        } else {
            tunnel::tunnel(&state, upgraded, &host, port).await;
        }
    });
    Response::new(full_body(bytes::Bytes::new()))
}

/// A request to llmscope itself while it is only a forward proxy: told how to use it, in
/// the dialect its path suggests.
fn not_a_proxy_request(state: &ProxyState, request: &Request<Incoming>) -> Response<AgentBody> {
    let dialect = Dialect::detect(
        request.uri().path(),
        request.headers().contains_key("anthropic-version"),
    );
    let message = format!(
        "llmscope runs as a forward proxy here: set HTTPS_PROXY=http://{} for the agent (and \
         trust llmscope's CA, see `llmscope ca`), or give --upstream URL to also take requests \
         sent to it as a base URL",
        state.config.listen
    );
    refusal_reply(
        StatusCode::BAD_REQUEST,
        dialect,
        "forward_proxy_only",
        &message,
    )
}

fn plain_refusal(status: StatusCode, message: &str) -> Response<AgentBody> {
    let mut response = Response::new(full_body(format!("llmscope: {message}\n")));
    *response.status_mut() = status;
    response
}
