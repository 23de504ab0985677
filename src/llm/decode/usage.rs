//! The token counts of a reply, read for the record without decoding the whole answer.
//!
//! Every dialect reports usage in a few events of a stream (OpenAI chat: the last chunk;
//! Responses: `response.completed`; Anthropic: `message_start` and `message_delta`; Gemini:
//! `usageMetadata`, a running total in each chunk) or in the top-level `usage` of a JSON
//! answer, so only those parts are decoded.

use std::sync::LazyLock;

use memchr::memmem::FinderRev;

use super::json::Json;
use super::{anthropic, decode_response, gemini, is_event_stream, openai_chat, openai_responses};
use crate::llm::{Dialect, Usage};

/// JSON answers larger than this are not read for their usage: LLM answers are far smaller,
/// and parsing megabytes on the writer thread would slow the record for nothing.
const MAX_JSON_ANSWER: usize = 256 * 1024;

/// The usage a whole reply body reports, if it reports any.
pub fn reply_usage(dialect: Dialect, content_type: Option<&str>, body: &[u8]) -> Option<Usage> {
    if is_event_stream(content_type, body) {
        let usage_events = events_mentioning_usage(body);
        return decode_response(dialect, content_type, &usage_events)?.usage;
    }
    if body.len() > MAX_JSON_ANSWER {
        return None;
    }
    if let Some(usage) = top_level_usage(dialect, body) {
        return usage;
    }
    decode_response(dialect, content_type, body)?.usage
}

/// The usage of a JSON answer read from its tail alone: every dialect puts the top-level usage
/// object at or near the end, so parsing only that object costs a fraction of the whole
/// answer. `None` when the tail does not show for sure where that object is (then the whole
/// answer is decoded); `Some(None)` for an answer that names no usage at all.
fn top_level_usage(dialect: Dialect, body: &[u8]) -> Option<Option<Usage>> {
    // One searcher per key for every reply: building one costs more than the search.
    static USAGE: LazyLock<FinderRev<'static>> = LazyLock::new(|| FinderRev::new(b"\"usage\""));
    static GEMINI: LazyLock<FinderRev<'static>> =
        LazyLock::new(|| FinderRev::new(b"\"usageMetadata\""));
    let finder = match dialect {
        Dialect::Gemini => &*GEMINI,
        Dialect::Unknown => return None,
        _ => &*USAGE,
    };
    let key = finder.needle();
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    if body[start] != b'{' {
        return None;
    }
    let Some(at) = finder.rfind(body) else {
        // Inside a string a quote is escaped, so a body that holds no quoted key at all
        // has no usage field either.
        return Some(None);
    };
    // A quote after `{` or `,` opens a key; after anything else it could end a string.
    if !matches!(last_non_space(&body[..at]), Some(b'{' | b',')) {
        return None;
    }
    let after_key = &body[at + key.len()..];
    let colon = after_key.iter().position(|b| !b.is_ascii_whitespace())?;
    if after_key[colon] != b':' {
        return None;
    }
    let value_at = at + key.len() + colon + 1;
    let mut values = serde_json::Deserializer::from_slice(&body[value_at..]).into_iter::<Json>();
    let value = values.next()?.ok()?;
    if !matches!(value, Json::Object(_))
        || !closes_the_root(&body[value_at + values.byte_offset()..])
    {
        return None;
    }
    let name = String::from_utf8_lossy(&key[1..key.len() - 1]).into_owned();
    let root = Json::Object(vec![(name, value)]);
    let response = match dialect {
        Dialect::OpenAiChat => openai_chat::read_response(&root),
        Dialect::OpenAiResponses => openai_responses::read_response(&root),
        Dialect::Anthropic => anthropic::read_response(&root),
        Dialect::Gemini => gemini::read_response(&root),
        Dialect::Unknown => return None,
    };
    Some(response.usage)
}

fn last_non_space(bytes: &[u8]) -> Option<u8> {
    bytes
        .iter()
        .rev()
        .copied()
        .find(|b| !b.is_ascii_whitespace())
}

/// Whether `tail`, what follows a value, closes exactly one more object or array than it
/// opens and then ends: the value was a field of the root object, not of one nested in it.
fn closes_the_root(tail: &[u8]) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in tail.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth == 0 => {
                return tail[i + 1..].iter().all(u8::is_ascii_whitespace);
            }
            b'}' | b']' => depth -= 1,
            _ => {}
        }
    }
    false
}

/// The events of an SSE body whose text names `usage`, in order, as a smaller SSE body.
fn events_mentioning_usage(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    let mut kept = String::new();
    let mut event = String::new();
    for line in text.split_inclusive('\n') {
        event.push_str(line);
        if line.trim().is_empty() {
            keep_if_it_names_usage(&mut event, &mut kept);
        }
    }
    keep_if_it_names_usage(&mut event, &mut kept);
    kept.into_bytes()
}

fn keep_if_it_names_usage(event: &mut String, kept: &mut String) {
    if event.contains("\"usage\"") || event.contains("\"usageMetadata\"") {
        kept.push_str(event);
        kept.push_str("\n\n");
    }
    event.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    const SSE: Option<&str> = Some("text/event-stream");

    #[test]
    fn usage_is_read_from_the_events_that_carry_it_in_each_dialect() {
        let chat = b"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1200,\"completion_tokens\":45}}\n\n\
data: [DONE]\n\n";
        let usage = reply_usage(Dialect::OpenAiChat, SSE, chat).expect("usage");
        assert_eq!(
            (usage.input_tokens, usage.output_tokens),
            (Some(1200), Some(45))
        );

        let anthropic = b"event: message_start\r\n\
data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":30,\"output_tokens\":1}}}\r\n\r\n\
event: content_block_delta\r\n\
data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hello\"}}\r\n\r\n\
event: message_delta\r\n\
data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":12}}\r\n\r\n";
        let usage = reply_usage(Dialect::Anthropic, SSE, anthropic).expect("usage");
        assert_eq!(
            (usage.input_tokens, usage.output_tokens),
            (Some(30), Some(12))
        );

        let responses = b"event: response.output_text.delta\n\
data: {\"type\":\"response.output_text.delta\",\"delta\":\"hi\"}\n\n\
event: response.completed\n\
data: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",\"output\":[],\"usage\":{\"input_tokens\":9,\"output_tokens\":3}}}\n\n";
        let usage = reply_usage(Dialect::OpenAiResponses, SSE, responses).expect("usage");
        assert_eq!(
            (usage.input_tokens, usage.output_tokens),
            (Some(9), Some(3))
        );

        let json = br#"{"id":"x","choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":7,"completion_tokens":2}}"#;
        let usage = reply_usage(Dialect::OpenAiChat, None, json).expect("usage");
        assert_eq!(
            (usage.input_tokens, usage.output_tokens),
            (Some(7), Some(2))
        );
    }

    #[test]
    fn a_json_answer_of_megabytes_is_not_read() {
        let text = "x".repeat(MAX_JSON_ANSWER);
        let json = format!(
            r#"{{"choices":[{{"message":{{"content":"{text}"}}}}],"usage":{{"prompt_tokens":7}}}}"#
        );
        assert!(reply_usage(Dialect::OpenAiChat, None, json.as_bytes()).is_none());
    }

    #[test]
    fn a_stream_without_usage_reports_none() {
        let chat = b"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n";
        let usage = reply_usage(Dialect::OpenAiChat, SSE, chat);
        assert!(usage.is_none_or(|u| u.input_tokens.is_none() && u.output_tokens.is_none()));
    }

    /// The tail-only reading gives what decoding the whole answer gives, and falls back to
    /// that whole decoding wherever the tail alone could mislead it.
    #[test]
    fn usage_read_from_the_tail_matches_the_whole_answer() {
        let bodies: &[(Dialect, &str)] = &[
            (
                Dialect::OpenAiChat,
                r#"{"id":"a","choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":250,"completion_tokens":200,"prompt_tokens_details":{"cached_tokens":64}}}"#,
            ),
            (
                Dialect::OpenAiChat,
                r#"{"usage":{"prompt_tokens":3},"system_fingerprint":"fp","extra":{"a":[1,{"b":"}"}]}}  "#,
            ),
            (
                Dialect::OpenAiChat,
                r#"{"usage":{"prompt_tokens":1},"x":{"usage":{"prompt_tokens":9}}}"#,
            ),
            (
                Dialect::OpenAiChat,
                r#"{"choices":[{"message":{"content":"say \"usage\":{\"prompt_tokens\":5}"}}]}"#,
            ),
            (Dialect::OpenAiChat, r#"{"a\"usage":{"prompt_tokens":8}}"#),
            (Dialect::OpenAiChat, r#"{"choices":[],"usage":null}"#),
            (
                Dialect::OpenAiChat,
                r#"{"choices":[],"usage":{"prompt_tokens":4}"#,
            ),
            (Dialect::OpenAiChat, r#"{"choices":[]}"#),
            (
                Dialect::Anthropic,
                r#"{"content":[{"type":"text","text":"x"}],"usage":{"input_tokens":12,"cache_read_input_tokens":300,"output_tokens":8}}"#,
            ),
            (
                Dialect::OpenAiResponses,
                r#"{"output":[],"usage":{"input_tokens":9,"output_tokens":3},"user":null,"metadata":{}}"#,
            ),
            (
                Dialect::Gemini,
                r#"{"candidates":[],"usageMetadata":{"promptTokenCount":40,"candidatesTokenCount":5}}"#,
            ),
            (
                Dialect::Gemini,
                r#"[{"candidates":[],"usageMetadata":{"promptTokenCount":40}}]"#,
            ),
        ];
        for (dialect, body) in bodies {
            let whole = decode_response(*dialect, None, body.as_bytes()).and_then(|r| r.usage);
            assert_eq!(
                reply_usage(*dialect, None, body.as_bytes()),
                whole,
                "{body}"
            );
        }
        // The common answer is read from its tail, not decoded whole.
        let (dialect, body) = bodies[0];
        let tail = top_level_usage(dialect, body.as_bytes()).expect("read from the tail");
        assert_eq!(tail.and_then(|u| u.cache_read_tokens), Some(64));
        assert_eq!(
            top_level_usage(Dialect::OpenAiChat, bodies[2].1.as_bytes()),
            None
        );
    }
}
