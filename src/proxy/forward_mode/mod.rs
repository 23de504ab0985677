//! Forward mode: llmscope as the agent's `HTTPS_PROXY`, for agents that have no base-URL
//! setting (or are signed in with a subscription). `CONNECT` to an intercepted host (the LLM
//! APIs) is answered by llmscope itself: TLS with a certificate from llmscope's CA, then each
//! decrypted request goes through the same exchange path as in reverse mode, its upstream
//! being that host. Every other host is tunnelled byte for byte and never recorded.
//!
//! Never records a tunnelled connection, and never lets a client that refuses the CA pass
//! unnoticed: its handshake failure is an exchange of class `tls` naming the reason.

mod address;
mod connect;
mod origins;
mod plain;
mod tls;
mod tunnel;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub use connect::serve_connection;
pub use origins::{record_host, InterceptedOrigin, Origins};

use super::upstream::Destination;
use super::{ProxyState, Upstream};
use crate::ca::CertAuthority;
use crate::capture::ExchangeId;
use crate::llm::Dialect;

/// The LLM hosts intercepted unless told otherwise: the public OpenAI, Anthropic and Google
/// endpoints, ChatGPT's (Codex signed in with ChatGPT) and Code Assist's (Gemini CLI signed
/// in with Google).
pub const DEFAULT_INTERCEPT_HOSTS: [&str; 5] = [
    "api.openai.com",
    "api.anthropic.com",
    "generativelanguage.googleapis.com",
    "chatgpt.com",
    "cloudcode-pa.googleapis.com",
];

/// How the listener works in forward mode.
#[derive(Debug, Clone)]
pub struct ForwardMode {
    pub ca: Arc<CertAuthority>,
    /// Hosts whose traffic is decrypted and recorded, lower case.
    intercept_hosts: Vec<String>,
    /// Whether a request sent to llmscope itself (not through it as a proxy) goes to
    /// `--upstream`, as in reverse mode; without `--upstream` it is refused with a reason.
    pub serve_origin_form: bool,
}

impl ForwardMode {
    /// The default hosts plus `extra`.
    pub fn new(ca: Arc<CertAuthority>, extra: &[String], serve_origin_form: bool) -> Self {
        let mut intercept_hosts: Vec<String> = DEFAULT_INTERCEPT_HOSTS
            .iter()
            .map(|h| h.to_string())
            .collect();
        for host in extra {
            let host = normal_host(host);
            if !intercept_hosts.contains(&host) {
                intercept_hosts.push(host);
            }
        }
        Self {
            ca,
            intercept_hosts,
            serve_origin_form,
        }
    }

    pub fn intercepts(&self, host: &str) -> bool {
        let host = normal_host(host);
        self.intercept_hosts.contains(&host)
    }

    pub fn intercept_hosts(&self) -> &[String] {
        &self.intercept_hosts
    }
}

fn normal_host(host: &str) -> String {
    host.trim()
        .trim_end_matches('.')
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// What forward mode did beside exchanges, for `record`'s summary and the screen.
#[derive(Debug, Default)]
pub struct ForwardStats {
    tunnelled: AtomicU64,
    refused_handshakes: AtomicU64,
}

/// A snapshot of [`ForwardStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForwardCounts {
    /// Connections to hosts that are not intercepted, passed on unrecorded.
    pub tunnelled: u64,
    /// Clients that refused llmscope's certificate (each also recorded as a `tls` exchange).
    pub refused_handshakes: u64,
}

impl ForwardStats {
    fn tunnelled(&self) {
        self.tunnelled.fetch_add(1, Ordering::Relaxed);
    }

    fn refused_handshake(&self) {
        self.refused_handshakes.fetch_add(1, Ordering::Relaxed);
    }

    pub fn counts(&self) -> ForwardCounts {
        ForwardCounts {
            tunnelled: self.tunnelled.load(Ordering::Relaxed),
            refused_handshakes: self.refused_handshakes.load(Ordering::Relaxed),
        }
    }
}

/// A session's upstream label read back: the upstream its requests went to unless their API
/// had one of its own, and how many other upstreams some APIs went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpstreamLabel<'a> {
    /// The plain upstream's URL; `None` for forward mode alone, where each request went to
    /// the host it named.
    pub main: Option<&'a str>,
    /// How many other upstreams some APIs' requests went to (`+N by API`).
    pub elsewhere: usize,
}

impl<'a> UpstreamLabel<'a> {
    /// Reads what [`ProxyConfig::upstream_label`](crate::proxy::ProxyConfig::upstream_label)
    /// wrote. A label it did not write (a hand-edited or older file) is taken as a URL.
    pub fn parse(label: &'a str) -> Self {
        if label == "forward proxy" {
            return Self {
                main: None,
                elsewhere: 0,
            };
        }
        if let Some(main) = label
            .strip_prefix("forward proxy (and ")
            .and_then(|rest| rest.strip_suffix(')'))
        {
            return Self {
                main: Some(main),
                elsewhere: 0,
            };
        }
        let others = label.rsplit_once(" +").and_then(|(main, tail)| {
            let n = tail.strip_suffix(" by API")?.parse().ok()?;
            Some((main, n))
        });
        match others {
            Some((main, elsewhere)) => Self {
                main: Some(main),
                elsewhere,
            },
            None => Self {
                main: Some(label),
                elsewhere: 0,
            },
        }
    }
}

impl crate::proxy::ProxyConfig {
    /// Where requests go, as the session and the screen name it; [`UpstreamLabel`] reads it.
    pub fn upstream_label(&self) -> String {
        match &self.forward {
            None => {
                // `--upstream-for` (and the public endpoints without `--upstream`) send some
                // APIs elsewhere; the label says so without listing every URL.
                let main = self.upstream.to_string();
                let mut others: Vec<String> = self
                    .upstream_for
                    .iter()
                    .map(|(_, upstream)| upstream.to_string())
                    .filter(|url| *url != main)
                    .collect();
                others.sort();
                others.dedup();
                match others.len() {
                    0 => main,
                    n => format!("{main} +{n} by API"),
                }
            }
            Some(mode) if mode.serve_origin_form => {
                format!("forward proxy (and {})", self.upstream)
            }
            Some(_) => "forward proxy".to_string(),
        }
    }
}

impl crate::proxy::ProxyControl {
    /// Forward mode's counts so far; `None` in reverse mode, which has none to count.
    pub fn forward_counts(&self) -> Option<ForwardCounts> {
        self.state
            .config
            .forward
            .is_some()
            .then(|| self.state.forward_stats.counts())
    }
}

impl ProxyState {
    /// Where exchange `id`'s request goes: the intercepted host it (or the exchange it was
    /// resent from) was sent to, else where reverse mode sends it.
    pub(super) fn url_for_exchange(
        &self,
        id: ExchangeId,
        target: &str,
        dialect: Dialect,
    ) -> reqwest::Url {
        match self.intercepted_origin(id) {
            Some(origin) => origin.request_url(target),
            None => {
                let (upstream, target) = self.upstream_for(target, dialect);
                upstream.request_url(target)
            }
        }
    }

    /// [`Self::url_for_exchange`] for the client that forwards the exchange.
    pub(super) fn destination_for_exchange(
        &self,
        id: ExchangeId,
        target: &str,
        dialect: Dialect,
    ) -> Destination {
        match self.intercepted_origin(id) {
            Some(origin) => origin.destination(target),
            None => {
                let (upstream, target) = self.upstream_for(target, dialect);
                upstream.destination(target)
            }
        }
    }

    /// The intercepted host exchange `id` (or the exchange it was resent from) was sent to.
    /// Only forward mode intercepts hosts.
    pub(super) fn intercepted_origin(&self, id: ExchangeId) -> Option<Arc<Upstream>> {
        self.config.forward.as_ref()?;
        self.resend_parents
            .ancestry(id)
            .find_map(|ancestor| self.origins.of(ancestor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_upstream_label_reads_back_as_its_main_upstream() {
        let read = |label| {
            let read = UpstreamLabel::parse(label);
            (read.main, read.elsewhere)
        };
        assert_eq!(
            read("http://127.0.0.1:4000"),
            (Some("http://127.0.0.1:4000"), 0)
        );
        assert_eq!(read("https://gw +1 by API"), (Some("https://gw"), 1));
        assert_eq!(read("forward proxy"), (None, 0));
        assert_eq!(
            read("forward proxy (and http://127.0.0.1:4000)"),
            (Some("http://127.0.0.1:4000"), 0)
        );
        assert_eq!(read("http://a/+x by API"), (Some("http://a/+x by API"), 0));
    }

    #[test]
    fn hosts_match_in_any_case_and_the_defaults_stay() {
        let data = tempfile::tempdir().expect("temp dir");
        let (ca, _) = CertAuthority::load_or_create(data.path()).expect("CA");
        let mode = ForwardMode::new(Arc::new(ca), &["LocalHost.".into()], false);
        assert!(mode.intercepts("localhost"));
        assert!(mode.intercepts("API.Anthropic.com"));
        assert!(mode.intercepts("chatgpt.com"));
        assert!(!mode.intercepts("github.com"));
        assert!(!mode.intercepts("anthropic.com"));
    }
}
