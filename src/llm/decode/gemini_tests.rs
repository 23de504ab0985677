//! The Gemini decoders against the shapes in `assets/fixtures/gemini-*`: a Gemini CLI turn,
//! a whole reply, and one streamed reply both as SSE and as the JSON array Gemini sends
//! without `?alt=sse`.

use super::assembler::{assemble_every_way, call};
use super::json::Json;
use super::{decode_request, decode_response, reply_usage};
use crate::llm::{Dialect, Part, ToolCall, Usage};

const TURN: &str = include_str!("../../../assets/fixtures/gemini-cli-stream-turn.json");
const WHOLE: &str = include_str!("../../../assets/fixtures/gemini-reply.json");
const SSE: &str = include_str!("../../../assets/fixtures/gemini-stream-reply.sse");
const ARRAY: &str = include_str!("../../../assets/fixtures/gemini-stream-reply-array.json");

fn turn_body() -> Vec<u8> {
    let fixture = Json::parse(TURN.as_bytes()).expect("fixture is JSON");
    fixture
        .get("body")
        .expect("fixture has a body")
        .to_string()
        .into_bytes()
}

#[test]
fn a_gemini_cli_turn_decodes_parts_system_tools_and_generation_config() {
    let request = decode_request(Dialect::Gemini, &turn_body()).expect("decodes");
    assert_eq!(request.model, None, "Gemini names its model in the path");
    assert_eq!(request.system.len(), 1);
    assert!(request.system[0].starts_with("You are an interactive CLI agent"));
    let roles: Vec<&str> = request.messages.iter().map(|m| m.role.as_str()).collect();
    assert_eq!(roles, ["user", "user", "model", "user"]);
    assert_eq!(
        request.messages[1].parts,
        [
            Part::Text("Add a --json flag to `llmscope sessions`.".into()),
            Part::Other("inlineData image/png, 3 KB".into()),
        ]
    );
    assert_eq!(
        request.messages[2].parts,
        [
            Part::Thinking("I will read the sessions command first.".into()),
            Part::Text("Reading the sessions command.".into()),
            Part::ToolCall(call(
                "read_file-1764588000000-1",
                "read_file",
                r#"{"absolute_path":"/work/llmscope/src/cli/sessions.rs"}"#
            )),
        ]
    );
    let [Part::ToolResult {
        call_id,
        content,
        is_error,
    }] = &request.messages[3].parts[..]
    else {
        panic!("a function response: {:?}", request.messages[3].parts);
    };
    assert_eq!(call_id.as_deref(), Some("read_file-1764588000000-1"));
    assert!(
        content.starts_with(r#"{"output":"fn run(args"#),
        "{content}"
    );
    assert!(!is_error);
    let tools: Vec<&str> = request.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tools.len(), 11);
    assert_eq!(
        tools[..3],
        ["list_directory", "read_file", "search_file_content"]
    );
    assert!(request.tools[1]
        .parameters
        .contains(r#""required":["absolute_path"]"#));
    let params: Vec<(&str, &str)> = request
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        params,
        [
            ("temperature", "0"),
            ("topP", "1"),
            (
                "thinkingConfig",
                r#"{"includeThoughts":true,"thinkingBudget":-1}"#
            )
        ]
    );
}

#[test]
fn code_assist_wraps_the_same_request_and_reply() {
    let request = br#"{"model":"gemini-2.5-pro","project":"p-1","user_prompt_id":"u","request":{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"temperature":0}}}"#;
    let decoded = decode_request(Dialect::Gemini, request).expect("decodes");
    assert_eq!(decoded.model.as_deref(), Some("gemini-2.5-pro"));
    assert_eq!(decoded.messages[0].parts, [Part::Text("hi".into())]);
    assert!(decoded.params.contains(&("temperature".into(), "0".into())));
    let stream = "data: {\"response\": {\"candidates\": [{\"content\": {\"role\": \"model\",\"parts\": [{\"text\": \"hello\"}]},\"finishReason\": \"STOP\"}],\"usageMetadata\": {\"promptTokenCount\": 3,\"candidatesTokenCount\": 1,\"totalTokenCount\": 4},\"modelVersion\": \"gemini-2.5-pro\"},\"traceId\": \"t\"}\r\n\r\n";
    let reply = assemble_every_way(Dialect::Gemini, stream);
    assert_eq!(reply.text, "hello");
    assert_eq!(reply.finish_reason.as_deref(), Some("STOP"));
}

#[test]
fn a_whole_reply_gives_text_the_call_and_usage_with_cache_and_thoughts() {
    let reply = decode_response(Dialect::Gemini, Some("application/json"), WHOLE.as_bytes())
        .expect("decodes");
    assert_eq!(reply.model.as_deref(), Some("gemini-2.5-flash"));
    assert_eq!(reply.text, "Reading the sessions command.");
    assert_eq!(
        reply.tool_calls,
        [ToolCall {
            id: None,
            name: "read_file".into(),
            arguments: r#"{"absolute_path":"/work/llmscope/src/cli/sessions.rs"}"#.into()
        }]
    );
    assert_eq!(reply.finish_reason.as_deref(), Some("STOP"));
    assert_eq!(reply.stream_events, None);
    assert_eq!(
        reply.usage,
        Some(Usage {
            input_tokens: Some(9120),
            output_tokens: Some(38 + 141),
            cache_read_tokens: Some(8190),
            cache_write_tokens: None,
        })
    );
}

/// What both forms of the fixture stream must read as.
fn assert_streamed_reply(reply: &crate::llm::DecodedResponse) {
    assert_eq!(reply.model.as_deref(), Some("gemini-2.5-pro"));
    assert_eq!(
        reply.thinking,
        "**Planning the flag**\n\nThe sessions command prints a table; a JSON mode needs serde on the summary."
    );
    assert_eq!(
        reply.text,
        "The `sessions` command prints a table today. I will add `--json` and print one object per session."
    );
    assert_eq!(reply.tool_calls.len(), 1);
    assert_eq!(reply.tool_calls[0].name, "replace");
    assert!(reply.tool_calls[0]
        .arguments
        .starts_with(r#"{"file_path":"/work/llmscope/src/cli/sessions.rs""#));
    assert_eq!(reply.finish_reason.as_deref(), Some("STOP"));
    assert_eq!(reply.stream_events, Some(5));
    assert_eq!(
        reply.usage,
        Some(Usage {
            input_tokens: Some(14253),
            output_tokens: Some(61 + 239),
            cache_read_tokens: Some(12058),
            cache_write_tokens: None,
        })
    );
    assert_eq!(reply.error, None);
}

#[test]
fn an_sse_stream_concatenates_its_parts_in_any_chunking() {
    assert_streamed_reply(&assemble_every_way(Dialect::Gemini, SSE));
}

#[test]
fn a_stream_without_alt_sse_is_one_json_array_read_the_same() {
    let reply = decode_response(Dialect::Gemini, Some("application/json"), ARRAY.as_bytes())
        .expect("decodes");
    assert_streamed_reply(&reply);
}

#[test]
fn usage_is_read_from_the_last_chunk_of_either_form() {
    for (content_type, body) in [
        (Some("text/event-stream"), SSE),
        (Some("application/json; charset=UTF-8"), ARRAY),
        (Some("application/json"), WHOLE),
    ] {
        let usage = reply_usage(Dialect::Gemini, content_type, body.as_bytes()).expect("usage");
        assert!(usage.input_tokens.is_some() && usage.cache_read_tokens.is_some());
    }
}

#[test]
fn an_error_chunk_and_a_blocked_prompt_are_read() {
    let stream = concat!(
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Hel\"}],\"role\": \"model\"},\"index\": 0}]}\r\n\r\n",
        "data: {\"error\": {\"code\": 503,\"message\": \"The model is overloaded. Please try again later.\",\"status\": \"UNAVAILABLE\"}}\r\n\r\n",
    );
    let reply = assemble_every_way(Dialect::Gemini, stream);
    assert_eq!(reply.text, "Hel");
    assert_eq!(
        reply.error.as_deref(),
        Some("The model is overloaded. Please try again later.")
    );
    let array = br#"[{"error":{"code":429,"message":"Resource exhausted. Please try again later.","status":"RESOURCE_EXHAUSTED"}}]"#;
    let reply = decode_response(Dialect::Gemini, None, array).expect("decodes");
    assert_eq!(
        reply.error.as_deref(),
        Some("Resource exhausted. Please try again later.")
    );
    let blocked = br#"{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8}}"#;
    let reply = decode_response(Dialect::Gemini, None, blocked).expect("decodes");
    assert_eq!(
        reply.finish_reason.as_deref(),
        Some("blocked: PROHIBITED_CONTENT")
    );
    assert_eq!(reply.usage.and_then(|u| u.output_tokens), None);
}
