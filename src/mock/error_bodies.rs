//! The scripted error replies, byte for byte as the providers and gateways send them (see
//! TRAFFIC.md), so that llmscope's classifier and diagnosis are tested against real wording.
//! Only the parts in `{braces}` are filled in from the request.

use crate::llm::Dialect;

use super::behavior::MockBehavior;
use super::gemini;

const OPENAI_CONTEXT_LENGTH: &str = r#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#;
const ANTHROPIC_CONTEXT_LENGTH: &str = r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#;

/// LiteLLM answers in OpenAI's shape whatever route was called.
const LITELLM_UNRECOGNIZED_ARGUMENT: &str = r#"{"error":{"message":"litellm.BadRequestError: OpenAIException - Unrecognized request argument supplied: stream_options\n\nLiteLLM: model group '{model}' failed with the error above.","type":"invalid_request_error","param":null,"code":"400"}}"#;
const LITELLM_INVALID_MODEL: &str = r#"{"error":{"message":"{route}: Invalid model name passed in model={model}. Call `/v1/models` to view available models for your key.","type":"invalid_request_error","param":null,"code":"400"}}"#;

const OPENAI_TOOL_PAIRING: &str = r#"{"error":{"message":"An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'.","type":"invalid_request_error","param":"messages","code":null}}"#;
const ANTHROPIC_TOOL_PAIRING: &str = r#"{"type":"error","error":{"type":"invalid_request_error","message":"messages.1: tool_use ids were found without tool_result blocks immediately after"}}"#;

const OPENAI_UNAUTHORIZED: &str = r#"{"error":{"message":"Incorrect API key provided: sk-mock***. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#;
const ANTHROPIC_UNAUTHORIZED: &str =
    r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#;

const OPENAI_RATE_LIMITED: &str = r#"{"error":{"message":"Rate limit reached for {model} in organization org-mock on tokens per min (TPM): Limit 30000, Used 30000, Requested 1200. Please try again in 2.4s.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#;
const ANTHROPIC_RATE_LIMITED: &str = r#"{"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed the rate limit for your organization of 30,000 input tokens per minute."}}"#;

const OPENAI_SERVER_ERROR: &str = r#"{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}"#;
const ANTHROPIC_SERVER_ERROR: &str =
    r#"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#;

/// 529 is Anthropic's; behind an OpenAI-shaped gateway it arrives in OpenAI's shape.
const OPENAI_OVERLOADED: &str = r#"{"error":{"message":"Overloaded","type":"overloaded_error","param":null,"code":"overloaded"}}"#;
const ANTHROPIC_OVERLOADED: &str =
    r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;

/// Some gateways wrap a provider failure in a 200; SDKs then crash on the missing fields.
pub(super) const ERROR_IN_200: &str = r#"{"error":{"message":"Upstream provider returned an error: quota exhausted","type":"provider_error","code":"quota"}}"#;

/// The event a provider sends when it fails after the stream started.
pub(super) fn stream_error_event(dialect: Dialect) -> String {
    match dialect {
        Dialect::Gemini => gemini::stream_error_event(),
        Dialect::Anthropic => format!("event: error\ndata: {ANTHROPIC_OVERLOADED}\n\n"),
        Dialect::OpenAiResponses => "event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"The server had an error while processing your request. Sorry about that!\",\"param\":null}\n\n".to_string(),
        Dialect::OpenAiChat | Dialect::Unknown => format!("data: {OPENAI_SERVER_ERROR}\n\n"),
    }
}

/// Status and body of a behaviour that answers with a plain error, or `None` for the others.
pub(super) fn scripted_error(
    behavior: MockBehavior,
    dialect: Dialect,
    model: &str,
) -> Option<(u16, String)> {
    if dialect == Dialect::Gemini && behavior != MockBehavior::ErrorIn200 {
        return gemini::scripted_error(behavior, model);
    }
    let anthropic = dialect == Dialect::Anthropic;
    let pick = |anthropic_body: &'static str, openai_body: &'static str| {
        if anthropic {
            anthropic_body
        } else {
            openai_body
        }
    };
    let (status, template) = match behavior {
        MockBehavior::ContextLength400 => {
            (400, pick(ANTHROPIC_CONTEXT_LENGTH, OPENAI_CONTEXT_LENGTH))
        }
        MockBehavior::UnsupportedParam400 => (400, LITELLM_UNRECOGNIZED_ARGUMENT),
        MockBehavior::InvalidModel400 => (400, LITELLM_INVALID_MODEL),
        MockBehavior::ToolPairing400 => (400, pick(ANTHROPIC_TOOL_PAIRING, OPENAI_TOOL_PAIRING)),
        MockBehavior::Unauthorized401 => (401, pick(ANTHROPIC_UNAUTHORIZED, OPENAI_UNAUTHORIZED)),
        MockBehavior::RateLimited429 => (429, pick(ANTHROPIC_RATE_LIMITED, OPENAI_RATE_LIMITED)),
        MockBehavior::ServerError500 => (500, pick(ANTHROPIC_SERVER_ERROR, OPENAI_SERVER_ERROR)),
        MockBehavior::Overloaded529 => (529, pick(ANTHROPIC_OVERLOADED, OPENAI_OVERLOADED)),
        MockBehavior::ErrorIn200 => (200, ERROR_IN_200),
        _ => return None,
    };
    let body = template
        .replace("{model}", &json_string_content(model))
        .replace("{route}", litellm_route(dialect));
    Some((status, body))
}

/// The route name LiteLLM puts in front of its invalid-model message.
fn litellm_route(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::OpenAiChat | Dialect::Gemini | Dialect::Unknown => "/chat/completions",
        Dialect::OpenAiResponses => "/responses",
        Dialect::Anthropic => "/v1/messages",
    }
}

/// `text` escaped for use inside a JSON string literal, so a strange model name cannot break
/// the body.
fn json_string_content(text: &str) -> String {
    let quoted = serde_json::Value::String(text.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::error_object_message;

    #[test]
    fn every_scripted_error_is_json_with_a_message() {
        for behavior in MockBehavior::ALL {
            for dialect in [
                Dialect::OpenAiChat,
                Dialect::OpenAiResponses,
                Dialect::Anthropic,
                Dialect::Gemini,
            ] {
                if let Some((_, body)) = scripted_error(*behavior, dialect, "we\"ird") {
                    let message = error_object_message(body.as_bytes());
                    assert!(message.is_some(), "{behavior:?} {dialect:?}: {body}");
                }
            }
        }
    }

    #[test]
    fn invalid_model_names_the_requested_model() {
        let (status, body) =
            scripted_error(MockBehavior::InvalidModel400, Dialect::OpenAiChat, "nope").unwrap();
        assert_eq!(status, 400);
        assert_eq!(
            error_object_message(body.as_bytes()).unwrap(),
            "/chat/completions: Invalid model name passed in model=nope. Call `/v1/models` to view available models for your key."
        );
    }

    #[test]
    fn unrecognized_argument_keeps_litellm_line_breaks() {
        let (_, body) =
            scripted_error(MockBehavior::UnsupportedParam400, Dialect::Anthropic, "m").unwrap();
        let message = error_object_message(body.as_bytes()).unwrap();
        assert!(message.contains(
            "Unrecognized request argument supplied: stream_options\n\nLiteLLM: model group 'm'"
        ));
    }
}
