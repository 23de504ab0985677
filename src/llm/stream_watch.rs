//! Watches an SSE reply as it passes through and decides whether the stream ended properly.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

use super::{error_object_message, Dialect, SseEvent, SseParser};

/// Feeds on the reply's chunks as they go to the agent.
#[derive(Debug)]
pub struct StreamWatch {
    dialect: Dialect,
    parser: SseParser,
    verdict: StreamVerdict,
}

/// What the watcher concluded about a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamVerdict {
    pub events: u64,
    /// The dialect's end-of-stream marker arrived (`[DONE]`, `message_stop`, …).
    pub terminated: bool,
    /// The message of the first error event, if any.
    pub error: Option<String>,
    /// The marker the dialect ends a stream with, for the message when it is missing.
    pub expected_terminator: Option<&'static str>,
}

impl StreamVerdict {
    /// The stream stopped without its end marker and without announcing an error: the
    /// agent has not been told why it ended.
    pub fn was_cut(&self) -> bool {
        self.error.is_none() && !self.terminated
    }

    /// Why the stream counts as failed, or `None` when it ended well.
    pub fn problem(&self) -> Option<String> {
        if let Some(error) = &self.error {
            return Some(format!("error event in stream: {error}"));
        }
        match self.expected_terminator {
            Some(marker) if !self.terminated => Some(format!(
                "stream ended without its terminator ({marker}) after {} events",
                self.events
            )),
            _ => None,
        }
    }
}

impl StreamWatch {
    pub fn new(dialect: Dialect) -> Self {
        let expected_terminator = match dialect {
            Dialect::OpenAiChat => Some("data: [DONE]"),
            Dialect::Anthropic => Some("message_stop"),
            Dialect::OpenAiResponses => Some("response.completed"),
            // Gemini sends no end event: its last chunk is the one whose candidate says why
            // it stopped.
            Dialect::Gemini => Some("a chunk with finishReason"),
            Dialect::Unknown => None,
        };
        Self {
            dialect,
            parser: SseParser::default(),
            verdict: StreamVerdict {
                expected_terminator,
                ..StreamVerdict::default()
            },
        }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        for event in self.parser.push(chunk) {
            self.observe(&event);
        }
    }

    pub fn verdict(&self) -> &StreamVerdict {
        &self.verdict
    }

    fn observe(&mut self, event: &SseEvent) {
        self.verdict.events += 1;
        if self.dialect == Dialect::OpenAiChat && event.data.trim() == "[DONE]" {
            self.verdict.terminated = true;
            return;
        }
        // Every event of every stream passes here: only Gemini's end needs the event's whole
        // JSON; a type name is read without building it.
        let data: Option<Value> = match self.dialect {
            Dialect::Gemini => serde_json::from_str(&event.data).ok(),
            _ => None,
        };
        let kind: Option<Cow<'_, str>> = match (&event.event, &data) {
            (Some(name), _) => Some(Cow::Borrowed(name.as_str())),
            (None, Some(data)) => data.get("type").and_then(Value::as_str).map(Cow::Borrowed),
            (None, None) => serde_json::from_str::<Typed<'_>>(&event.data)
                .ok()
                .and_then(|typed| typed.kind),
        };
        if self.verdict.error.is_none() {
            self.verdict.error = error_in_event(kind.as_deref(), &event.data);
        }
        let ends = match self.dialect {
            Dialect::Anthropic => kind.as_deref() == Some("message_stop"),
            Dialect::OpenAiResponses => matches!(
                kind.as_deref(),
                Some("response.completed" | "response.incomplete" | "response.failed")
            ),
            Dialect::Gemini => data.as_ref().is_some_and(gemini_finished),
            Dialect::OpenAiChat | Dialect::Unknown => false,
        };
        self.verdict.terminated |= ends;
    }
}

/// An event's JSON as far as its `type` goes; the rest is skipped unbuilt.
#[derive(Deserialize)]
struct Typed<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
}

/// A Gemini chunk (or Code Assist's `{"response": chunk}`) whose candidate has finished, or
/// whose prompt was blocked outright, which ends the stream too.
fn gemini_finished(data: &Value) -> bool {
    let chunk = data.get("response").unwrap_or(data);
    let finished = chunk
        .pointer("/candidates/0/finishReason")
        .is_some_and(Value::is_string);
    finished || chunk.pointer("/promptFeedback/blockReason").is_some()
}

fn error_in_event(kind: Option<&str>, raw: &str) -> Option<String> {
    if let Some(message) = error_object_message(raw.as_bytes()) {
        return Some(message);
    }
    let data = || serde_json::from_str::<Value>(raw).ok();
    match kind {
        Some("error") => Some(
            data()
                .and_then(|d| d.get("message")?.as_str().map(str::to_string))
                .unwrap_or_else(|| raw.chars().take(300).collect()),
        ),
        Some("response.failed") => Some(
            data()
                .and_then(|d| {
                    d.pointer("/response/error/message")?
                        .as_str()
                        .map(str::to_string)
                })
                .unwrap_or_else(|| "response.failed".to_string()),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(dialect: Dialect, stream: &str) -> StreamVerdict {
        let mut watch = StreamWatch::new(dialect);
        watch.push(stream.as_bytes());
        watch.verdict().clone()
    }

    #[test]
    fn openai_stream_with_done_is_fine() {
        let v = watch(
            Dialect::OpenAiChat,
            "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n",
        );
        assert_eq!(v.problem(), None);
        assert_eq!(v.events, 2);
    }

    #[test]
    fn openai_stream_cut_before_done_is_a_problem() {
        let v = watch(Dialect::OpenAiChat, "data: {\"choices\":[]}\n\n");
        assert_eq!(
            v.problem().as_deref(),
            Some("stream ended without its terminator (data: [DONE]) after 1 events")
        );
        assert!(v.was_cut());
        let ended = watch(
            Dialect::OpenAiChat,
            "data: {\"choices\":[]}\n\ndata: [DONE]\n\n",
        );
        assert!(!ended.was_cut());
        let announced = watch(
            Dialect::OpenAiChat,
            "data: {\"error\":{\"message\":\"overloaded\"}}\n\n",
        );
        assert!(!announced.was_cut(), "an error event tells the agent why");
    }

    #[test]
    fn error_events_are_found_in_every_dialect() {
        let openai = watch(
            Dialect::OpenAiChat,
            "data: {\"error\":{\"message\":\"overloaded\"}}\n\ndata: [DONE]\n\n",
        );
        assert_eq!(
            openai.problem().as_deref(),
            Some("error event in stream: overloaded")
        );
        let anthropic = watch(
            Dialect::Anthropic,
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
        );
        assert_eq!(anthropic.error.as_deref(), Some("Overloaded"));
        let responses = watch(
            Dialect::OpenAiResponses,
            "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"error\":{\"message\":\"server_error\"}}}\n\n",
        );
        assert_eq!(responses.error.as_deref(), Some("server_error"));
    }

    #[test]
    fn a_gemini_stream_ends_with_its_finish_reason() {
        let chunk = |extra: &str| {
            format!("data: {{\"candidates\": [{{\"content\": {{\"parts\": [{{\"text\": \"hi\"}}],\"role\": \"model\"}}{extra}}}]}}\r\n\r\n")
        };
        let whole = watch(
            Dialect::Gemini,
            &(chunk("") + &chunk(",\"finishReason\": \"STOP\"")),
        );
        assert_eq!(whole.problem(), None);
        let cut = watch(Dialect::Gemini, &(chunk("") + &chunk("")));
        assert_eq!(
            cut.problem().as_deref(),
            Some("stream ended without its terminator (a chunk with finishReason) after 2 events")
        );
        let failed = watch(
            Dialect::Gemini,
            "data: {\"error\": {\"code\": 503, \"message\": \"The model is overloaded. Please try again later.\", \"status\": \"UNAVAILABLE\"}}\r\n\r\n",
        );
        assert_eq!(
            failed.error.as_deref(),
            Some("The model is overloaded. Please try again later.")
        );
    }

    /// A stream without `event:` lines names each event's type only inside its JSON, which
    /// is read without being built.
    #[test]
    fn types_named_only_in_the_data_are_read_too() {
        let ended = watch(
            Dialect::OpenAiResponses,
            "data: {\"type\":\"response.output_text.delta\",\"delta\":\"hi\"}\n\ndata: {\"response\":{\"id\":\"r\"},\"type\":\"response.completed\"}\n\n",
        );
        assert!(ended.terminated);
        assert_eq!(ended.problem(), None);
        let failed = watch(
            Dialect::OpenAiResponses,
            "data: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"boom\"}\n\n",
        );
        assert_eq!(failed.error.as_deref(), Some("boom"));
        let odd = watch(
            Dialect::OpenAiResponses,
            "data: {\"type\":7}\n\ndata: [1,2]\n\ndata: not json\n\n",
        );
        assert_eq!((odd.events, odd.terminated, odd.error), (3, false, None));
    }

    #[test]
    fn anthropic_message_stop_terminates() {
        let v = watch(
            Dialect::Anthropic,
            "event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        );
        assert!(v.terminated);
        assert_eq!(v.problem(), None);
    }
}
