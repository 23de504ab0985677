//! An intercepted host: llmscope answers the client's TLS with a certificate for that host
//! from its CA, then serves the decrypted HTTP/1.1 through the exchange path with that host
//! as the upstream. A client that refuses the certificate is recorded as a `tls` exchange
//! saying why, so an agent that was never told to trust the CA is seen, not silent.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::HeaderMap;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::upgrade::Upgraded;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio_rustls::TlsAcceptor;

use super::address::authority;
use super::origins::InterceptedOrigin;
use crate::capture::{ExchangeStart, Failure, FailureClass, Lineage};
use crate::llm::Dialect;
use crate::proxy::guard::{ExchangeGuard, Outgoing};
use crate::proxy::serve::serve_exchange;
use crate::proxy::{ProxyState, Upstream};

pub async fn intercept(state: Arc<ProxyState>, client: TokioIo<Upgraded>, host: String, port: u16) {
    let clock = Instant::now();
    let Some(mode) = state.config.forward.as_ref() else {
        return;
    };
    let authority = authority(&host, port);
    let origin = match Upstream::parse(&format!("https://{authority}")) {
        Ok(origin) => InterceptedOrigin(Arc::new(origin)),
        Err(error) => return refused(&state, &authority, clock, error.to_string()),
    };
    let config = match mode.ca.server_config(&host) {
        Ok(config) => config,
        Err(error) => return refused(&state, &authority, clock, error.to_string()),
    };
    let accept = TlsAcceptor::from(config).accept(client);
    let tls = match tokio::time::timeout(state.config.header_read_timeout, accept).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => return refused(&state, &authority, clock, handshake_reason(&error)),
        Err(_) => {
            let reason = "the agent sent no TLS handshake in time".to_string();
            return refused(&state, &authority, clock, reason);
        }
    };
    let header_read_timeout = state.config.header_read_timeout;
    let service = service_fn(move |mut request| {
        request.extensions_mut().insert(origin.clone());
        serve_exchange(state.clone(), request, None)
    });
    let _ = http1::Builder::new()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .serve_connection(TokioIo::new(tls), service)
        .await;
}

/// Why the client's side of the handshake failed, in words that say what to do.
fn handshake_reason(error: &std::io::Error) -> String {
    let tls = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls {
        Some(rustls::Error::AlertReceived(alert)) => format!(
            "the agent refused llmscope's certificate (TLS alert {alert:?}): it does not trust \
             llmscope's CA; `llmscope ca` says how to trust it"
        ),
        Some(other) => format!("TLS handshake with the agent failed: {other}"),
        None if error.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the agent closed the connection during the TLS handshake (does it trust llmscope's \
             CA? `llmscope ca` says how)"
                .to_string()
        }
        None => format!("TLS handshake with the agent failed: {error}"),
    }
}

/// Records the failed handshake as an exchange of its own: `CONNECT host:port`, class `tls`.
fn refused(state: &Arc<ProxyState>, authority: &str, clock: Instant, reason: String) {
    state.forward_stats.refused_handshake();
    let outgoing = Outgoing {
        method: http::Method::CONNECT,
        target: authority.to_string(),
        headers: HeaderMap::new(),
        body: Bytes::new(),
        own_upstream: None,
    };
    let start = ExchangeStart {
        id: state.next_exchange_id(),
        session: state.session,
        started_at_ms: chrono::Utc::now().timestamp_millis(),
        dialect: Dialect::Unknown,
        model: None,
        request: outgoing.captured(),
        lineage: Lineage::default(),
        rewrite: None,
        request_body_unrecorded: None,
    };
    let mut guard = ExchangeGuard::new(state.clone(), start, clock);
    // Nothing was sent upstream: this says nothing about a retry loop.
    guard.counts_for_loop = false;
    let message = format!("{authority}: {reason}");
    guard.finish(None, Some(Failure::new(FailureClass::Tls, message)));
}
