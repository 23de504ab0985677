//! The streamed form of a reply: the SSE events each dialect really sends, in order, with the
//! reply text or tool arguments split over several deltas.

use serde_json::{json, Value};

use crate::llm::Dialect;

use super::gemini;
use super::replies::{Content, ReplyPlan, CREATED, TOOL_ARGUMENTS, TOOL_NAME};

/// How many pieces a normal stream splits its text into.
pub(super) const DEFAULT_DELTAS: usize = 6;

/// The events of the whole stream, each a complete SSE event ending in its blank line.
pub(super) fn sse_events(plan: &ReplyPlan, deltas: usize) -> Vec<String> {
    let payload = match &plan.content {
        Content::Text(text) => text.as_str(),
        Content::ToolCall => TOOL_ARGUMENTS,
    };
    let pieces = split_chars(payload, deltas.max(1));
    match plan.dialect {
        Dialect::Anthropic => anthropic_stream(plan, &pieces),
        Dialect::OpenAiResponses => responses_stream(plan, payload, &pieces),
        Dialect::Gemini => gemini::stream_chunks(&plan.gemini_turn(), &pieces)
            .iter()
            .map(gemini::sse_event)
            .collect(),
        Dialect::OpenAiChat | Dialect::Unknown => chat_stream(plan, &pieces),
    }
}

/// A stream of exactly `total` events (or its framing alone, if that is already more), for
/// behaviours that promise a number of chunks.
pub(super) fn sse_events_totalling(plan: &ReplyPlan, total: usize) -> Vec<String> {
    let framing = sse_events(plan, 1).len() - 1;
    sse_events(plan, total.saturating_sub(framing).max(1))
}

fn chat_stream(plan: &ReplyPlan, pieces: &[&str]) -> Vec<String> {
    let chunk = |delta: Value, finish_reason: Option<&str>| {
        data_only(&json!({
            "id": plan.reply_id(),
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": plan.model,
            "choices": [{
                "index": 0,
                "delta": delta,
                "logprobs": null,
                "finish_reason": finish_reason,
            }],
        }))
    };
    let mut events = Vec::with_capacity(pieces.len() + 4);
    match plan.content {
        Content::Text(_) => {
            events.push(chunk(json!({"role": "assistant", "content": ""}), None));
            events.extend(
                pieces
                    .iter()
                    .map(|piece| chunk(json!({"content": piece}), None)),
            );
            events.push(chunk(json!({}), Some("stop")));
        }
        Content::ToolCall => {
            let opening = json!({
                "role": "assistant",
                "content": null,
                "tool_calls": [{
                    "index": 0,
                    "id": plan.call_id(),
                    "type": "function",
                    "function": {"name": TOOL_NAME, "arguments": ""},
                }],
            });
            events.push(chunk(opening, None));
            events.extend(pieces.iter().map(|piece| {
                let delta = json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]});
                chunk(delta, None)
            }));
            events.push(chunk(json!({}), Some("tool_calls")));
        }
    }
    if plan.include_usage {
        events.push(data_only(&json!({
            "id": plan.reply_id(),
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": plan.model,
            "choices": [],
            "usage": plan.usage(),
        })));
    }
    events.push("data: [DONE]\n\n".to_string());
    events
}

fn anthropic_stream(plan: &ReplyPlan, pieces: &[&str]) -> Vec<String> {
    let mut events = vec![
        named(
            "message_start",
            &json!({
                "type": "message_start",
                "message": {
                    "id": plan.reply_id(),
                    "type": "message",
                    "role": "assistant",
                    "model": plan.model,
                    "content": [],
                    "stop_reason": null,
                    "stop_sequence": null,
                    "usage": {"input_tokens": plan.input_tokens, "output_tokens": 1},
                },
            }),
        ),
        named(
            "content_block_start",
            &json!({
                "type": "content_block_start",
                "index": 0,
                "content_block": plan.anthropic_block(false),
            }),
        ),
        // Anthropic really sends one; clients must ignore it, and a proxy must pass it along.
        named("ping", &json!({"type": "ping"})),
    ];
    events.extend(pieces.iter().map(|piece| {
        let delta = match plan.content {
            Content::Text(_) => json!({"type": "text_delta", "text": piece}),
            Content::ToolCall => json!({"type": "input_json_delta", "partial_json": piece}),
        };
        named(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0, "delta": delta}),
        )
    }));
    events.push(named(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
    ));
    events.push(named(
        "message_delta",
        &json!({
            "type": "message_delta",
            "delta": {"stop_reason": plan.anthropic_stop_reason(), "stop_sequence": null},
            "usage": {"output_tokens": plan.output_tokens()},
        }),
    ));
    events.push(named("message_stop", &json!({"type": "message_stop"})));
    events
}

fn responses_stream(plan: &ReplyPlan, payload: &str, pieces: &[&str]) -> Vec<String> {
    let item_id = plan.item_id();
    // Every Responses event carries its position in the stream.
    let mut sequence = 0u64;
    let mut event = |kind: &str, mut fields: Value| {
        fields["type"] = json!(kind);
        fields["sequence_number"] = json!(sequence);
        sequence += 1;
        named(kind, &fields)
    };
    let mut events = vec![
        event(
            "response.created",
            json!({"response": plan.response_object("in_progress")}),
        ),
        event(
            "response.in_progress",
            json!({"response": plan.response_object("in_progress")}),
        ),
        event(
            "response.output_item.added",
            json!({"output_index": 0, "item": plan.response_item(false)}),
        ),
    ];
    match plan.content {
        Content::Text(_) => {
            let part = |text: &str| json!({"type": "output_text", "text": text, "annotations": []});
            let position = json!({"item_id": item_id, "output_index": 0, "content_index": 0});
            let with = |extra: Value| {
                let mut fields = position.clone();
                if let (Some(fields), Value::Object(extra)) = (fields.as_object_mut(), extra) {
                    fields.extend(extra);
                }
                fields
            };
            events.push(event(
                "response.content_part.added",
                with(json!({"part": part("")})),
            ));
            for piece in pieces {
                events.push(event(
                    "response.output_text.delta",
                    with(json!({"delta": piece})),
                ));
            }
            events.push(event(
                "response.output_text.done",
                with(json!({"text": payload})),
            ));
            events.push(event(
                "response.content_part.done",
                with(json!({"part": part(payload)})),
            ));
        }
        Content::ToolCall => {
            for piece in pieces {
                events.push(event(
                    "response.function_call_arguments.delta",
                    json!({"item_id": item_id, "output_index": 0, "delta": piece}),
                ));
            }
            events.push(event(
                "response.function_call_arguments.done",
                json!({"item_id": item_id, "output_index": 0, "arguments": payload}),
            ));
        }
    }
    events.push(event(
        "response.output_item.done",
        json!({"output_index": 0, "item": plan.response_item(true)}),
    ));
    events.push(event(
        "response.completed",
        json!({"response": plan.response_object("completed")}),
    ));
    events
}

fn data_only(data: &Value) -> String {
    format!("data: {data}\n\n")
}

fn named(event: &str, data: &Value) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

/// `text` cut into `parts` pieces of near-equal length on char boundaries; fewer when the text
/// is shorter than that, since an empty delta is not something providers send.
fn split_chars(text: &str, parts: usize) -> Vec<&str> {
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let chars = bounds.len() - 1;
    let parts = parts.min(chars).max(1);
    (0..parts)
        .map(|i| &text[bounds[i * chars / parts]..bounds[(i + 1) * chars / parts]])
        .filter(|piece| !piece.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::StreamWatch;

    fn plan(dialect: Dialect, tool: bool, include_usage: bool) -> ReplyPlan {
        let body = format!(
            r#"{{"model":"mock-ok","stream":true,"stream_options":{{"include_usage":{include_usage}}},"messages":[{{"role":"user","content":"héllo wörld"}}]}}"#
        );
        let json: Value = serde_json::from_str(&body).unwrap();
        ReplyPlan::new(dialect, Some(&json), body.as_bytes(), tool)
    }

    #[test]
    fn split_keeps_every_char_once() {
        let text = "héllo wörld, ça va";
        for parts in 1..25 {
            let pieces = split_chars(text, parts);
            assert_eq!(pieces.concat(), text);
            assert_eq!(pieces.len(), parts.min(text.chars().count()));
        }
        assert!(split_chars("", 3).is_empty());
    }

    #[test]
    fn streams_terminate_and_carry_the_whole_text() {
        for dialect in [
            Dialect::OpenAiChat,
            Dialect::Anthropic,
            Dialect::OpenAiResponses,
        ] {
            for tool in [false, true] {
                let plan = plan(dialect, tool, true);
                let events = sse_events(&plan, DEFAULT_DELTAS);
                let mut watch = StreamWatch::new(dialect);
                for event in &events {
                    watch.push(event.as_bytes());
                }
                assert_eq!(watch.verdict().problem(), None, "{dialect:?} tool={tool}");
                let expected = match &plan.content {
                    Content::Text(text) => text.as_str(),
                    Content::ToolCall => TOOL_ARGUMENTS,
                };
                assert_eq!(reassemble(&events), expected, "{dialect:?} tool={tool}");
            }
        }
    }

    /// The text or tool arguments put back together from a stream's deltas.
    fn reassemble(events: &[String]) -> String {
        let mut out = String::new();
        for event in events {
            let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            let Ok(data) = serde_json::from_str::<Value>(data) else {
                continue;
            };
            let piece = [
                "/choices/0/delta/content",
                "/choices/0/delta/tool_calls/0/function/arguments",
                "/delta/text",
                "/delta/partial_json",
            ]
            .iter()
            .find_map(|pointer| data.pointer(pointer)?.as_str())
            .or_else(|| data.get("delta")?.as_str());
            out.push_str(piece.unwrap_or_default());
        }
        out
    }

    #[test]
    fn usage_chunk_only_when_asked() {
        let with = sse_events(&plan(Dialect::OpenAiChat, false, true), 3);
        let without = sse_events(&plan(Dialect::OpenAiChat, false, false), 3);
        assert_eq!(with.len(), without.len() + 1);
        assert!(with[with.len() - 2].contains("\"usage\""));
    }

    #[test]
    fn totalling_gives_the_exact_event_count() {
        for dialect in [
            Dialect::OpenAiChat,
            Dialect::Anthropic,
            Dialect::OpenAiResponses,
        ] {
            assert_eq!(
                sse_events_totalling(&plan(dialect, false, true), 20).len(),
                20
            );
        }
    }
}
