//! A Gemini exchange on the screen: its request and reply panes read like the other
//! dialects' — the model from the path, the conversation by role, the function call, usage.

use std::sync::Arc;

use super::test_util::{record_with, render_text, start, T0};
use crate::capture::CaptureEvent;
use crate::llm::Dialect;
use crate::tui::*;

const PATH: &str = "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse";
const REQUEST: &[u8] = br#"{"contents":[{"role":"user","parts":[{"text":"Open the main file"}]},{"role":"model","parts":[{"functionCall":{"name":"read_file","args":{"absolute_path":"src/main.rs"}}}]},{"role":"user","parts":[{"functionResponse":{"name":"read_file","response":{"output":"fn main() {}"}}}]}],"systemInstruction":{"parts":[{"text":"You are Gemini CLI."}]},"tools":[{"functionDeclarations":[{"name":"read_file","description":"Reads a file","parametersJsonSchema":{"type":"object"}}]}],"generationConfig":{"temperature":0}}"#;
const STREAM: &str = concat!(
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"It only defines \"}],\"role\": \"model\"},\"index\": 0}],\"modelVersion\": \"gemini-2.5-pro\"}\r\n\r\n",
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"an empty main.\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 4210,\"candidatesTokenCount\": 9,\"totalTokenCount\": 4259,\"cachedContentTokenCount\": 4000,\"thoughtsTokenCount\": 40},\"modelVersion\": \"gemini-2.5-pro\"}\r\n\r\n",
);

#[test]
fn a_gemini_exchange_shows_its_model_conversation_call_and_usage() {
    let mut record = record_with(
        1,
        PATH,
        REQUEST,
        200,
        "text/event-stream",
        STREAM.as_bytes(),
    );
    record.start = start(1, PATH, Dialect::Gemini, REQUEST);
    let status = StatusInfo {
        live: true,
        ..StatusInfo::default()
    };
    let mut app = App::new(status, Vec::new(), T0, (160, 60));
    update(
        &mut app,
        AppEvent::Capture(CaptureEvent::Started(record.start.clone())),
    );
    update(
        &mut app,
        AppEvent::Capture(CaptureEvent::Finished(Arc::new(record))),
    );
    let screen = render_text(&app, 160, 60);
    // The request's title carries its conversation's gauge against Gemini's 1M window.
    assert!(
        screen.contains("Request · c1 turn 1/1 · ctx ▁▁▁▁▁▁▁▁ 0% of 1.0M · LLM · Gemini"),
        "{screen}"
    );
    assert!(screen.contains("Response · LLM · Gemini"), "{screen}");
    for seen in [
        "model: gemini-2.5-pro",
        "temperature: 0",
        "You are Gemini CLI.",
        "── model ──",
        "Open the main file",
        "→ tool call read_file",
        "← tool result for read_file",
        r#"{"output":"fn main() {}"}"#,
        "It only defines an empty main.",
        "finish reason: STOP",
        // Output counts the 40 thought tokens with the 9 of the answer.
        "usage: in 4210 · out 49 · cache read 4000",
        "4.2k/49",
    ] {
        assert!(screen.contains(seen), "{seen} not on screen:\n{screen}");
    }
}
