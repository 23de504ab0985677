//! Decoders: read the request and reply bodies of the three LLM dialects into
//! [`DecodedRequest`] and [`DecodedResponse`]. Total by design — any bytes in, `None` or a
//! partial reading out, never a panic — because they run on whatever an upstream or an agent
//! happens to send.

mod anthropic;
mod assembler;
mod fields;
mod gemini;
mod json;
mod openai_chat;
mod openai_responses;
mod stream_state;
mod usage;

#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
mod gemini_tests;

pub use assembler::ResponseAssembler;
pub use usage::reply_usage;

use self::json::Json;
use super::{error_object_message, DecodedRequest, DecodedResponse, Dialect};

/// Reads a request body as a call in `dialect`. `None` for an unknown dialect or a body that
/// is not a JSON object; fields of unexpected types read as empty.
pub fn decode_request(dialect: Dialect, body: &[u8]) -> Option<DecodedRequest> {
    let read_field: fn(&mut DecodedRequest, &str, &Json) -> bool = match dialect {
        Dialect::OpenAiChat => openai_chat::request_field,
        Dialect::OpenAiResponses => openai_responses::request_field,
        Dialect::Anthropic => anthropic::request_field,
        Dialect::Gemini => gemini::request_field,
        Dialect::Unknown => return None,
    };
    let root = Json::parse(body)?;
    let Json::Object(fields) = &root else {
        return None;
    };
    let mut request = DecodedRequest {
        dialect,
        ..DecodedRequest::default()
    };
    for (name, value) in fields {
        match name.as_str() {
            "model" => request.model = model_name(value),
            "stream" => request.stream = value.is_true(),
            _ if read_field(&mut request, name, value) => {}
            _ => request.params.push((name.clone(), value.to_string())),
        }
    }
    Some(request)
}

/// Reads a reply body: a whole JSON answer, or an SSE stream (by content type, or by a body
/// that starts like one) assembled from its deltas.
pub fn decode_response(
    dialect: Dialect,
    content_type: Option<&str>,
    body: &[u8],
) -> Option<DecodedResponse> {
    if dialect == Dialect::Unknown {
        return None;
    }
    if is_event_stream(content_type, body) {
        let mut assembler = ResponseAssembler::new(dialect);
        assembler.push(body);
        assembler.finish();
        return Some(assembler.snapshot());
    }
    let root = Json::parse(body)?;
    if dialect == Dialect::Gemini {
        if let Json::Array(chunks) = &root {
            return Some(gemini_array_stream(chunks));
        }
    }
    if !matches!(root, Json::Object(_)) {
        return None;
    }
    let mut response = match dialect {
        Dialect::OpenAiChat => openai_chat::read_response(&root),
        Dialect::OpenAiResponses => openai_responses::read_response(&root),
        Dialect::Anthropic => anthropic::read_response(&root),
        Dialect::Gemini => gemini::read_response(&root),
        Dialect::Unknown => return None,
    };
    if root.get("error").is_some() {
        response.error = error_object_message(body);
    }
    Some(response)
}

/// `:streamGenerateContent` without `?alt=sse`: the chunks come as the elements of one JSON
/// array, read like the events of a stream.
fn gemini_array_stream(chunks: &[Json]) -> DecodedResponse {
    let mut state = stream_state::StreamState::default();
    for chunk in chunks {
        if let Some(message) = chunk.get("error").and_then(|error| error.str("message")) {
            state.note_error(message.to_string());
        }
        gemini::apply_chunk(&mut state, chunk);
    }
    state.response.stream_events = Some(chunks.len() as u64);
    state.response
}

/// Gateways are not reliable about the content type of a stream, so a body that begins with
/// an SSE field (or an SSE comment, as OpenRouter's keep-alives are) counts as one too.
fn is_event_stream(content_type: Option<&str>, body: &[u8]) -> bool {
    let declared = content_type.is_some_and(|value| {
        value
            .to_ascii_lowercase()
            .trim_start()
            .starts_with("text/event-stream")
    });
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&[][..], |at| &body[at..]);
    // A JSON object is never a stream, whatever the header says: gateways send JSON error
    // bodies under the stream's content type.
    if start.starts_with(b"{") {
        return false;
    }
    declared
        || start.starts_with(b"data:")
        || start.starts_with(b"event:")
        || start.starts_with(b":")
}

/// `model` as a string; anything else but null as its JSON, like [`super::request_model`].
fn model_name(value: &Json) -> Option<String> {
    match value {
        Json::Null => None,
        Json::String(model) => Some(model.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_dialect_and_non_objects_decode_to_nothing() {
        assert_eq!(decode_request(Dialect::Unknown, br#"{"model":"m"}"#), None);
        assert_eq!(decode_request(Dialect::OpenAiChat, b"[1]"), None);
        assert_eq!(decode_request(Dialect::Anthropic, b""), None);
        assert_eq!(
            decode_response(Dialect::Unknown, None, br#"{"id":1}"#),
            None
        );
        assert_eq!(
            decode_response(Dialect::OpenAiChat, None, b"\"text\""),
            None
        );
    }

    #[test]
    fn streams_are_recognised_by_content_type_or_by_their_first_bytes() {
        assert!(is_event_stream(
            Some("Text/Event-Stream; charset=utf-8"),
            b""
        ));
        assert!(is_event_stream(None, b"\n\ndata: {}"));
        assert!(is_event_stream(Some("application/json"), b"event: ping\n"));
        assert!(is_event_stream(None, b": OPENROUTER PROCESSING\n\n"));
        assert!(!is_event_stream(Some("application/json"), br#"{"data":1}"#));
        assert!(!is_event_stream(
            Some("text/event-stream"),
            br#" {"error":"x"}"#
        ));
    }

    #[test]
    fn error_bodies_fill_the_error_in_every_dialect() {
        let openai =
            br#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}"#;
        let anthropic =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        let read =
            |dialect, body: &[u8]| decode_response(dialect, None, body).and_then(|r| r.error);
        assert_eq!(
            read(Dialect::OpenAiChat, openai).as_deref(),
            Some("Incorrect API key provided")
        );
        assert_eq!(
            read(Dialect::OpenAiResponses, openai).as_deref(),
            Some("Incorrect API key provided")
        );
        assert_eq!(
            read(Dialect::Anthropic, anthropic).as_deref(),
            Some("Overloaded")
        );
        assert_eq!(
            read(Dialect::OpenAiResponses, br#"{"output":[],"error":null}"#),
            None
        );
    }

    #[test]
    fn other_fields_stay_params_in_body_order_with_nested_order_kept() {
        let body = br#"{"temperature":0.2,"model":"m","stream":true,"z_last":{"b":1,"a":2},"max_tokens":5}"#;
        let request = decode_request(Dialect::OpenAiChat, body).unwrap();
        assert_eq!(request.model.as_deref(), Some("m"));
        assert!(request.stream);
        let params: Vec<(&str, &str)> = request
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            params,
            [
                ("temperature", "0.2"),
                ("z_last", r#"{"b":1,"a":2}"#),
                ("max_tokens", "5")
            ]
        );
    }
}
