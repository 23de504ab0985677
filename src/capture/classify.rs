//! Failure classification: the one place that decides whether an exchange failed and how.

use std::fmt;
use std::sync::LazyLock;

use memchr::memmem;

use crate::llm::{self, StreamVerdict};

/// Why an exchange failed. Shown in the banner and stored with the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureClass {
    /// The upstream answered with a non-2xx status.
    HttpError(u16),
    /// A 2xx reply whose JSON body is an error object.
    ErrorIn200,
    /// An SSE stream carried an error event or ended without its terminator.
    StreamError,
    /// The upstream could not be reached.
    Connect,
    /// The TLS handshake with the upstream failed.
    Tls,
    /// The upstream did not answer (or went silent) within the configured time.
    Timeout,
    /// The upstream's bytes were not valid HTTP.
    MalformedResponse,
    /// The upstream closed or reset the connection before its reply was complete.
    Reset,
    /// The agent went away before the reply was complete.
    ClientAborted,
    /// llmscope answered a repeat of a request that kept failing the same way itself, without
    /// sending it upstream, so the agent stops retrying and shows the reason.
    RetryLoopStopped,
}

impl FailureClass {
    /// Stable name used in the store, exports and `record` output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HttpError(_) => "http_error",
            Self::ErrorIn200 => "error_in_200",
            Self::StreamError => "stream_error",
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Timeout => "timeout",
            Self::MalformedResponse => "malformed_response",
            Self::Reset => "reset",
            Self::ClientAborted => "client_aborted",
            Self::RetryLoopStopped => "retry_loop_stopped",
        }
    }

    /// Inverse of [`as_str`](Self::as_str); `status` completes `http_error`.
    pub fn parse(name: &str, status: Option<u16>) -> Option<Self> {
        Some(match name {
            "http_error" => Self::HttpError(status?),
            "error_in_200" => Self::ErrorIn200,
            "stream_error" => Self::StreamError,
            "connect" => Self::Connect,
            "tls" => Self::Tls,
            "timeout" => Self::Timeout,
            "malformed_response" => Self::MalformedResponse,
            "reset" => Self::Reset,
            "client_aborted" => Self::ClientAborted,
            "retry_loop_stopped" => Self::RetryLoopStopped,
            _ => return None,
        })
    }

    /// Failures of the transport, where the agent gets a reply made by llmscope.
    pub fn is_transport(self) -> bool {
        matches!(
            self,
            Self::Connect | Self::Tls | Self::Timeout | Self::MalformedResponse | Self::Reset
        )
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HttpError(status) => write!(f, "HTTP {status}"),
            Self::ErrorIn200 => f.write_str("error in 200 reply"),
            Self::StreamError => f.write_str("stream error"),
            Self::Connect => f.write_str("connect failed"),
            Self::Tls => f.write_str("TLS failed"),
            Self::Timeout => f.write_str("timeout"),
            Self::MalformedResponse => f.write_str("malformed reply"),
            Self::Reset => f.write_str("connection reset"),
            Self::ClientAborted => f.write_str("client aborted"),
            Self::RetryLoopStopped => f.write_str("retry loop stopped"),
        }
    }
}

/// A classified failure with the most specific reason known (the upstream's own message when
/// it gave one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub class: FailureClass,
    pub message: String,
}

impl Failure {
    pub fn new(class: FailureClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class, self.message)
    }
}

/// Classifies a reply that arrived in full. `stream` is the verdict of the SSE watcher when the
/// reply was an event stream. Returns `None` for a success.
pub fn classify_failure(
    status: u16,
    body: &[u8],
    stream: Option<&StreamVerdict>,
) -> Option<Failure> {
    if !(200..300).contains(&status) {
        let message = upstream_error_message(body)
            .unwrap_or_else(|| format!("upstream answered {status} {}", reason_phrase(status)));
        return Some(Failure::new(FailureClass::HttpError(status), message));
    }
    if let Some(verdict) = stream {
        return verdict
            .problem()
            .map(|message| Failure::new(FailureClass::StreamError, message));
    }
    if !may_be_error_object(body) {
        return None;
    }
    llm::error_object_message(body).map(|message| Failure::new(FailureClass::ErrorIn200, message))
}

/// Whether a 2xx body could be an error object, without parsing it: error objects are small
/// and name `error` near the start (`{"error":…}`, `{"type":"error","error":…}`). Parsing every
/// successful reply, megabytes at times, just to find out was a measurable cost per exchange.
fn may_be_error_object(body: &[u8]) -> bool {
    const LOOK: usize = 256;
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start.filter(|&i| body[i] == b'{') else {
        return false;
    };
    // Building a finder costs more than searching these few bytes: one serves every reply.
    static ERROR_KEY: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(b"\"error\""));
    let head = &body[start..body.len().min(start + LOOK)];
    ERROR_KEY.find(head).is_some()
}

/// The upstream's own explanation in an error body, in any dialect llmscope knows; falls back
/// to a short plain-text body.
pub fn upstream_error_message(body: &[u8]) -> Option<String> {
    if let Some(message) = llm::error_object_message(body) {
        return Some(message);
    }
    let text = std::str::from_utf8(body).ok()?.trim();
    let looks_like_text = !text.is_empty() && text.len() <= 500 && !text.starts_with('<');
    looks_like_text.then(|| text.to_string())
}

fn reason_phrase(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_2xx_uses_the_upstreams_message() {
        let body = br#"{"error":{"message":"Invalid model name passed in model=nope","type":"invalid_request_error","code":"400"}}"#;
        let failure = classify_failure(400, body, None).expect("a failure");
        assert_eq!(failure.class, FailureClass::HttpError(400));
        assert_eq!(failure.message, "Invalid model name passed in model=nope");
    }

    #[test]
    fn non_2xx_without_a_body_names_the_status() {
        let failure = classify_failure(503, b"", None).expect("a failure");
        assert_eq!(failure.message, "upstream answered 503 Service Unavailable");
    }

    #[test]
    fn ok_json_with_error_object_is_error_in_200() {
        let body = br#"{"error":{"message":"quota exceeded"}}"#;
        let failure = classify_failure(200, body, None).expect("a failure");
        assert_eq!(failure.class, FailureClass::ErrorIn200);
        assert_eq!(failure.message, "quota exceeded");
    }

    #[test]
    fn anthropic_error_object_in_200_is_found() {
        let body =
            br#"  {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        let failure = classify_failure(200, body, None).expect("a failure");
        assert_eq!(failure.message, "Overloaded");
    }

    #[test]
    fn ordinary_ok_reply_is_not_a_failure() {
        let body = br#"{"id":"x","choices":[{"message":{"content":"hi"}}],"error":null}"#;
        assert_eq!(classify_failure(200, body, None), None);
    }

    #[test]
    fn class_names_round_trip() {
        for class in [
            FailureClass::HttpError(429),
            FailureClass::ErrorIn200,
            FailureClass::StreamError,
            FailureClass::Connect,
            FailureClass::Tls,
            FailureClass::Timeout,
            FailureClass::MalformedResponse,
            FailureClass::Reset,
            FailureClass::ClientAborted,
            FailureClass::RetryLoopStopped,
        ] {
            assert_eq!(FailureClass::parse(class.as_str(), Some(429)), Some(class));
        }
    }
}
