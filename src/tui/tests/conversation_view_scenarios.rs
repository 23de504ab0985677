//! The conversation view (`C`) over a recorded-looking Claude Code session: the conversation
//! read top to bottom as messages, tool calls and results folded to one line each until Enter
//! unfolds one, and a past session's exchange loaded from the store first.

use crate::capture::HeaderList;
use std::sync::Arc;

use crossterm::event::KeyCode;

use super::support::{chat_request, finished, live_app, press};
use super::test_util::render_text;
use crate::capture::test_fixtures::{fixture_session, CLAUDE_CODE_SESSION};
use crate::capture::{CaptureEvent, ExchangeId};
use crate::tui::*;

fn claude_code_app() -> App {
    let mut app = live_app();
    for record in fixture_session(CLAUDE_CODE_SESSION) {
        update(
            &mut app,
            AppEvent::Capture(CaptureEvent::Started(record.start.clone())),
        );
        finished(&mut app, record);
    }
    app
}

/// The view's text lines, inside its border, right edge trimmed.
fn view_lines(screen: &str) -> Vec<String> {
    screen
        .lines()
        .skip_while(|line| !line.starts_with('┌'))
        .skip(1)
        .take_while(|line| !line.starts_with('└'))
        .map(|line| {
            line.trim_start_matches('│')
                .trim_end_matches(['│', ' '])
                .to_string()
        })
        .collect()
}

#[test]
fn c_reads_the_conversation_with_tool_calls_and_results_folded() {
    let mut app = claude_code_app();
    app.select(ExchangeId(3));
    press(&mut app, KeyCode::Char('C'));
    let screen = render_text(&app, 120, 40);
    let lines = view_lines(&screen);
    assert!(
        screen.contains("Claude Code conversation · 2 turns · read from #6"),
        "the title names the conversation and the newest request read:\n{screen}"
    );
    assert!(
        lines[0].starts_with("system    ▸ x-anthropic-billing-header"),
        "{screen}"
    );
    let at = |text: &str| lines.iter().position(|l| l.contains(text));
    let ask = at("Find where the retry loop threshold is set and raise the transient one to 10.");
    let call = at("assistant ▸ → Task(Find retry thresholds)");
    let result = at("user      ▸ ← 1 line  short plain in plain user reports");
    let reply = at("assistant   The transient threshold is now 10.");
    assert!(
        ask.is_some() && ask < call && call < result && result < reply,
        "the user's words in full, then the call and its result folded, then the reply:\n{screen}"
    );
    assert!(
        !screen.contains("tests the reports sentences short"),
        "a folded result shows one line only:\n{screen}"
    );
}

#[test]
fn enter_unfolds_the_item_under_the_cursor_and_folds_it_again() {
    let mut app = claude_code_app();
    press(&mut app, KeyCode::Char('C'));
    let folded = render_text(&app, 120, 40);
    // system, the reminder, the ask, the call, the result.
    for _ in 0..4 {
        press(&mut app, KeyCode::Char('j'));
    }
    press(&mut app, KeyCode::Enter);
    let unfolded = render_text(&app, 120, 40);
    let lines = view_lines(&unfolded);
    assert!(
        lines.iter().any(|l| l.starts_with("user      ▾ ← 1 line")),
        "{unfolded}"
    );
    assert!(
        unfolded.contains("tests the reports sentences short"),
        "the whole result shows once unfolded:\n{unfolded}"
    );
    press(&mut app, KeyCode::Enter);
    assert_eq!(render_text(&app, 120, 40), folded);
    press(&mut app, KeyCode::Esc);
    assert!(
        render_text(&app, 120, 40).contains(" Exchanges "),
        "Esc goes back to the list"
    );
}

#[test]
fn a_past_sessions_exchange_is_loaded_before_it_is_read() {
    let records = fixture_session(CLAUDE_CODE_SESSION);
    let rows = records.iter().map(|r| {
        let mut row = row_from_start(&r.start);
        row_update_from_record(&mut row, r);
        row
    });
    let mut app = App::new(StatusInfo::default(), rows.collect(), 0, (120, 40));
    let newest = Arc::new(records[5].clone());
    let load = Command::LoadDetail(ExchangeId(6));
    assert_eq!(press(&mut app, KeyCode::Char('C')), vec![load.clone()]);
    assert!(render_text(&app, 120, 40).contains("loading #6…"));
    let failed = AppEvent::DetailFailed {
        id: ExchangeId(6),
        reason: "the disk is gone".into(),
    };
    update(&mut app, failed);
    let screen = render_text(&app, 120, 40);
    assert!(
        screen.contains("#6 cannot be read: the disk is gone"),
        "{screen}"
    );
    press(&mut app, KeyCode::Esc);
    assert_eq!(
        press(&mut app, KeyCode::Char('C')),
        vec![load],
        "opened again, it asks again"
    );
    update(&mut app, AppEvent::DetailLoaded(newest));
    let screen = render_text(&app, 120, 40);
    assert!(
        screen.contains("The transient threshold is now 10."),
        "{screen}"
    );
}

/// The first line of the view's text, inside its border.
fn top_line(app: &App) -> String {
    view_lines(&render_text(app, 120, 40))
        .into_iter()
        .next()
        .unwrap_or_default()
}

#[test]
fn a_long_message_is_read_line_by_line_and_paged_like_a_pane() {
    let text: Vec<String> = (1..=100).map(|n| format!("line {n}")).collect();
    let request = serde_json::json!({
        "model": "gpt-4.1",
        "messages": [{"role": "user", "content": text.join("\n")}]
    });
    let reply = br#"{"choices":[{"message":{"role":"assistant","content":"the end"}}]}"#;
    let mut app = live_app();
    let record = super::test_util::sample_record(1, request.to_string().as_bytes(), 200, reply);
    finished(&mut app, record);
    press(&mut app, KeyCode::Char('C'));
    assert_eq!(top_line(&app).trim_end(), "user        line 1");
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(
        top_line(&app).trim(),
        "line 2",
        "j reads on through a message taller than the screen"
    );
    press(&mut app, KeyCode::PageDown);
    assert_eq!(
        top_line(&app).trim(),
        "line 38",
        "a page is the view's height less a line"
    );
    press(&mut app, KeyCode::Char('G'));
    let screen = render_text(&app, 120, 40);
    assert!(screen.contains("assistant   the end"), "{screen}");
    assert!(screen.contains(" 66/102 "), "where the view is: {screen}");
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(top_line(&app).trim_end(), "user        line 1");
}

#[test]
fn a_long_first_line_wraps_under_its_text_leaving_the_role_column_clear() {
    let ask = "Add a `--json` flag to `llmscope sessions` that prints one JSON object per line "
        .repeat(4);
    let request =
        serde_json::json!({"model": "gpt-4.1", "messages": [{"role": "user", "content": ask}]});
    let reply = br#"{"choices":[{"message":{"role":"assistant","content":"ok"}}]}"#;
    let mut app = live_app();
    let record = super::test_util::sample_record(1, request.to_string().as_bytes(), 200, reply);
    finished(&mut app, record);
    press(&mut app, KeyCode::Char('C'));
    let lines = view_lines(&render_text(&app, 120, 40));
    assert!(
        lines[0].starts_with("user        Add a `--json` flag"),
        "{lines:?}"
    );
    let wrapped: Vec<&String> = lines[1..]
        .iter()
        .take_while(|l| !l.contains("the reply"))
        .collect();
    assert!(
        wrapped.len() >= 2
            && wrapped
                .iter()
                .all(|l| l.starts_with("            ") && !l.trim().is_empty()),
        "{lines:?}"
    );
}

fn event(app: &mut App, event: CaptureEvent) {
    update(app, AppEvent::Capture(event));
}

fn chunk(app: &mut App, id: u64, data: &'static str) {
    let data = bytes::Bytes::from_static(data.as_bytes());
    event(
        app,
        CaptureEvent::ResponseChunk {
            id: ExchangeId(id),
            data,
        },
    );
}

#[test]
fn the_view_follows_its_conversation_a_new_turn_and_a_reply_as_it_streams() {
    let first: Vec<String> = (1..=60).map(|n| format!("step {n}")).collect();
    let first = first.join("\n");
    let mut app = live_app();
    let reply = br#"{"choices":[{"message":{"role":"assistant","content":"Which flag?"}}]}"#;
    let turn1 = super::test_util::sample_record(1, &chat_request(&[&first]), 200, reply);
    event(&mut app, CaptureEvent::Started(turn1.start.clone()));
    finished(&mut app, turn1);
    app.select(ExchangeId(1));
    press(&mut app, KeyCode::Char('C'));
    // At the end of what there is: the reader is waiting for what comes next.
    press(&mut app, KeyCode::Char('G'));

    let request = chat_request(&[&first, "Which flag?", "Rename --json to --jsonl."]);
    let turn2 = super::test_util::sample_record(2, &request, 200, b"");
    event(&mut app, CaptureEvent::Started(turn2.start.clone()));
    event(
        &mut app,
        CaptureEvent::ResponseHead {
            id: ExchangeId(2),
            status: 200,
            headers: Arc::new(HeaderList::from([("content-type", "text/event-stream")])),
            first_byte_ms: 80,
        },
    );
    let delta = "data: {\"choices\":[{\"delta\":{\"content\":\"Renamed the flag\"}}]}\n\n";
    chunk(&mut app, 2, delta);
    let screen = render_text(&app, 120, 40);
    assert!(
        screen.contains(" conversation · 2 turns · read from #2"),
        "the view moves on to the conversation's new turn:\n{screen}"
    );
    let lines = view_lines(&screen);
    let at = |text: &str| lines.iter().position(|l| l.contains(text));
    let ask = at("user        Rename --json to --jsonl.");
    let arriving = at("── the reply, still arriving ──");
    let words = at("assistant   Renamed the flag");
    assert!(
        ask.is_some() && ask < arriving && arriving < words,
        "the new ask, then the reply so far, kept in view at the end:\n{screen}"
    );

    let more = "data: {\"choices\":[{\"delta\":{\"content\":\" in src/cli.rs.\"}}]}\n\n";
    chunk(&mut app, 2, more);
    let screen = render_text(&app, 120, 40);
    assert!(
        screen.contains("assistant   Renamed the flag in src/cli.rs."),
        "each chunk is read as it comes:\n{screen}"
    );
    let whole = format!("{delta}{more}data: [DONE]\n\n");
    let mut done = super::test_util::record_with(
        2,
        "/v1/chat/completions",
        &request,
        200,
        "text/event-stream",
        whole.as_bytes(),
    );
    done.start = turn2.start.clone();
    finished(&mut app, done);
    let screen = render_text(&app, 120, 40);
    assert!(
        screen.contains("── the reply ──") && !screen.contains("still arriving"),
        "the finished reply is read as finished:\n{screen}"
    );
}
