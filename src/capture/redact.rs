//! Secret headers never leave the process: they are replaced before capture events are built,
//! so neither the store, the screen nor an export ever sees them.

use super::HeaderList;

/// What a secret value is replaced with (after any auth scheme such as `Bearer `).
pub const REDACTED: &str = "<redacted>";

/// Whether a header carries a credential. Matches the well-known names and any name that says
/// it holds a key, token, secret or password.
pub fn is_secret_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    const EXACT: &[&str] = &[
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "cookie",
        "set-cookie",
        "x-goog-api-key",
    ];
    const PARTS: &[&str] = &["api-key", "apikey", "token", "secret", "password", "auth"];
    // Gateways invent their own key headers (`x-portkey-virtual-key`, `x-goog-api-key`).
    EXACT.contains(&name.as_str())
        || PARTS.iter().any(|part| name.contains(part))
        || name.ends_with("key")
}

/// Returns the headers with every secret value replaced. An auth scheme (`Bearer`, `Basic`)
/// is kept because it helps when reading a capture and reveals nothing.
pub fn redact_headers(headers: HeaderList) -> HeaderList {
    headers
        .into_iter()
        .map(|(name, value)| {
            if is_secret_header(&name) {
                let redacted = redact_value(&value);
                (name, redacted)
            } else {
                (name, value)
            }
        })
        .collect()
}

fn redact_value(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) if is_auth_scheme(scheme) => format!("{scheme} {REDACTED}"),
        _ => REDACTED.to_string(),
    }
}

fn is_auth_scheme(word: &str) -> bool {
    ["bearer", "basic", "digest", "token"].contains(&word.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: &str, value: &str) -> (String, String) {
        (name.to_string(), value.to_string())
    }

    #[test]
    fn bearer_token_keeps_scheme_only() {
        let out = redact_headers(vec![h("Authorization", "Bearer sk-live-123")]);
        assert_eq!(out, vec![h("Authorization", "Bearer <redacted>")]);
    }

    #[test]
    fn api_key_headers_and_cookies_are_redacted() {
        let out = redact_headers(vec![
            h("x-api-key", "sk-ant-1"),
            h("api-key", "azure-1"),
            h("Cookie", "session=abc"),
            h("X-Custom-Token", "t0k"),
            h("content-type", "application/json"),
        ]);
        let values: Vec<_> = out.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(
            values,
            [REDACTED, REDACTED, REDACTED, REDACTED, "application/json"]
        );
    }

    #[test]
    fn ordinary_headers_pass() {
        assert!(!is_secret_header("anthropic-version"));
        assert!(!is_secret_header("x-session-id"));
        assert!(is_secret_header("Proxy-Authorization"));
        assert!(is_secret_header("X-Portkey-Virtual-Key"));
    }
}
