//! The fixes offered for real error texts: the mock's scripted bodies (copied byte for byte
//! from `src/mock/error_bodies.rs`, which keeps them private) and the messages in TRAFFIC.md.

use serde_json::json;

use super::*;
use crate::fix::{suggest_fixes, FixContext};
use crate::llm::{diagnose, error_object_message};

const OPENAI_CONTEXT_LENGTH: &str = r#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#;
const ANTHROPIC_CONTEXT_LENGTH: &str = r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#;
pub(super) const LITELLM_UNRECOGNIZED_ARGUMENT: &str = r#"{"error":{"message":"litellm.BadRequestError: OpenAIException - Unrecognized request argument supplied: stream_options\n\nLiteLLM: model group 'mock-ok' failed with the error above.","type":"invalid_request_error","param":null,"code":"400"}}"#;
pub(super) const LITELLM_INVALID_MODEL: &str = r#"{"error":{"message":"/chat/completions: Invalid model name passed in model=nope. Call `/v1/models` to view available models for your key.","type":"invalid_request_error","param":null,"code":"400"}}"#;
const OPENAI_TOOL_PAIRING: &str = r#"{"error":{"message":"An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'.","type":"invalid_request_error","param":"messages","code":null}}"#;
const ANTHROPIC_TOOL_PAIRING: &str = r#"{"type":"error","error":{"type":"invalid_request_error","message":"messages.1: tool_use ids were found without tool_result blocks immediately after"}}"#;
pub(super) const OPENAI_UNAUTHORIZED: &str = r#"{"error":{"message":"Incorrect API key provided: sk-mock***. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#;
pub(super) const ANTHROPIC_UNAUTHORIZED: &str =
    r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#;
pub(super) const OPENAI_RATE_LIMITED: &str = r#"{"error":{"message":"Rate limit reached for mock-ok in organization org-mock on tokens per min (TPM): Limit 30000, Used 30000, Requested 1200. Please try again in 2.4s.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#;
pub(super) const ANTHROPIC_RATE_LIMITED: &str = r#"{"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed the rate limit for your organization of 30,000 input tokens per minute."}}"#;

/// What the user is offered for an upstream error body.
pub(super) fn offered_for_body(
    status: u16,
    error_body: &str,
    dialect: Dialect,
    body: &Value,
    last_good: Option<&str>,
) -> Vec<QuickFix> {
    let message = error_object_message(error_body.as_bytes()).expect("an error body");
    offered(status, &message, dialect, body, last_good)
}

/// What the user is offered for an upstream error message.
pub(super) fn offered(
    status: u16,
    message: &str,
    dialect: Dialect,
    body: &Value,
    last_good: Option<&str>,
) -> Vec<QuickFix> {
    let diagnosis = diagnose(Some(status), message).expect("a known failure");
    let context = FixContext {
        last_good_model: last_good.map(str::to_string),
        upstream_message: Some(message.to_string()),
    };
    suggest_fixes(
        &diagnosis.kind,
        dialect,
        body.to_string().as_bytes(),
        &context,
    )
}

/// Ten turns of about 4 KB each: every turn is a tenth of the body.
fn long_chat(max_tokens: u64) -> Value {
    let mut messages = vec![json!({"role": "system", "content": "short"})];
    for turn in 0..10 {
        messages.push(user(&format!("{turn}{}", "x".repeat(4000))));
        messages.push(assistant(&"y".repeat(100)));
    }
    json!({"model": "gpt-4o", "messages": messages, "max_tokens": max_tokens})
}

fn drop(turns: usize) -> QuickFix {
    QuickFix::DropOldestTurns { turns }
}

#[test]
fn openai_context_overflow_drops_enough_turns_to_come_under_ninety_percent() {
    // 131072 requested, 115200 wanted: 12% of the body, so two of the ten equal turns.
    let fixes = offered_for_body(
        400,
        OPENAI_CONTEXT_LENGTH,
        Dialect::OpenAiChat,
        &long_chat(4096),
        None,
    );
    assert_eq!(fixes, [drop(2)]);
}

#[test]
fn a_request_far_over_the_limit_drops_all_but_the_last_turn() {
    let message = "This model's maximum context length is 8192 tokens. However, your messages resulted in 40000 tokens.";
    let fixes = offered(400, message, Dialect::OpenAiChat, &long_chat(4096), None);
    assert_eq!(fixes, [drop(9)]);
}

#[test]
fn an_overflow_without_counts_drops_one_turn() {
    let message = "litellm.ContextWindowExceededError: too long";
    assert_eq!(
        offered(400, message, Dialect::OpenAiChat, &long_chat(4096), None),
        [drop(1)]
    );
}

#[test]
fn anthropic_overflow_with_max_tokens_offers_a_smaller_max_tokens_then_turns() {
    let mut body = long_chat(21333);
    body["system"] = json!("You are Claude Code.");
    let message = "input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000, decrease input length or `max_tokens` and try again";
    let fixes = offered(400, message, Dialect::Anthropic, &body, None);
    // The input alone (188240) fits in 200000: a smaller answer budget loses least.
    assert_eq!(fixes, [QuickFix::CapMaxTokens { max: 11760 }, drop(2)]);
    let fixes = offered_for_body(
        400,
        ANTHROPIC_CONTEXT_LENGTH,
        Dialect::Anthropic,
        &body,
        None,
    );
    assert_eq!(fixes, [drop(2)]);
}

#[test]
fn an_output_limit_offers_only_the_cap() {
    let message = "max_tokens is too large: 50000. This model supports at most 16384 completion tokens, whereas you provided 50000.";
    let fixes = offered(400, message, Dialect::OpenAiChat, &long_chat(50000), None);
    assert_eq!(fixes, [QuickFix::CapMaxTokens { max: 16384 }]);
    let mut claude = fixture_body(CLAUDE_CODE);
    claude["max_tokens"] = json!(100000);
    let message = "max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens for claude-opus-4-8";
    let fixes = offered(400, message, Dialect::Anthropic, &claude, None);
    assert_eq!(fixes, [QuickFix::CapMaxTokens { max: 64000 }]);
}

#[test]
fn a_single_turn_fixture_is_offered_no_turn_drop() {
    let opencode = fixture_body(OPENCODE);
    assert!(offered_for_body(
        400,
        OPENAI_CONTEXT_LENGTH,
        Dialect::OpenAiChat,
        &opencode,
        None
    )
    .is_empty());
    let claude = fixture_body(CLAUDE_CODE);
    assert!(offered_for_body(
        400,
        ANTHROPIC_CONTEXT_LENGTH,
        Dialect::Anthropic,
        &claude,
        None
    )
    .is_empty());
}

#[test]
fn tool_pairing_offers_the_repair_the_body_needs() {
    let missing_chat = json!({"messages": [user("go"), chat_calls(&["c1"]), user("well?")]});
    let fixes = offered_for_body(
        400,
        OPENAI_TOOL_PAIRING,
        Dialect::OpenAiChat,
        &missing_chat,
        None,
    );
    // Issue 13: a call with no result may also be dropped, offered after the placeholder.
    let add_or_drop = [
        QuickFix::AddMissingToolResults,
        QuickFix::DropUnansweredToolCalls,
    ];
    assert_eq!(fixes, add_or_drop);

    let missing_anthropic =
        json!({"messages": [user("go"), anthropic_calls(&["t1"]), user("well?")]});
    let fixes = offered_for_body(
        400,
        ANTHROPIC_TOOL_PAIRING,
        Dialect::Anthropic,
        &missing_anthropic,
        None,
    );
    assert_eq!(fixes, add_or_drop);

    let orphan_chat = json!({"messages": [user("go"), chat_result("c9"), user("well?")]});
    let message = "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.";
    assert_eq!(
        offered(400, message, Dialect::OpenAiChat, &orphan_chat, None),
        [QuickFix::RemoveOrphanToolResults]
    );
}

#[test]
fn tool_pairing_with_both_problems_offers_first_the_one_the_message_names() {
    let both = json!({"messages": [user("go"), anthropic_calls(&["t1"]), user("wait"), anthropic_results(&["t1"])]});
    let message = "messages.3.content.0: unexpected `tool_use_id` found in `tool_result` blocks: t1. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.";
    assert_eq!(
        offered(400, message, Dialect::Anthropic, &both, None),
        [
            QuickFix::RemoveOrphanToolResults,
            QuickFix::AddMissingToolResults,
            QuickFix::DropUnansweredToolCalls
        ]
    );
    assert_eq!(
        offered_for_body(400, ANTHROPIC_TOOL_PAIRING, Dialect::Anthropic, &both, None),
        [
            QuickFix::AddMissingToolResults,
            QuickFix::RemoveOrphanToolResults,
            QuickFix::DropUnansweredToolCalls
        ]
    );
    let clean = fixture_body(CLAUDE_CODE);
    assert!(offered_for_body(
        400,
        ANTHROPIC_TOOL_PAIRING,
        Dialect::Anthropic,
        &clean,
        None
    )
    .is_empty());
}

/// Gemini's model is in the path and its settings under `generationConfig`: a body fix made
/// for the other dialects would only trade one 400 for another, so none is offered.
#[test]
fn a_gemini_request_is_offered_no_body_fix() {
    let body = json!({
        "contents": [
            {"role": "user", "parts": [{"text": "old question"}]},
            {"role": "model", "parts": [{"text": "old answer"}]},
            {"role": "user", "parts": [{"text": "new question"}]},
        ],
        "generationConfig": {"temperature": 0, "maxOutputTokens": 65536},
    });
    for message in [
        "The input token count (1200293) exceeds the maximum number of tokens allowed (1048576).",
        "models/gemini-9-pro is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.",
        "Invalid JSON payload received. Unknown name \"topK\": Cannot find field.",
    ] {
        assert!(
            offered(400, message, Dialect::Gemini, &body, Some("gemini-2.5-pro")).is_empty(),
            "{message}"
        );
    }
    let header = offered(
        400,
        "missing required header: x-goog-user-project",
        Dialect::Gemini,
        &body,
        None,
    );
    assert!(
        matches!(&header[..], [QuickFix::AddHeader { name, .. }] if name == "x-goog-user-project"),
        "{header:?}"
    );
}
