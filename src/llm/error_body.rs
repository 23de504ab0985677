//! Error bodies: reading the upstream's, and writing llmscope's own in the agent's dialect so
//! that its SDK raises a typed error with a readable message instead of a connection error.

use serde_json::{json, Value};

use super::Dialect;

/// The message of an error object (`{"error": {...}}`, `{"error": "..."}`, Anthropic's
/// `{"type":"error","error":{...}}`), or `None` when the body is not one.
pub fn error_object_message(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let error = value.as_object()?.get("error")?;
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
    let error = value.as_object()?.get("error")?.as_object()?;
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

/// A complete JSON error body in the dialect the agent speaks. `code` is a short machine name
/// such as `malformed_response`.
pub fn error_reply_body(dialect: Dialect, code: &str, message: &str) -> Vec<u8> {
    let value = match dialect {
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
        for dialect in [Dialect::OpenAiChat, Dialect::Anthropic, Dialect::Unknown] {
            let body = error_reply_body(dialect, "connect", "upstream refused the connection");
            assert_eq!(
                error_object_message(&body).as_deref(),
                Some("upstream refused the connection")
            );
        }
        let anthropic: Value =
            serde_json::from_slice(&error_reply_body(Dialect::Anthropic, "x", "m")).unwrap();
        assert_eq!(anthropic["type"], "error");
    }
}
