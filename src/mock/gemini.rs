//! Gemini's side of the mock: `GenerateContentResponse` bodies whole and as stream chunks,
//! Google's error objects, `countTokens` and the `GET /v1beta/models` list.
//!
//! The errors carry Gemini's own HTTP statuses, which are not always the behaviour's name: an
//! invalid key is a 400, an unknown model a 404, and an overloaded model a 503 (Gemini has no
//! 529). Their texts are Gemini's as users have reported them (google-gemini/gemini-cli
//! issues #4118, #6678, #14811).

use serde_json::{json, Value};

use super::behavior::MockBehavior;

/// What a Gemini reply says, as the reply plan decided it.
#[derive(Debug, Clone)]
pub(super) struct Turn<'a> {
    pub model: &'a str,
    pub id: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Reported as `cachedContentTokenCount` when not zero.
    pub cached_tokens: u64,
    /// The whole reply text (empty for a function call).
    pub text: &'a str,
    /// A function call's name and JSON arguments, instead of text.
    pub call: Option<(&'a str, &'a str)>,
}

/// The usage of a reply; `cachedContentTokenCount` only when the request named a cache.
pub(super) fn usage(turn: &Turn<'_>) -> Value {
    let (input, output) = (turn.input_tokens, turn.output_tokens);
    let mut usage = json!({
        "promptTokenCount": input,
        "candidatesTokenCount": output,
        "totalTokenCount": input + output,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": input}],
    });
    if turn.cached_tokens > 0 {
        usage["cachedContentTokenCount"] = json!(turn.cached_tokens);
    }
    usage
}

fn parts(turn: &Turn<'_>, text: &str) -> Value {
    match turn.call {
        None => json!([{"text": text}]),
        Some((name, arguments)) => {
            let args: Value = serde_json::from_str(arguments).unwrap_or_else(|_| json!({}));
            json!([{"functionCall": {"name": name, "args": args}}])
        }
    }
}

/// One `GenerateContentResponse`: `finished` adds the finish reason and the whole usage, as
/// Gemini's last chunk (and a whole reply) has them; earlier chunks count the prompt only.
fn response(turn: &Turn<'_>, text: &str, finished: bool) -> Value {
    let mut candidate = json!({
        "content": {"parts": parts(turn, text), "role": "model"},
        "index": 0,
    });
    let usage = if finished {
        // Gemini ends a function call turn with STOP too.
        candidate["finishReason"] = json!("STOP");
        usage(turn)
    } else {
        json!({"promptTokenCount": turn.input_tokens, "totalTokenCount": turn.input_tokens})
    };
    json!({
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": turn.model,
        "responseId": turn.id,
    })
}

/// The reply of `:generateContent`.
pub(super) fn whole_reply(turn: &Turn<'_>) -> Value {
    response(turn, turn.text, true)
}

/// The chunks of `:streamGenerateContent`, text split over `pieces`; a function call comes
/// whole in one chunk, as Gemini sends it.
pub(super) fn stream_chunks(turn: &Turn<'_>, pieces: &[&str]) -> Vec<Value> {
    if turn.call.is_some() {
        return vec![response(turn, "", true)];
    }
    let last = pieces.len().saturating_sub(1);
    pieces
        .iter()
        .enumerate()
        .map(|(at, piece)| response(turn, piece, at == last))
        .collect()
}

/// An SSE event as Gemini frames it (`data:` and CRLFs).
pub(super) fn sse_event(chunk: &Value) -> String {
    format!("data: {chunk}\r\n\r\n")
}

/// `:countTokens`: the prompt's count and nothing else.
pub(super) fn count_tokens(input_tokens: u64) -> Vec<u8> {
    json!({"totalTokens": input_tokens, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": input_tokens}]})
        .to_string()
        .into_bytes()
}

/// `GET /v1beta/models`: the mock's models that answer well, as Gemini lists its own.
pub(super) fn model_list() -> String {
    let good = [
        MockBehavior::Ok,
        MockBehavior::Tool,
        MockBehavior::SlowStream,
    ];
    let models: Vec<Value> = good
        .iter()
        .map(|b| {
            json!({
                "name": format!("models/{}", b.name()),
                "version": "001",
                "displayName": b.name(),
                "inputTokenLimit": 1_048_576,
                "outputTokenLimit": 65_536,
                "supportedGenerationMethods": ["generateContent", "countTokens"],
            })
        })
        .collect();
    json!({"models": models}).to_string()
}

fn google_error(status: u16, name: &str, message: &str) -> Value {
    json!({"error": {"code": status, "message": message, "status": name}})
}

/// The event Gemini streams when it fails after the stream started.
pub(super) fn stream_error_event() -> String {
    sse_event(&google_error(
        503,
        "UNAVAILABLE",
        "The model is overloaded. Please try again later.",
    ))
}

/// Status and body of a behaviour that answers with a plain error, or `None` for the others.
pub(super) fn scripted_error(behavior: MockBehavior, model: &str) -> Option<(u16, String)> {
    let (status, name, message) = match behavior {
        MockBehavior::ContextLength400 => (
            400,
            "INVALID_ARGUMENT",
            "The input token count (1200293) exceeds the maximum number of tokens allowed (1048576).".to_string(),
        ),
        MockBehavior::UnsupportedParam400 => (
            400,
            "INVALID_ARGUMENT",
            "Invalid JSON payload received. Unknown name \"stream_options\": Cannot find field.".to_string(),
        ),
        MockBehavior::InvalidModel400 => (
            404,
            "NOT_FOUND",
            format!("models/{model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."),
        ),
        MockBehavior::ToolPairing400 => (
            400,
            "INVALID_ARGUMENT",
            "Please ensure that function response turn comes immediately after a function call turn.".to_string(),
        ),
        MockBehavior::Unauthorized401 => {
            let mut body = google_error(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
            );
            body["error"]["details"] = json!([{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }]);
            return Some((400, body.to_string()));
        }
        MockBehavior::RateLimited429 => (
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.".to_string(),
        ),
        MockBehavior::ServerError500 => (
            500,
            "INTERNAL",
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting".to_string(),
        ),
        MockBehavior::Overloaded529 => (
            503,
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.".to_string(),
        ),
        _ => return None,
    };
    Some((status, google_error(status, name, &message).to_string()))
}

/// The text of the last `user` content that has any.
pub(super) fn last_user_text(body: &Value) -> Option<String> {
    let contents = body
        .get("contents")
        .or_else(|| body.pointer("/request/contents"))?
        .as_array()?;
    contents
        .iter()
        .rev()
        .filter(|content| {
            content
                .get("role")
                .and_then(Value::as_str)
                .unwrap_or("user")
                == "user"
        })
        .find_map(|content| {
            let text: Vec<&str> = content
                .get("parts")?
                .as_array()?
                .iter()
                .filter_map(|part| part.get("text")?.as_str())
                .collect();
            (!text.is_empty()).then(|| text.join(" "))
        })
}
