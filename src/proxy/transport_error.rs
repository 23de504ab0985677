//! How an upstream call's transport errors map to failure classes, with a message that names
//! the real cause. Every client's errors (hyper-util's pool and an agent connection's own
//! connection for plain-http upstreams, reqwest for the rest) are read the same way: by walking the chain of causes under them, so a fault gets
//! the same class and words whichever client met it.

use std::error::Error as StdError;
use std::time::Duration;

use super::tls_reason::tls_failure_message;
use crate::capture::{Failure, FailureClass};

/// An upstream call's error, from either client.
pub type TransportError = Box<dyn StdError + Send + Sync>;

/// The upstream was silent for longer than the idle timeout, before its head or between two
/// body chunks. Worded as reqwest words its own read timeout, so both clients read alike.
#[derive(Debug)]
pub struct IdleTimeout;

impl std::fmt::Display for IdleTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("operation timed out")
    }
}

impl StdError for IdleTimeout {}

/// An agent connection's own upstream connection could not be opened: the cause is
/// underneath. Worded as hyper-util's pool words its own, which the message leaves out.
#[derive(Debug, thiserror::Error)]
#[error("client error (Connect)")]
pub struct ConnectFailed(#[source] pub TransportError);

/// A failure reading a reply's body, worded as reqwest words its own, for the same reason.
#[derive(Debug)]
pub struct BodyReadError(pub TransportError);

impl std::fmt::Display for BodyReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request or response body error")
    }
}

impl StdError for BodyReadError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.0)
    }
}

/// Maps a client error to a failure class with a message that names the real cause.
/// `before_head` says whether the reply's head had arrived.
pub fn classify_transport_error(
    error: &(dyn StdError + 'static),
    before_head: bool,
    idle_timeout: Duration,
) -> Failure {
    let causes = causes(error);
    let detail = error_chain(error);
    let class = if is_timeout(&causes) {
        FailureClass::Timeout
    } else if tls_error(&causes).is_some() {
        FailureClass::Tls
    } else if is_connect(&causes) {
        FailureClass::Connect
    } else if hyper_error(&causes).is_some_and(hyper::Error::is_parse) || is_invalid_data(&causes) {
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
            let host = error
                .downcast_ref::<reqwest::Error>()
                .and_then(reqwest::Error::url)
                .and_then(|url| url.host_str());
            tls_failure_message(host, tls_error(&causes), &detail)
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

/// The error and its causes joined, without the clients' own wrappers: reqwest's (the URL,
/// repeated at every level) and hyper-util's ("client error (SendRequest)", which names its
/// own step, not a cause).
fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = match error.downcast_ref::<reqwest::Error>() {
        Some(_) => error.source(),
        None => Some(error),
    };
    while let Some(err) = current {
        let text = err.to_string();
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

type Causes<'a> = Vec<&'a (dyn StdError + 'static)>;

/// The error and every error under it. `io::Error` hides the error it wraps from `source()`,
/// and hyper-util wraps io errors in io errors, so wrapped errors are unpacked explicitly.
fn causes<'a>(error: &'a (dyn StdError + 'static)) -> Causes<'a> {
    let mut found = Vec::new();
    let mut pending = vec![error];
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

fn is_timeout(causes: &Causes<'_>) -> bool {
    causes.iter().any(|e| {
        e.is::<IdleTimeout>()
            || e.downcast_ref::<reqwest::Error>()
                .is_some_and(reqwest::Error::is_timeout)
    }) || has_io_kind(causes, std::io::ErrorKind::TimedOut)
}

fn is_connect(causes: &Causes<'_>) -> bool {
    causes.iter().any(|e| {
        e.downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_connect)
            || e.downcast_ref::<hyper_util::client::legacy::Error>()
                .is_some_and(hyper_util::client::legacy::Error::is_connect)
            || e.is::<ConnectFailed>()
    })
}

fn hyper_error<'a>(causes: &Causes<'a>) -> Option<&'a hyper::Error> {
    causes.iter().find_map(|e| e.downcast_ref::<hyper::Error>())
}

fn has_io_kind(causes: &Causes<'_>, kind: std::io::ErrorKind) -> bool {
    causes
        .iter()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == kind)
}

/// Bytes that break HTTP framing. hyper reports a bad head as a parse error, but a bad
/// chunked body (a chunk-size line that is not hex, a missing CRLF) as an `InvalidInput` io
/// error under a body error, so both kinds count.
fn is_invalid_data(causes: &Causes<'_>) -> bool {
    let bad_bytes = has_io_kind(causes, std::io::ErrorKind::InvalidData)
        || has_io_kind(causes, std::io::ErrorKind::InvalidInput);
    bad_bytes && tls_error(causes).is_none()
}

fn tls_error<'a>(causes: &Causes<'a>) -> Option<&'a rustls::Error> {
    causes
        .iter()
        .find_map(|e| e.downcast_ref::<rustls::Error>())
}
