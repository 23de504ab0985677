//! Google's Gemini API (`…/models/{model}:generateContent`, `:streamGenerateContent`):
//! `contents` of typed `parts`, a separate `systemInstruction`, tools grouped under
//! `functionDeclarations`, and replies whose every stream chunk is a whole
//! `GenerateContentResponse` holding only what is new.
//!
//! Gemini CLI signed in with Google calls Code Assist, which wraps the same request in
//! `{"model", "project", "request": {…}}` and each reply in `{"response": {…}}`; both wrappers
//! are read through.

use super::fields::{text_of, tool_def};
use super::json::Json;
use super::stream_state::{merge_usage, StreamState};
use crate::llm::{DecodedRequest, DecodedResponse, Message, Part, ToolCall, Usage};

/// Takes the fields this dialect structures; `false` leaves the field to `params`.
pub(super) fn request_field(request: &mut DecodedRequest, name: &str, value: &Json) -> bool {
    match (name, value) {
        ("contents", Json::Array(contents)) => {
            request.messages = contents.iter().map(message).collect();
        }
        // Code Assist's envelope: the request proper sits one level down.
        ("request", Json::Object(fields)) => {
            for (name, value) in fields {
                if !request_field(request, name, value) {
                    request.params.push((name.clone(), value.to_string()));
                }
            }
        }
        ("systemInstruction" | "system_instruction", instruction) => {
            request.system = match instruction {
                Json::String(text) => vec![text.clone()],
                _ => instruction.list("parts").iter().map(text_of).collect(),
            };
        }
        ("tools", Json::Array(tools)) => {
            for tool in tools {
                let declarations = tool
                    .get("functionDeclarations")
                    .or_else(|| tool.get("function_declarations"));
                match declarations {
                    Some(Json::Array(functions)) => {
                        request.tools.extend(functions.iter().map(|function| {
                            let schema = function
                                .get("parametersJsonSchema")
                                .or_else(|| function.get("parameters"));
                            tool_def(function, function.str("name"), schema)
                        }));
                    }
                    // Built-in tools (`googleSearch`, `codeExecution`) are named by their key.
                    _ => request.tools.extend(tool.fields().iter().map(|(name, _)| {
                        crate::llm::ToolDef {
                            name: name.clone(),
                            description: String::new(),
                            parameters: String::new(),
                        }
                    })),
                }
            }
        }
        // Each setting reads as a parameter of its own, as the other dialects' top-level
        // `temperature` or `max_tokens` do.
        ("generationConfig" | "generation_config", Json::Object(settings)) => {
            request.params.extend(
                settings
                    .iter()
                    .map(|(name, value)| (name.clone(), value.to_string())),
            );
        }
        _ => return false,
    }
    true
}

fn message(content: &Json) -> Message {
    Message {
        role: content.str("role").unwrap_or("user").to_string(),
        parts: content.list("parts").iter().map(part).collect(),
    }
}

fn part(part: &Json) -> Part {
    if let Some(call) = function_call(part) {
        return Part::ToolCall(call);
    }
    if let Some(answer) = part
        .get("functionResponse")
        .or_else(|| part.get("function_response"))
    {
        return Part::ToolResult {
            call_id: answer
                .str("id")
                .or_else(|| answer.str("name"))
                .map(str::to_string),
            content: answer
                .get("response")
                .map(Json::text_or_json)
                .unwrap_or_default(),
            is_error: answer.at(&["response", "error"]).is_some(),
        };
    }
    if let Some(text) = part.str("text") {
        return if part.get("thought").is_some_and(Json::is_true) {
            Part::Thinking(text.to_string())
        } else {
            Part::Text(text.to_string())
        };
    }
    Part::Other(summary(part))
}

/// A part that carries no text, by its kind: inline data and files by their MIME type and
/// size, so a screenshot reads as `inlineData image/png, 48 KB` instead of its base64.
fn summary(part: &Json) -> String {
    if let Some(data) = part.get("inlineData").or_else(|| part.get("inline_data")) {
        let mime = data
            .str("mimeType")
            .or_else(|| data.str("mime_type"))
            .unwrap_or("?");
        let bytes = data.str("data").map_or(0, |b64| b64.len() / 4 * 3);
        return format!("inlineData {mime}, {} KB", bytes.div_ceil(1024));
    }
    if let Some(file) = part.get("fileData").or_else(|| part.get("file_data")) {
        return format!("fileData {}", file.str("fileUri").unwrap_or("?"));
    }
    part.fields()
        .iter()
        .map(|(name, _)| name.as_str())
        .find(|name| *name != "thoughtSignature")
        .unwrap_or("unknown")
        .to_string()
}

/// A `functionCall` part; Gemini sends each call whole, arguments as a JSON object.
fn function_call(part: &Json) -> Option<ToolCall> {
    let call = part
        .get("functionCall")
        .or_else(|| part.get("function_call"))?;
    Some(ToolCall {
        id: call.str("id").map(str::to_string),
        name: call.str("name").unwrap_or_default().to_string(),
        arguments: call.get("args").map(Json::text_or_json).unwrap_or_default(),
    })
}

/// The reply proper: Code Assist wraps it in `response`.
fn unwrapped(root: &Json) -> &Json {
    root.get("response")
        .filter(|inner| matches!(inner, Json::Object(_)))
        .unwrap_or(root)
}

pub(super) fn read_response(root: &Json) -> DecodedResponse {
    let mut state = StreamState::default();
    apply_chunk(&mut state, root);
    state.response
}

/// One `GenerateContentResponse`: a whole reply, or one chunk of a stream (SSE event or JSON
/// array element), whose parts add to what came before and whose usage is the running total.
pub(super) fn apply_chunk(state: &mut StreamState, chunk: &Json) {
    let chunk = unwrapped(chunk);
    if let Some(model) = chunk.str("modelVersion") {
        state.response.model = Some(model.to_string());
    }
    if let Some(usage) = chunk.get("usageMetadata").and_then(usage) {
        merge_usage(&mut state.response.usage, usage);
    }
    // Agents ask for one candidate; a second would interleave into nonsense.
    let Some(candidate) = chunk.list("candidates").first() else {
        if let Some(reason) = chunk.at(&["promptFeedback", "blockReason"]) {
            state.response.finish_reason = reason.as_str().map(|r| format!("blocked: {r}"));
        }
        return;
    };
    for part in candidate
        .at(&["content", "parts"])
        .map_or(&[][..], Json::items)
    {
        if let Some(call) = function_call(part) {
            state.response.tool_calls.push(call);
            continue;
        }
        let Some(text) = part.str("text") else {
            continue;
        };
        if part.get("thought").is_some_and(Json::is_true) {
            state.response.thinking.push_str(text);
        } else {
            state.response.text.push_str(text);
        }
    }
    if let Some(reason) = candidate.str("finishReason") {
        state.response.finish_reason = Some(reason.to_string());
    }
}

/// `usageMetadata` in the other dialects' terms: the prompt count includes what the cache
/// served (as OpenAI's does), and the output counts thoughts too, since they are billed as
/// output (as OpenAI's reasoning tokens are).
fn usage(usage: &Json) -> Option<Usage> {
    if !matches!(usage, Json::Object(_)) {
        return None;
    }
    let input = usage.u64("promptTokenCount");
    let candidates = usage.u64("candidatesTokenCount");
    let thoughts = usage.u64("thoughtsTokenCount");
    let output = match (candidates, thoughts) {
        (None, None) => usage
            .u64("totalTokenCount")
            .zip(input)
            .and_then(|(total, input)| total.checked_sub(input))
            .filter(|output| *output > 0),
        (c, t) => Some(c.unwrap_or(0).saturating_add(t.unwrap_or(0))),
    };
    Some(Usage {
        input_tokens: input,
        output_tokens: output,
        cache_read_tokens: usage.u64("cachedContentTokenCount"),
        cache_write_tokens: None,
    })
}
