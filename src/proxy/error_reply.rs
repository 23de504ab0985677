//! Replies that llmscope itself gives the agent when the upstream gave none it can pass on.
//! They are well-formed HTTP with a JSON error in the agent's dialect, so its SDK raises a
//! typed error naming the cause instead of "connection error".

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};

use super::body::{full_body, AgentBody};
use super::retry_loop::Stopped;
use crate::capture::{Failure, FailureClass};
use crate::llm::{error_object_status, error_reply_body, Dialect};

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

/// A 200 whose body is an error object, as the HTTP error it is: SDKs parse a 200 as a
/// success and choke on it (the openai SDK raises `TypeError`), and opencode resends it at
/// once, forever. The status is the one the body names, else 502; the message is the
/// upstream's own.
pub fn error_in_200_reply(dialect: Dialect, body: &[u8], failure: &Failure) -> Response<AgentBody> {
    let status = error_object_status(body)
        .and_then(|status| StatusCode::from_u16(status).ok())
        .unwrap_or(StatusCode::BAD_GATEWAY);
    json_reply(status, dialect, failure.class.as_str(), &failure.message)
}

/// llmscope's answer to a repeat it will not send upstream. A 400 with `x-should-retry:
/// false` is what every agent measured and the OpenAI and Anthropic SDKs give up on at once,
/// so the agent prints the reason instead of trying again.
/// Returns the body too, for the record.
pub fn loop_stopped_reply(dialect: Dialect, stopped: &Stopped) -> (Response<AgentBody>, Bytes) {
    let code = FailureClass::RetryLoopStopped.as_str();
    let body = Bytes::from(error_reply_body(dialect, code, &stopped.message()));
    let mut reply = json_response(StatusCode::BAD_REQUEST, code, body.clone());
    reply
        .headers_mut()
        .insert("x-should-retry", HeaderValue::from_static("false"));
    (reply, body)
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
    json_response(
        status,
        code,
        error_reply_body(dialect, code, message).into(),
    )
}

fn json_response(status: StatusCode, code: &str, body: Bytes) -> Response<AgentBody> {
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
