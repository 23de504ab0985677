//! The recording reverse proxy: accepts the agent's HTTP, forwards it to the upstream, relays
//! the reply back as it arrives and publishes every step on the capture bus.
//!
//! It must never wait on the store or the UI, never crash on bad input from either side, and
//! never leave an agent with a bare socket close when llmscope can say what went wrong.

mod agent_upstream;
mod auto_fix;
mod body;
mod capture_copy;
mod clients;
mod control;
mod detach;
mod error_reply;
mod exchange;
mod forward;
mod forward_mode;
mod guard;
mod headers;
mod held_copies;
mod hold;
mod intercept;
mod lineage;
mod listener;
mod models;
mod providers;
mod relay;
mod relay_body;
mod reply;
mod retry_loop;
mod rules;
mod secrets;
mod serve;
mod serving_threads;
mod tls_reason;
mod transport_error;
mod upstream;
mod upstream_ca;
mod wait_queue;

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

pub use clients::install_crypto_provider;
pub use control::{ProxyControl, ResendError, ResendRequest};
pub use error_reply::LLMSCOPE_ERROR_HEADER;
pub use forward_mode::{ForwardCounts, ForwardMode, UpstreamLabel, DEFAULT_INTERCEPT_HOSTS};
pub use intercept::InterceptPattern;
pub use listener::{bind_listener, Proxy};
pub use providers::{Provider, ProviderSpecError};
pub use retry_loop::RetryStop;
pub use upstream::{Upstream, UpstreamUrlError};
pub use upstream_ca::{UpstreamCa, UpstreamCaError};
pub use wait_queue::HeldSummary;

use crate::capture::{CaptureBus, ExchangeId, SessionId};
use crate::llm::Dialect;

/// Everything the proxy needs to know; the CLI fills it from flags.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    pub listen: SocketAddr,
    pub upstream: Upstream,
    /// Time allowed to open a connection to the upstream.
    pub connect_timeout: Duration,
    /// Longest silence allowed from the upstream, before its head and between body chunks.
    pub idle_timeout: Duration,
    /// Time a client has to send a request head, which is also how long a kept-alive
    /// connection may sit idle between requests.
    pub header_read_timeout: Duration,
    /// Larger request bodies are refused with 413.
    pub max_request_bytes: usize,
    /// Reply bodies are recorded up to this size (the agent always gets all of it).
    pub max_capture_bytes: usize,
    /// How long shutdown waits for exchanges in flight.
    pub shutdown_grace: Duration,
    /// Start with hold-on-error on.
    pub hold_errors: bool,
    /// How long a failed reply is held before the original is sent on, and an intercepted
    /// request before it is sent unchanged.
    pub hold_timeout: Duration,
    /// Start intercepting agent requests that match, before they are forwarded.
    pub intercept: Option<InterceptPattern>,
    /// Turn replies an agent cannot act on into errors in its dialect: a 200 whose body is
    /// an error object, a whole reply that breaks after its head. Off: the upstream's bytes
    /// exactly, as far as they came.
    pub readable_replies: bool,
    /// When a request that keeps failing the same way is answered by llmscope instead.
    pub retry_stop: RetryStop,
    /// Start with auto-fix on: a failure whose best quick fix loses nothing is fixed and
    /// resent at once, and the agent gets the good reply.
    pub auto_fix: bool,
    /// The providers behind a gateway, reached at `/provider/NAME/…` (see `providers.rs`).
    pub providers: Vec<Provider>,
    /// Upstreams for one API each, in place of `upstream` for requests in that dialect: one
    /// llmscope for an agent that talks to two providers.
    pub upstream_for: Vec<(Dialect, Upstream)>,
    /// A private CA every upstream call trusts besides the usual roots (`--upstream-ca`).
    pub upstream_ca: Option<UpstreamCa>,
    /// Forward mode (`--mode forward`): llmscope as the agent's HTTPS proxy, decrypting the
    /// intercepted LLM hosts; `None` is reverse mode.
    pub forward: Option<ForwardMode>,
    /// Threads that serve agent connections, each connection on one of them
    /// (`serving_threads.rs`).
    pub serving_threads: NonZeroUsize,
}

impl ProxyConfig {
    pub fn new(listen: SocketAddr, upstream: Upstream) -> Self {
        Self {
            listen,
            upstream,
            connect_timeout: Duration::from_secs(10),
            // The SDKs agents use give a request 600 s (TRAFFIC.md); never cut sooner.
            idle_timeout: Duration::from_secs(600),
            // nginx's keep-alive default, which HTTP clients' pools are used to.
            header_read_timeout: Duration::from_secs(75),
            max_request_bytes: 64 * 1024 * 1024,
            max_capture_bytes: 64 * 1024 * 1024,
            shutdown_grace: Duration::from_secs(3),
            hold_errors: false,
            // Well inside every agent's own request timeout (400-600 s, TRAFFIC.md).
            hold_timeout: Duration::from_secs(120),
            intercept: None,
            readable_replies: true,
            retry_stop: RetryStop::default(),
            auto_fix: false,
            providers: Vec::new(),
            upstream_for: Vec::new(),
            upstream_ca: None,
            forward: None,
            serving_threads: serving_threads::default_count(),
        }
    }
}

/// Why the proxy could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("cannot listen on {addr}: {source} (is another llmscope or program using that port? choose another with --listen)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot build the upstream HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("accepting connections failed: {0}")]
    Accept(std::io::Error),
    #[error("cannot start the threads that serve connections: {0}")]
    Threads(std::io::Error),
}

/// Shared by every connection and exchange task.
struct ProxyState {
    config: ProxyConfig,
    clients: clients::UpstreamClients,
    bus: CaptureBus,
    session: SessionId,
    next_id: AtomicU64,
    active: ActiveExchanges,
    hold: AtomicBool,
    auto_fix: AtomicBool,
    holds: hold::HoldQueue,
    held_copies: held_copies::HeldCopies,
    intercept: RwLock<Option<InterceptPattern>>,
    intercepts: intercept::InterceptQueue,
    secrets: secrets::RecentSecrets,
    rules: rules::RuleSet,
    retry_loops: retry_loop::RetryLoops,
    agent_calls: providers::AgentCalls,
    resend_parents: lineage::ResendParents,
    /// The intercepted host of each recent forward-mode exchange.
    origins: forward_mode::Origins,
    forward_stats: forward_mode::ForwardStats,
}

impl ProxyState {
    fn hold_enabled(&self) -> bool {
        self.hold.load(Ordering::Relaxed)
    }

    fn intercept_pattern(&self) -> Option<InterceptPattern> {
        self.intercept
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether an agent request is paused for the user before it is forwarded.
    fn intercepts_request(&self, start: &crate::capture::ExchangeStart) -> bool {
        let pattern = self
            .intercept
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        pattern.as_ref().is_some_and(|p| {
            p.matches(
                &start.request.method,
                &start.request.uri,
                start.model.as_deref(),
            )
        })
    }

    fn next_exchange_id(&self) -> ExchangeId {
        ExchangeId(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

/// Counts exchanges in flight so shutdown can wait for them.
#[derive(Default)]
struct ActiveExchanges(AtomicUsize);

impl ActiveExchanges {
    fn enter(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn leave(&self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}
