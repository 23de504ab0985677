//! Replies that llmscope itself gives the agent when the upstream gave none it can pass on.
//! They are well-formed HTTP with a JSON error in the agent's dialect, so its SDK raises a
//! typed error naming the cause instead of "connection error".

use http::{header, HeaderValue, Response, StatusCode};

use super::body::{full_body, AgentBody};
use crate::capture::{Failure, FailureClass};
use crate::llm::{error_reply_body, Dialect};

/// Header that marks replies made by llmscope rather than the upstream.
pub const LLMSCOPE_ERROR_HEADER: &str = "x-llmscope-error";

/// The reply for a failure that left the agent without an upstream reply.
pub fn failure_reply(dialect: Dialect, failure: &Failure) -> Response<AgentBody> {
    let status = match failure.class {
        FailureClass::Timeout => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::BAD_GATEWAY,
    };
    let message = format!("llmscope: {}", failure.message);
    json_reply(status, dialect, failure.class.as_str(), &message)
}

/// A reply for a request llmscope refuses itself (too large, unreadable).
pub fn refusal_reply(
    status: StatusCode,
    dialect: Dialect,
    code: &str,
    message: &str,
) -> Response<AgentBody> {
    json_reply(status, dialect, code, &format!("llmscope: {message}"))
}

fn json_reply(
    status: StatusCode,
    dialect: Dialect,
    code: &str,
    message: &str,
) -> Response<AgentBody> {
    let body = error_reply_body(dialect, code, message);
    let mut response = Response::new(full_body(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(value) = HeaderValue::from_str(code) {
        headers.insert(LLMSCOPE_ERROR_HEADER, value);
    }
    response
}
