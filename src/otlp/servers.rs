//! Where each exchange went, for `server.address` and `server.port`: the proxy's routing
//! (`--provider`, `--upstream-for`, `--upstream`) read from its configuration.

use crate::capture::ExchangeRecord;
use crate::llm::Dialect;
use crate::proxy::{ProxyConfig, Upstream};

/// Which host each exchange went to, as the proxy routes them (`--provider`, `--upstream-for`,
/// `--upstream`), for `server.address` and `server.port`.
#[derive(Debug, Clone)]
pub struct UpstreamMap {
    default: Server,
    by_dialect: Vec<(Dialect, Server)>,
    providers: Vec<(String, Server)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Server {
    pub(super) host: String,
    pub(super) port: Option<u16>,
}

impl Server {
    fn of(upstream: &Upstream) -> Self {
        let url = reqwest::Url::parse(upstream.as_str()).ok();
        Self {
            host: url
                .as_ref()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default(),
            port: url.as_ref().and_then(reqwest::Url::port_or_known_default),
        }
    }
}

impl UpstreamMap {
    pub fn from_config(config: &ProxyConfig) -> Self {
        Self {
            default: Server::of(&config.upstream),
            by_dialect: config
                .upstream_for
                .iter()
                .map(|(d, u)| (*d, Server::of(u)))
                .collect(),
            providers: config
                .providers
                .iter()
                .map(|p| (p.name.clone(), Server::of(&p.upstream)))
                .collect(),
        }
    }

    /// The same order of choice as the proxy's: the provider a target names, the upstream of
    /// its API, the upstream.
    pub(super) fn server_for(&self, record: &ExchangeRecord) -> &Server {
        let start = &record.start;
        let provider = start.request.provider().and_then(|name| {
            self.providers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, s)| s)
        });
        provider
            .or_else(|| {
                self.by_dialect
                    .iter()
                    .find(|(d, _)| *d == start.dialect)
                    .map(|(_, s)| s)
            })
            .unwrap_or(&self.default)
    }
}
