//! OpenAI chat completions (`/v1/chat/completions`), also what LiteLLM and most gateways speak.

use super::fields::{content_parts, text_of, tool_def};
use super::json::Json;
use super::stream_state::{merge_usage, StreamState};
use crate::llm::{DecodedRequest, DecodedResponse, Message, Part, ToolCall, ToolDef, Usage};

/// Takes the fields this dialect structures; `false` leaves the field to `params`.
pub(super) fn request_field(request: &mut DecodedRequest, name: &str, value: &Json) -> bool {
    if !matches!(value, Json::Array(_)) {
        return false;
    }
    match name {
        "messages" => request.messages = value.items().iter().map(message).collect(),
        "tools" => request.tools.extend(value.items().iter().map(tool)),
        // The pre-`tools` form, still sent by old SDKs.
        "functions" => {
            request.tools.extend(value.items().iter().map(|function| {
                tool_def(function, function.str("name"), function.get("parameters"))
            }))
        }
        _ => return false,
    }
    true
}

fn message(message: &Json) -> Message {
    let role = message.str("role").unwrap_or("unknown").to_string();
    let mut parts = Vec::new();
    if let Some(thinking) = reasoning(message) {
        parts.push(Part::Thinking(thinking.to_string()));
    }
    if role == "tool" || role == "function" {
        parts.push(Part::ToolResult {
            call_id: message
                .str("tool_call_id")
                .or_else(|| message.str("name"))
                .map(str::to_string),
            content: message.get("content").map(text_of).unwrap_or_default(),
            is_error: false,
        });
    } else {
        parts.extend(content_parts(message.get("content")));
    }
    parts.extend(
        message
            .list("tool_calls")
            .iter()
            .map(|call| Part::ToolCall(tool_call(call))),
    );
    if let Some(call) = message.get("function_call") {
        parts.push(Part::ToolCall(ToolCall {
            id: None,
            name: call.str("name").unwrap_or_default().to_string(),
            arguments: call
                .get("arguments")
                .map(Json::text_or_json)
                .unwrap_or_default(),
        }));
    }
    Message { role, parts }
}

/// Reasoning text as DeepSeek, vLLM and LiteLLM pass it through the chat format.
fn reasoning(message: &Json) -> Option<&str> {
    message
        .str("reasoning_content")
        .or_else(|| message.str("reasoning"))
        .filter(|text| !text.is_empty())
}

fn tool_call(call: &Json) -> ToolCall {
    ToolCall {
        id: call.str("id").map(str::to_string),
        name: call
            .at(&["function", "name"])
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string(),
        arguments: call
            .at(&["function", "arguments"])
            .map(Json::text_or_json)
            .unwrap_or_default(),
    }
}

fn tool(tool: &Json) -> ToolDef {
    let function = tool.get("function").or_else(|| tool.get("custom"));
    let name = function
        .and_then(|f| f.str("name"))
        .or_else(|| tool.str("name"));
    let schema = function.and_then(|f| f.get("parameters").or_else(|| f.get("format")));
    tool_def(function.unwrap_or(tool), name, schema)
}

pub(super) fn read_response(root: &Json) -> DecodedResponse {
    let choice = first_choice(root);
    let message = choice.and_then(|choice| choice.get("message"));
    DecodedResponse {
        model: root.str("model").map(str::to_string),
        text: message
            .and_then(|m| m.get("content"))
            .map(text_of)
            .unwrap_or_default(),
        thinking: message.and_then(reasoning).unwrap_or_default().to_string(),
        tool_calls: message
            .map(|m| m.list("tool_calls").iter().map(tool_call).collect())
            .unwrap_or_default(),
        finish_reason: choice
            .and_then(|c| c.str("finish_reason"))
            .map(str::to_string),
        usage: root.get("usage").and_then(usage),
        stream_events: None,
        error: None,
    }
}

/// Only the first choice is shown: agents ask for one (`n` is left at 1).
fn first_choice(root: &Json) -> Option<&Json> {
    let choices = root.list("choices");
    choices
        .iter()
        .find(|choice| choice.u64("index") == Some(0))
        .or_else(|| choices.first())
}

fn usage(usage: &Json) -> Option<Usage> {
    if !matches!(usage, Json::Object(_)) {
        return None;
    }
    Some(Usage {
        input_tokens: usage.u64("prompt_tokens"),
        output_tokens: usage.u64("completion_tokens"),
        cache_read_tokens: usage
            .at(&["prompt_tokens_details", "cached_tokens"])
            .and_then(Json::as_u64)
            // LiteLLM in front of Anthropic adds Anthropic's own counts.
            .or_else(|| usage.u64("cache_read_input_tokens")),
        cache_write_tokens: usage.u64("cache_creation_input_tokens"),
    })
}

/// One chunk of a stream: `choices[0].delta` pieces, a final `usage` chunk.
pub(super) fn apply_event(state: &mut StreamState, data: &Json) {
    let response = &mut state.response;
    if response.model.is_none() {
        response.model = data.str("model").map(str::to_string);
    }
    if let Some(usage) = data.get("usage").and_then(usage) {
        merge_usage(&mut response.usage, usage);
    }
    let Some(choice) = first_choice(data) else {
        return;
    };
    if let Some(reason) = choice.str("finish_reason") {
        response.finish_reason = Some(reason.to_string());
    }
    let Some(delta) = choice.get("delta") else {
        return;
    };
    if let Some(text) = delta.str("content") {
        response.text.push_str(text);
    }
    if let Some(thinking) = reasoning(delta) {
        response.thinking.push_str(thinking);
    }
    for call in delta.list("tool_calls") {
        apply_tool_delta(state, call);
    }
}

/// The first delta of a call carries its id and name, later ones argument fragments.
fn apply_tool_delta(state: &mut StreamState, delta: &Json) {
    let id = delta.str("id").filter(|id| !id.is_empty());
    let call = match delta.u64("index") {
        Some(index) => state.tool(index),
        None => state.unkeyed_tool(id),
    };
    if let Some(id) = id {
        call.id = Some(id.to_string());
    }
    if let Some(name) = delta.at(&["function", "name"]).and_then(Json::as_str) {
        // Some gateways repeat the whole name in every delta, a few split it.
        if call.name != name {
            call.name.push_str(name);
        }
    }
    if let Some(arguments) = delta.at(&["function", "arguments"]) {
        call.arguments.push_str(&arguments.text_or_json());
    }
}

#[cfg(test)]
mod tests {
    use crate::llm::decode::assembler::{assemble_every_way, call};
    use crate::llm::{decode_request, decode_response, Dialect, Part, Usage};

    #[test]
    fn request_messages_of_every_kind_are_decoded() {
        let body = br#"{"model":"gpt-4o","messages":[
            {"role":"system","content":"be brief"},
            {"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:x"}}]},
            {"role":"assistant","content":null,"reasoning_content":"hmm","tool_calls":[{"id":"call_1","type":"function","function":{"name":"read","arguments":"{\"path\":\"a\"}"}}]},
            {"role":"tool","tool_call_id":"call_1","content":"file text"},
            {"role":"assistant","content":"done"}
        ],"tools":[{"type":"function","function":{"name":"read","description":"reads","parameters":{"type":"object","properties":{}}}}]}"#;
        let request = decode_request(Dialect::OpenAiChat, body).unwrap();
        let parts: Vec<(&str, &[Part])> = request
            .messages
            .iter()
            .map(|m| (m.role.as_str(), &m.parts[..]))
            .collect();
        assert_eq!(
            parts,
            [
                ("system", &[Part::Text("be brief".into())][..]),
                (
                    "user",
                    &[Part::Text("look".into()), Part::Other("image_url".into())][..]
                ),
                (
                    "assistant",
                    &[
                        Part::Thinking("hmm".into()),
                        Part::ToolCall(call("call_1", "read", r#"{"path":"a"}"#))
                    ][..]
                ),
                (
                    "tool",
                    &[Part::ToolResult {
                        call_id: Some("call_1".into()),
                        content: "file text".into(),
                        is_error: false
                    }][..]
                ),
                ("assistant", &[Part::Text("done".into())][..]),
            ]
        );
        assert!(request.system.is_empty());
        assert_eq!(request.tools.len(), 1);
        assert_eq!(request.tools[0].name, "read");
        assert_eq!(request.tools[0].description, "reads");
        assert_eq!(
            request.tools[0].parameters,
            r#"{"type":"object","properties":{}}"#
        );
        assert!(request.params.is_empty());
    }

    #[test]
    fn messages_of_the_wrong_type_stay_in_params() {
        let request =
            decode_request(Dialect::OpenAiChat, br#"{"messages":"hi","tools":null}"#).unwrap();
        assert!(request.messages.is_empty());
        assert_eq!(request.params.len(), 2);
    }

    #[test]
    fn whole_reply_gives_text_tool_calls_finish_and_usage() {
        let body = br#"{"id":"c1","model":"gpt-4o-2024","choices":[{"index":0,"message":{"role":"assistant","content":"Reading.","tool_calls":[{"id":"call_9","type":"function","function":{"name":"read","arguments":"{}"}}]},"finish_reason":"tool_calls"}],
            "usage":{"prompt_tokens":1200,"completion_tokens":30,"total_tokens":1230,"prompt_tokens_details":{"cached_tokens":1024}}}"#;
        let response =
            decode_response(Dialect::OpenAiChat, Some("application/json"), body).unwrap();
        assert_eq!(response.model.as_deref(), Some("gpt-4o-2024"));
        assert_eq!(response.text, "Reading.");
        assert_eq!(response.tool_calls, [call("call_9", "read", "{}")]);
        assert_eq!(response.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(
            response.usage,
            Some(Usage {
                input_tokens: Some(1200),
                output_tokens: Some(30),
                cache_read_tokens: Some(1024),
                cache_write_tokens: None
            })
        );
        assert_eq!(response.stream_events, None);
        assert_eq!(response.error, None);
    }

    const STREAM: &str = concat!(
        "data: {\"id\":\"c\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],\"usage\":null}\n\n",
        "data: {\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Let me \"},\"finish_reason\":null}]}\n\n",
        "data: {\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"look.\"},\"finish_reason\":null}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"read\",\"arguments\":\"\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"pa\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"th\\\":\\\"é\\\"}\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_2\",\"function\":{\"name\":\"glob\",\"arguments\":\"{}\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":900,\"completion_tokens\":42,\"prompt_tokens_details\":{\"cached_tokens\":512}}}\n\n",
        "data: [DONE]\n\n",
    );

    #[test]
    fn stream_assembles_text_tool_calls_usage_and_finish_in_any_chunking() {
        let response = assemble_every_way(Dialect::OpenAiChat, STREAM);
        assert_eq!(response.model.as_deref(), Some("gpt-4o"));
        assert_eq!(response.text, "Let me look.");
        assert_eq!(
            response.tool_calls,
            [
                call("call_1", "read", r#"{"path":"é"}"#),
                call("call_2", "glob", "{}")
            ]
        );
        assert_eq!(response.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(response.usage.and_then(|u| u.input_tokens), Some(900));
        assert_eq!(response.usage.and_then(|u| u.output_tokens), Some(42));
        assert_eq!(response.usage.and_then(|u| u.cache_read_tokens), Some(512));
        assert_eq!(response.stream_events, Some(10));
        assert_eq!(response.error, None);
    }

    #[test]
    fn stream_error_chunk_fills_the_error() {
        let stream = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"par\"}}]}\n\ndata: {\"error\":{\"message\":\"upstream overloaded\",\"code\":\"503\"}}\n\n";
        let response = assemble_every_way(Dialect::OpenAiChat, stream);
        assert_eq!(response.text, "par");
        assert_eq!(response.error.as_deref(), Some("upstream overloaded"));
    }
}
