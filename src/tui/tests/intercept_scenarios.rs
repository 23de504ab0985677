//! Intercept before sending through `update` and the screen a user reads: `I` with its
//! pattern, an intercepted request's row and line, and sending it edited (`e`, Ctrl-S) or as
//! the agent sent it (`F`).

use crossterm::event::{KeyCode, KeyModifiers};

use super::support::{cursor_to_end_of_line_with, key, live_app, press, type_text};
use super::test_util::{render_text, start, T0};
use crate::capture::{CaptureEvent, ExchangeId};
use crate::llm::Dialect;
use crate::tui::*;

const BODY: &[u8] =
    br#"{"model":"gpt-4o-mini","stream":false,"messages":[{"role":"user","content":"hi"}]}"#;

/// `#id` was intercepted, the hold running out 100 s after T0; the clock is at T0 + 3 s.
fn intercepted(app: &mut App, id: u64) {
    let event = CaptureEvent::Intercepted {
        start: start(id, "/v1/chat/completions", Dialect::OpenAiChat, BODY),
        expires_at_ms: T0 + 100_000,
    };
    update(app, AppEvent::Capture(event));
    update(app, AppEvent::Tick { now_ms: T0 + 3_000 });
}

#[test]
fn i_asks_for_a_pattern_and_the_status_line_shows_it_until_i_again() {
    let mut app = live_app();
    assert!(!render_text(&app, 120, 40).contains("intercept:"));
    assert_eq!(press(&mut app, KeyCode::Char('I')), Vec::<Command>::new());
    assert!(render_text(&app, 120, 40).contains("intercept requests matching: ▏"));
    assert_eq!(type_text(&mut app, "chat"), Vec::<Command>::new());
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        vec![Command::SetIntercept(Some("chat".into()))]
    );
    update(&mut app, AppEvent::InterceptChanged(Some("chat".into())));
    let screen = render_text(&app, 120, 40);
    assert!(screen.contains("│ intercept: chat"), "{screen}");
    assert!(
        screen.contains("intercepting requests matching \"chat\""),
        "{screen}"
    );

    assert_eq!(
        press(&mut app, KeyCode::Char('I')),
        vec![Command::SetIntercept(None)]
    );
    update(&mut app, AppEvent::InterceptChanged(None));
    assert!(!render_text(&app, 120, 40).contains("│ intercept:"));

    press(&mut app, KeyCode::Char('I'));
    assert!(
        render_text(&app, 120, 40).contains("intercept requests matching: chat▏"),
        "the last pattern is offered again"
    );
    press(&mut app, KeyCode::Esc);
    assert!(app.intercept_input().is_none() && app.status.intercept.is_none());
}

#[test]
fn a_pattern_from_the_command_line_is_offered_again_after_i_turns_it_off() {
    let mut app = live_app();
    app.status.intercept = Some("gpt-4o".into());
    press(&mut app, KeyCode::Char('I'));
    press(&mut app, KeyCode::Char('I'));
    assert_eq!(app.intercept_input(), Some("gpt-4o"));
}

#[test]
fn an_empty_pattern_intercepts_every_request() {
    let mut app = live_app();
    press(&mut app, KeyCode::Char('I'));
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        vec![Command::SetIntercept(Some("*".into()))]
    );
}

#[test]
fn an_intercepted_request_shows_its_row_line_and_notice_until_it_starts() {
    let mut app = live_app();
    intercepted(&mut app, 1);
    let screen = render_text(&app, 140, 40);
    assert!(screen.contains("⏯ 97s /v1/chat/completions"), "{screen}");
    assert!(screen.contains("intercepted"), "{screen}");
    assert!(
        screen.contains("⏯ #1 intercepted · POST /v1/chat/completions gpt-4o-mini — e edit, Ctrl-S send, F send unchanged · sent as is in 97 s"),
        "{screen}"
    );
    assert!(
        screen.contains("#1 intercepted — e edit, Ctrl-S send, F send unchanged"),
        "{screen}"
    );
    assert_eq!(app.selected, Some(ExchangeId(1)));

    let started = start(1, "/v1/chat/completions", Dialect::OpenAiChat, BODY);
    update(&mut app, AppEvent::Capture(CaptureEvent::Started(started)));
    let screen = render_text(&app, 140, 40);
    assert!(!screen.contains("⏯"), "{screen}");
    assert!(app.intercepted().is_empty());
}

#[test]
fn e_then_ctrl_s_sends_the_edited_request_in_place_of_the_agents() {
    let mut app = live_app();
    intercepted(&mut app, 1);
    press(&mut app, KeyCode::Char('e'));
    assert!(render_text(&app, 120, 40).contains("Edit intercepted #1 → send to the upstream"));
    // Into the body's model value: the line holding "model", just before its closing quote.
    cursor_to_end_of_line_with(&mut app, "\"model\"");
    for _ in 0.."mini\",".len() {
        press(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, "turbo\",");
    let commands = key(&mut app, KeyCode::Char('s'), KeyModifiers::CONTROL);
    let [Command::ReleaseIntercepted {
        id,
        request: Some(request),
    }] = commands.as_slice()
    else {
        panic!("{commands:?}");
    };
    assert_eq!(*id, ExchangeId(1));
    assert_eq!(request.uri, "/v1/chat/completions");
    let body: serde_json::Value = serde_json::from_slice(&request.body).expect("JSON");
    assert_eq!(body["model"], "gpt-4o-turbo");
    assert!(app.editor().is_none());

    update(
        &mut app,
        AppEvent::ReleaseDone {
            id: ExchangeId(1),
            edited: true,
            result: Ok(true),
        },
    );
    assert!(render_text(&app, 120, 40).contains("#1 sent as you edited it"));
}

#[test]
fn ctrl_s_without_edits_sends_the_agents_own_request() {
    let mut app = live_app();
    intercepted(&mut app, 1);
    press(&mut app, KeyCode::Char('e'));
    assert_eq!(
        key(&mut app, KeyCode::Char('s'), KeyModifiers::CONTROL),
        vec![Command::ReleaseIntercepted {
            id: ExchangeId(1),
            request: None
        }]
    );
}

#[test]
fn f_sends_the_selected_intercepted_request_unchanged_else_the_oldest() {
    let mut app = live_app();
    intercepted(&mut app, 1);
    intercepted(&mut app, 2);
    assert!(render_text(&app, 140, 40).contains("· 1 more waiting"));
    assert_eq!(app.selected, Some(ExchangeId(2)));
    assert_eq!(
        press(&mut app, KeyCode::Char('F')),
        vec![Command::ReleaseIntercepted {
            id: ExchangeId(2),
            request: None
        }]
    );
    let started = start(2, "/v1/chat/completions", Dialect::OpenAiChat, BODY);
    update(&mut app, AppEvent::Capture(CaptureEvent::Started(started)));
    assert_eq!(
        press(&mut app, KeyCode::Char('F')),
        vec![Command::ReleaseIntercepted {
            id: ExchangeId(1),
            request: None
        }],
        "with the selection no longer waiting, the oldest goes"
    );
    update(
        &mut app,
        AppEvent::ReleaseDone {
            id: ExchangeId(1),
            edited: false,
            result: Ok(false),
        },
    );
    assert!(render_text(&app, 120, 40).contains("#1 is not intercepted any more"));
}
