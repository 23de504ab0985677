//! The conversation and the reply in the shapes the GenAI conventions give them
//! (`gen_ai.input.messages`, `gen_ai.output.messages`, `gen_ai.system_instructions`), as JSON
//! text: the SDK's attribute values have no maps, and the conventions allow a JSON string on
//! spans. Sent only with `--otlp-bodies`; the bodies were redacted of credentials at capture.

use serde_json::{json, Value};

use crate::llm::{DecodedRequest, DecodedResponse, Message, Part, ToolCall};

/// `gen_ai.system_instructions`: the system prompt an API takes beside the messages
/// (Anthropic's `system`); `None` when it rides in the messages instead.
pub fn system_instructions(request: &DecodedRequest) -> Option<String> {
    if request.system.is_empty() {
        return None;
    }
    let parts: Vec<Value> = request
        .system
        .iter()
        .map(|text| json!({ "type": "text", "content": text }))
        .collect();
    Some(Value::Array(parts).to_string())
}

/// `gen_ai.input.messages`: every message in the order it was sent.
pub fn input_messages(request: &DecodedRequest) -> String {
    let messages: Vec<Value> = request.messages.iter().map(message).collect();
    Value::Array(messages).to_string()
}

/// `gen_ai.output.messages`: the one answer llmscope assembles from a reply.
pub fn output_messages(reply: &DecodedResponse) -> String {
    let mut parts = Vec::new();
    if !reply.thinking.is_empty() {
        parts.push(json!({ "type": "reasoning", "content": reply.thinking }));
    }
    if !reply.text.is_empty() {
        parts.push(json!({ "type": "text", "content": reply.text }));
    }
    parts.extend(reply.tool_calls.iter().map(tool_call));
    let message = json!({
        "role": "assistant",
        "parts": parts,
        "finish_reason": reply.finish_reason.as_deref().unwrap_or(""),
    });
    Value::Array(vec![message]).to_string()
}

fn message(message: &Message) -> Value {
    let parts: Vec<Value> = message.parts.iter().map(part).collect();
    json!({ "role": message.role, "parts": parts })
}

fn part(part: &Part) -> Value {
    match part {
        Part::Text(text) => json!({ "type": "text", "content": text }),
        Part::Thinking(text) => json!({ "type": "reasoning", "content": text }),
        Part::ToolCall(call) => tool_call(call),
        Part::ToolResult {
            call_id, content, ..
        } => json!({ "type": "tool_call_response", "id": call_id, "response": content }),
        Part::Other(kind) => json!({ "type": kind }),
    }
}

/// Arguments go as the object they encode when they parse, as the conventions ask.
fn tool_call(call: &ToolCall) -> Value {
    let arguments = serde_json::from_str::<Value>(&call.arguments)
        .unwrap_or_else(|_| Value::String(call.arguments.clone()));
    json!({ "type": "tool_call", "id": call.id, "name": call.name, "arguments": arguments })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{decode_request, decode_response, Dialect};

    #[test]
    fn a_chat_request_becomes_role_and_parts_in_order() {
        let body = br#"{"model":"m","messages":[
            {"role":"system","content":"be brief"},
            {"role":"user","content":"read it"},
            {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
              "function":{"name":"read","arguments":"{\"filePath\":\"a.rs\"}"}}]},
            {"role":"tool","tool_call_id":"c1","content":"fn main(){}"}]}"#;
        let request = decode_request(Dialect::OpenAiChat, body).expect("decodes");
        let messages: Value = serde_json::from_str(&input_messages(&request)).expect("JSON");
        assert_eq!(
            messages[0],
            json!({"role":"system","parts":[{"type":"text","content":"be brief"}]})
        );
        assert_eq!(messages[1]["parts"][0]["content"], "read it");
        assert_eq!(
            messages[2]["parts"][0],
            json!({"type":"tool_call","id":"c1","name":"read","arguments":{"filePath":"a.rs"}})
        );
        assert_eq!(
            messages[3]["parts"][0],
            json!({"type":"tool_call_response","id":"c1","response":"fn main(){}"})
        );
        assert_eq!(system_instructions(&request), None);
    }

    #[test]
    fn anthropic_system_goes_apart_and_the_reply_carries_its_finish_reason() {
        let body = br#"{"model":"claude","system":[{"type":"text","text":"You are terse."}],
            "messages":[{"role":"user","content":"hi"}]}"#;
        let request = decode_request(Dialect::Anthropic, body).expect("decodes");
        let system: Value =
            serde_json::from_str(&system_instructions(&request).expect("system")).expect("JSON");
        assert_eq!(system, json!([{"type":"text","content":"You are terse."}]));
        let reply = br#"{"id":"msg_1","type":"message","role":"assistant","model":"claude",
            "content":[{"type":"text","text":"Hello."}],"stop_reason":"end_turn",
            "usage":{"input_tokens":3,"output_tokens":2}}"#;
        let reply = decode_response(Dialect::Anthropic, None, reply).expect("decodes");
        let out: Value = serde_json::from_str(&output_messages(&reply)).expect("JSON");
        assert_eq!(
            out,
            json!([{"role":"assistant","parts":[{"type":"text","content":"Hello."}],"finish_reason":"end_turn"}])
        );
    }
}
