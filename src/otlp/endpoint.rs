//! Where spans go and with which credentials: the `--otlp` URL and `--otlp-header` values.

use std::fmt;

/// The OTLP/HTTP path for traces, appended to a base URL such as `http://localhost:4318`.
const TRACES_PATH: &str = "/v1/traces";

/// Why an `--otlp` or `--otlp-header` value was refused.
#[derive(Debug, thiserror::Error)]
pub enum OtlpSettingsError {
    #[error("--otlp {url:?} is not a valid URL: {reason}")]
    Invalid { url: String, reason: String },
    #[error("--otlp {0:?} must start with http:// or https://")]
    Scheme(String),
    #[error(
        "--otlp URL must not carry credentials; pass them as a header instead, \
         e.g. --otlp-header \"Authorization=Basic …\""
    )]
    Credentials,
    #[error("--otlp-header expects NAME=VALUE, got a value without `=` (header {0:?})")]
    HeaderShape(String),
    #[error("--otlp-header name {0:?} is not a valid HTTP header name")]
    HeaderName(String),
    #[error("--otlp-header {0:?} has a value that is not a valid HTTP header value")]
    HeaderValue(String),
}

/// What `--otlp`, `--otlp-header` and `--otlp-bodies` asked for.
#[derive(Debug, Clone)]
pub struct OtlpSettings {
    pub endpoint: OtlpEndpoint,
    pub headers: Vec<OtlpHeader>,
    /// Send the conversation and the reply (`gen_ai.input.messages`, …) with each span.
    pub bodies: bool,
}

/// An OTLP/HTTP traces endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpEndpoint {
    url: reqwest::Url,
}

impl OtlpEndpoint {
    /// Accepts a collector's base URL (`http://localhost:4318`,
    /// `https://cloud.langfuse.com/api/public/otel`) or its traces URL: `/v1/traces` is
    /// appended unless the path already ends with it, as the OTLP exporters do with
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn parse(text: &str) -> Result<Self, OtlpSettingsError> {
        let mut url: reqwest::Url =
            text.trim()
                .parse()
                .map_err(|e: <reqwest::Url as std::str::FromStr>::Err| {
                    OtlpSettingsError::Invalid {
                        url: text.to_string(),
                        reason: e.to_string(),
                    }
                })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OtlpSettingsError::Scheme(text.to_string()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(OtlpSettingsError::Credentials);
        }
        let path = url.path().trim_end_matches('/').to_string();
        if path.ends_with(TRACES_PATH) {
            url.set_path(&path);
        } else {
            url.set_path(&format!("{path}{TRACES_PATH}"));
        }
        Ok(Self { url })
    }

    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }
}

/// Shown without its query string, which some collectors use for tokens.
impl fmt::Display for OtlpEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let origin = self.url.origin().ascii_serialization();
        write!(f, "{origin}{}", self.url.path())
    }
}

/// One header sent with every export (`Authorization=Basic …` for Langfuse). Its value is a
/// credential: `Debug` leaves it out, and nothing displays it.
#[derive(Clone, PartialEq, Eq)]
pub struct OtlpHeader {
    pub name: String,
    value: String,
}

impl OtlpHeader {
    /// `NAME=VALUE`, split at the first `=` (Basic credentials end in `=` padding). As in
    /// `OTEL_EXPORTER_OTLP_HEADERS`, `%XX` escapes in the value are decoded
    /// (`Authorization=Basic%20…`).
    pub fn parse(spec: &str) -> Result<Self, OtlpSettingsError> {
        let (name, value) = spec
            .split_once('=')
            .ok_or_else(|| OtlpSettingsError::HeaderShape(header_name_only(spec)))?;
        let name = name.trim();
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(OtlpSettingsError::HeaderName(name.to_string()));
        }
        let value = percent_decoded(value.trim());
        if http::HeaderValue::from_str(&value).is_err() {
            return Err(OtlpSettingsError::HeaderValue(name.to_string()));
        }
        Ok(Self {
            name: name.to_string(),
            value,
        })
    }

    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for OtlpHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: <redacted>", self.name)
    }
}

/// `%XX` escapes decoded; a `%` that starts none is kept as it is.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let escaped = (bytes[at] == b'%')
            .then(|| bytes.get(at + 1..at + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                at += 3;
            }
            None => {
                out.push(bytes[at]);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What an error may repeat of a malformed header: never the value, which might be a key
/// the user forgot the `=` in front of.
fn header_name_only(spec: &str) -> String {
    match spec.split_once([':', ' ']) {
        Some((name, _)) => name.to_string(),
        None => "<unnamed>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_gets_the_traces_path_and_a_traces_url_is_kept() {
        let cases = [
            ("http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/traces"),
            ("http://localhost:4318/", "http://localhost:4318/v1/traces"),
            (
                "https://cloud.langfuse.com/api/public/otel",
                "https://cloud.langfuse.com/api/public/otel/v1/traces",
            ),
            (
                "https://cloud.langfuse.com/api/public/otel/v1/traces",
                "https://cloud.langfuse.com/api/public/otel/v1/traces",
            ),
            (
                "http://tempo:4318/v1/traces/",
                "http://tempo:4318/v1/traces",
            ),
        ];
        for (given, expected) in cases {
            let endpoint = OtlpEndpoint::parse(given).expect(given);
            assert_eq!(endpoint.as_str(), expected, "{given}");
        }
    }

    #[test]
    fn urls_that_cannot_be_an_otlp_http_endpoint_are_refused() {
        assert!(matches!(
            OtlpEndpoint::parse("grpc://collector:4317"),
            Err(OtlpSettingsError::Scheme(_))
        ));
        assert!(matches!(
            OtlpEndpoint::parse("https://pk:sk@cloud.langfuse.com"),
            Err(OtlpSettingsError::Credentials)
        ));
        assert!(OtlpEndpoint::parse("not a url").is_err());
    }

    #[test]
    fn the_shown_endpoint_leaves_out_the_query() {
        let endpoint = OtlpEndpoint::parse("https://c.example/otel?token=s3cret").expect("ok");
        assert_eq!(endpoint.to_string(), "https://c.example/otel/v1/traces");
    }

    #[test]
    fn header_values_keep_their_padding_and_never_show() {
        let header = OtlpHeader::parse("Authorization=Basic cGs6c2s=").expect("ok");
        assert_eq!(
            (header.name.as_str(), header.value()),
            ("Authorization", "Basic cGs6c2s=")
        );
        assert_eq!(format!("{header:?}"), "Authorization: <redacted>");
        let error = OtlpHeader::parse("Authorization: Basic cGs6c2s").expect_err("no =");
        assert!(!error.to_string().contains("cGs6c2s"), "{error}");
        assert!(OtlpHeader::parse("bad name=x").is_err());
        let escaped = OtlpHeader::parse("Authorization=Basic%20cGs6c2s%3D").expect("ok");
        assert_eq!(escaped.value(), "Basic cGs6c2s=");
        assert_eq!(OtlpHeader::parse("x=100%").expect("ok").value(), "100%");
    }
}
