//! Where an exported request goes: the upstream's URL for the agent's request target, split so
//! that each exporter can show its query parameters and mask the ones that carry a key.
//!
//! Capture already redacts key-like query values (`?key=` for Gemini, `sig=` for Azure SAS
//! URLs); the exporters mask them again, so a database written before that, or by hand, does
//! not leak through an export either.

use crate::capture::{form_decode, is_secret_param, CapturedRequest};
use crate::proxy::{Upstream, UpstreamLabel};

/// A request target resolved against the upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    /// Scheme, authority, the upstream's path prefix and the agent's path, without the query.
    pub base: String,
    /// The query parameters in the order sent.
    pub params: Vec<QueryParam>,
}

/// One `name=value` piece of a query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct QueryParam {
    /// The piece exactly as sent (still percent-encoded).
    pub raw_name: String,
    /// `None` for a bare `name` without `=`.
    pub raw_value: Option<String>,
    /// Percent- and `+`-decoded, as dev tools show them.
    pub name: String,
    pub value: String,
    /// Whether the value looks like a credential and must not be exported.
    pub secret: bool,
}

impl Target {
    /// Where `request` went: to the host forward mode kept for it (`https://`, as forward
    /// mode intercepts TLS), else to the upstream the session's `label` names, as reverse
    /// mode sends it.
    pub fn of(label: &str, request: &CapturedRequest) -> Self {
        let kept_host = request
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("host"))
            .map(|(_, host)| format!("https://{host}"));
        let main = UpstreamLabel::parse(label).main.unwrap_or(label);
        Self::resolve(kept_host.as_deref().unwrap_or(main), &request.uri)
    }

    /// Whether the URL [`Target::of`] gives `request` may not be where it went: its session
    /// sent some APIs' requests to other upstreams, which the record does not name.
    pub fn may_have_gone_elsewhere(label: &str, request: &CapturedRequest) -> bool {
        let forward = request
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("host"));
        !forward && UpstreamLabel::parse(label).elsewhere > 0
    }

    /// Resolves `uri` (path and query as the agent sent them) the way the proxy forwarded it:
    /// the upstream's path prefix is kept.
    pub fn resolve(upstream: &str, uri: &str) -> Self {
        let url = match Upstream::parse(upstream) {
            Ok(upstream) => upstream.url_for(uri),
            // Sessions store an upstream the proxy already accepted; this is for hand-edited
            // or foreign databases, where joining the strings is the best guess.
            Err(_) => format!(
                "{}/{}",
                upstream.trim_end_matches('/'),
                uri.trim_start_matches('/')
            ),
        };
        let (base, query) = match url.split_once('?') {
            Some((base, query)) => (base.to_string(), query),
            None => (url.clone(), ""),
        };
        let params = query
            .split('&')
            .filter(|piece| !piece.is_empty())
            .map(QueryParam::parse)
            .collect();
        Self { base, params }
    }

    /// The URL with each secret value replaced by `mask(param)`; other pieces stay as sent.
    pub fn url_with(&self, mut mask: impl FnMut(&QueryParam) -> String) -> String {
        if self.params.is_empty() {
            return self.base.clone();
        }
        let pieces: Vec<String> = self
            .params
            .iter()
            .map(|p| match (&p.raw_value, p.secret) {
                (_, true) => format!("{}={}", p.raw_name, mask(p)),
                (Some(value), false) => format!("{}={value}", p.raw_name),
                (None, false) => p.raw_name.clone(),
            })
            .collect();
        format!("{}?{}", self.base, pieces.join("&"))
    }

    /// `host[:port]` of the URL: the `Host` the proxy sent upstream.
    pub fn authority(&self) -> &str {
        let rest = self
            .base
            .split_once("://")
            .map_or(self.base.as_str(), |(_, rest)| rest);
        rest.split('/').next().unwrap_or(rest)
    }

    pub fn has_secret_params(&self) -> bool {
        self.params.iter().any(|p| p.secret)
    }
}

impl QueryParam {
    fn parse(piece: &str) -> Self {
        let (raw_name, raw_value) = match piece.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (piece, None),
        };
        let name = form_decode(raw_name);
        Self {
            secret: is_secret_param(&name),
            raw_name: raw_name.to_string(),
            raw_value: raw_value.map(str::to_string),
            value: raw_value.map(form_decode).unwrap_or_default(),
            name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_prefix_and_query_are_kept() {
        let target = Target::resolve("https://gw.example/litellm", "/v1/chat/completions?x=1");
        assert_eq!(
            target.base,
            "https://gw.example/litellm/v1/chat/completions"
        );
        assert_eq!(target.authority(), "gw.example");
        assert_eq!(
            target.url_with(|_| unreachable!()),
            "https://gw.example/litellm/v1/chat/completions?x=1"
        );
    }

    #[test]
    fn query_values_are_decoded_for_display() {
        let target = Target::resolve("http://127.0.0.1:4000", "/search?q=a+b%2Fc&flag&bad=%zz");
        let shown: Vec<_> = target
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(shown, [("q", "a b/c"), ("flag", ""), ("bad", "%zz")]);
    }

    #[test]
    fn key_like_query_values_are_masked() {
        let target = Target::resolve(
            "https://generativelanguage.example",
            "/v1beta/models/g:generateContent?key=AIza-PLANTED&alt=sse&api_key=x",
        );
        assert!(target.has_secret_params());
        assert_eq!(
            target.url_with(|p| format!("<{}>", p.name)),
            "https://generativelanguage.example/v1beta/models/g:generateContent?key=<key>&alt=sse&api_key=<api_key>"
        );
    }
}
