//! Diagnosis of the families read by `families.rs`, on messages from public issue trackers.

use super::*;

fn kind(message: &str) -> Option<DiagnosisKind> {
    diagnose(Some(400), message).map(|d| d.kind)
}

#[test]
fn refused_tool_choices_are_recognised_in_several_wordings() {
    for message in [
        r#"only "auto" is supported for tool_choice"#,
        "deepseek-reasoner does not support this tool_choice",
        "<400> InternalError.Algo.InvalidParameter: The tool_choice parameter does not support being set to required or object in thinking mode",
        "Thinking may not be enabled when tool_choice forces tool use.",
    ] {
        assert_eq!(kind(message), Some(DiagnosisKind::UnsupportedToolChoice), "{message}");
    }
}

#[test]
fn conflicting_parameters_are_named_inside_wrappers() {
    let params = |names: &[&str]| {
        Some(DiagnosisKind::ConflictingParams {
            params: names.iter().map(|n| n.to_string()).collect(),
        })
    };
    let plain =
        "`temperature` and `top_p` cannot both be specified for this model. Please use only one.";
    assert_eq!(kind(plain), params(&["temperature", "top_p"]));
    let litellm = r#"litellm.BadRequestError: BedrockException - {"message":"The model returned the following errors: `temperature` and `top_p` cannot both be specified for this model. Please use only one."}"#;
    assert_eq!(kind(litellm), params(&["temperature", "top_p"]));
    assert_eq!(kind("x cannot both be specified"), None);
}

#[test]
fn thinking_cache_and_empty_content_families_are_recognised() {
    let thinking = "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `text`. When `thinking` is enabled, a final `assistant` message must start with a thinking block";
    assert_eq!(kind(thinking), Some(DiagnosisKind::ThinkingBlocks));
    let disabled = "messages.1.content.0: When thinking is disabled, an `assistant` message in the final position cannot contain `thinking`.";
    assert_eq!(kind(disabled), Some(DiagnosisKind::ThinkingBlocks));
    let cache = "A maximum of 4 blocks with cache_control may be provided. Found 5.";
    assert_eq!(
        kind(cache),
        Some(DiagnosisKind::TooManyCacheControl { max: Some(4) })
    );
    let empty =
        "messages.0: all messages must have non-empty content except for the optional final assistant message";
    assert_eq!(kind(empty), Some(DiagnosisKind::EmptyContent));
    for message in [
        "messages: text content blocks must be non-empty",
        "messages: text content blocks must contain non-whitespace text",
    ] {
        assert_eq!(
            kind(message),
            Some(DiagnosisKind::EmptyContent),
            "{message}"
        );
    }
}

#[test]
fn responses_and_backticked_pairing_errors_are_tool_pairing() {
    for message in [
        "No tool output found for function call call_q1w2e3.",
        "No tool call found for function call output with call_id call_TnakLSVsqtVt5cJssAhRwMoe.",
        "messages.6: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_01AbmHJypDhKqBF7NKdRPJ6d.",
    ] {
        assert_eq!(kind(message), Some(DiagnosisKind::ToolPairing), "{message}");
    }
}

#[test]
fn messages_wrapped_by_gateways_are_read_inside_their_wrappers() {
    // OpenRouter passes the provider's body on as an escaped string (tailcallhq/forgecode#1359).
    let openrouter = r#"{"message":"Provider returned error","metadata":{"raw":"{\n  \"error\": {\n    \"message\": \"Invalid schema for function 'mcp_codex_data_tool_get_networks': In context=(), object schema missing properties.\",\n    \"type\": \"invalid_request_error\",\n    \"param\": \"tools[5].parameters\"\n  }\n}","provider_name":"OpenAI"}}"#;
    assert_eq!(
        kind(openrouter),
        Some(DiagnosisKind::InvalidToolSchema {
            tool: Some("mcp_codex_data_tool_get_networks".into())
        })
    );
    // tailcallhq/forgecode#1195, the same wrapper around Anthropic's thinking rule.
    let thinking = r#"{"error":{"message":"Provider returned error","code":400,"metadata":{"raw":"{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"messages.11.content.0: When thinking is disabled, an `assistant` message in the final position cannot contain `thinking`. To use thinking blocks, enable `thinking` in your request.\"}}","provider_name":"Google"}},"code":400}"#;
    assert_eq!(kind(thinking), Some(DiagnosisKind::ThinkingBlocks));
    // LiteLLM around a Python SDK's own refusal (BerriAI/litellm#8217).
    let litellm = "litellm.APIError: APIError: OpenAIException - AsyncCompletions.create() got an unexpected keyword argument 'reasoning_effort'No fallback model group found for original model_group=openai/o3-mini. Fallbacks=[]\nReceived Model Group=openai/o3-mini\nAvailable Model Group Fallbacks=None";
    assert_eq!(
        kind(litellm),
        Some(DiagnosisKind::UnsupportedParam {
            param: Some("reasoning_effort".into())
        })
    );
}

#[test]
fn every_prefix_of_the_family_messages_is_safe() {
    let messages = [
        "`tempé` and `top_p` cannot both be specified for this model",
        "A maximum of 4 blocks with cache_control may be provided. Found ü5.",
        r#"only "auto" is supported for tool_choice — ü"#,
        "messages.13.content.0.thinking.cache_control: Extra inputs are not permitted é",
        "*.cache_control: Extra inputs are not permitted",
    ];
    for message in messages {
        for (at, _) in message.char_indices() {
            let _ = diagnose(Some(400), &message[..at]);
        }
    }
}
