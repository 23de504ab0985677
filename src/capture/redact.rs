//! Secret headers and key-like query parameters never leave the process: they are replaced
//! before capture events are built, so neither the store, the screen nor an export ever sees
//! them.

use super::HeaderList;

/// What a secret value is replaced with (after any auth scheme such as `Bearer `).
pub const REDACTED: &str = "<redacted>";

/// Whether a header carries a credential. Matches the well-known names and any name that says
/// it holds a key, token, secret or password.
///
/// Runs for every header of every request on the forwarding path, so it compares in place,
/// ignoring ASCII case, instead of lowering a copy of the name.
pub fn is_secret_header(name: &str) -> bool {
    // Gateways invent their own key headers (`x-portkey-virtual-key`, `x-goog-api-key`).
    is_credential_header(name)
        || names_a_secret(name.as_bytes())
        || name.len() >= 3 && name.as_bytes()[name.len() - 3..].eq_ignore_ascii_case(b"key")
}

/// Whether a header is one of the well-known credential headers, `Set-Cookie` included. A
/// reply is held to this rule alone: its `x-ratelimit-remaining-tokens` and the like name a
/// token without holding one, and are what a 429 is read by.
pub fn is_credential_header(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "cookie",
        "set-cookie",
        "x-goog-api-key",
    ];
    EXACT.iter().any(|exact| name.eq_ignore_ascii_case(exact))
}

/// Whether `name` contains `api-key`, `apikey`, `token`, `secret`, `password` or `auth`,
/// ignoring ASCII case. One pass that looks further only where one of those words could
/// begin: this runs for every header of every request.
fn names_a_secret(name: &[u8]) -> bool {
    (0..name.len()).any(|at| {
        let rest = &name[at..];
        let starts_with =
            |word: &[u8]| rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word);
        match name[at].to_ascii_lowercase() {
            b'a' => starts_with(b"api-key") || starts_with(b"apikey") || starts_with(b"auth"),
            b't' => starts_with(b"token"),
            b's' => starts_with(b"secret"),
            b'p' => starts_with(b"password"),
            _ => false,
        }
    })
}

/// Returns the headers with every secret value replaced. An auth scheme (`Bearer`, `Basic`)
/// is kept because it helps when reading a capture and reveals nothing.
pub fn redact_headers(headers: &HeaderList) -> HeaderList {
    let mut redacted = HeaderList::with_capacity(headers.len(), 0);
    for (name, value) in headers {
        if is_secret_header(name) {
            redacted.push_pieces(name, &redacted_pieces(value));
        } else {
            redacted.push(name, value);
        }
    }
    redacted
}

/// Query parameter names that carry credentials: the header rule (`api_key`, `access_token`,
/// `client_secret`, …) plus the short names APIs use for keys and signatures (`?key=` for
/// Gemini, `sig=` for Azure SAS URLs). `name` is already decoded.
pub fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase().replace('_', "-");
    matches!(name.as_str(), "key" | "sig" | "signature" | "code") || is_secret_header(&name)
}

/// Whether [`redact_target`] would change `target`: a key-like query parameter with a value.
pub fn has_secret_param(target: &str) -> bool {
    target.split_once('?').is_some_and(|(_, query)| {
        query.split('&').any(|piece| {
            piece
                .split_once('=')
                .is_some_and(|(name, _)| is_secret_param(&form_decode(name)))
        })
    })
}

/// A request target (path and query as sent) with the value of every key-like query parameter
/// replaced by [`REDACTED`]; everything else stays byte for byte.
pub fn redact_target(target: &str) -> String {
    let Some((path, query)) = target.split_once('?') else {
        return target.to_string();
    };
    let pieces: Vec<String> = query
        .split('&')
        .map(|piece| match piece.split_once('=') {
            Some((name, _)) if is_secret_param(&form_decode(name)) => {
                format!("{name}={REDACTED}")
            }
            _ => piece.to_string(),
        })
        .collect();
    format!("{path}?{}", pieces.join("&"))
}

/// Decodes `application/x-www-form-urlencoded` text; malformed escapes are kept as written.
pub fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                    (Some(high), Some(low)) => {
                        out.push((high << 4) | low);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

/// A secret header's value as the record keeps it, in pieces to append to a buffer: the
/// redaction mark, after the auth scheme when there is one.
pub fn redacted_pieces(value: &str) -> [&str; 3] {
    match value.split_once(' ') {
        Some((scheme, _)) if is_auth_scheme(scheme) => [scheme, " ", REDACTED],
        _ => ["", "", REDACTED],
    }
}

fn is_auth_scheme(word: &str) -> bool {
    ["bearer", "basic", "digest", "token"]
        .iter()
        .any(|scheme| word.eq_ignore_ascii_case(scheme))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: &str, value: &str) -> (String, String) {
        (name.to_string(), value.to_string())
    }

    #[test]
    fn bearer_token_keeps_scheme_only() {
        let out = redact_headers(&HeaderList::from([h(
            "Authorization",
            "Bearer sk-live-123",
        )]));
        assert_eq!(
            out,
            HeaderList::from([h("Authorization", "Bearer <redacted>")])
        );
    }

    #[test]
    fn api_key_headers_and_cookies_are_redacted() {
        let out = redact_headers(&HeaderList::from([
            h("x-api-key", "sk-ant-1"),
            h("api-key", "azure-1"),
            h("Cookie", "session=abc"),
            h("X-Custom-Token", "t0k"),
            h("content-type", "application/json"),
        ]));
        let values: Vec<_> = out.iter().map(|(_, v)| v).collect();
        assert_eq!(
            values,
            [REDACTED, REDACTED, REDACTED, REDACTED, "application/json"]
        );
    }

    #[test]
    fn key_like_query_values_are_redacted_and_the_rest_kept() {
        assert_eq!(
            redact_target("/v1beta/models/g:streamGenerateContent?alt=sse&key=AIza-1&api%5Fkey=x&q=a+b"),
            "/v1beta/models/g:streamGenerateContent?alt=sse&key=<redacted>&api%5Fkey=<redacted>&q=a+b"
        );
        assert_eq!(
            redact_target("/v1/messages?beta=true"),
            "/v1/messages?beta=true"
        );
        assert_eq!(
            redact_target("/v1/chat/completions"),
            "/v1/chat/completions"
        );
        assert_eq!(redact_target("/x?&flag&key"), "/x?&flag&key");
    }

    #[test]
    fn a_target_has_a_secret_param_exactly_when_redaction_changes_it() {
        for target in [
            "/v1beta/models/g:generateContent?alt=sse&key=AIza-1",
            "/x?API%5FKEY=1",
            "/x?access_token=t",
            "/v1/messages?beta=true",
            "/v1/chat/completions",
            "/x?&flag&key",
        ] {
            assert_eq!(
                has_secret_param(target),
                redact_target(target) != target,
                "{target}"
            );
        }
    }

    #[test]
    fn ordinary_headers_pass() {
        assert!(!is_secret_header("anthropic-version"));
        assert!(!is_secret_header("x-session-id"));
        assert!(is_secret_header("Proxy-Authorization"));
        assert!(is_secret_header("X-Portkey-Virtual-Key"));
        assert!(!is_secret_header("ke"));
        assert!(!is_secret_header(""));
        assert!(is_secret_header("X-GOOG-API-KEY"));
        assert!(is_secret_header("x-Auth-Request"));
        assert!(!is_secret_header("content-type"));
    }

    /// The one-pass scan agrees with the plain rule, "contains one of the words, any case",
    /// wherever a word sits and however it is cased or cut short.
    #[test]
    fn the_secret_word_scan_matches_a_plain_search() {
        const WORDS: &[&str] = &["api-key", "apikey", "token", "secret", "password", "auth"];
        let plain = |name: &str| {
            let lower = name.to_ascii_lowercase();
            WORDS.iter().any(|word| lower.contains(word))
        };
        let mut names = vec![String::new(), "a".into(), "ap".into(), "x-trace".into()];
        for word in WORDS {
            let upper = word.to_ascii_uppercase();
            let cut = &word[..word.len() - 1];
            for shape in [word.to_string(), upper, cut.to_string()] {
                names.push(shape.clone());
                names.push(format!("x-{shape}"));
                names.push(format!("{shape}-id"));
                names.push(format!("aa{shape}pp"));
            }
        }
        for name in &names {
            assert_eq!(names_a_secret(name.as_bytes()), plain(name), "{name:?}");
        }
    }
}
