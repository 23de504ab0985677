//! Replies that llmscope itself gives the agent when the upstream gave none it can pass on.
//! They are well-formed HTTP with a JSON error in the agent's dialect, so its SDK raises a
//! typed error naming the cause instead of "connection error".

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Response, StatusCode};

use super::body::{AgentBody, WholeReply};
use super::retry_loop::Stopped;
use crate::capture::{Failure, FailureClass};
use crate::llm::{error_object_status, error_reply_body, Dialect};

/// Header that marks replies made by llmscope rather than the upstream.
pub const LLMSCOPE_ERROR_HEADER: &str = "x-llmscope-error";

/// The reply for a failure that left the agent without an upstream reply.
pub fn failure_reply(dialect: Dialect, failure: &Failure) -> Response<AgentBody> {
    failure_whole(dialect, failure).response()
}

/// [`failure_reply`], kept whole for a held exchange.
pub fn failure_whole(dialect: Dialect, failure: &Failure) -> WholeReply {
    let status = match failure.class {
        FailureClass::Timeout => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::BAD_GATEWAY,
    };
    let message = format!("llmscope: {}", failure.message);
    json_whole(status, dialect, failure.class.as_str(), &message)
}

/// A 200 whose body is an error object, as the HTTP error it is: SDKs parse a 200 as a
/// success and choke on it (the openai SDK raises `TypeError`), and opencode resends it at
/// once, forever. The status is the one the body names, else 502; the message is the
/// upstream's own.
pub fn error_in_200_reply(dialect: Dialect, body: &[u8], failure: &Failure) -> WholeReply {
    let status = error_object_status(body)
        .and_then(|status| StatusCode::from_u16(status).ok())
        .unwrap_or(StatusCode::BAD_GATEWAY);
    json_whole(status, dialect, failure.class.as_str(), &failure.message)
}

/// llmscope's answer to a repeat it will not send upstream. A 400 with `x-should-retry:
/// false` is what every agent measured and the OpenAI and Anthropic SDKs give up on at once,
/// so the agent prints the reason instead of trying again.
pub fn loop_stopped_reply(dialect: Dialect, stopped: &Stopped) -> WholeReply {
    let code = FailureClass::RetryLoopStopped.as_str();
    let mut reply = json_whole(StatusCode::BAD_REQUEST, dialect, code, &stopped.message());
    reply
        .headers
        .insert("x-should-retry", HeaderValue::from_static("false"));
    reply
}

/// A reply for a request llmscope refuses itself (too large, unreadable).
pub fn refusal_reply(
    status: StatusCode,
    dialect: Dialect,
    code: &str,
    message: &str,
) -> Response<AgentBody> {
    json_whole(status, dialect, code, &format!("llmscope: {message}")).response()
}

fn json_whole(status: StatusCode, dialect: Dialect, code: &str, message: &str) -> WholeReply {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(value) = HeaderValue::from_str(code) {
        headers.insert(LLMSCOPE_ERROR_HEADER, value);
    }
    WholeReply {
        status,
        headers,
        body: Bytes::from(error_reply_body(dialect, status.as_u16(), code, message)),
    }
}
