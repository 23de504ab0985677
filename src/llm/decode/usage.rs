//! The token counts of a reply, read for the record without decoding the whole answer.
//!
//! Every dialect reports usage in a few events of a stream (OpenAI chat: the last chunk;
//! Responses: `response.completed`; Anthropic: `message_start` and `message_delta`; Gemini:
//! `usageMetadata`, a running total in each chunk) or in the top-level `usage` of a JSON
//! answer, so only those parts are decoded.

use super::{decode_response, is_event_stream};
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
    decode_response(dialect, content_type, body)?.usage
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
}
