//! The list as a tree of conversations, fed recorded-looking agent sessions: header rows with
//! turns, cost and the context gauge, side requests labelled apart, folding with `c`, the
//! turn diff with `t`, and the session's tokens and cost in the status line.

use crossterm::event::KeyCode;

use super::support::{chat_request, finished, live_app, press, OPENCODE_TWO_SESSIONS_TREE};
use super::test_util::{find_cell_style, render, render_text};
use crate::capture::test_fixtures::{fixture_session, CLAUDE_CODE_SESSION, OPENCODE_TWO_SESSIONS};
use crate::capture::{CaptureEvent, ExchangeId};
use crate::tui::*;
use ratatui::style::Color;

fn app_with(fixture: &str) -> App {
    let mut app = live_app();
    for record in fixture_session(fixture) {
        update(
            &mut app,
            AppEvent::Capture(CaptureEvent::Started(record.start.clone())),
        );
        finished(&mut app, record);
    }
    app
}

/// The list's lines under its column header, words single-spaced, the clock left out
/// (it is local time).
fn list_lines(screen: &str) -> Vec<String> {
    screen
        .lines()
        .skip_while(|line| !line.contains(" Exchanges "))
        .skip(2)
        .take_while(|line| !line.starts_with('└'))
        .map(|line| {
            line.trim_matches(['│', ' '])
                .split_whitespace()
                .filter(|word| !(word.len() == 8 && word.as_bytes().get(2) == Some(&b':')))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|line| !line.is_empty())
        .collect()
}

#[test]
fn interleaved_opencode_sessions_read_as_two_conversations_with_titles_apart() {
    let app = app_with(OPENCODE_TWO_SESSIONS);
    let screen = render_text(&app, 160, 40);
    let lines = list_lines(&screen);
    let starts: Vec<String> = lines
        .iter()
        .map(|l| l.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        starts,
        OPENCODE_TWO_SESSIONS_TREE.map(String::from),
        "{screen}"
    );
    // 30,932 prompt tokens (20,224 cached), 117 out, at gpt-4.1's prices.
    assert_eq!(
        lines[1],
        "▾ c2 opencode conversation · 3 turns · ctx ▁▁▁▁▁▁▁▁ 1% of 1.0M · gpt-4.1 · $0.0325 · 30k in / 117 out"
    );
    assert!(
        lines[0].contains("title · /v1/chat/completions gpt-4.1-mini"),
        "{}",
        lines[0]
    );
    let status = screen.lines().next().unwrap_or_default();
    assert!(
        status.contains("tok 52k in (39k cached) 175 out"),
        "{status}"
    );
}

#[test]
fn c_folds_a_conversation_into_its_header_and_unfolds_it() {
    let mut app = app_with(OPENCODE_TWO_SESSIONS);
    app.select(ExchangeId(5));
    press(&mut app, KeyCode::Char('c'));
    let lines = list_lines(&render_text(&app, 160, 40));
    assert!(
        lines[1].starts_with("▸ c2 opencode conversation · 3 turns"),
        "{lines:?}"
    );
    assert!(
        lines[2].starts_with("3 POST title"),
        "c2's rows are hidden: {lines:?}"
    );
    assert_eq!(
        app.selected,
        Some(ExchangeId(7)),
        "the header stands for the latest turn"
    );
    // A new turn of the folded conversation stays under its header.
    press(&mut app, KeyCode::Char('c'));
    let lines = list_lines(&render_text(&app, 160, 40));
    assert!(lines[1].starts_with("▾ c2"), "{lines:?}");
    assert!(lines[3].starts_with("5 "), "{lines:?}");
    assert!(lines[4].starts_with("7 "), "{lines:?}");
}

#[test]
fn the_turn_diff_reads_as_messages_added_and_a_parameter_set() {
    let mut app = app_with(OPENCODE_TWO_SESSIONS);
    app.select(ExchangeId(7));
    press(&mut app, KeyCode::Char('t'));
    let screen = render_text(&app, 160, 40);
    assert!(
        screen.contains("Request · what this turn changed (t: back)"),
        "{screen}"
    );
    assert!(screen.contains("turn #7 after #5"), "{screen}");
    assert!(
        screen.contains("4 messages kept · 2 added · 0 removed"),
        "{screen}"
    );
    assert!(screen.contains("+ assistant → edit("), "{screen}");
    assert!(
        screen.contains("+ tool      result for call_P0q7e: Edit applied successfully."),
        "{screen}"
    );
    assert!(screen.contains("~ temperature: — → 0.2"), "{screen}");
    press(&mut app, KeyCode::Char('t'));
    assert!(!render_text(&app, 160, 40).contains("what this turn changed"));
}

#[test]
fn claude_code_side_requests_are_labelled_and_its_tools_change_shows_in_the_turn_diff() {
    let mut app = app_with(CLAUDE_CODE_SESSION);
    let screen = render_text(&app, 160, 40);
    let lines = list_lines(&screen);
    let path_of = |id: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{id} ")))
            .cloned()
            .unwrap_or_default()
    };
    assert!(
        path_of("1").contains("probe · /v1/messages?beta=true"),
        "{screen}"
    );
    assert!(
        path_of("2").contains("title · /v1/messages?beta=true"),
        "{screen}"
    );
    assert!(
        path_of("5").contains("count tokens · /v1/messages/count_tokens"),
        "{screen}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("▾ c4 Claude Code sub-agent · 1 turn")),
        "{screen}"
    );
    app.select(ExchangeId(6));
    update(&mut app, AppEvent::Tick { now_ms: 0 });
    let screen = render_text(&app, 160, 40);
    assert!(
        screen.contains("Request · c3 turn 2/2 · ctx ▅▁▁▁▁▁▁▁ 7% of 200k"),
        "{screen}"
    );
    press(&mut app, KeyCode::Char('t'));
    let screen = render_text(&app, 160, 40);
    assert!(screen.contains("+ tools: TodoWrite"), "{screen}");
}

#[test]
fn the_gauge_turns_amber_past_80_percent_of_the_window() {
    let mut app = live_app();
    let mut records = fixture_session(CLAUDE_CODE_SESSION);
    // The second main turn, answered with a prompt of 170,000 tokens of Claude Sonnet's
    // 200,000: 6 fresh, 1,021 written to the cache, 168,973 read from it.
    let mut second = records.remove(5);
    let first = records.remove(2);
    let response = second.response.as_mut().map(|r| {
        let body = String::from_utf8_lossy(&r.body).replace(
            "\"cache_read_input_tokens\":14820",
            "\"cache_read_input_tokens\":168973",
        );
        r.body_len = body.len() as u64;
        r.body = body.into();
    });
    assert!(response.is_some());
    for record in [first, second] {
        update(
            &mut app,
            AppEvent::Capture(CaptureEvent::Started(record.start.clone())),
        );
        finished(&mut app, record);
    }
    let buffer = render(&app, 160, 40);
    let screen = render_text(&app, 160, 40);
    assert!(screen.contains("ctx ▇▇▇▇▇▇▆▁ 85% of 200k"), "{screen}");
    let style = find_cell_style(&buffer, "ctx ▇▇▇▇▇▇▆▁ 85%").expect("gauge on screen");
    assert_eq!(style.fg, Some(Color::Yellow));
}

#[test]
fn a_resend_is_its_turn_again_in_the_request_panes_title() {
    let mut app = live_app();
    let ok = br#"{"choices":[{"message":{"role":"assistant","content":"Which flag?"}}]}"#;
    let refused = br#"{"error":{"message":"Unsupported parameter: top_p"}}"#;
    let asks = ["Rename the flag.", "Which flag?", "--json to --jsonl."];
    let first = super::test_util::sample_record(1, &chat_request(&asks[..1]), 200, ok);
    let second = super::test_util::sample_record(2, &chat_request(&asks), 400, refused);
    let mut resend = super::test_util::sample_record(3, &chat_request(&asks), 200, ok);
    let mut start = (*resend.start).clone();
    start.lineage = crate::capture::Lineage::resend_of(ExchangeId(2));
    resend.start = std::sync::Arc::new(start);
    for record in [first, second, resend] {
        update(
            &mut app,
            AppEvent::Capture(CaptureEvent::Started(record.start.clone())),
        );
        finished(&mut app, record);
    }
    app.select(ExchangeId(3));
    let screen = render_text(&app, 120, 40);
    assert!(
        screen.contains("Request · c1 turn 2/2"),
        "the resend of turn 2 is turn 2 of 2, not a third:\n{screen}"
    );
}
