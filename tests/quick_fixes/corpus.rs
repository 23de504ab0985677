//! The real-world 400s the quick fixes are judged on, across the three dialects. Each case
//! names where its wording was collected; the mock (`src/mock/validate_checks.rs`) sends that
//! wording, filling in only ids, counts and names from the request.

use llmscope::llm::Dialect;
use serde_json::{json, Value};

use super::Case;

fn case(source: &'static str, check: &'static str, dialect: Dialect, body: Value) -> Case {
    Case {
        source,
        check,
        dialect,
        body,
        limit: None,
        last_good_model: None,
    }
}

fn limited(mut case: Case, limit: u64) -> Case {
    case.limit = Some(limit);
    case
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

fn assistant(text: &str) -> Value {
    json!({"role": "assistant", "content": text})
}

/// A chat (or Anthropic string-content) conversation of `turns` turns of about 400 bytes.
fn long_conversation(turns: usize) -> Vec<Value> {
    (0..turns)
        .flat_map(|turn| {
            [
                user(&format!("question {turn}: {}", "q".repeat(180))),
                assistant(&format!("answer {turn}: {}", "a".repeat(180))),
            ]
        })
        .chain([user("and now?")])
        .collect()
}

fn chat(extra: Value) -> Value {
    let mut body = json!({"model": "gpt-5", "messages": [user("hi")]});
    merge(&mut body, extra);
    body
}

fn anthropic(extra: Value) -> Value {
    let mut body = json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "messages": [user("hi")],
    });
    merge(&mut body, extra);
    body
}

fn responses(extra: Value) -> Value {
    let mut body = json!({"model": "gpt-5", "input": [{"role": "user", "content": "hi"}]});
    merge(&mut body, extra);
    body
}

fn merge(body: &mut Value, extra: Value) {
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
}

fn tools_chat() -> Value {
    json!([{"type": "function", "function": {"name": "read", "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}])
}

fn tools_anthropic() -> Value {
    json!([{"name": "search", "description": "Search the web", "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}}}])
}

fn chat_cases() -> Vec<Case> {
    let chat_call = json!({"role": "assistant", "content": null, "tool_calls": [{"id": "call_q1w2e3", "type": "function", "function": {"name": "read", "arguments": "{}"}}]});
    let mut model_none = case(
        "forpublicai/platform.publicai.co#6 (LiteLLM proxy)",
        "model-none",
        Dialect::OpenAiChat,
        json!({"messages": [user("hi")]}),
    );
    model_none.last_good_model = Some("gpt-4o");
    vec![
        case(
            "teilomillet/gollm#33 (OpenAI o1/o3-mini)",
            "max-tokens-renamed",
            Dialect::OpenAiChat,
            chat(json!({"max_tokens": 1024})),
        ),
        case(
            "enoch3712/ExtractThinker#327 (LiteLLM wrapping OpenAI)",
            "max-tokens-renamed-litellm",
            Dialect::OpenAiChat,
            chat(json!({"max_tokens": 1024})),
        ),
        case(
            "diffbot/code-gpt-docs#445 (OpenAI gpt-5)",
            "temperature-default-only",
            Dialect::OpenAiChat,
            chat(json!({"temperature": 0.5})),
        ),
        case(
            "skydiscover-ai/skydiscover#15 (LiteLLM wrapping Bedrock)",
            "temperature-top-p-litellm",
            Dialect::OpenAiChat,
            chat(json!({"temperature": 0.7, "top_p": 0.9})),
        ),
        case(
            "OpenAI chat, mock TRAFFIC.md wording",
            "tool-pairing",
            Dialect::OpenAiChat,
            chat(json!({"messages": [user("read it"), chat_call, user("well?")]})),
        ),
        case(
            "OpenAI chat (\"preceeding\" as OpenAI spells it)",
            "tool-pairing",
            Dialect::OpenAiChat,
            chat(
                json!({"messages": [user("go"), {"role": "tool", "tool_call_id": "call_gone", "content": "42"}, user("well?")]}),
            ),
        ),
        limited(
            case(
                "kaixindelele/ChatPaper#91 (OpenAI)",
                "context-messages",
                Dialect::OpenAiChat,
                chat(json!({"messages": long_conversation(12)})),
            ),
            1000,
        ),
        limited(
            case(
                "fjrdomingues/autopilot#177 (OpenAI)",
                "context-completion",
                Dialect::OpenAiChat,
                chat(json!({"messages": long_conversation(4), "max_tokens": 600})),
            ),
            1000,
        ),
        limited(
            case(
                "kortix-ai/suna#172 (LiteLLM wrapping Anthropic's bytes)",
                "context-budget-litellm",
                Dialect::OpenAiChat,
                chat(json!({"messages": long_conversation(4), "max_tokens": 600})),
            ),
            1000,
        ),
        case(
            "llmscope issue 13 (a real OpenAI-chat gateway)",
            "tool-choice-auto-only",
            Dialect::OpenAiChat,
            chat(json!({"tools": tools_chat(), "tool_choice": "required"})),
        ),
        case(
            "cloudwego/eino#994 (Qwen on DashScope, thinking mode)",
            "tool-choice-thinking-mode",
            Dialect::OpenAiChat,
            chat(
                json!({"tools": tools_chat(), "tool_choice": {"type": "function", "function": {"name": "read"}}}),
            ),
        ),
        case(
            "karakeep-app/karakeep#1696 (OpenAI, MCP tool without parameters)",
            "schema-missing-properties",
            Dialect::OpenAiChat,
            chat(
                json!({"tools": [{"type": "function", "function": {"name": "karakeep-get-lists", "parameters": {"type": "object"}}}]}),
            ),
        ),
        model_none,
        case(
            "openai/openai-agents-python#1023 (OpenAI strict function schema)",
            "schema-strict",
            Dialect::OpenAiChat,
            chat(
                json!({"tools": [{"type": "function", "function": {"name": "process_user", "strict": true, "parameters": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}}]}),
            ),
        ),
        limited(
            case(
                "refly-ai/refly#1177 (OpenRouter)",
                "context-openrouter",
                Dialect::OpenAiChat,
                chat(json!({"messages": long_conversation(12)})),
            ),
            1000,
        ),
    ]
}

fn responses_cases() -> Vec<Case> {
    let input: Vec<Value> = long_conversation(4);
    vec![
        limited(
            case(
                "onyx-dot-app/onyx#6051 (OpenAI Responses, gpt-5)",
                "context-window",
                Dialect::OpenAiResponses,
                responses(json!({ "input": input })),
            ),
            450,
        ),
        case(
            "lobehub/lobehub#8116 (OpenAI Responses)",
            "reasoning-effort-moved",
            Dialect::OpenAiResponses,
            responses(json!({"reasoning_effort": "high"})),
        ),
        case(
            "sourcebot-dev/sourcebot#454 (OpenAI gpt-5, AI SDK)",
            "temperature-unsupported",
            Dialect::OpenAiResponses,
            responses(json!({"temperature": 0.2})),
        ),
        case(
            "jlcodes99/cockpit-tools#1234 (OpenAI Responses)",
            "tool-pairing",
            Dialect::OpenAiResponses,
            responses(json!({"input": [
                {"role": "user", "content": "read it"},
                {"type": "function_call", "call_id": "call_Jix34G", "name": "read", "arguments": "{}"},
                {"role": "user", "content": "well?"},
            ]})),
        ),
        case(
            "microsoft/vscode#320060 (OpenAI Responses)",
            "tool-pairing",
            Dialect::OpenAiResponses,
            responses(json!({"input": [
                {"role": "user", "content": "read it"},
                {"type": "function_call_output", "call_id": "call_TnakLSVsqtVt5cJssAhRwMoe", "output": "42"},
                {"role": "user", "content": "well?"},
            ]})),
        ),
    ]
}

fn anthropic_cases() -> Vec<Case> {
    let tool_use = json!({"role": "assistant", "content": [{"type": "text", "text": "Reading."}, {"type": "tool_use", "id": "toolu_01AbmHJypDhKqBF7NKdRPJ6d", "name": "search", "input": {}}]});
    let orphan = json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_019ETtGZEhTBXgWPVsdVnXMh", "content": "42"}, {"type": "text", "text": "OK, any progress?"}]});
    let thinking = json!({"type": "enabled", "budget_tokens": 2048});
    let result = json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01AbmHJypDhKqBF7NKdRPJ6d", "content": "42"}]});
    let cached =
        |text: &str| json!({"type": "text", "text": text, "cache_control": {"type": "ephemeral"}});
    let mut cached_tools = tools_anthropic();
    cached_tools[0]["cache_control"] = json!({"type": "ephemeral"});
    vec![
        case(
            "anthropics/claude-code#5060 (Anthropic)",
            "tool-pairing",
            Dialect::Anthropic,
            anthropic(
                json!({"tools": tools_anthropic(), "messages": [user("search"), tool_use.clone(), user("continue")]}),
            ),
        ),
        case(
            "anthropics/claude-code#13460 (Anthropic)",
            "tool-pairing",
            Dialect::Anthropic,
            anthropic(json!({"messages": [user("go"), assistant("Done."), orphan]})),
        ),
        case(
            "langfuse/langfuse#9882 (Anthropic, Claude Sonnet 4.5)",
            "temperature-top-p",
            Dialect::Anthropic,
            anthropic(json!({"temperature": 0.7, "top_p": 0.9})),
        ),
        limited(
            case(
                "continuedev/continue#6080 (Anthropic)",
                "context-budget",
                Dialect::Anthropic,
                anthropic(json!({"messages": long_conversation(4), "max_tokens": 600})),
            ),
            1000,
        ),
        limited(
            case(
                "Effect-TS/effect#7129 (Anthropic, output limit)",
                "output-limit",
                Dialect::Anthropic,
                anthropic(json!({"max_tokens": 9999999})),
            ),
            128000,
        ),
        case(
            "deepseek-ai/awesome-deepseek-integration#598 (DeepSeek's Anthropic API)",
            "tool-choice-deepseek",
            Dialect::Anthropic,
            anthropic(
                json!({"tools": tools_anthropic(), "tool_choice": {"type": "tool", "name": "search"}}),
            ),
        ),
        case(
            "mastra-ai/mastra#7507 (Anthropic)",
            "thinking-forced-tool",
            Dialect::Anthropic,
            anthropic(
                json!({"max_tokens": 4096, "thinking": thinking, "tools": tools_anthropic(), "tool_choice": {"type": "any"}}),
            ),
        ),
        case(
            "n8n-io/n8n#22550 (Anthropic, Opus 4.5)",
            "thinking-first-block",
            Dialect::Anthropic,
            anthropic(
                json!({"max_tokens": 4096, "thinking": thinking, "tools": tools_anthropic(), "messages": [user("search"), tool_use, result]}),
            ),
        ),
        case(
            "tailcallhq/forgecode#1853 (Anthropic)",
            "thinking-disabled-blocks",
            Dialect::Anthropic,
            anthropic(
                json!({"messages": [user("hi"), {"role": "assistant", "content": [{"type": "thinking", "thinking": "hmm", "signature": "c2ln"}, {"type": "text", "text": "Sure"}]}]}),
            ),
        ),
        case(
            "tghamm/Anthropic.SDK#50 (Anthropic)",
            "cache-control-max",
            Dialect::Anthropic,
            anthropic(json!({
                "tools": cached_tools,
                "system": [cached("You are Claude Code."), cached("Project notes.")],
                "messages": [{"role": "user", "content": [cached("first")]}, assistant("ok"), {"role": "user", "content": [cached("second")]}],
            })),
        ),
        case(
            "Wei-Shaw/sub2api#225 (Anthropic on Vertex AI)",
            "thinking-cache-control",
            Dialect::Anthropic,
            anthropic(
                json!({"messages": [user("hi"), {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "c2ln", "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "Sure", "cache_control": {"type": "ephemeral"}},
            ]}, user("go on")]}),
            ),
        ),
        case(
            "cg-dot/vertexai-cf-workers#21 (a Vertex AI proxy)",
            "cache-control-forbidden",
            Dialect::Anthropic,
            anthropic(
                json!({"system": [cached("You are Claude Code.")], "messages": [{"role": "user", "content": [cached("hi")]}]}),
            ),
        ),
        case(
            "PipedreamHQ/pipedream#9697 (Anthropic, no version header)",
            "anthropic-version-required",
            Dialect::Anthropic,
            anthropic(json!({})),
        ),
        case(
            "anthropics/claude-code#6774 (Anthropic)",
            "empty-content",
            Dialect::Anthropic,
            anthropic(json!({"messages": [user("hi"), assistant(""), user("again")]})),
        ),
    ]
}

pub fn cases() -> Vec<Case> {
    let mut all = chat_cases();
    all.extend(responses_cases());
    all.extend(anthropic_cases());
    all
}

/// Requests that do not have the defect their check looks for.
pub fn clean_cases() -> Vec<Case> {
    vec![
        case(
            "-",
            "max-tokens-renamed",
            Dialect::OpenAiChat,
            chat(json!({"max_completion_tokens": 1024})),
        ),
        case(
            "-",
            "tool-pairing",
            Dialect::Anthropic,
            anthropic(json!({})),
        ),
        case(
            "-",
            "reasoning-effort-moved",
            Dialect::OpenAiResponses,
            responses(json!({"reasoning": {"effort": "high"}})),
        ),
        limited(
            case(
                "-",
                "context-messages",
                Dialect::OpenAiChat,
                chat(json!({})),
            ),
            1000,
        ),
    ]
}
