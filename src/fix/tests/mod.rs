//! Tests of the fixes and rules, on hand-built conversations and on the real request shapes
//! of opencode and Claude Code (`assets/fixtures`).

mod families;
mod params;
mod pointer;
mod rules;
mod schemas;
mod suggest;
mod suggest_fields;
mod tool_results;
mod turns;

use serde_json::{json, Value};

use super::{apply_fix, EditableRequest, FixOutcome, QuickFix};
use crate::capture::HeaderList;
use crate::llm::Dialect;

const OPENCODE: &str = include_str!("../../../assets/fixtures/opencode-chat-turn.json");
const CLAUDE_CODE: &str = include_str!("../../../assets/fixtures/claude-code-messages-turn.json");

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

/// The request body of a fixture, in the agent's key order.
fn fixture_body(text: &str) -> Value {
    fixture(text)["body"].clone()
}

fn fixture_headers(text: &str) -> HeaderList {
    fixture(text)["headers"]
        .as_object()
        .expect("fixture has headers")
        .iter()
        .map(|(name, value)| (name.clone(), value.as_str().unwrap_or_default().to_string()))
        .collect()
}

fn request(body: Value) -> EditableRequest {
    EditableRequest {
        headers: HeaderList::new(),
        body,
    }
}

/// Applies a fix to a body that must be workable, returning the outcome.
fn apply(fix: QuickFix, dialect: Dialect, body: &mut Value) -> FixOutcome {
    let mut editable = request(body.take());
    let outcome = apply_fix(&fix, dialect, &mut editable).expect("the body is an object");
    *body = editable.body;
    outcome
}

fn keys(body: &Value) -> Vec<&str> {
    body.as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// A short message list's roles, with call and result ids, to compare conversations at a
/// glance: `["system", "user", "assistant>c1", "tool<c1"]`.
fn shape(messages: &Value) -> Vec<String> {
    messages
        .as_array()
        .expect("a list")
        .iter()
        .map(|item| {
            let mut text = item
                .get("role")
                .or_else(|| item.get("type"))
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            for call in item["tool_calls"].as_array().into_iter().flatten() {
                text.push_str(&format!(">{}", call["id"].as_str().unwrap_or("?")));
            }
            for block in item["content"].as_array().into_iter().flatten() {
                match block["type"].as_str() {
                    Some("tool_use") => {
                        text.push_str(&format!(">{}", block["id"].as_str().unwrap_or("?")))
                    }
                    Some("tool_result") => text.push_str(&format!(
                        "<{}",
                        block["tool_use_id"].as_str().unwrap_or("?")
                    )),
                    _ => {}
                }
            }
            if let Some(id) = item["tool_call_id"].as_str() {
                text.push_str(&format!("<{id}"));
            }
            match item["type"].as_str() {
                Some("function_call" | "custom_tool_call") => {
                    text.push_str(&format!(">{}", item["call_id"].as_str().unwrap_or("?")))
                }
                Some("function_call_output" | "custom_tool_call_output") => {
                    text.push_str(&format!("<{}", item["call_id"].as_str().unwrap_or("?")))
                }
                _ => {}
            }
            text
        })
        .collect()
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

fn assistant(text: &str) -> Value {
    json!({"role": "assistant", "content": text})
}

/// An OpenAI chat assistant message that calls tools.
fn chat_calls(ids: &[&str]) -> Value {
    let calls: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "type": "function", "function": {"name": "bash", "arguments": "{\"command\":\"ls\"}"}}))
        .collect();
    json!({"role": "assistant", "content": null, "tool_calls": calls})
}

fn chat_result(id: &str) -> Value {
    json!({"role": "tool", "tool_call_id": id, "content": "file.txt"})
}

/// An Anthropic assistant message that calls tools.
fn anthropic_calls(ids: &[&str]) -> Value {
    let mut blocks = vec![json!({"type": "text", "text": "Let me look."})];
    blocks.extend(ids.iter().map(
        |id| json!({"type": "tool_use", "id": id, "name": "Bash", "input": {"command": "ls"}}),
    ));
    json!({"role": "assistant", "content": blocks})
}

fn anthropic_results(ids: &[&str]) -> Value {
    let blocks: Vec<Value> = ids
        .iter()
        .map(|id| json!({"type": "tool_result", "tool_use_id": id, "content": "file.txt"}))
        .collect();
    json!({"role": "user", "content": blocks})
}

fn responses_call(id: &str) -> Value {
    json!({"type": "function_call", "call_id": id, "name": "shell", "arguments": "{}"})
}

fn responses_output(id: &str) -> Value {
    json!({"type": "function_call_output", "call_id": id, "output": "file.txt"})
}
