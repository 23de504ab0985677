//! Nothing is offered for what a request does not hold: real messages about a field, a
//! tool call, a block the request at hand does not have (a message about another request,
//! or one already fixed).

use llmscope::fix::{suggest_fixes, FixContext};
use llmscope::llm::{diagnose, Dialect};
use serde_json::{json, Value};

fn offered(message: &str, dialect: Dialect, body: &Value) -> usize {
    let diagnosis = diagnose(Some(400), message).expect("a known failure");
    let context = FixContext {
        last_good_model: None,
        upstream_message: Some(message.to_string()),
    };
    suggest_fixes(
        &diagnosis.kind,
        dialect,
        body.to_string().as_bytes(),
        &context,
    )
    .len()
}

#[test]
fn no_fix_is_offered_for_what_the_request_does_not_contain() {
    let chat = json!({"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 9});
    let anthropic = json!({"model": "claude", "max_tokens": 9, "temperature": 1, "messages": [{"role": "user", "content": "hi"}], "tools": [{"name": "t", "input_schema": {"type": "object", "properties": {}}}]});
    let responses = json!({"model": "gpt-5", "input": [{"role": "user", "content": "hi"}], "reasoning": {"effort": "high"}});
    let cases: &[(&str, Dialect, &Value)] = &[
        ("Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", Dialect::OpenAiChat, &chat),
        ("Unsupported parameter: 'reasoning_effort'. In the Responses API, this parameter has moved to 'reasoning.effort'.", Dialect::OpenAiResponses, &responses),
        ("`temperature` and `top_p` cannot both be specified for this model. Please use only one.", Dialect::Anthropic, &anthropic),
        ("tools.0.custom.defer_loading: Extra inputs are not permitted", Dialect::Anthropic, &anthropic),
        ("messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_01AbmHJypDhKqBF7NKdRPJ6d.", Dialect::Anthropic, &anthropic),
        ("No tool output found for function call call_Jix34G.", Dialect::OpenAiResponses, &responses),
        ("A maximum of 4 blocks with cache_control may be provided. Found 5.", Dialect::Anthropic, &anthropic),
        ("messages.1.content.0: When thinking is disabled, an `assistant` message in the final position cannot contain `thinking`.", Dialect::Anthropic, &anthropic),
        (r#"only "auto" is supported for tool_choice"#, Dialect::OpenAiChat, &chat),
        ("messages.0: all messages must have non-empty content except for the optional final assistant message", Dialect::Anthropic, &anthropic),
        ("Invalid schema for function 't': In context=(), object schema missing properties.", Dialect::Anthropic, &anthropic),
    ];
    for (message, dialect, body) in cases {
        assert_eq!(offered(message, *dialect, body), 0, "{message}");
    }
}
