//! Successful replies in each dialect: what the reply says (derived from the request, so the
//! same request always gets the same bytes) and its non-streamed JSON body. The streamed form
//! of the same reply is in `streams.rs`.

use serde_json::{json, Value};

use super::gemini;
use crate::llm::Dialect;

/// The `created` timestamp of every reply: fixed, so replies are byte-for-byte reproducible.
pub(super) const CREATED: u64 = 1_700_000_000;
pub(super) const TOOL_NAME: &str = "read";
pub(super) const TOOL_ARGUMENTS: &str = r#"{"filePath":"src/main.rs"}"#;
/// How much of the last user message the reply quotes.
const QUOTED_CHARS: usize = 40;

/// What the reply carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Content {
    Text(String),
    /// A call to the `read` tool with [`TOOL_ARGUMENTS`].
    ToolCall,
}

/// Everything a reply needs from its request, computed once per request.
#[derive(Debug, Clone)]
pub(super) struct ReplyPlan {
    pub dialect: Dialect,
    pub model: String,
    /// Hex digest of the request body; ids are built from it instead of being random.
    pub digest: String,
    pub input_tokens: u64,
    /// OpenAI chat sends a usage chunk only when `stream_options.include_usage` is set.
    pub include_usage: bool,
    /// Prompt tokens a Gemini request read from the cache it names (`cachedContent`).
    pub cached_tokens: u64,
    pub content: Content,
}

impl ReplyPlan {
    pub fn new(dialect: Dialect, json: Option<&Value>, body: &[u8], tool_call: bool) -> Self {
        let model = json
            .and_then(|j| j.get("model")?.as_str())
            .unwrap_or("mock-ok")
            .to_string();
        let include_usage = json
            .and_then(|j| j.pointer("/stream_options/include_usage")?.as_bool())
            .unwrap_or(false);
        let content = if tool_call {
            Content::ToolCall
        } else {
            let asked = last_user_text(json).unwrap_or_default();
            let quoted: String = asked.chars().take(QUOTED_CHARS).collect();
            Content::Text(format!(
                "Mock reply to: {quoted}. This reply comes from the llmscope mock upstream."
            ))
        };
        let input_tokens = token_estimate(body.len());
        // An explicit cache holds the long stable prefix: say three quarters of the prompt.
        let names_cache = json.is_some_and(|j| j.get("cachedContent").is_some());
        Self {
            dialect,
            model,
            digest: format!("{:016x}", fnv1a(body)),
            input_tokens,
            include_usage,
            cached_tokens: if names_cache { input_tokens * 3 / 4 } else { 0 },
            content,
        }
    }

    /// The reply as Gemini's builders take it.
    pub fn gemini_turn(&self) -> gemini::Turn<'_> {
        let (text, call) = match &self.content {
            Content::Text(text) => (text.as_str(), None),
            Content::ToolCall => ("", Some((TOOL_NAME, TOOL_ARGUMENTS))),
        };
        gemini::Turn {
            model: &self.model,
            id: self.reply_id(),
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens(),
            cached_tokens: self.cached_tokens,
            text,
            call,
        }
    }

    pub fn output_tokens(&self) -> u64 {
        match &self.content {
            Content::Text(text) => token_estimate(text.len()),
            Content::ToolCall => token_estimate(TOOL_ARGUMENTS.len()),
        }
    }

    /// The id of the reply object in the dialect's own prefix style.
    pub fn reply_id(&self) -> String {
        match self.dialect {
            Dialect::Anthropic => format!("msg_mock{}", self.digest),
            Dialect::OpenAiResponses => format!("resp_mock{}", self.digest),
            Dialect::Gemini => format!("mock{}", self.digest),
            Dialect::OpenAiChat | Dialect::Unknown => format!("chatcmpl-mock{}", self.digest),
        }
    }

    /// The id of the one output item (message or tool call) inside a reply.
    pub fn item_id(&self) -> String {
        match (&self.content, self.dialect) {
            (Content::ToolCall, Dialect::Anthropic) => format!("toolu_mock{}", self.digest),
            (Content::ToolCall, Dialect::OpenAiResponses) => format!("fc_mock{}", self.digest),
            (Content::ToolCall, _) => self.call_id(),
            (Content::Text(_), _) => format!("msg_mock{}", self.digest),
        }
    }

    /// The id the agent quotes back in its tool result.
    pub fn call_id(&self) -> String {
        format!("call_mock{}", self.digest)
    }

    pub fn usage(&self) -> Value {
        let (input, output) = (self.input_tokens, self.output_tokens());
        match self.dialect {
            Dialect::Gemini => gemini::usage(&self.gemini_turn()),
            Dialect::Anthropic => json!({"input_tokens": input, "output_tokens": output}),
            Dialect::OpenAiResponses => json!({
                "input_tokens": input,
                "output_tokens": output,
                "total_tokens": input + output,
            }),
            Dialect::OpenAiChat | Dialect::Unknown => json!({
                "prompt_tokens": input,
                "completion_tokens": output,
                "total_tokens": input + output,
            }),
        }
    }

    /// The non-streamed reply body.
    pub fn json_body(&self) -> Vec<u8> {
        let body = match self.dialect {
            Dialect::Anthropic => self.anthropic_message(),
            Dialect::OpenAiResponses => self.response_object("completed"),
            Dialect::Gemini => gemini::whole_reply(&self.gemini_turn()),
            Dialect::OpenAiChat | Dialect::Unknown => self.chat_completion(),
        };
        body.to_string().into_bytes()
    }

    fn chat_completion(&self) -> Value {
        let (message, finish_reason) = match &self.content {
            Content::Text(text) => (
                json!({"role": "assistant", "content": text, "refusal": null}),
                "stop",
            ),
            Content::ToolCall => (
                json!({
                    "role": "assistant",
                    "content": null,
                    "tool_calls": [{
                        "id": self.call_id(),
                        "type": "function",
                        "function": {"name": TOOL_NAME, "arguments": TOOL_ARGUMENTS},
                    }],
                }),
                "tool_calls",
            ),
        };
        json!({
            "id": self.reply_id(),
            "object": "chat.completion",
            "created": CREATED,
            "model": self.model,
            "choices": [{
                "index": 0,
                "message": message,
                "logprobs": null,
                "finish_reason": finish_reason,
            }],
            "usage": self.usage(),
        })
    }

    fn anthropic_message(&self) -> Value {
        json!({
            "id": self.reply_id(),
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [self.anthropic_block(true)],
            "stop_reason": self.anthropic_stop_reason(),
            "stop_sequence": null,
            "usage": self.usage(),
        })
    }

    /// The content block, complete or as `content_block_start` announces it (empty).
    pub fn anthropic_block(&self, complete: bool) -> Value {
        match &self.content {
            Content::Text(text) => json!({
                "type": "text",
                "text": if complete { text.as_str() } else { "" },
            }),
            Content::ToolCall => {
                let input = if complete {
                    serde_json::from_str(TOOL_ARGUMENTS).unwrap_or_else(|_| json!({}))
                } else {
                    json!({})
                };
                json!({"type": "tool_use", "id": self.item_id(), "name": TOOL_NAME, "input": input})
            }
        }
    }

    pub fn anthropic_stop_reason(&self) -> &'static str {
        match self.content {
            Content::Text(_) => "end_turn",
            Content::ToolCall => "tool_use",
        }
    }

    /// The Responses API object; `status` other than `completed` is the in-flight form that
    /// opens a stream, with no output yet.
    pub fn response_object(&self, status: &str) -> Value {
        let done = status == "completed";
        let output = if done {
            vec![self.response_item(true)]
        } else {
            Vec::new()
        };
        json!({
            "id": self.reply_id(),
            "object": "response",
            "created_at": CREATED,
            "status": status,
            "model": self.model,
            "output": output,
            "usage": if done { self.usage() } else { Value::Null },
        })
    }

    /// The one output item, complete or as `response.output_item.added` announces it.
    pub fn response_item(&self, complete: bool) -> Value {
        let status = if complete { "completed" } else { "in_progress" };
        match &self.content {
            Content::Text(text) => {
                let content = if complete {
                    vec![json!({"type": "output_text", "text": text, "annotations": []})]
                } else {
                    Vec::new()
                };
                json!({
                    "type": "message",
                    "id": self.item_id(),
                    "status": status,
                    "role": "assistant",
                    "content": content,
                })
            }
            Content::ToolCall => json!({
                "type": "function_call",
                "id": self.item_id(),
                "call_id": self.call_id(),
                "name": TOOL_NAME,
                "arguments": if complete { TOOL_ARGUMENTS } else { "" },
                "status": status,
            }),
        }
    }
}

/// The text of the last user message that has any: `messages` for OpenAI chat and Anthropic,
/// `input` (a string or a list of items) for the Responses API.
fn last_user_text(json: Option<&Value>) -> Option<String> {
    if let Some(text) = json.and_then(gemini::last_user_text) {
        return Some(text);
    }
    let body = json?.as_object()?;
    let items = match (body.get("messages"), body.get("input")) {
        (Some(Value::Array(messages)), _) => messages,
        (_, Some(Value::String(input))) => return Some(input.clone()),
        (_, Some(Value::Array(input))) => input,
        _ => return None,
    };
    items
        .iter()
        .rev()
        .filter(|item| item.get("role").and_then(Value::as_str) == Some("user"))
        .find_map(|item| {
            let text = content_text(item.get("content")?);
            (!text.is_empty()).then_some(text)
        })
}

/// A message's content as text: a plain string, or the text parts of a list of parts.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter(|part| {
                matches!(
                    part.get("type").and_then(Value::as_str),
                    Some("text" | "input_text")
                )
            })
            .filter_map(|part| part.get("text")?.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// About four bytes a token, never zero: close enough for a mock's usage numbers.
fn token_estimate(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(4).max(1)
}

/// FNV-1a: a stable digest with no dependency, for ids that repeat when the request does.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(dialect: Dialect, body: &str, tool: bool) -> ReplyPlan {
        let json: Value = serde_json::from_str(body).unwrap();
        ReplyPlan::new(dialect, Some(&json), body.as_bytes(), tool)
    }

    #[test]
    fn reply_quotes_the_last_user_message_with_text() {
        let body = r#"{"model":"m","messages":[{"role":"user","content":"first question"},{"role":"assistant","content":"a"},{"role":"user","content":[{"type":"text","text":"Explain the borrow checker to me in detail please, with examples"}]}]}"#;
        let Content::Text(text) = plan(Dialect::OpenAiChat, body, false).content else {
            panic!("expected text");
        };
        assert_eq!(
            text,
            "Mock reply to: Explain the borrow checker to me in deta. This reply comes from the llmscope mock upstream."
        );
    }

    #[test]
    fn responses_input_string_is_the_prompt() {
        let p = plan(
            Dialect::OpenAiResponses,
            r#"{"model":"m","input":"hello"}"#,
            false,
        );
        assert!(
            matches!(p.content, Content::Text(ref t) if t.starts_with("Mock reply to: hello."))
        );
        let body: Value = serde_json::from_slice(&p.json_body()).unwrap();
        assert_eq!(body["output"][0]["content"][0]["type"], "output_text");
        assert_eq!(body["status"], "completed");
    }

    #[test]
    fn same_request_gives_same_bytes() {
        let body = r#"{"model":"mock-tool","messages":[]}"#;
        for dialect in [
            Dialect::OpenAiChat,
            Dialect::Anthropic,
            Dialect::OpenAiResponses,
        ] {
            assert_eq!(
                plan(dialect, body, true).json_body(),
                plan(dialect, body, true).json_body()
            );
        }
    }

    #[test]
    fn tool_calls_carry_the_read_arguments_in_each_dialect() {
        let body = r#"{"model":"mock-tool"}"#;
        let chat: Value =
            serde_json::from_slice(&plan(Dialect::OpenAiChat, body, true).json_body()).unwrap();
        let call = &chat["choices"][0]["message"]["tool_calls"][0]["function"];
        assert_eq!(call["name"], "read");
        assert_eq!(call["arguments"], TOOL_ARGUMENTS);
        assert_eq!(chat["choices"][0]["finish_reason"], "tool_calls");
        let anthropic: Value =
            serde_json::from_slice(&plan(Dialect::Anthropic, body, true).json_body()).unwrap();
        assert_eq!(anthropic["content"][0]["input"]["filePath"], "src/main.rs");
        assert_eq!(anthropic["stop_reason"], "tool_use");
        let responses: Value =
            serde_json::from_slice(&plan(Dialect::OpenAiResponses, body, true).json_body())
                .unwrap();
        assert_eq!(responses["output"][0]["type"], "function_call");
        assert_eq!(responses["output"][0]["arguments"], TOOL_ARGUMENTS);
    }
}
