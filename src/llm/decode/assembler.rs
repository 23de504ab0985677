//! Assembles an SSE reply as it arrives, so the live view can show a stream growing without
//! re-reading it from the start, and the stored view gets the same reading from the whole body.

use super::json::Json;
use super::stream_state::StreamState;
use super::{anthropic, gemini, openai_chat, openai_responses};
use crate::llm::{error_object_message, DecodedResponse, Dialect, SseEvent, SseParser};

/// Feed it the reply's chunks in order with [`push`](Self::push); read the answer so far with
/// [`snapshot`](Self::snapshot). Any chunking of the same bytes gives the same snapshot.
#[derive(Debug)]
pub struct ResponseAssembler {
    dialect: Dialect,
    parser: SseParser,
    state: StreamState,
}

impl ResponseAssembler {
    pub fn new(dialect: Dialect) -> Self {
        let mut state = StreamState::default();
        state.response.stream_events = Some(0);
        Self {
            dialect,
            parser: SseParser::default(),
            state,
        }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        for event in self.parser.push(chunk) {
            self.apply(&event);
        }
    }

    /// The stream ended: reads a last event that lacked its closing blank line. A cut event
    /// is usually half a JSON object and then reads as nothing.
    pub fn finish(&mut self) {
        for event in self.parser.push(b"\n\n") {
            self.apply(&event);
        }
    }

    /// The answer assembled so far.
    pub fn snapshot(&self) -> DecodedResponse {
        self.state.response.clone()
    }

    fn apply(&mut self, event: &SseEvent) {
        let count = self.state.response.stream_events.get_or_insert(0);
        *count = count.saturating_add(1);
        // `[DONE]`, keep-alive text and truncated events are not JSON; they only count.
        let Some(data) = Json::parse(event.data.as_bytes()) else {
            return;
        };
        let kind = event.event.as_deref().or_else(|| data.str("type"));
        if let Some(message) = event_error(kind, &event.data, &data) {
            self.state.note_error(message);
        }
        match self.dialect {
            Dialect::OpenAiChat => openai_chat::apply_event(&mut self.state, &data),
            Dialect::OpenAiResponses => openai_responses::apply_event(&mut self.state, kind, &data),
            Dialect::Anthropic => anthropic::apply_event(&mut self.state, kind, &data),
            Dialect::Gemini => gemini::apply_chunk(&mut self.state, &data),
            Dialect::Unknown => {}
        }
    }
}

/// Error events look alike across dialects: an `error` object in the data, or an event whose
/// type is `error` (Anthropic, Responses).
fn event_error(kind: Option<&str>, raw: &str, data: &Json) -> Option<String> {
    if data.get("error").is_some_and(|error| *error != Json::Null) {
        if let Some(message) = error_object_message(raw.as_bytes()) {
            return Some(message);
        }
    }
    (kind == Some("error")).then(|| {
        data.str("message")
            .map(str::to_string)
            .unwrap_or_else(|| raw.chars().take(300).collect())
    })
}

/// Assembles `stream` whole, one byte at a time and through `decode_response`, checks that
/// all three agree, and returns the reading. Also reads every prefix, as a cut stream would
/// be read, which must never panic.
#[cfg(test)]
pub(super) fn assemble_every_way(dialect: Dialect, stream: &str) -> DecodedResponse {
    let mut whole = ResponseAssembler::new(dialect);
    whole.push(stream.as_bytes());
    let mut bytewise = ResponseAssembler::new(dialect);
    for byte in stream.as_bytes() {
        bytewise.push(std::slice::from_ref(byte));
    }
    assert_eq!(
        bytewise.snapshot(),
        whole.snapshot(),
        "byte-by-byte differs"
    );
    let decoded = super::decode_response(dialect, Some("text/event-stream"), stream.as_bytes());
    assert_eq!(
        decoded.as_ref(),
        Some(&whole.snapshot()),
        "decode_response differs"
    );
    for cut in 0..stream.len() {
        let prefix = &stream.as_bytes()[..cut];
        assert!(super::decode_response(dialect, Some("text/event-stream"), prefix).is_some());
    }
    whole.snapshot()
}

/// A whole tool call with an id, as the decoders' tests expect it.
#[cfg(test)]
pub(super) fn call(id: &str, name: &str, arguments: &str) -> crate::llm::ToolCall {
    crate::llm::ToolCall {
        id: Some(id.to_string()),
        name: name.to_string(),
        arguments: arguments.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_last_event_without_its_blank_line_is_read_at_finish() {
        let mut assembler = ResponseAssembler::new(Dialect::OpenAiChat);
        assembler.push(b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}");
        assert_eq!(assembler.snapshot().text, "");
        assembler.finish();
        assert_eq!(assembler.snapshot().text, "hi");
        assert_eq!(assembler.snapshot().stream_events, Some(1));
    }

    #[test]
    fn snapshots_grow_as_the_stream_arrives() {
        let mut assembler = ResponseAssembler::new(Dialect::OpenAiChat);
        assert_eq!(assembler.snapshot().stream_events, Some(0));
        assembler.push(
            b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: {\"cho",
        );
        assert_eq!(assembler.snapshot().text, "Hel");
        assembler.push(b"ices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\n");
        assert_eq!(assembler.snapshot().text, "Hello");
        assert_eq!(assembler.snapshot().stream_events, Some(2));
    }

    #[test]
    fn a_cut_event_reads_as_nothing() {
        let mut assembler = ResponseAssembler::new(Dialect::Anthropic);
        assembler.push(
            b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"ty",
        );
        assembler.finish();
        let snapshot = assembler.snapshot();
        assert_eq!(snapshot.text, "");
        assert_eq!(snapshot.error, None);
    }

    #[test]
    fn the_first_error_event_is_kept() {
        let stream = "data: {\"error\":{\"message\":\"first\"}}\n\ndata: {\"error\":{\"message\":\"second\"}}\n\n";
        let response = assemble_every_way(Dialect::OpenAiChat, stream);
        assert_eq!(response.error.as_deref(), Some("first"));
        assert_eq!(response.stream_events, Some(2));
    }

    #[test]
    fn unkeyed_tool_deltas_split_on_a_new_id() {
        let stream = concat!(
            "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"a\",\"function\":{\"name\":\"read\",\"arguments\":\"{}\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"b\",\"function\":{\"name\":\"glob\",\"arguments\":\"{\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\"}\"}}]}}]}\n\n",
        );
        let response = assemble_every_way(Dialect::OpenAiChat, stream);
        let calls: Vec<(&str, &str)> = response
            .tool_calls
            .iter()
            .map(|c| (c.name.as_str(), c.arguments.as_str()))
            .collect();
        assert_eq!(calls, [("read", "{}"), ("glob", "{}")]);
    }
}
