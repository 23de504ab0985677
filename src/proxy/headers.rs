//! Header handling at the proxy's two edges: what is hop-by-hop (RFC 9110 §7.6.1) and is
//! therefore not forwarded, and the conversion to the capture's header list.

use std::borrow::Cow;

use http::header::{self, HeaderMap, HeaderName};

use crate::capture::{is_credential_header, is_secret_header, redacted_pieces, HeaderList};

/// Whether `name` is hop-by-hop (RFC 9110 §7.6.1): it describes one connection, not the
/// message, and so stops at the proxy. Told by its length first: most names a message
/// carries have a length none of them has, and are passed over after one comparison.
fn is_hop_by_hop(name: &str) -> bool {
    match name.len() {
        2 => name == "te",
        7 => name == "trailer" || name == "upgrade",
        10 => name == "connection" || name == "keep-alive",
        16 => name == "proxy-connection",
        17 => name == "transfer-encoding",
        18 => name == "proxy-authenticate",
        _ => false,
    }
}

fn is_hop_by_hop_name(name: &HeaderName) -> bool {
    is_hop_by_hop(name.as_str())
}

/// Removes hop-by-hop headers, including any that the `Connection` header names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Most replies carry none of them: one look at the names a message does carry is cheaper
    // than removing (hashing) every name of the list.
    if !headers.keys().any(is_hop_by_hop_name) {
        return;
    }
    // What `Connection` lists besides the hop-by-hop names (`keep-alive`, mostly), which go
    // anyway: rare, so a name is parsed (and allocated) only for those.
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|name| !is_hop_by_hop(name))
        .filter_map(|name| HeaderName::from_bytes(name.as_bytes()).ok())
        .collect();
    // Only the ones present are removed, each found by a scan of the names: a message
    // carries one or two (`Connection`, `Transfer-Encoding`), where removing the whole
    // list hashed eight names.
    while let Some(name) = headers
        .keys()
        .find(|name| is_hop_by_hop_name(name))
        .cloned()
    {
        headers.remove(&name);
    }
    for name in &named {
        headers.remove(name);
    }
}

/// The headers to send upstream: the agent's, less hop-by-hop ones, `Host` (the client sets it
/// for the upstream) and `Content-Length` (recomputed from the buffered body).
pub fn upstream_request_headers(mut headers: HeaderMap) -> HeaderMap {
    strip_hop_by_hop(&mut headers);
    headers.remove(header::HOST);
    headers.remove(header::CONTENT_LENGTH);
    headers
}

/// The upstream's reply headers as the agent receives them. `Content-Length` stays so the
/// agent sees the same framing the upstream chose.
pub fn agent_response_headers(mut headers: HeaderMap) -> HeaderMap {
    strip_hop_by_hop(&mut headers);
    headers
}

/// Standard headers every agent request or reply carries and none of which names a secret:
/// `HeaderName`s of standard headers compare as an enum, where the rule of
/// [`is_secret_header`] scans the name's text.
static PLAIN_STANDARD: [HeaderName; 14] = [
    header::ACCEPT,
    header::ACCEPT_ENCODING,
    header::ACCEPT_LANGUAGE,
    header::CACHE_CONTROL,
    header::CONNECTION,
    header::CONTENT_ENCODING,
    header::CONTENT_LENGTH,
    header::CONTENT_TYPE,
    header::DATE,
    header::HOST,
    header::SERVER,
    header::TRANSFER_ENCODING,
    header::USER_AGENT,
    header::VARY,
];

/// [`is_secret_header`] for a parsed name: the same answer, without reading the text of the
/// common standard names.
pub fn is_secret_name(name: &HeaderName) -> bool {
    !PLAIN_STANDARD.contains(name) && is_secret_header(name.as_str())
}

/// [`is_credential_header`] for a parsed name. Not through [`PLAIN_STANDARD`]: that rule
/// compares whole names, each first by its length, which costs less than fourteen
/// comparisons of `HeaderName`s.
fn is_credential_name(name: &HeaderName) -> bool {
    is_credential_header(name.as_str())
}

/// A request's headers as the record keeps them: in wire order, duplicates kept, values
/// that are not UTF-8 kept lossily, and every secret (`capture::is_secret_header`) replaced
/// as it is copied, so the real value is never copied at all.
pub fn recorded_request_headers(headers: &HeaderMap) -> HeaderList {
    recorded(headers, is_secret_name)
}

/// A reply's headers as the record keeps them: the same, with only the well-known credential
/// headers replaced (`Set-Cookie`, mostly), since a reply's rate-limit headers name tokens.
pub fn recorded_reply_headers(headers: &HeaderMap) -> HeaderList {
    recorded(headers, is_credential_name)
}

fn recorded(headers: &HeaderMap, is_secret: fn(&HeaderName) -> bool) -> HeaderList {
    let text = headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len())
        .sum();
    let mut list = HeaderList::with_capacity(headers.len(), text);
    for (header, value) in headers {
        let name = header.as_str();
        // Header values are nearly always visible ASCII, which `to_str` checks inline; the
        // lossy conversion's chunking costs more for these short strings.
        let value = match value.to_str() {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(value.as_bytes()),
        };
        if is_secret(header) {
            list.push_pieces(name, &redacted_pieces(&value));
        } else {
            list.push(name, &value);
        }
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn the_standard_names_passed_over_are_ones_the_rule_finds_plain() {
        for name in &PLAIN_STANDARD {
            assert!(!is_secret_header(name.as_str()), "{name}");
        }
        for name in [
            "authorization",
            "x-api-key",
            "cookie",
            "set-cookie",
            "x-goog-api-key",
        ] {
            let name = HeaderName::from_static(name);
            assert!(is_secret_name(&name), "{name}");
            assert!(is_credential_name(&name), "{name}");
        }
        for name in ["x-portkey-virtual-key", "anthropic-auth-token"] {
            assert!(is_secret_name(&HeaderName::from_static(name)), "{name}");
        }
        for name in ["content-type", "user-agent", "x-ratelimit-remaining-tokens"] {
            let name = HeaderName::from_static(name);
            assert!(!is_credential_name(&name), "{name}");
        }
    }

    /// RFC 9110 §7.6.1's hop-by-hop headers, and the two older ones proxies drop too.
    const HOP_BY_HOP: [HeaderName; 8] = [
        header::CONNECTION,
        HeaderName::from_static("keep-alive"),
        HeaderName::from_static("proxy-connection"),
        header::PROXY_AUTHENTICATE,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ];

    #[test]
    fn the_quick_hop_by_hop_check_knows_the_list_and_nothing_else() {
        for name in &HOP_BY_HOP {
            assert!(is_hop_by_hop_name(name), "{name}");
        }
        for name in PLAIN_STANDARD
            .iter()
            .filter(|name| !HOP_BY_HOP.contains(name))
        {
            assert!(!is_hop_by_hop_name(name), "{name}");
        }
        for name in [
            "user-agent",
            "authorization",
            "tf",
            "trailers",
            "x-upgrade",
            "keep-alivex",
        ] {
            assert!(
                !is_hop_by_hop_name(&HeaderName::from_static(name)),
                "{name}"
            );
        }
    }

    #[test]
    fn every_hop_by_hop_header_goes_and_every_other_stays() {
        let mut headers = HeaderMap::new();
        for name in &HOP_BY_HOP {
            headers.append(name, HeaderValue::from_static("x"));
        }
        headers.append(
            header::CONNECTION,
            HeaderValue::from_static("Keep-Alive, X-Trace, te"),
        );
        headers.append("x-trace", HeaderValue::from_static("1"));
        headers.append(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.append("x-request-id", HeaderValue::from_static("a"));
        headers.append("x-request-id", HeaderValue::from_static("b"));
        strip_hop_by_hop(&mut headers);
        // A removal moves the map's last entry into its place, as it always has: the
        // order of what stays is the map's, so the names are compared sorted.
        let mut left: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap_or("?")))
            .collect();
        left.sort_unstable();
        assert_eq!(
            left,
            [
                ("content-type", "application/json"),
                ("x-request-id", "a"),
                ("x-request-id", "b"),
            ]
        );
    }

    #[test]
    fn hop_by_hop_and_connection_named_headers_are_dropped() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-trace"),
        );
        headers.insert("x-trace", HeaderValue::from_static("1"));
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer k"));
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8787"));
        let out = upstream_request_headers(headers);
        let names: Vec<_> = out.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["authorization"]);
    }

    #[test]
    fn a_message_without_hop_by_hop_headers_keeps_them_all() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.append("x-trace", HeaderValue::from_static("1"));
        headers.append("x-trace", HeaderValue::from_static("2"));
        let before = headers.clone();
        strip_hop_by_hop(&mut headers);
        assert_eq!(headers, before);
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        strip_hop_by_hop(&mut headers);
        assert_eq!(headers, before);
    }

    #[test]
    fn recorded_headers_hide_secrets_and_keep_order_and_duplicates() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer sk-live-1"),
        );
        headers.append("x-portkey-virtual-key", HeaderValue::from_static("vk-2"));
        headers.append(header::ACCEPT, HeaderValue::from_static("a"));
        headers.append(header::ACCEPT, HeaderValue::from_static("b"));
        let recorded = recorded_request_headers(&headers);
        let pairs: Vec<(&str, &str)> = recorded.iter().collect();
        assert_eq!(
            pairs,
            [
                ("authorization", "Bearer <redacted>"),
                ("x-portkey-virtual-key", "<redacted>"),
                ("accept", "a"),
                ("accept", "b"),
            ]
        );

        let mut reply = HeaderMap::new();
        reply.append(
            header::SET_COOKIE,
            HeaderValue::from_static("__cf_bm=abc; Path=/"),
        );
        reply.append(
            "x-ratelimit-remaining-tokens",
            HeaderValue::from_static("29000"),
        );
        let recorded = recorded_reply_headers(&reply);
        assert_eq!(recorded.get(0), Some(("set-cookie", "<redacted>")));
        assert_eq!(
            recorded.get(1),
            Some(("x-ratelimit-remaining-tokens", "29000"))
        );
    }
}
