//! Anthropic messages (`/v1/messages`): typed content blocks, a separate `system`, and streams
//! of numbered content blocks.

use super::fields::{text_of, tool_def};
use super::json::Json;
use super::stream_state::{merge_usage, StreamState};
use crate::llm::{DecodedRequest, DecodedResponse, Message, Part, ToolCall, Usage};

/// Takes the fields this dialect structures; `false` leaves the field to `params`.
pub(super) fn request_field(request: &mut DecodedRequest, name: &str, value: &Json) -> bool {
    match (name, value) {
        ("system", Json::String(text)) => request.system = vec![text.clone()],
        ("system", Json::Array(blocks)) => {
            request.system = blocks.iter().map(text_of).collect();
        }
        ("messages", Json::Array(messages)) => {
            request.messages = messages.iter().map(message).collect();
        }
        ("tools", Json::Array(tools)) => request.tools.extend(
            tools
                .iter()
                .map(|tool| tool_def(tool, tool.str("name"), tool.get("input_schema"))),
        ),
        _ => return false,
    }
    true
}

fn message(message: &Json) -> Message {
    let parts = match message.get("content") {
        Some(Json::String(text)) => vec![Part::Text(text.clone())],
        Some(Json::Array(blocks)) => blocks.iter().map(block_part).collect(),
        _ => Vec::new(),
    };
    Message {
        role: message.str("role").unwrap_or("unknown").to_string(),
        parts,
    }
}

fn block_part(block: &Json) -> Part {
    if let Some(call) = tool_use(block) {
        return Part::ToolCall(call);
    }
    match block.str("type") {
        Some("text") => Part::Text(block.str("text").unwrap_or_default().to_string()),
        Some("thinking") => Part::Thinking(block.str("thinking").unwrap_or_default().to_string()),
        Some("tool_result" | "mcp_tool_result") => Part::ToolResult {
            call_id: block.str("tool_use_id").map(str::to_string),
            content: block.get("content").map(text_of).unwrap_or_default(),
            is_error: block.get("is_error").is_some_and(Json::is_true),
        },
        Some(other) => Part::Other(other.to_string()),
        None => match block.as_str() {
            Some(text) => Part::Text(text.to_string()),
            None => Part::Other("unknown".to_string()),
        },
    }
}

/// A block that calls a tool: the agent's tools, and the server-side and MCP tools
/// Anthropic runs itself.
fn tool_use(block: &Json) -> Option<ToolCall> {
    match block.str("type")? {
        "tool_use" | "server_tool_use" | "mcp_tool_use" => Some(ToolCall {
            id: block.str("id").map(str::to_string),
            name: block.str("name").unwrap_or_default().to_string(),
            arguments: block
                .get("input")
                .map(Json::text_or_json)
                .unwrap_or_default(),
        }),
        _ => None,
    }
}

pub(super) fn read_response(root: &Json) -> DecodedResponse {
    let mut response = DecodedResponse {
        model: root.str("model").map(str::to_string),
        finish_reason: root.str("stop_reason").map(str::to_string),
        usage: root.get("usage").and_then(usage),
        ..DecodedResponse::default()
    };
    for block in root.list("content") {
        if let Some(call) = tool_use(block) {
            response.tool_calls.push(call);
            continue;
        }
        match block.str("type") {
            Some("text") => response
                .text
                .push_str(block.str("text").unwrap_or_default()),
            Some("thinking") => response
                .thinking
                .push_str(block.str("thinking").unwrap_or_default()),
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
        cache_read_tokens: usage.u64("cache_read_input_tokens"),
        cache_write_tokens: usage.u64("cache_creation_input_tokens"),
    })
}

/// One stream event. Input counts come in `message_start`, the stop reason and final output
/// count in `message_delta`; content arrives per numbered block.
pub(super) fn apply_event(state: &mut StreamState, kind: Option<&str>, data: &Json) {
    let index = data.u64("index").unwrap_or(0);
    match kind {
        Some("message_start") => {
            let message = data.get("message");
            if let Some(model) = message.and_then(|m| m.str("model")) {
                state.response.model = Some(model.to_string());
            }
            if let Some(usage) = message.and_then(|m| m.get("usage")).and_then(usage) {
                merge_usage(&mut state.response.usage, usage);
            }
        }
        Some("content_block_start") => {
            let Some(block) = data.get("content_block") else {
                return;
            };
            if let Some(started) = tool_use(block) {
                let call = state.tool(index);
                call.id = started.id;
                call.name = started.name;
                // The input is `{}` here and follows as `input_json_delta` fragments; only
                // a non-empty one (a tool call sent whole) is kept.
                if block
                    .get("input")
                    .is_some_and(|input| !input.fields().is_empty())
                {
                    call.arguments = started.arguments;
                }
            } else {
                match block.str("type") {
                    Some("text") => state
                        .response
                        .text
                        .push_str(block.str("text").unwrap_or_default()),
                    Some("thinking") => state
                        .response
                        .thinking
                        .push_str(block.str("thinking").unwrap_or_default()),
                    _ => {}
                }
            }
        }
        Some("content_block_delta") => {
            let Some(delta) = data.get("delta") else {
                return;
            };
            match delta.str("type") {
                Some("text_delta") => state
                    .response
                    .text
                    .push_str(delta.str("text").unwrap_or_default()),
                Some("thinking_delta") => state
                    .response
                    .thinking
                    .push_str(delta.str("thinking").unwrap_or_default()),
                Some("input_json_delta") => state
                    .tool(index)
                    .arguments
                    .push_str(delta.str("partial_json").unwrap_or_default()),
                _ => {}
            }
        }
        Some("message_delta") => {
            if let Some(reason) = data.at(&["delta", "stop_reason"]).and_then(Json::as_str) {
                state.response.finish_reason = Some(reason.to_string());
            }
            if let Some(usage) = data.get("usage").and_then(usage) {
                merge_usage(&mut state.response.usage, usage);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::llm::decode::assembler::{assemble_every_way, call};
    use crate::llm::{decode_request, decode_response, Dialect, Part, Usage};

    #[test]
    fn request_blocks_of_every_kind_are_decoded() {
        let body = br#"{"model":"claude-sonnet-4-5","max_tokens":1024,"system":"be brief","messages":[
            {"role":"user","content":"hello"},
            {"role":"assistant","content":[{"type":"thinking","thinking":"plan","signature":"s"},{"type":"text","text":"reading"},{"type":"tool_use","id":"toolu_1","name":"Read","input":{"path":"a","n":1}}]},
            {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"text"},{"type":"tool_result","tool_use_id":"toolu_2","is_error":true,"content":[{"type":"text","text":"failed"},{"type":"image","source":{}}]},{"type":"image","source":{"type":"base64"}}]}
        ],"tools":[{"name":"Read","description":"reads a file","input_schema":{"type":"object","required":["path"]}},{"type":"web_search_20250305","name":"web_search"}]}"#;
        let request = decode_request(Dialect::Anthropic, body).unwrap();
        assert_eq!(request.system, ["be brief"]);
        assert_eq!(request.messages[0].parts, [Part::Text("hello".into())]);
        assert_eq!(
            request.messages[1].parts,
            [
                Part::Thinking("plan".into()),
                Part::Text("reading".into()),
                Part::ToolCall(call("toolu_1", "Read", r#"{"path":"a","n":1}"#)),
            ]
        );
        assert_eq!(
            request.messages[2].parts,
            [
                Part::ToolResult {
                    call_id: Some("toolu_1".into()),
                    content: "text".into(),
                    is_error: false
                },
                Part::ToolResult {
                    call_id: Some("toolu_2".into()),
                    content: "failed\n[image]".into(),
                    is_error: true
                },
                Part::Other("image".into()),
            ]
        );
        assert_eq!(
            request.tools[0].parameters,
            r#"{"type":"object","required":["path"]}"#
        );
        assert_eq!(request.tools[0].description, "reads a file");
        assert_eq!(request.tools[1].name, "web_search");
        assert_eq!(
            request.params,
            [("max_tokens".to_string(), "1024".to_string())]
        );
    }

    #[test]
    fn whole_reply_gives_thinking_text_tool_use_and_cache_usage() {
        let body = br#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[
            {"type":"thinking","thinking":"let me see","signature":"x"},{"type":"text","text":"I will read it."},
            {"type":"tool_use","id":"toolu_1","name":"Read","input":{"path":"src/main.rs"}}],
            "stop_reason":"tool_use","usage":{"input_tokens":12,"cache_creation_input_tokens":2048,"cache_read_input_tokens":30000,"output_tokens":88}}"#;
        let response = decode_response(Dialect::Anthropic, None, body).unwrap();
        assert_eq!(response.thinking, "let me see");
        assert_eq!(response.text, "I will read it.");
        assert_eq!(
            response.tool_calls,
            [call("toolu_1", "Read", r#"{"path":"src/main.rs"}"#)]
        );
        assert_eq!(response.finish_reason.as_deref(), Some("tool_use"));
        assert_eq!(
            response.usage,
            Some(Usage {
                input_tokens: Some(12),
                output_tokens: Some(88),
                cache_read_tokens: Some(30000),
                cache_write_tokens: Some(2048)
            })
        );
    }

    const STREAM: &str = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-opus-4-8\",\"content\":[],\"usage\":{\"input_tokens\":5,\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":20000,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"first \"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"read\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"sig\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: ping\ndata: {\"type\":\"ping\"}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Reading \"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"the file.\"}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"Read\",\"input\":{}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"file_path\\\": \\\"/tmp/\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"a.rs\\\"}\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":2}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":57}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );

    #[test]
    fn stream_assembles_blocks_stop_reason_and_merged_usage_in_any_chunking() {
        let response = assemble_every_way(Dialect::Anthropic, STREAM);
        assert_eq!(response.model.as_deref(), Some("claude-opus-4-8"));
        assert_eq!(response.thinking, "first read");
        assert_eq!(response.text, "Reading the file.");
        assert_eq!(
            response.tool_calls,
            [call("toolu_1", "Read", r#"{"file_path": "/tmp/a.rs"}"#)]
        );
        assert_eq!(response.finish_reason.as_deref(), Some("tool_use"));
        assert_eq!(
            response.usage,
            Some(Usage {
                input_tokens: Some(5),
                output_tokens: Some(57),
                cache_read_tokens: Some(20000),
                cache_write_tokens: Some(100)
            })
        );
        assert_eq!(response.stream_events, Some(17));
    }

    #[test]
    fn stream_error_event_fills_the_error() {
        let stream = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
        let response = assemble_every_way(Dialect::Anthropic, stream);
        assert_eq!(response.error.as_deref(), Some("Overloaded"));
    }
}
