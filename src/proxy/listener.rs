//! The agent-facing listener: HTTP/1.1 with keep-alive, one task per connection, on the
//! serving thread whose turn it is (`serving_threads.rs`); an exchange runs in its
//! connection's task, a streamed reply's body included (`relay_body.rs`), and gets a task of
//! its own only when the agent leaves before its reply head.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use super::agent_upstream::AgentUpstream;
use super::clients::UpstreamClients;
use super::forward_mode;
use super::retry_loop::RetryLoops;
use super::serve::serve_exchange;
use super::serving_threads::ServingThreads;
use super::{ActiveExchanges, ProxyConfig, ProxyControl, ProxyError, ProxyState};
use crate::capture::{CaptureBus, SessionId};

/// A bound proxy, ready to serve.
pub struct Proxy {
    listener: TcpListener,
    state: Arc<ProxyState>,
}

impl Proxy {
    /// Binds the listen address and builds the upstream client. Binding first means a taken
    /// port is reported before anything else starts.
    pub async fn bind(
        config: ProxyConfig,
        bus: CaptureBus,
        session: SessionId,
    ) -> Result<Self, ProxyError> {
        let listener = bind_listener(config.listen).await?;
        Self::with_listener(listener, config, bus, session)
    }

    /// Serves on a listener bound by the caller (who may need the real port first).
    pub fn with_listener(
        listener: TcpListener,
        config: ProxyConfig,
        bus: CaptureBus,
        session: SessionId,
    ) -> Result<Self, ProxyError> {
        let clients = UpstreamClients::build(
            config.serving_threads,
            config.connect_timeout,
            config.idle_timeout,
            config.upstream_ca.as_ref(),
        )?;
        let state = Arc::new(ProxyState {
            hold: AtomicBool::new(config.hold_errors),
            auto_fix: AtomicBool::new(config.auto_fix),
            intercept: RwLock::new(config.intercept.clone()),
            intercepts: Default::default(),
            retry_loops: RetryLoops::new(config.retry_stop),
            config,
            clients,
            bus,
            session,
            next_id: AtomicU64::new(0),
            active: ActiveExchanges::default(),
            holds: Default::default(),
            held_copies: Default::default(),
            agent_calls: Default::default(),
            secrets: Default::default(),
            rules: Default::default(),
            resend_parents: Default::default(),
            origins: Default::default(),
            forward_stats: Default::default(),
        });
        Ok(Self { listener, state })
    }

    /// A handle for the screen: hold mode, resend, settling held exchanges.
    pub fn control(&self) -> ProxyControl {
        ProxyControl {
            state: self.state.clone(),
        }
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.state.config.listen)
    }

    /// Serves until `shutdown` resolves, then waits up to the grace period for exchanges in
    /// flight so their outcomes reach the record.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ProxyError> {
        tokio::pin!(shutdown);
        let mut threads = ServingThreads::start(self.state.config.serving_threads)
            .map_err(ProxyError::Threads)?;
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                () = &mut shutdown => break,
            };
            match accepted {
                Ok((stream, _peer)) => {
                    // Small LLM requests and SSE chunks must not wait for Nagle.
                    let _ = stream.set_nodelay(true);
                    let state = self.state.clone();
                    threads.serve(stream, |stream| serve_connection(state, stream));
                }
                // Running out of file descriptors must not end the proxy; back off instead.
                Err(error) if is_transient_accept_error(&error) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => return Err(ProxyError::Accept(error)),
            }
        }
        let Self { listener, state } = self;
        drop(listener);
        state.intercepts.release_all_for_shutdown();
        wait_for_active_exchanges(&state).await;
        drop(threads);
        Ok(())
    }
}

async fn wait_for_active_exchanges(state: &ProxyState) {
    let deadline = Instant::now() + state.config.shutdown_grace;
    while state.active.count() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Binds the agent-facing address with an error that says what to do about a taken port.
pub async fn bind_listener(addr: SocketAddr) -> Result<TcpListener, ProxyError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ProxyError::Bind { addr, source })
}

fn is_transient_accept_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    ) || matches!(error.raw_os_error(), Some(23 | 24)) // ENFILE, EMFILE
}

async fn serve_connection(state: Arc<ProxyState>, stream: tokio::net::TcpStream) {
    if state.config.forward.is_some() {
        forward_mode::serve_connection(state, stream).await;
        return;
    }
    // Malformed requests are answered 400 by hyper and the connection closed; nothing to add.
    // A client that trickles its request head (or sends nothing) is cut off instead of
    // holding a connection forever. hyper also counts the idle time between requests on a
    // kept-alive connection against this timeout, so it doubles as the idle timeout.
    let header_read_timeout = state.config.header_read_timeout;
    let own_upstream = AgentUpstream::new();
    let service = service_fn(move |request| {
        serve_exchange(state.clone(), request, Some(own_upstream.clone()))
    });
    let _ = http1::Builder::new()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
