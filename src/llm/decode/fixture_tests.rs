//! The decoders against the real shapes of opencode and Claude Code requests, and against
//! garbage made from them.

use super::json::Json;
use super::{decode_request, decode_response};
use crate::llm::{DecodedRequest, Dialect, Part};

const OPENCODE: &str = include_str!("../../../assets/fixtures/opencode-chat-turn.json");
const CLAUDE_CODE: &str = include_str!("../../../assets/fixtures/claude-code-messages-turn.json");

/// The request body of a fixture, written back in its own key order.
fn body(fixture: &str) -> Vec<u8> {
    let fixture = Json::parse(fixture.as_bytes()).expect("fixture is JSON");
    fixture
        .get("body")
        .expect("fixture has a body")
        .to_string()
        .into_bytes()
}

fn decode(dialect: Dialect, fixture: &str) -> DecodedRequest {
    decode_request(dialect, &body(fixture)).expect("fixture decodes")
}

fn param<'r>(request: &'r DecodedRequest, name: &str) -> Option<&'r str> {
    request
        .params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

#[test]
fn opencode_turn_decodes_with_its_system_message_ten_tools_and_params() {
    let request = decode(Dialect::OpenAiChat, OPENCODE);
    assert_eq!(request.model.as_deref(), Some("mock-ok"));
    assert!(request.stream);
    let tools: Vec<&str> = request
        .tools
        .iter()
        .map(|tool| tool.name.as_str())
        .collect();
    assert_eq!(
        tools,
        [
            "bash",
            "edit",
            "glob",
            "grep",
            "read",
            "skill",
            "task",
            "todowrite",
            "webfetch",
            "write"
        ]
    );
    assert!(request
        .tools
        .iter()
        .all(|t| t.parameters.starts_with('{') && !t.description.is_empty()));
    let roles: Vec<&str> = request.messages.iter().map(|m| m.role.as_str()).collect();
    assert_eq!(roles, ["system", "user"]);
    assert!(matches!(&request.messages[0].parts[..], [Part::Text(text)] if text.len() > 9000));
    let names: Vec<&str> = request
        .params
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(names, ["max_tokens", "tool_choice", "stream_options"]);
    assert_eq!(param(&request, "max_tokens"), Some("32000"));
    assert_eq!(param(&request, "tool_choice"), Some("\"auto\""));
    assert_eq!(
        param(&request, "stream_options"),
        Some(r#"{"include_usage":true}"#)
    );
}

#[test]
fn claude_code_turn_decodes_with_system_blocks_24_tools_and_thinking() {
    let request = decode(Dialect::Anthropic, CLAUDE_CODE);
    assert_eq!(request.model.as_deref(), Some("claude-opus-4-8"));
    assert!(request.stream);
    assert_eq!(request.system.len(), 3);
    assert_eq!(
        request.system[0],
        "user reports short in user user files files plain results plain plain user"
    );
    assert_eq!(request.tools.len(), 24);
    assert_eq!(request.tools[0].name, "Agent");
    assert_eq!(request.tools[23].name, "Write");
    assert!(request.tools.iter().all(|t| t.parameters.starts_with('{')));
    let roles: Vec<&str> = request.messages.iter().map(|m| m.role.as_str()).collect();
    assert_eq!(roles, ["user", "system"]);
    assert_eq!(request.messages[0].parts.len(), 2);
    let names: Vec<&str> = request
        .params
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "metadata",
            "max_tokens",
            "thinking",
            "context_management",
            "output_config"
        ]
    );
    assert_eq!(param(&request, "thinking"), Some(r#"{"type":"adaptive"}"#));
    assert_eq!(param(&request, "max_tokens"), Some("64000"));
    assert_eq!(
        param(&request, "context_management"),
        Some(r#"{"edits":[{"type":"clear_thinking_20251015","keep":"all"}]}"#)
    );
}

#[test]
fn fixtures_read_in_the_wrong_dialect_do_not_panic() {
    for fixture in [OPENCODE, CLAUDE_CODE] {
        let body = body(fixture);
        for dialect in [
            Dialect::OpenAiChat,
            Dialect::OpenAiResponses,
            Dialect::Anthropic,
        ] {
            let request = decode_request(dialect, &body).expect("still a JSON object");
            assert!(request.model.is_some());
            let _ = decode_response(dialect, None, &body);
        }
    }
}

const DIALECTS: [Dialect; 4] = [
    Dialect::OpenAiChat,
    Dialect::OpenAiResponses,
    Dialect::Anthropic,
    Dialect::Unknown,
];

/// Every prefix of the first few KB (where the structure is densest) and a stride through the
/// rest: all prefixes of 110 KB would take minutes in a debug build and test nothing more.
#[test]
fn prefixes_of_fixture_bodies_never_panic() {
    for fixture in [OPENCODE, CLAUDE_CODE] {
        let body = body(fixture);
        let cuts = (0..body.len().min(3000)).chain((3000..body.len()).step_by(487));
        for cut in cuts {
            for dialect in DIALECTS {
                let prefix = &body[..cut];
                assert_eq!(decode_request(dialect, prefix), None, "prefix {cut} parsed");
                let _ = decode_response(dialect, Some("text/event-stream"), prefix);
            }
        }
    }
}

/// Valid JSON with every field the decoders read set to each wrong type.
#[test]
fn fields_of_every_wrong_type_never_panic() {
    let keys = [
        "messages",
        "tools",
        "system",
        "input",
        "instructions",
        "content",
        "choices",
        "output",
        "usage",
        "delta",
        "tool_calls",
        "function",
        "error",
        "model",
        "stream",
        "index",
    ];
    let values = [
        "null",
        "1",
        "-1.5",
        "\"s\"",
        "[]",
        "{}",
        "[null,1,\"s\",[],{}]",
        "true",
    ];
    for key in keys {
        for value in values {
            let flat = format!("{{\"{key}\":{value}}}");
            let nested = format!(
                "{{\"messages\":[{{\"role\":\"user\",\"{key}\":{value},\"content\":[{{\"type\":\"text\",\"{key}\":{value}}}]}}],\"choices\":[{{\"{key}\":{value},\"message\":{{\"{key}\":{value}}}}}],\"output\":[{{\"type\":\"message\",\"{key}\":{value}}}]}}"
            );
            for body in [flat, nested] {
                for dialect in DIALECTS {
                    let _ = decode_request(dialect, body.as_bytes());
                    let _ = decode_response(dialect, None, body.as_bytes());
                    let event = format!("data: {body}\n\nevent: {key}\ndata: {body}\n\n");
                    let _ = decode_response(dialect, None, event.as_bytes());
                }
            }
        }
    }
}

/// Bytes from a fixed linear congruential generator: reproducible noise, no extra crate.
#[test]
fn random_bytes_never_panic() {
    let mut seed: u64 = 0x5eed;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as u8
    };
    let alphabet = b"{}[]\":,data: event:\n\r0123456789abcxyz\\ \xff\xc3";
    for _ in 0..300 {
        let len = usize::from(next()) * 2;
        let garbage: Vec<u8> = (0..len)
            .map(|_| alphabet[usize::from(next()) % alphabet.len()])
            .collect();
        for dialect in DIALECTS {
            let _ = decode_request(dialect, &garbage);
            let _ = decode_response(dialect, None, &garbage);
            let _ = decode_response(dialect, Some("text/event-stream"), &garbage);
        }
    }
}
