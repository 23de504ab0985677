//! The upstream: where requests go, the HTTP client that takes them there, and how its
//! transport errors map to failure classes.

use std::error::Error as StdError;
use std::time::Duration;

use super::tls_reason::tls_failure_message;
use super::upstream_ca::UpstreamCa;
use crate::capture::{Failure, FailureClass};

/// A parsed `--upstream` URL: scheme, authority and an optional path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    base: reqwest::Url,
}

/// Why an `--upstream` value was refused.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamUrlError {
    #[error("upstream URL {url:?} is not a valid URL: {source}")]
    Invalid {
        url: String,
        source: url_parse::ParseError,
    },
    #[error("upstream URL {0:?} must start with http:// or https://")]
    Scheme(String),
    #[error("upstream URL {0:?} must not have a query string or fragment")]
    Extra(String),
}

// reqwest re-exports the `url` crate's types; the alias keeps the error readable.
mod url_parse {
    pub use reqwest::Url;
    pub type ParseError = <Url as std::str::FromStr>::Err;
}

impl Upstream {
    pub fn parse(url: &str) -> Result<Self, UpstreamUrlError> {
        let base: reqwest::Url = url.parse().map_err(|source| UpstreamUrlError::Invalid {
            url: url.to_string(),
            source,
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(UpstreamUrlError::Scheme(url.to_string()));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(UpstreamUrlError::Extra(url.to_string()));
        }
        Ok(Self { base })
    }

    /// The URL for an agent's request target: the upstream's path prefix, then the agent's
    /// path and query exactly as sent.
    pub fn url_for(&self, path_and_query: &str) -> String {
        let origin = self.base.origin().ascii_serialization();
        let prefix = self.base.path().trim_end_matches('/');
        let target = if path_and_query.starts_with('/') {
            path_and_query.to_string()
        } else {
            format!("/{path_and_query}")
        };
        format!("{origin}{prefix}{target}")
    }

    /// [`Upstream::url_for`] as a parsed URL, for the client. Built from the upstream's URL
    /// parsed once, so a request pays for parsing its path and query only, not the whole URL
    /// (scheme, host and port) again.
    pub fn request_url(&self, path_and_query: &str) -> reqwest::Url {
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path_and_query, None),
        };
        let prefix = self.base.path().trim_end_matches('/');
        let slash = if path.starts_with('/') { "" } else { "/" };
        let mut url = self.base.clone();
        url.set_path(&format!("{prefix}{slash}{path}"));
        url.set_query(query);
        url
    }

    pub fn as_str(&self) -> &str {
        self.base.as_str()
    }

    /// `host`, or `host:port` when the port is not the scheme's default: as a `Host` header
    /// names it.
    pub fn authority(&self) -> String {
        let host = self.base.host_str().unwrap_or_default();
        match self.base.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    }
}

impl std::fmt::Display for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.base.as_str().trim_end_matches('/'))
    }
}

/// Builds the upstream client: no redirects followed (the agent sees them), no decompression
/// (bodies pass through as sent), no environment proxy (the upstream is reached directly).
/// `extra_ca` is trusted besides the platform's roots. Every upstream call (agents' requests,
/// resends, model lists) goes through this one client.
pub fn build_client(
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
        .pool_idle_timeout(Duration::from_secs(90))
        .build()
}

/// rustls needs one process-wide crypto provider; ring keeps the build free of C++/CMake.
pub fn install_crypto_provider() {
    // Err only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Maps a client error to a failure class with a message that names the real cause.
/// `before_head` says whether the reply's head had arrived.
pub fn classify_transport_error(
    error: &reqwest::Error,
    before_head: bool,
    idle_timeout: Duration,
) -> Failure {
    let detail = error_chain(error);
    let class = if error.is_timeout() || has_io_kind(error, std::io::ErrorKind::TimedOut) {
        FailureClass::Timeout
    } else if is_tls_error(error) {
        FailureClass::Tls
    } else if error.is_connect() {
        FailureClass::Connect
    } else if hyper_error(error).is_some_and(|e| e.is_parse()) || is_invalid_data(error) {
        FailureClass::MalformedResponse
    } else {
        FailureClass::Reset
    };
    let message = match class {
        FailureClass::Timeout if before_head => format!(
            "upstream did not answer within {}s: {detail}",
            idle_timeout.as_secs()
        ),
        FailureClass::Timeout => format!(
            "upstream went silent for {}s in the middle of its reply: {detail}",
            idle_timeout.as_secs()
        ),
        FailureClass::Tls => {
            let host = error.url().and_then(|url| url.host_str());
            tls_failure_message(host, tls_error(error), &detail)
        }
        FailureClass::Connect => format!("could not connect to the upstream: {detail}"),
        FailureClass::MalformedResponse => {
            format!("upstream sent a malformed HTTP response: {detail}")
        }
        _ if before_head => {
            format!("upstream closed the connection before replying: {detail}")
        }
        _ => format!("upstream connection broke in the middle of its reply: {detail}"),
    };
    Failure::new(class, message)
}

/// The error and its causes joined, without reqwest's URL noise repeated at every level.
fn error_chain(error: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn StdError + 'static)> = error.source();
    while let Some(err) = current {
        let text = err.to_string();
        // hyper-util's wrapper ("client error (SendRequest)") names its own step, not a cause.
        let wrapper = text.starts_with("client error (");
        if !wrapper && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = err.source();
    }
    if parts.is_empty() {
        parts.push(error.to_string());
    }
    parts.join(": ")
}

/// Every error under `error`. `io::Error` hides the error it wraps from `source()`, and
/// hyper-util wraps io errors in io errors, so wrapped errors are unpacked explicitly.
fn causes(error: &reqwest::Error) -> Vec<&(dyn StdError + 'static)> {
    let mut found = Vec::new();
    let mut pending: Vec<&(dyn StdError + 'static)> = error.source().into_iter().collect();
    while let Some(err) = pending.pop() {
        found.push(err);
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            pending.push(inner);
        }
        pending.extend(err.source());
    }
    found
}

fn hyper_error(error: &reqwest::Error) -> Option<&hyper::Error> {
    causes(error)
        .into_iter()
        .find_map(|e| e.downcast_ref::<hyper::Error>())
}

fn io_errors(error: &reqwest::Error) -> impl Iterator<Item = &std::io::Error> {
    causes(error)
        .into_iter()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
}

fn has_io_kind(error: &reqwest::Error, kind: std::io::ErrorKind) -> bool {
    io_errors(error).any(|e| e.kind() == kind)
}

/// Bytes that break HTTP framing. hyper reports a bad head as a parse error, but a bad
/// chunked body (a chunk-size line that is not hex, a missing CRLF) as an `InvalidInput` io
/// error under a body error, so both kinds count.
fn is_invalid_data(error: &reqwest::Error) -> bool {
    let bad_bytes = has_io_kind(error, std::io::ErrorKind::InvalidData)
        || has_io_kind(error, std::io::ErrorKind::InvalidInput);
    bad_bytes && !is_tls_error(error)
}

fn is_tls_error(error: &reqwest::Error) -> bool {
    tls_error(error).is_some()
}

fn tls_error(error: &reqwest::Error) -> Option<&rustls::Error> {
    causes(error)
        .into_iter()
        .find_map(|e| e.downcast_ref::<rustls::Error>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_prefix_and_query_are_kept() {
        let up = Upstream::parse("https://gw.example/litellm/").expect("valid");
        assert_eq!(
            up.url_for("/v1/chat/completions?x=1"),
            "https://gw.example/litellm/v1/chat/completions?x=1"
        );
        let bare = Upstream::parse("http://127.0.0.1:4000").expect("valid");
        assert_eq!(
            bare.url_for("/v1/messages?beta=true"),
            "http://127.0.0.1:4000/v1/messages?beta=true"
        );
    }

    #[test]
    fn the_client_gets_the_same_url_as_the_agent_target_spelled_out() {
        for base in [
            "https://gw.example/litellm/",
            "http://127.0.0.1:4000",
            "http://h:1/p",
        ] {
            let up = Upstream::parse(base).expect("valid");
            for target in [
                "/v1/chat/completions",
                "/v1/messages?beta=true",
                "/v1beta/models/g:streamGenerateContent?alt=sse&key=K%2B1",
                "/p%2Fq/./r?a=1&b=%20&c",
                "/x?",
                "/",
                "v1/no-slash",
                "/provider/openai/v1/chat/completions",
            ] {
                let spelled: reqwest::Url = up.url_for(target).parse().expect("parses");
                assert_eq!(up.request_url(target), spelled, "{base} + {target}");
            }
        }
    }

    #[test]
    fn bad_upstream_urls_are_refused_with_a_reason() {
        let err = Upstream::parse("ftp://x").expect_err("refused");
        assert!(err.to_string().contains("must start with http"));
        assert!(Upstream::parse("not a url").is_err());
        assert!(Upstream::parse("http://x/?q=1").is_err());
    }
}
