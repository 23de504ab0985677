//! Set-up shared by the scenario tests: a live app, keys pressed through `update`, finished
//! exchanges, and the failing/fixed context-length exchange most of them start from.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::test_util::{sample_record, T0};
use crate::capture::{CaptureEvent, ExchangeRecord};
use crate::tui::*;

pub const FAILING: &[u8] =
    br#"{"model":"mock-400-context","stream":false,"messages":[{"role":"user","content":"hi"}]}"#;
pub const FIXED: &[u8] =
    br#"{"model":"mock-ok","stream":false,"messages":[{"role":"user","content":"hi"}]}"#;
pub const TOO_LONG: &[u8] = br#"{"error":{"message":"This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.","code":"context_length_exceeded"}}"#;

/// A live session with the control channel, so resend, hold and intercept are offered.
pub fn live_app() -> App {
    let status = StatusInfo {
        listen: Some("127.0.0.1:8787".into()),
        live: true,
        control: true,
        ..StatusInfo::default()
    };
    App::new(status, Vec::new(), T0, (120, 40))
}

pub fn key(app: &mut App, code: KeyCode, modifiers: KeyModifiers) -> Vec<Command> {
    update(app, AppEvent::Key(KeyEvent::new(code, modifiers)))
}

pub fn press(app: &mut App, code: KeyCode) -> Vec<Command> {
    key(app, code, KeyModifiers::NONE)
}

pub fn ctrl(app: &mut App, c: char) -> Vec<Command> {
    key(app, KeyCode::Char(c), KeyModifiers::CONTROL)
}

pub fn type_text(app: &mut App, text: &str) -> Vec<Command> {
    text.chars()
        .flat_map(|c| press(app, KeyCode::Char(c)))
        .collect()
}

pub fn finished(app: &mut App, record: ExchangeRecord) {
    update(
        app,
        AppEvent::Capture(CaptureEvent::Finished(Arc::new(record))),
    );
}

/// The proxy held `id`'s failure until `expires_at_ms`.
pub fn held(app: &mut App, id: u64, expires_at_ms: i64) {
    let id = crate::capture::ExchangeId(id);
    update(
        app,
        AppEvent::Capture(CaptureEvent::Held { id, expires_at_ms }),
    );
}

/// A failed agent exchange #1, selected.
pub fn app_with_failure() -> App {
    let mut app = live_app();
    finished(&mut app, sample_record(1, FAILING, 400, TOO_LONG));
    app
}

/// Puts the editor's cursor at the end of the first line containing `text`.
pub fn cursor_to_end_of_line_with(app: &mut App, text: &str) {
    let line = app
        .editor()
        .and_then(|e| e.textarea.lines().iter().position(|l| l.contains(text)))
        .unwrap_or_else(|| panic!("no editor line with {text:?}"));
    for _ in 0..line {
        press(app, KeyCode::Down);
    }
    press(app, KeyCode::End);
}

/// The list `OPENCODE_TWO_SESSIONS` makes once grouped, each row's first three words: two
/// interleaved conversations, each after its title request.
pub const OPENCODE_TWO_SESSIONS_TREE: [&str; 9] = [
    "1 POST title",
    "▾ c2 opencode",
    "2 POST /v1/chat/completions",
    "5 POST /v1/chat/completions",
    "7 POST /v1/chat/completions",
    "3 POST title",
    "▾ c4 opencode",
    "4 POST /v1/chat/completions",
    "6 POST /v1/chat/completions",
];

/// A chat request whose messages are `turns`, user and assistant in turn.
pub fn chat_request(turns: &[&str]) -> Vec<u8> {
    let messages: Vec<serde_json::Value> = turns
        .iter()
        .enumerate()
        .map(|(at, text)| {
            let role = if at % 2 == 0 { "user" } else { "assistant" };
            serde_json::json!({"role": role, "content": text})
        })
        .collect();
    serde_json::json!({"model": "gpt-4.1", "stream": true, "messages": messages})
        .to_string()
        .into_bytes()
}
