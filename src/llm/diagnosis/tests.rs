use super::*;

fn kind(status: Option<u16>, message: &str) -> Option<DiagnosisKind> {
    diagnose(status, message).map(|d| d.kind)
}

fn summary(status: Option<u16>, message: &str) -> String {
    diagnose(status, message)
        .map(|d| d.summary)
        .unwrap_or_default()
}

fn context(limit: Option<u64>, requested: Option<u64>) -> Option<DiagnosisKind> {
    Some(DiagnosisKind::ContextLength { limit, requested })
}

#[test]
fn openai_context_overflow_gives_both_token_counts() {
    let message = "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.";
    assert_eq!(
        kind(Some(400), message),
        context(Some(128000), Some(131072))
    );
    assert_eq!(
        summary(Some(400), message),
        "context too long: 131072 tokens requested, limit 128000 — drop older turns or lower max_tokens"
    );
    let requested = "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens (7000 in the messages, 2000 in the completion).";
    assert_eq!(kind(None, requested), context(Some(8192), Some(9000)));
}

#[test]
fn anthropic_context_overflows_give_their_counts() {
    assert_eq!(
        kind(
            Some(400),
            "prompt is too long: 210000 tokens > 200000 maximum"
        ),
        context(Some(200000), Some(210000))
    );
    let with_max_tokens = "input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000, decrease input length or `max_tokens` and try again";
    assert_eq!(
        kind(Some(400), with_max_tokens),
        context(Some(200000), Some(209573))
    );
}

#[test]
fn litellm_context_window_error_is_a_context_overflow() {
    let message = "litellm.ContextWindowExceededError: litellm.BadRequestError: ContextWindowExceededError: OpenAIException - This model's maximum context length is 32768 tokens. However, your messages resulted in 40000 tokens.";
    assert_eq!(kind(Some(400), message), context(Some(32768), Some(40000)));
    assert_eq!(
        summary(Some(400), "litellm.ContextWindowExceededError: too long"),
        "context too long — drop older turns or lower max_tokens"
    );
    assert_eq!(
        kind(Some(400), "code: context_length_exceeded"),
        context(None, None)
    );
}

#[test]
fn output_limit_overflows_say_to_lower_max_tokens() {
    let openai = "max_tokens is too large: 50000. This model supports at most 16384 completion tokens, whereas you provided 50000.";
    assert_eq!(kind(Some(400), openai), context(Some(16384), Some(50000)));
    let anthropic = "max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens for claude-opus-4-8";
    assert_eq!(
        kind(Some(400), anthropic),
        context(Some(64000), Some(100000))
    );
    assert_eq!(
        summary(Some(400), anthropic),
        "max_tokens too large: 100000 tokens requested, limit 64000 — lower max_tokens"
    );
}

#[test]
fn tool_pairing_errors_of_every_upstream_are_recognised() {
    let cases = [
        (
            "messages.1: tool_use ids were found without tool_result blocks immediately after: toolu_01",
            "tool call / tool result mismatch — a tool_use has no matching tool_result",
        ),
        (
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: call_1",
            "tool call / tool result mismatch — a tool call has no tool message answering it",
        ),
        (
            "messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_01. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.",
            "tool call / tool result mismatch — a tool_result answers no tool_use before it",
        ),
        (
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
            "tool call / tool result mismatch — a tool message answers no tool call before it",
        ),
    ];
    for (message, expected) in cases {
        assert_eq!(
            kind(Some(400), message),
            Some(DiagnosisKind::ToolPairing),
            "{message}"
        );
        assert_eq!(summary(Some(400), message), expected);
    }
}

#[test]
fn unsupported_parameters_are_named() {
    let param = |p: &str| {
        Some(DiagnosisKind::UnsupportedParam {
            param: Some(p.to_string()),
        })
    };
    let litellm = "litellm.BadRequestError: OpenAIException - Unrecognized request argument supplied: reasoning_effort\n\nLiteLLM: model group 'gpt' failed with the error above";
    assert_eq!(kind(Some(400), litellm), param("reasoning_effort"));
    assert_eq!(
        summary(Some(400), litellm),
        "unsupported parameter `reasoning_effort` — remove it"
    );
    let openai = "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.";
    assert_eq!(kind(Some(400), openai), param("max_tokens"));
    assert_eq!(kind(Some(400), "Unknown parameter: 'foo'."), param("foo"));
    let unsupported_params = "litellm.UnsupportedParamsError: openai does not support parameters: ['reasoning_effort'], for model=gpt-4o.";
    assert_eq!(
        kind(Some(400), unsupported_params),
        param("reasoning_effort")
    );
    let value = "Unsupported value: 'temperature' does not support 0.7 with this model.";
    assert_eq!(kind(Some(400), value), param("temperature"));
    assert_eq!(
        summary(Some(400), value),
        "unsupported value for `temperature` — change or remove it"
    );
}

#[test]
fn extra_inputs_are_named_by_their_location() {
    let param = |p: &str| {
        Some(DiagnosisKind::UnsupportedParam {
            param: Some(p.to_string()),
        })
    };
    assert_eq!(
        kind(Some(400), "metadata.foo: Extra inputs are not permitted"),
        param("metadata.foo")
    );
    let pydantic = "[{'type': 'extra_forbidden', 'loc': ('body', 'reasoning_effort'), 'msg': 'Extra inputs are not permitted', 'input': 'high'}]";
    assert_eq!(kind(Some(422), pydantic), param("reasoning_effort"));
    let wrapped = r#"litellm.BadRequestError: AnthropicException - {"type":"error","error":{"type":"invalid_request_error","message":"tools.0.custom.eager_input_streaming: Extra inputs are not permitted"}}"#;
    assert_eq!(
        kind(Some(400), wrapped),
        param("tools.0.custom.eager_input_streaming")
    );
    assert_eq!(
        kind(Some(400), "Extra inputs are not permitted"),
        Some(DiagnosisKind::UnsupportedParam { param: None })
    );
}

#[test]
fn invalid_tool_schemas_are_located() {
    let tool = |t: &str| {
        Some(DiagnosisKind::InvalidToolSchema {
            tool: Some(t.to_string()),
        })
    };
    let anthropic = "tools.0.custom.input_schema: JSON schema is invalid. It must match JSON Schema draft 2020-12";
    assert_eq!(kind(Some(400), anthropic), tool("tools.0"));
    assert_eq!(
        summary(Some(400), anthropic),
        "invalid tool schema at tools.0 — fix or drop that tool"
    );
    let openai = "Invalid schema for function 'get_weather': In context=(), 'required' is required to be supplied";
    assert_eq!(kind(Some(400), openai), tool("get_weather"));
    assert_eq!(
        summary(Some(400), openai),
        "invalid tool schema for `get_weather` — fix or drop that tool"
    );
    let indexed = "Invalid 'tools[3].function.parameters': schema must be a JSON Schema of 'type: \"object\"'";
    assert_eq!(kind(Some(400), indexed), tool("tools[3]"));
}

#[test]
fn unknown_models_are_named() {
    let model = |m: &str| {
        Some(DiagnosisKind::UnknownModel {
            model: Some(m.to_string()),
        })
    };
    let litellm = "/chat/completions: Invalid model name passed in model=nope. Call `/v1/models` to view available models for your key.";
    assert_eq!(kind(Some(400), litellm), model("nope"));
    assert_eq!(summary(Some(400), litellm), "unknown model `nope`");
    let openai = "The model `gpt-9` does not exist or you do not have access to it.";
    assert_eq!(kind(Some(404), openai), model("gpt-9"));
    assert_eq!(kind(Some(404), "model: claude-nope"), model("claude-nope"));
    assert_eq!(
        kind(Some(404), "model_not_found"),
        Some(DiagnosisKind::UnknownModel { model: None })
    );
}

#[test]
fn missing_headers_are_named() {
    let header = |h: &str| {
        Some(DiagnosisKind::MissingHeader {
            header: Some(h.to_string()),
        })
    };
    assert_eq!(
        kind(Some(400), "missing x-opencode-session"),
        header("x-opencode-session")
    );
    assert_eq!(
        summary(Some(400), "missing x-opencode-session"),
        "missing header `x-opencode-session` — the upstream requires it; have the agent send it"
    );
    assert_eq!(
        kind(Some(400), "Missing required header: 'X-Tenant-Id'"),
        header("X-Tenant-Id")
    );
    assert_eq!(
        kind(Some(400), "anthropic-version: header is required"),
        header("anthropic-version")
    );
    assert_eq!(
        kind(Some(401), "x-api-key header is required"),
        header("x-api-key")
    );
    assert_eq!(
        kind(Some(400), "missing required parameter: 'messages'"),
        None
    );
}

#[test]
fn auth_failures_are_recognised_by_text_or_status() {
    let auth = Some(DiagnosisKind::Auth);
    assert_eq!(kind(Some(401), "invalid x-api-key"), auth);
    assert_eq!(kind(None, "Incorrect API key provided: sk-abc***. You can find your API key at https://platform.openai.com."), auth);
    assert_eq!(kind(Some(403), "Request not allowed"), auth);
    assert_eq!(
        summary(Some(401), "invalid x-api-key"),
        "authentication failed — check the API key the agent sends"
    );
}

#[test]
fn rate_limits_are_recognised_by_text_or_status() {
    let rate = Some(DiagnosisKind::RateLimit);
    assert_eq!(kind(Some(429), "slow down"), rate);
    assert_eq!(kind(None, "litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached for gpt-4o"), rate);
    assert_eq!(kind(Some(403), "You exceeded your current quota"), rate);
}

#[test]
fn unrelated_messages_and_garbage_give_no_diagnosis() {
    assert_eq!(diagnose(Some(500), "Internal server error"), None);
    assert_eq!(diagnose(Some(400), ""), None);
    assert_eq!(diagnose(None, "missing"), None);
    for garbage in [
        "> > >",
        " > 5",
        "loc'(",
        "'loc' [",
        "tools.",
        "model:",
        "é > 1",
        "missing `",
        "\\",
        "prompt is too long: é > 5",
        "context_length_exceeded ü+1 > 2",
    ] {
        let _ = diagnose(Some(400), garbage);
    }
}

#[test]
fn every_prefix_of_every_known_message_is_safe() {
    let messages = [
        "input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000, decrease",
        "[{'type': 'extra_forbidden', 'loc': ('body', 'reasoning_effort'), 'msg': 'é'}]",
        "Invalid schema for function 'get_weather': In context=()",
        "Missing required header: 'X-Tenant-Id' — ünïcode",
        "prompt is too long: ü 210000 tokens > 200000 maximum",
    ];
    for message in messages {
        for (at, _) in message.char_indices() {
            let _ = diagnose(Some(400), &message[..at]);
        }
    }
}

/// Gemini's own wording, as Gemini CLI users have pasted it from `generativelanguage` and
/// Code Assist replies.
#[test]
fn gemini_errors_are_diagnosed() {
    let context_message =
        "The input token count (1200293) exceeds the maximum number of tokens allowed (1048576).";
    assert_eq!(
        kind(Some(400), context_message),
        context(Some(1048576), Some(1200293))
    );
    assert_eq!(
        kind(
            Some(400),
            "The input token count exceeds the maximum number of tokens allowed (1048576)."
        ),
        context(Some(1048576), None)
    );
    assert_eq!(
        kind(Some(400), "API key not valid. Please pass a valid API key."),
        Some(DiagnosisKind::Auth)
    );
    assert_eq!(
        kind(Some(429), "Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details."),
        Some(DiagnosisKind::RateLimit)
    );
    assert_eq!(
        kind(Some(404), "models/gemini-9-pro is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."),
        Some(DiagnosisKind::UnknownModel { model: Some("gemini-9-pro".into()) })
    );
    assert_eq!(
        kind(Some(400), "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn."),
        Some(DiagnosisKind::ToolPairing)
    );
    assert_eq!(
        kind(
            Some(400),
            "Invalid JSON payload received. Unknown name \"topK\": Cannot find field."
        ),
        Some(DiagnosisKind::UnsupportedParam {
            param: Some("topK".into())
        })
    );
    // UNAVAILABLE says nothing a fix could act on; the banner shows the message itself.
    assert_eq!(
        kind(
            Some(503),
            "The model is overloaded. Please try again later."
        ),
        None
    );
}
