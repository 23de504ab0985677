//! The defect checks of `mock-validate`, each with the message a real upstream sends for it
//! and where that wording was collected (provider docs or a public issue tracker). A check
//! returns the message while the request has the defect and `None` once it is fixed.

use serde_json::{Map, Value};

use crate::llm::Dialect;

/// What a check sees of the request.
pub(super) struct Seen<'a> {
    pub body: &'a Map<String, Value>,
    pub dialect: Dialect,
    /// The request body's size in bytes / 4: the mock's token count, the same estimate the
    /// fixes make, so a fix that aims under the stated limit lands under it.
    pub tokens: u64,
    pub limit: u64,
    pub headers: &'a [(String, String)],
}

/// OpenAI, o1/gpt-5 chat completions (teilomillet/gollm#33, openai/openai-python#2046).
const MAX_TOKENS_RENAMED: &str = "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.";

pub(super) fn max_tokens_renamed(seen: &Seen<'_>) -> Option<String> {
    seen.body
        .contains_key("max_tokens")
        .then(|| MAX_TOKENS_RENAMED.to_string())
}

/// LiteLLM's wrapper around it (enoch3712/ExtractThinker#327).
pub(super) fn max_tokens_renamed_litellm(seen: &Seen<'_>) -> Option<String> {
    max_tokens_renamed(seen)
        .map(|message| format!("litellm.BadRequestError: OpenAIException - {message}"))
}

/// OpenAI Responses API (lobehub/lobehub#8116).
pub(super) fn reasoning_effort_moved(seen: &Seen<'_>) -> Option<String> {
    seen.body.contains_key("reasoning_effort").then(|| {
        "Unsupported parameter: 'reasoning_effort'. In the Responses API, this parameter has moved to 'reasoning.effort'. Try again with the new parameter. See the API documentation for more information: https://platform.openai.com/docs/api-reference/responses/create.".to_string()
    })
}

/// OpenAI, gpt-5 chat completions (diffbot/code-gpt-docs#445).
pub(super) fn temperature_default_only(seen: &Seen<'_>) -> Option<String> {
    let value = seen.body.get("temperature")?;
    (value.as_f64() != Some(1.0)).then(|| {
        format!("Unsupported value: 'temperature' does not support {value} with this model. Only the default (1) value is supported.")
    })
}

/// OpenAI, gpt-5 through the Vercel AI SDK (sourcebot-dev/sourcebot#454).
pub(super) fn temperature_unsupported(seen: &Seen<'_>) -> Option<String> {
    seen.body.contains_key("temperature").then(|| {
        "Unsupported parameter: 'temperature' is not supported with this model.".to_string()
    })
}

/// Anthropic, Claude 4.5+ (langfuse/langfuse#9882, NeatChat/NeatChat#72).
const TEMPERATURE_TOP_P: &str =
    "`temperature` and `top_p` cannot both be specified for this model. Please use only one.";

pub(super) fn temperature_top_p(seen: &Seen<'_>) -> Option<String> {
    (seen.body.contains_key("temperature") && seen.body.contains_key("top_p"))
        .then(|| TEMPERATURE_TOP_P.to_string())
}

/// LiteLLM in front of Bedrock (skydiscover-ai/skydiscover#15).
pub(super) fn temperature_top_p_litellm(seen: &Seen<'_>) -> Option<String> {
    temperature_top_p(seen).map(|message| {
        format!("litellm.BadRequestError: BedrockException - {{\"message\":\"The model returned the following errors: {message}\"}}")
    })
}

/// Tool calls and results that do not pair, in each dialect's words: OpenAI chat (the
/// mock's TRAFFIC.md wording, and "preceeding" as OpenAI spells it), Responses
/// (jlcodes99/cockpit-tools#1234, microsoft/vscode#320060), Anthropic
/// (anthropics/claude-code#5060, anthropics/claude-code#13460).
pub(super) fn tool_pairing(seen: &Seen<'_>) -> Option<String> {
    match seen.dialect {
        Dialect::Anthropic => anthropic_pairing(seen.body),
        Dialect::OpenAiResponses => responses_pairing(seen.body),
        Dialect::OpenAiChat | Dialect::Unknown => chat_pairing(seen.body),
        Dialect::Gemini => None,
    }
}

pub(super) fn list<'a>(body: &'a Map<String, Value>, key: &str) -> &'a [Value] {
    body.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

pub(super) fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn chat_pairing(body: &Map<String, Value>) -> Option<String> {
    let messages = list(body, "messages");
    let mut open: Vec<&str> = Vec::new();
    for (at, message) in messages.iter().enumerate() {
        if text(message, "role") == "tool" {
            let id = text(message, "tool_call_id");
            if !open.contains(&id) {
                return Some("Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.".to_string());
            }
            open.retain(|open_id| *open_id != id);
            continue;
        }
        if !open.is_empty() {
            return Some(unanswered_chat(&open));
        }
        let calls = message.get("tool_calls").and_then(Value::as_array);
        open = calls
            .into_iter()
            .flatten()
            .map(|call| text(call, "id"))
            .collect();
        if at + 1 == messages.len() && !open.is_empty() {
            return Some(unanswered_chat(&open));
        }
    }
    None
}

fn unanswered_chat(ids: &[&str]) -> String {
    format!("An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}", ids.join(", "))
}

fn responses_pairing(body: &Map<String, Value>) -> Option<String> {
    let items = list(body, "input");
    let mut calls: Vec<&str> = Vec::new();
    for item in items {
        match text(item, "type") {
            "function_call" | "custom_tool_call" => calls.push(text(item, "call_id")),
            "function_call_output" | "custom_tool_call_output" => {
                let id = text(item, "call_id");
                if !calls.contains(&id) {
                    return Some(format!(
                        "No tool call found for function call output with call_id {id}."
                    ));
                }
            }
            _ => {}
        }
    }
    let answered: Vec<&str> = items
        .iter()
        .filter(|item| text(item, "type").ends_with("_output"))
        .map(|item| text(item, "call_id"))
        .collect();
    let missing = calls.iter().find(|id| !answered.contains(id))?;
    Some(format!("No tool output found for function call {missing}."))
}

fn blocks(message: &Value) -> &[Value] {
    message
        .get("content")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn anthropic_pairing(body: &Map<String, Value>) -> Option<String> {
    let messages = list(body, "messages");
    for (at, message) in messages.iter().enumerate() {
        let ids_of = |message: &Value, kind: &str, key: &str| -> Vec<String> {
            blocks(message)
                .iter()
                .filter(|block| text(block, "type") == kind)
                .map(|block| text(block, key).to_string())
                .collect()
        };
        let previous_calls = at
            .checked_sub(1)
            .map(|before| ids_of(&messages[before], "tool_use", "id"))
            .unwrap_or_default();
        for (block_at, block) in blocks(message).iter().enumerate() {
            let id = text(block, "tool_use_id");
            if text(block, "type") == "tool_result" && !previous_calls.iter().any(|c| c == id) {
                return Some(format!("messages.{at}.content.{block_at}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."));
            }
        }
        let calls = ids_of(message, "tool_use", "id");
        let answers = messages
            .get(at + 1)
            .map(|next| ids_of(next, "tool_result", "tool_use_id"))
            .unwrap_or_default();
        let missing: Vec<&str> = calls
            .iter()
            .filter(|id| !answers.contains(id))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Some(format!("messages.{at}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.", missing.join(", ")));
        }
    }
    None
}

/// The output-token limit the request sets, whatever the dialect calls it.
fn max_tokens(body: &Map<String, Value>) -> u64 {
    ["max_tokens", "max_completion_tokens", "max_output_tokens"]
        .iter()
        .filter_map(|key| body.get(*key).and_then(Value::as_u64))
        .max()
        .unwrap_or(0)
}

/// OpenAI, prompt alone over the window (kaixindelele/ChatPaper#91).
pub(super) fn context_messages(seen: &Seen<'_>) -> Option<String> {
    (seen.tokens > seen.limit).then(|| {
        format!("This model's maximum context length is {} tokens. However, your messages resulted in {} tokens. Please reduce the length of the messages.", seen.limit, seen.tokens)
    })
}

/// OpenAI, prompt plus completion budget over the window (fjrdomingues/autopilot#177).
pub(super) fn context_completion(seen: &Seen<'_>) -> Option<String> {
    let completion = max_tokens(seen.body);
    let total = seen.tokens + completion;
    (total > seen.limit).then(|| {
        format!("This model's maximum context length is {} tokens. However, you requested {total} tokens ({} in the messages, {completion} in the completion). Please reduce the length of the messages or completion.", seen.limit, seen.tokens)
    })
}

/// Anthropic, input plus `max_tokens` over the window (continuedev/continue#6080).
pub(super) fn context_budget(seen: &Seen<'_>) -> Option<String> {
    let completion = max_tokens(seen.body);
    (seen.tokens + completion > seen.limit).then(|| {
        format!("input length and `max_tokens` exceed context limit: {} + {completion} > {}, decrease input length or `max_tokens` and try again", seen.tokens, seen.limit)
    })
}

/// The same through LiteLLM, which quotes Anthropic's raw bytes (kortix-ai/suna#172).
pub(super) fn context_budget_litellm(seen: &Seen<'_>) -> Option<String> {
    context_budget(seen).map(|message| {
        format!("litellm.BadRequestError: AnthropicException - b'{{\"type\":\"error\",\"error\":{{\"type\":\"invalid_request_error\",\"message\":\"{message}\"}}}}'")
    })
}

/// Anthropic, `max_tokens` over the model's output limit (Effect-TS/effect#7129).
pub(super) fn output_limit(seen: &Seen<'_>) -> Option<String> {
    let asked = max_tokens(seen.body);
    let model = text(&Value::Object(seen.body.clone()), "model").to_string();
    (asked > seen.limit).then(|| {
        format!("max_tokens: {asked} > {}, which is the maximum allowed number of output tokens for {model}", seen.limit)
    })
}

/// Whether `tool_choice` is set to anything but auto.
fn forced_tool_choice(body: &Map<String, Value>) -> bool {
    match body.get("tool_choice") {
        None => false,
        Some(Value::String(choice)) => choice != "auto",
        Some(choice) => text(choice, "type") != "auto",
    }
}

/// A gateway that only takes auto, as quoted in llmscope's issue 13 (a new user's session
/// through a real OpenAI-chat gateway).
pub(super) fn tool_choice_auto_only(seen: &Seen<'_>) -> Option<String> {
    forced_tool_choice(seen.body).then(|| r#"only "auto" is supported for tool_choice"#.to_string())
}

/// Qwen on DashScope with thinking on (cloudwego/eino#994).
pub(super) fn tool_choice_thinking_mode(seen: &Seen<'_>) -> Option<String> {
    forced_tool_choice(seen.body).then(|| {
        "<400> InternalError.Algo.InvalidParameter: The tool_choice parameter does not support being set to required or object in thinking mode".to_string()
    })
}

/// DeepSeek's Anthropic-compatible endpoint (deepseek-ai/awesome-deepseek-integration#598).
pub(super) fn tool_choice_deepseek(seen: &Seen<'_>) -> Option<String> {
    forced_tool_choice(seen.body)
        .then(|| "deepseek-reasoner does not support this tool_choice".to_string())
}

fn thinking_enabled(body: &Map<String, Value>) -> bool {
    body.get("thinking")
        .is_some_and(|thinking| matches!(text(thinking, "type"), "enabled" | "adaptive"))
}

/// Anthropic, extended thinking with a forced tool (mastra-ai/mastra#7507).
pub(super) fn thinking_forced_tool(seen: &Seen<'_>) -> Option<String> {
    (thinking_enabled(seen.body) && forced_tool_choice(seen.body))
        .then(|| "Thinking may not be enabled when tool_choice forces tool use.".to_string())
}

fn last_assistant(body: &Map<String, Value>) -> Option<(usize, &Value)> {
    list(body, "messages")
        .iter()
        .enumerate()
        .rev()
        .find(|(_, message)| text(message, "role") == "assistant")
}

fn is_thinking_block(block: &Value) -> bool {
    matches!(text(block, "type"), "thinking" | "redacted_thinking")
}

/// Anthropic, thinking on and the last assistant turn not opening with thinking
/// (n8n-io/n8n#22550, anthropics/claude-code#20705).
pub(super) fn thinking_first_block(seen: &Seen<'_>) -> Option<String> {
    if !thinking_enabled(seen.body) {
        return None;
    }
    let (at, message) = last_assistant(seen.body)?;
    let first = blocks(message).first()?;
    (!is_thinking_block(first)).then(|| {
        format!("messages.{at}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{}`. When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking", text(first, "type"))
    })
}

/// Anthropic, thinking off and the final assistant message still has a thinking block
/// (tailcallhq/forgecode#1853).
pub(super) fn thinking_disabled_blocks(seen: &Seen<'_>) -> Option<String> {
    if thinking_enabled(seen.body) {
        return None;
    }
    let messages = list(seen.body, "messages");
    let at = messages.len().checked_sub(1)?;
    let last = &messages[at];
    let block = blocks(last).iter().position(is_thinking_block)?;
    (text(last, "role") == "assistant").then(|| {
        format!("messages.{at}.content.{block}: When thinking is disabled, an `assistant` message in the final position cannot contain `thinking`. To use thinking blocks, enable `thinking` in your request.")
    })
}

/// Anthropic (tghamm/Anthropic.SDK#50, anthropics/claude-code via GCMP#83).
pub(super) fn cache_control_max(seen: &Seen<'_>) -> Option<String> {
    fn count(value: &Value) -> usize {
        match value {
            Value::Array(items) => items.iter().map(count).sum(),
            Value::Object(object) => {
                usize::from(object.contains_key("cache_control"))
                    + object.get("content").map_or(0, count)
            }
            _ => 0,
        }
    }
    let found: usize = ["tools", "system", "messages"]
        .iter()
        .filter_map(|key| seen.body.get(*key))
        .map(count)
        .sum();
    (found > 4).then(|| {
        format!("A maximum of 4 blocks with cache_control may be provided. Found {found}.")
    })
}

/// Anthropic (anthropics/claude-code#6774, #3196).
pub(super) fn empty_content(seen: &Seen<'_>) -> Option<String> {
    let messages = list(seen.body, "messages");
    let last = messages.len().saturating_sub(1);
    let empty = messages.iter().enumerate().position(|(at, message)| {
        let final_assistant = at == last && text(message, "role") == "assistant";
        let empty = match message.get("content") {
            None | Some(Value::Null) => true,
            Some(Value::String(content)) => content.is_empty(),
            Some(Value::Array(blocks)) => blocks.is_empty(),
            Some(_) => false,
        };
        empty && !final_assistant
    })?;
    Some(format!("messages.{empty}: all messages must have non-empty content except for the optional final assistant message"))
}

/// LiteLLM's proxy when the body names no model (forpublicai/platform.publicai.co#6).
pub(super) fn model_none(seen: &Seen<'_>) -> Option<String> {
    let named = seen
        .body
        .get("model")
        .and_then(Value::as_str)
        .is_some_and(|model| !model.is_empty());
    (!named).then(|| {
        "{'error': '/chat/completions: Invalid model name passed in model=None. Call `/v1/models` to view available models for your key.'}".to_string()
    })
}

/// OpenAI Responses, no counts given (onyx-dot-app/onyx#6051, james-6-23/codex2api#415).
pub(super) fn context_window(seen: &Seen<'_>) -> Option<String> {
    (seen.tokens > seen.limit).then(|| {
        "Your input exceeds the context window of this model. Please adjust your input and try again.".to_string()
    })
}

/// OpenRouter's wording, with an approximate count (refly-ai/refly#1177).
pub(super) fn context_openrouter(seen: &Seen<'_>) -> Option<String> {
    (seen.tokens > seen.limit).then(|| {
        format!("This endpoint's maximum context length is {} tokens. However, you requested about {} tokens ({} of text input). Please reduce the length of either one, or use the \"middle-out\" transform to compress your prompt automatically.", seen.limit, seen.tokens, seen.tokens)
    })
}

/// Anthropic without its version header (PipedreamHQ/pipedream#9697, envoyproxy/ai-gateway#1909).
pub(super) fn anthropic_version_required(seen: &Seen<'_>) -> Option<String> {
    let sent = seen
        .headers
        .iter()
        .any(|(name, value)| name.eq_ignore_ascii_case("anthropic-version") && !value.is_empty());
    (!sent).then(|| "anthropic-version: header is required".to_string())
}

/// Anthropic on Vertex, cache_control on a thinking block (Wei-Shaw/sub2api#225).
pub(super) fn thinking_cache_control(seen: &Seen<'_>) -> Option<String> {
    list(seen.body, "messages")
        .iter()
        .enumerate()
        .find_map(|(at, message)| {
            let block = blocks(message).iter().position(|block| {
                is_thinking_block(block) && block.get("cache_control").is_some()
            })?;
            Some(format!(
                "messages.{at}.content.{block}.{}.cache_control: Extra inputs are not permitted",
                text(&blocks(message)[block], "type")
            ))
        })
}

/// A Vertex AI proxy that takes no cache_control at all (cg-dot/vertexai-cf-workers#21).
pub(super) fn cache_control_forbidden(seen: &Seen<'_>) -> Option<String> {
    Value::Object(seen.body.clone())
        .to_string()
        .contains("\"cache_control\"")
        .then(|| "*.cache_control: Extra inputs are not permitted".to_string())
}
