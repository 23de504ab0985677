//! Error bodies: reading the upstream's, and writing llmscope's own in the agent's dialect so
//! that its SDK raises a typed error with a readable message instead of a connection error.

use serde_json::{json, Value};

use super::Dialect;

/// The error of a body: its `error` field, also inside the one-element array a Gemini
/// stream asked for without `?alt=sse` fails with (`[{"error": {...}}]`).
fn error_field(value: &Value) -> Option<&Value> {
    let object = match value {
        Value::Array(items) => items.first()?.as_object()?,
        other => other.as_object()?,
    };
    object.get("error")
}

/// The message of an error object (`{"error": {...}}`, `{"error": "..."}`, Anthropic's
/// `{"type":"error","error":{...}}`, Google's `{"error":{"code","message","status"}}`), or
/// `None` when the body is not one.
pub fn error_object_message(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let error = error_field(&value)?;
    match error {
        Value::String(message) => Some(message.clone()),
        Value::Object(fields) => {
            let text = |key: &str| fields.get(key).and_then(Value::as_str).map(str::to_string);
            text("message")
                .or_else(|| text("type"))
                .or_else(|| text("code"))
                .or_else(|| Some(error.to_string()))
        }
        Value::Null | Value::Bool(false) => None,
        other => Some(other.to_string()),
    }
}

/// The HTTP status an error object names for itself: a `code` or `status` that is an HTTP
/// error status (LiteLLM writes `"code": "400"`), or the status Anthropic gives its error
/// `type`. `None` when the object names none, so the caller picks its own.
pub fn error_object_status(body: &[u8]) -> Option<u16> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let error = error_field(&value)?.as_object()?;
    let as_status = |value: &Value| {
        let number = match value {
            Value::Number(n) => n.as_u64()?,
            Value::String(text) => text.trim().parse().ok()?,
            _ => return None,
        };
        let status = u16::try_from(number).ok()?;
        (400..600).contains(&status).then_some(status)
    };
    let named = ["code", "status"]
        .iter()
        .find_map(|key| error.get(*key).and_then(as_status));
    named.or_else(|| match error.get("type").and_then(Value::as_str)? {
        "invalid_request_error" => Some(400),
        "authentication_error" => Some(401),
        "permission_error" => Some(403),
        "not_found_error" => Some(404),
        "request_too_large" => Some(413),
        "rate_limit_error" => Some(429),
        "api_error" => Some(500),
        "overloaded_error" => Some(529),
        _ => None,
    })
}

/// The `google.rpc.Code` name Google's APIs give an HTTP status, which Google's SDKs read
/// alongside the number (`ApiError: 400 INVALID_ARGUMENT`).
fn google_status(status: u16) -> &'static str {
    match status {
        400 | 413 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        502 | 503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ if status >= 500 => "INTERNAL",
        _ => "UNKNOWN",
    }
}

/// Google's error object; `reason` names llmscope's cause where Google puts a machine-readable
/// one, so a client that reads `details` finds it too.
fn google_error(status: u16, code: &str, message: &str) -> Value {
    json!({
        "error": {
            "code": status,
            "message": message,
            "status": google_status(status),
            "details": [{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": code.to_ascii_uppercase(),
                "domain": "llmscope",
            }],
        }
    })
}

/// A complete JSON error body in the dialect the agent speaks, for a reply of HTTP `status`.
/// `code` is a short machine name such as `malformed_response`.
pub fn error_reply_body(dialect: Dialect, status: u16, code: &str, message: &str) -> Vec<u8> {
    let value = match dialect {
        Dialect::Gemini => google_error(status, code, message),
        Dialect::Anthropic => json!({
            "type": "error",
            "error": { "type": "api_error", "message": message },
        }),
        Dialect::OpenAiChat | Dialect::OpenAiResponses | Dialect::Unknown => json!({
            "error": {
                "message": message,
                "type": "llmscope_error",
                "param": null,
                "code": code,
            }
        }),
    };
    value.to_string().into_bytes()
}

/// One SSE event that ends a broken stream in a way the agent's SDK reports as an error.
pub fn stream_error_event(dialect: Dialect, code: &str, message: &str) -> Vec<u8> {
    match dialect {
        Dialect::Gemini => {
            // Google's SDKs throw on a chunk that holds an `error`, with its code and status.
            let status = if code == "timeout" { 504 } else { 502 };
            format!("data: {}\r\n\r\n", google_error(status, code, message)).into_bytes()
        }
        Dialect::Anthropic => {
            let data = json!({"type": "error", "error": {"type": "api_error", "message": message}});
            format!("event: error\ndata: {data}\n\n").into_bytes()
        }
        Dialect::OpenAiResponses => {
            let data = json!({"type": "error", "code": code, "message": message, "param": null});
            format!("event: error\ndata: {data}\n\n").into_bytes()
        }
        Dialect::OpenAiChat | Dialect::Unknown => {
            let data =
                json!({"error": {"message": message, "type": "llmscope_error", "code": code}});
            format!("data: {data}\n\n").into_bytes()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_openai_and_anthropic_errors() {
        let openai = br#"{"error":{"message":"maximum context length is 8192 tokens","code":"context_length_exceeded"}}"#;
        assert_eq!(
            error_object_message(openai).as_deref(),
            Some("maximum context length is 8192 tokens")
        );
        let anthropic = br#"{"type":"error","error":{"type":"invalid_request_error","message":"messages.1: tool_use ids were found without tool_result blocks immediately after"}}"#;
        assert!(error_object_message(anthropic)
            .unwrap_or_default()
            .starts_with("messages.1: tool_use ids"));
        assert_eq!(
            error_object_message(br#"{"error":"plain"}"#).as_deref(),
            Some("plain")
        );
        assert_eq!(error_object_message(br#"{"error":null,"id":1}"#), None);
        assert_eq!(error_object_message(b"[1,2]"), None);
    }

    #[test]
    fn an_error_object_names_its_status_by_code_or_anthropic_type() {
        let litellm =
            br#"{"error":{"message":"quota","type":"invalid_request_error","code":"429"}}"#;
        assert_eq!(error_object_status(litellm), Some(429));
        assert_eq!(
            error_object_status(br#"{"error":{"status":503}}"#),
            Some(503)
        );
        let anthropic =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(error_object_status(anthropic), Some(529));
        // A code that is not an HTTP error status says nothing about the status.
        let named = br#"{"error":{"message":"m","code":"context_length_exceeded"}}"#;
        assert_eq!(error_object_status(named), None);
        assert_eq!(error_object_status(br#"{"error":{"code":200}}"#), None);
        assert_eq!(error_object_status(br#"{"error":"plain"}"#), None);
    }

    #[test]
    fn own_replies_read_back_in_each_dialect() {
        for dialect in [
            Dialect::OpenAiChat,
            Dialect::Anthropic,
            Dialect::Gemini,
            Dialect::Unknown,
        ] {
            let body = error_reply_body(dialect, 502, "connect", "upstream refused the connection");
            assert_eq!(
                error_object_message(&body).as_deref(),
                Some("upstream refused the connection")
            );
        }
        let anthropic: Value =
            serde_json::from_slice(&error_reply_body(Dialect::Anthropic, 502, "x", "m")).unwrap();
        assert_eq!(anthropic["type"], "error");
    }

    #[test]
    fn gemini_errors_read_and_are_written_in_googles_shape() {
        let context = br#"{"error":{"code":400,"message":"The input token count (1200293) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}}"#;
        assert_eq!(
            error_object_message(context).as_deref(),
            Some("The input token count (1200293) exceeds the maximum number of tokens allowed (1048576).")
        );
        assert_eq!(error_object_status(context), Some(400));
        // A stream asked for as a JSON array fails as an array of one error.
        let array = br#"[{"error":{"code":429,"message":"Resource exhausted. Please try again later.","status":"RESOURCE_EXHAUSTED"}}]"#;
        assert_eq!(
            error_object_message(array).as_deref(),
            Some("Resource exhausted. Please try again later.")
        );
        assert_eq!(error_object_status(array), Some(429));

        let own: Value = serde_json::from_slice(&error_reply_body(
            Dialect::Gemini,
            504,
            "timeout",
            "llmscope: the upstream sent nothing for 600 s",
        ))
        .unwrap();
        assert_eq!(own["error"]["code"], 504);
        assert_eq!(own["error"]["status"], "DEADLINE_EXCEEDED");
        assert_eq!(own["error"]["details"][0]["reason"], "TIMEOUT");
        let stopped: Value =
            serde_json::from_slice(&error_reply_body(Dialect::Gemini, 400, "x", "m")).unwrap();
        assert_eq!(stopped["error"]["status"], "INVALID_ARGUMENT");
        let event = String::from_utf8(stream_error_event(Dialect::Gemini, "reset", "cut")).unwrap();
        assert!(event.starts_with("data: {"), "{event}");
        assert!(event.contains(r#""status":"UNAVAILABLE""#), "{event}");
    }
}
