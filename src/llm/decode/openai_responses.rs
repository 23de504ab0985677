//! OpenAI Responses (`/v1/responses`): a conversation of typed items instead of messages,
//! and streams of named events keyed by output index.

use super::fields::{content_parts, text_of, tool_def};
use super::json::Json;
use super::stream_state::{merge_usage, StreamState};
use crate::llm::{DecodedRequest, DecodedResponse, Message, Part, ToolCall, Usage};

/// Takes the fields this dialect structures; `false` leaves the field to `params`.
pub(super) fn request_field(request: &mut DecodedRequest, name: &str, value: &Json) -> bool {
    match (name, value) {
        ("instructions", Json::String(text)) => request.system = vec![text.clone()],
        ("instructions", Json::Array(items)) => {
            request.system = items
                .iter()
                .map(|item| item.get("content").map_or_else(|| text_of(item), text_of))
                .collect();
        }
        ("input", Json::String(text)) => request.messages.push(Message {
            role: "user".to_string(),
            parts: vec![Part::Text(text.clone())],
        }),
        // One item is one message, as on the wire: a model turn is a run of `reasoning`,
        // `message` and `function_call` items.
        ("input", Json::Array(items)) => {
            request.messages = items.iter().map(item_message).collect()
        }
        ("tools", Json::Array(tools)) => request.tools.extend(
            tools
                .iter()
                .map(|tool| tool_def(tool, tool.str("name"), tool.get("parameters"))),
        ),
        _ => return false,
    }
    true
}

fn item_message(item: &Json) -> Message {
    let role = |default: &str| item.str("role").unwrap_or(default).to_string();
    // An item with a role and no type is the short form of a `message` item.
    match item.str("type").unwrap_or("message") {
        "message" => Message {
            role: role("user"),
            parts: content_parts(item.get("content")),
        },
        "function_call" | "custom_tool_call" => Message {
            role: role("assistant"),
            parts: vec![Part::ToolCall(function_call(item))],
        },
        "function_call_output" | "custom_tool_call_output" => Message {
            role: role("tool"),
            parts: vec![Part::ToolResult {
                call_id: item.str("call_id").map(str::to_string),
                content: item.get("output").map(text_of).unwrap_or_default(),
                is_error: false,
            }],
        },
        "reasoning" => {
            let text = reasoning_text(item);
            Message {
                role: role("assistant"),
                // Encrypted reasoning has no readable text; still show that it was there.
                parts: vec![if text.is_empty() {
                    Part::Other("reasoning".to_string())
                } else {
                    Part::Thinking(text)
                }],
            }
        }
        other => Message {
            role: role("assistant"),
            parts: vec![Part::Other(other.to_string())],
        },
    }
}

/// The call id (`call_…`, what the output item answers), not the item id (`fc_…`).
fn function_call(item: &Json) -> ToolCall {
    ToolCall {
        id: item.str("call_id").map(str::to_string),
        name: item.str("name").unwrap_or_default().to_string(),
        arguments: item
            .get("arguments")
            .or_else(|| item.get("input"))
            .map(Json::text_or_json)
            .unwrap_or_default(),
    }
}

/// Summary paragraphs, then full reasoning text when the model returns it.
fn reasoning_text(item: &Json) -> String {
    item.list("summary")
        .iter()
        .chain(item.list("content"))
        .filter_map(|part| part.str("text"))
        .collect::<Vec<_>>()
        .join("\n\n")
}

pub(super) fn read_response(root: &Json) -> DecodedResponse {
    let mut response = DecodedResponse {
        model: root.str("model").map(str::to_string),
        finish_reason: root
            .at(&["incomplete_details", "reason"])
            .and_then(Json::as_str)
            .or_else(|| root.str("status"))
            .map(str::to_string),
        usage: root.get("usage").and_then(usage),
        ..DecodedResponse::default()
    };
    for item in root.list("output") {
        match item.str("type") {
            Some("message") => {
                for part in content_parts(item.get("content")) {
                    if let Part::Text(text) = part {
                        response.text.push_str(&text);
                    }
                }
            }
            Some("reasoning") => {
                let text = reasoning_text(item);
                if !response.thinking.is_empty() && !text.is_empty() {
                    response.thinking.push_str("\n\n");
                }
                response.thinking.push_str(&text);
            }
            Some("function_call" | "custom_tool_call") => {
                response.tool_calls.push(function_call(item))
            }
            _ => {}
        }
    }
    response
}

fn usage(usage: &Json) -> Option<Usage> {
    if !matches!(usage, Json::Object(_)) {
        return None;
    }
    Some(Usage {
        input_tokens: usage.u64("input_tokens"),
        output_tokens: usage.u64("output_tokens"),
        cache_read_tokens: usage
            .at(&["input_tokens_details", "cached_tokens"])
            .and_then(Json::as_u64),
        cache_write_tokens: None,
    })
}

/// One stream event. Text and arguments arrive as deltas; the closing `response.*` event
/// carries the whole response, which is authoritative for whatever it contains.
pub(super) fn apply_event(state: &mut StreamState, kind: Option<&str>, data: &Json) {
    let delta = data.str("delta").unwrap_or_default();
    let key = data.u64("output_index").unwrap_or(0);
    match kind {
        Some("response.created" | "response.in_progress") => {
            if let Some(model) = data.at(&["response", "model"]).and_then(Json::as_str) {
                state.response.model = Some(model.to_string());
            }
        }
        Some("response.output_text.delta" | "response.refusal.delta") => {
            state.response.text.push_str(delta);
        }
        Some("response.reasoning_summary_text.delta" | "response.reasoning_text.delta") => {
            state.response.thinking.push_str(delta);
        }
        Some("response.reasoning_summary_part.added") if !state.response.thinking.is_empty() => {
            state.response.thinking.push_str("\n\n");
        }
        Some("response.output_item.added" | "response.output_item.done") => {
            let Some(item) = data.get("item") else {
                return;
            };
            if matches!(item.str("type"), Some("function_call" | "custom_tool_call")) {
                let whole = function_call(item);
                let call = state.tool(key);
                call.id = whole.id.or(call.id.take());
                call.name = whole.name;
                // `added` has empty arguments that the deltas then fill.
                if !whole.arguments.is_empty() {
                    call.arguments = whole.arguments;
                }
            }
        }
        Some(
            "response.function_call_arguments.delta" | "response.custom_tool_call_input.delta",
        ) => {
            state.tool(key).arguments.push_str(delta);
        }
        Some("response.function_call_arguments.done") => {
            if let Some(arguments) = data.str("arguments") {
                state.tool(key).arguments = arguments.to_string();
            }
        }
        Some("response.completed" | "response.incomplete" | "response.failed") => {
            let Some(whole) = data.get("response") else {
                return;
            };
            finish(state, whole);
        }
        _ => {}
    }
}

fn finish(state: &mut StreamState, whole: &Json) {
    let done = read_response(whole);
    let response = &mut state.response;
    response.model = done.model.or(response.model.take());
    response.finish_reason = done.finish_reason;
    if let Some(usage) = done.usage {
        merge_usage(&mut response.usage, usage);
    }
    if !done.text.is_empty() {
        response.text = done.text;
    }
    if !done.thinking.is_empty() {
        response.thinking = done.thinking;
    }
    if !done.tool_calls.is_empty() {
        state.replace_tools(done.tool_calls);
    }
    if let Some(message) = whole.at(&["error", "message"]).and_then(Json::as_str) {
        state.note_error(message.to_string());
    }
}

#[cfg(test)]
mod tests {
    use crate::llm::decode::assembler::{assemble_every_way, call};
    use crate::llm::{decode_request, decode_response, Dialect, Part, Usage};

    #[test]
    fn string_input_is_one_user_message_and_instructions_the_system() {
        let body = br#"{"model":"gpt-5","instructions":"be brief","input":"hello","reasoning":{"effort":"low"}}"#;
        let request = decode_request(Dialect::OpenAiResponses, body).unwrap();
        assert_eq!(request.system, ["be brief"]);
        assert_eq!(request.messages.len(), 1);
        assert_eq!(request.messages[0].role, "user");
        assert_eq!(request.messages[0].parts, [Part::Text("hello".into())]);
        assert_eq!(
            request.params,
            [("reasoning".to_string(), r#"{"effort":"low"}"#.to_string())]
        );
    }

    #[test]
    fn input_items_of_every_kind_are_decoded() {
        let body = br#"{"model":"gpt-5","input":[
            {"role":"user","content":"short form"},
            {"type":"message","role":"user","content":[{"type":"input_text","text":"look"},{"type":"input_image","image_url":"data:x"}]},
            {"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"plan"}],"encrypted_content":"zz"},
            {"type":"reasoning","id":"rs_2","summary":[],"encrypted_content":"zz"},
            {"type":"function_call","id":"fc_1","call_id":"call_1","name":"shell","arguments":"{\"cmd\":\"ls\"}"},
            {"type":"function_call_output","call_id":"call_1","output":"a.rs"},
            {"type":"message","role":"assistant","content":[{"type":"output_text","text":"done"}]},
            {"type":"web_search_call","id":"ws_1"}
        ],"tools":[{"type":"function","name":"shell","description":"runs","parameters":{"type":"object"},"strict":false},{"type":"web_search_preview"}]}"#;
        let request = decode_request(Dialect::OpenAiResponses, body).unwrap();
        let parts: Vec<(&str, &[Part])> = request
            .messages
            .iter()
            .map(|m| (m.role.as_str(), &m.parts[..]))
            .collect();
        assert_eq!(
            parts,
            [
                ("user", &[Part::Text("short form".into())][..]),
                (
                    "user",
                    &[Part::Text("look".into()), Part::Other("input_image".into())][..]
                ),
                ("assistant", &[Part::Thinking("plan".into())][..]),
                ("assistant", &[Part::Other("reasoning".into())][..]),
                (
                    "assistant",
                    &[Part::ToolCall(call("call_1", "shell", r#"{"cmd":"ls"}"#))][..]
                ),
                (
                    "tool",
                    &[Part::ToolResult {
                        call_id: Some("call_1".into()),
                        content: "a.rs".into(),
                        is_error: false
                    }][..]
                ),
                ("assistant", &[Part::Text("done".into())][..]),
                ("assistant", &[Part::Other("web_search_call".into())][..]),
            ]
        );
        let tools: Vec<(&str, &str, &str)> = request
            .tools
            .iter()
            .map(|t| {
                (
                    t.name.as_str(),
                    t.description.as_str(),
                    t.parameters.as_str(),
                )
            })
            .collect();
        assert_eq!(
            tools,
            [
                ("shell", "runs", r#"{"type":"object"}"#),
                ("web_search_preview", "", "")
            ]
        );
    }

    #[test]
    fn whole_reply_gives_output_items_status_and_usage() {
        let body = br#"{"id":"resp_1","object":"response","model":"gpt-5-2025","status":"completed","error":null,"output":[
            {"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"a"},{"type":"summary_text","text":"b"}]},
            {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Listing.","annotations":[]}]},
            {"type":"function_call","id":"fc_1","call_id":"call_7","name":"shell","arguments":"{}"}],
            "usage":{"input_tokens":300,"input_tokens_details":{"cached_tokens":256},"output_tokens":20,"total_tokens":320}}"#;
        let response = decode_response(Dialect::OpenAiResponses, None, body).unwrap();
        assert_eq!(response.model.as_deref(), Some("gpt-5-2025"));
        assert_eq!(response.thinking, "a\n\nb");
        assert_eq!(response.text, "Listing.");
        assert_eq!(response.tool_calls, [call("call_7", "shell", "{}")]);
        assert_eq!(response.finish_reason.as_deref(), Some("completed"));
        assert_eq!(
            response.usage,
            Some(Usage {
                input_tokens: Some(300),
                output_tokens: Some(20),
                cache_read_tokens: Some(256),
                cache_write_tokens: None
            })
        );
        assert_eq!(response.error, None);
        let incomplete = br#"{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[]}"#;
        let response = decode_response(Dialect::OpenAiResponses, None, incomplete).unwrap();
        assert_eq!(response.finish_reason.as_deref(), Some("max_output_tokens"));
    }

    const STREAM: &str = concat!(
        "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"model\":\"gpt-5\",\"status\":\"in_progress\",\"output\":[]}}\n\n",
        "event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"output_index\":0,\"item\":{\"type\":\"message\",\"role\":\"assistant\",\"content\":[]}}\n\n",
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"output_index\":0,\"content_index\":0,\"delta\":\"Let me \"}\n\n",
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"output_index\":0,\"content_index\":0,\"delta\":\"check.\"}\n\n",
        "event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"output_index\":1,\"item\":{\"type\":\"function_call\",\"id\":\"fc_1\",\"call_id\":\"call_1\",\"name\":\"shell\",\"arguments\":\"\"}}\n\n",
        "event: response.function_call_arguments.delta\ndata: {\"type\":\"response.function_call_arguments.delta\",\"item_id\":\"fc_1\",\"output_index\":1,\"delta\":\"{\\\"cmd\\\":\"}\n\n",
        "event: response.function_call_arguments.delta\ndata: {\"type\":\"response.function_call_arguments.delta\",\"item_id\":\"fc_1\",\"output_index\":1,\"delta\":\"\\\"ls\\\"}\"}\n\n",
        "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"model\":\"gpt-5\",\"status\":\"completed\",\"output\":[],\"usage\":{\"input_tokens\":50,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":9}}}\n\n",
    );

    #[test]
    fn stream_assembles_text_arguments_and_completion_usage_in_any_chunking() {
        let response = assemble_every_way(Dialect::OpenAiResponses, STREAM);
        assert_eq!(response.model.as_deref(), Some("gpt-5"));
        assert_eq!(response.text, "Let me check.");
        assert_eq!(
            response.tool_calls,
            [call("call_1", "shell", r#"{"cmd":"ls"}"#)]
        );
        assert_eq!(response.finish_reason.as_deref(), Some("completed"));
        assert_eq!(response.usage.and_then(|u| u.input_tokens), Some(50));
        assert_eq!(response.usage.and_then(|u| u.output_tokens), Some(9));
        assert_eq!(response.stream_events, Some(8));
    }

    #[test]
    fn completed_output_is_authoritative_over_deltas() {
        let stream = concat!(
            "data: {\"type\":\"response.output_text.delta\",\"output_index\":0,\"delta\":\"Hel\"}\n\n",
            "data: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",\"output\":[{\"type\":\"message\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hello\"}]}]}}\n\n",
        );
        assert_eq!(
            assemble_every_way(Dialect::OpenAiResponses, stream).text,
            "Hello"
        );
    }

    #[test]
    fn error_and_failed_events_fill_the_error() {
        let error = "event: error\ndata: {\"type\":\"error\",\"code\":\"rate_limit_exceeded\",\"message\":\"Slow down\",\"param\":null}\n\n";
        assert_eq!(
            assemble_every_way(Dialect::OpenAiResponses, error)
                .error
                .as_deref(),
            Some("Slow down")
        );
        let failed = "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"boom\"},\"output\":[]}}\n\n";
        let response = assemble_every_way(Dialect::OpenAiResponses, failed);
        assert_eq!(response.error.as_deref(), Some("boom"));
        assert_eq!(response.finish_reason.as_deref(), Some("failed"));
    }
}
