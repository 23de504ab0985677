//! The upstream: where requests go (the clients that take them there are in `clients.rs`).

/// A parsed `--upstream` URL: scheme, authority and an optional path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    base: reqwest::Url,
    /// For a plain-http upstream without credentials in its URL (the ones hyper-util's client
    /// takes): what a request's target is appended to.
    plain_root: Option<PlainRoot>,
}

/// A plain-http upstream's scheme and authority, parsed once, and its path prefix (empty, or
/// `/prefix` without a trailing slash).
#[derive(Debug, Clone, PartialEq, Eq)]
struct PlainRoot {
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    prefix: String,
}

impl PlainRoot {
    fn of(base: &reqwest::Url) -> Option<Self> {
        let origin: http::Uri = base.origin().ascii_serialization().parse().ok()?;
        let parts = origin.into_parts();
        Some(Self {
            scheme: parts.scheme?,
            authority: parts.authority?,
            prefix: base.path().trim_end_matches('/').to_string(),
        })
    }

    /// The URI for a verbatim target: only the target's bytes are checked and copied, the
    /// scheme and authority are the ones parsed at start-up.
    fn uri(&self, target: &str) -> Option<http::Uri> {
        let path_and_query = if self.prefix.is_empty() {
            http::uri::PathAndQuery::try_from(target)
        } else {
            http::uri::PathAndQuery::try_from(format!("{}{target}", self.prefix))
        };
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(path_and_query.ok()?);
        http::Uri::from_parts(parts).ok()
    }
}

/// Where one request goes, ready for the client that takes it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A plain-http upstream's URI, for hyper-util's client.
    Plain(http::Uri),
    /// Any other URL: reqwest takes it, unless it turns out plain too (`clients.rs`).
    Url(reqwest::Url),
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
        let plain_root = takes_plain_client(&base)
            .then(|| PlainRoot::of(&base))
            .flatten();
        Ok(Self { base, plain_root })
    }

    /// Where a request for `path_and_query` goes. For a plain-http upstream and a target that
    /// URL parsing would leave as it is (most are), that is the target appended to the
    /// upstream's root, parsed once by `http`: half the cost of building the URL first.
    pub fn destination(&self, path_and_query: &str) -> Destination {
        if let Some(root) = &self.plain_root {
            if is_verbatim_target(path_and_query) {
                if let Some(uri) = root.uri(path_and_query) {
                    return Destination::Plain(uri);
                }
            }
        }
        Destination::Url(self.request_url(path_and_query))
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

/// A plain-http URL without credentials in it: reqwest turns a URL's user and password into
/// a Basic `Authorization` header, which hyper-util's client does not, so those stay on reqwest.
pub(super) fn takes_plain_client(url: &reqwest::Url) -> bool {
    url.scheme() == "http" && url.username().is_empty() && url.password().is_none()
}

/// The bytes URL parsing never percent-encodes in a path or an http query, as a table: a
/// request target is checked byte by byte on every exchange.
const VERBATIM: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let marks = b"-._~!$&()*+,;=:@/?%";
    let mut i = 0;
    while i < marks.len() {
        table[marks[i] as usize] = true;
        i += 1;
    }
    table
};

/// Whether URL parsing keeps `target` byte for byte: it begins with `/`, holds only bytes
/// that are never percent-encoded in a path or an http query, and no dot segment that would be
/// resolved away (`/./`, `/../`, their `%2e` spellings).
fn is_verbatim_target(target: &str) -> bool {
    let bytes = target.as_bytes();
    bytes.first() == Some(&b'/')
        && bytes.iter().all(|&b| VERBATIM[usize::from(b)])
        && !memchr::memchr_iter(b'.', bytes).any(|at| at > 0 && bytes[at - 1] == b'/')
        && !bytes
            .windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'2' && w[2].eq_ignore_ascii_case(&b'e'))
}

impl std::fmt::Display for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.base.as_str().trim_end_matches('/'))
    }
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

    /// The URL reqwest gets is the agent's target spelled out under the upstream; the plain
    /// client's URI is exactly that URL, and a target URL parsing would change (dot segments,
    /// characters it encodes) takes the URL instead.
    #[test]
    fn the_client_gets_the_same_url_as_the_agent_target_spelled_out() {
        for base in [
            "https://gw.example/litellm/",
            "http://127.0.0.1:4000",
            "http://h:1/p",
            "http://h:1/p/",
        ] {
            let up = Upstream::parse(base).expect("valid");
            for target in [
                "/v1/chat/completions",
                "/v1/messages?beta=true",
                "/v1beta/models/g:streamGenerateContent?alt=sse&key=K%2B1",
                "/p%2Fq/./r?a=1&b=%20&c",
                "/a/%2e%2E/b",
                "/x?",
                "/",
                "v1/no-slash",
                "/q?it's",
                "/provider/openai/v1/chat/completions",
            ] {
                let url = up.request_url(target);
                let spelled: reqwest::Url = up.url_for(target).parse().expect("parses");
                assert_eq!(url, spelled, "{base} + {target}");
                match up.destination(target) {
                    Destination::Plain(uri) => {
                        assert!(base.starts_with("http:"), "{base}");
                        assert_eq!(uri.to_string(), url.as_str(), "{base} + {target}");
                    }
                    Destination::Url(same) => assert_eq!(same, url, "{base} + {target}"),
                }
            }
        }
    }

    #[test]
    fn only_targets_kept_byte_for_byte_skip_the_url() {
        let plain = Upstream::parse("http://127.0.0.1:4000/p").expect("valid");
        let fast = |target| matches!(plain.destination(target), Destination::Plain(_));
        assert!(fast("/v1/chat/completions?x=1"));
        assert!(!fast("/a/../b"), "a dot segment is resolved by the URL");
        assert!(!fast("/a/%2e%2e/b"));
        assert!(!fast("v1/no-slash"));
        let with_user = Upstream::parse("http://u:p@127.0.0.1:4000").expect("valid");
        assert!(matches!(with_user.destination("/v1"), Destination::Url(_)));
    }

    #[test]
    fn bad_upstream_urls_are_refused_with_a_reason() {
        let err = Upstream::parse("ftp://x").expect_err("refused");
        assert!(err.to_string().contains("must start with http"));
        assert!(Upstream::parse("not a url").is_err());
        assert!(Upstream::parse("http://x/?q=1").is_err());
    }
}
