//! The request editor through `update` and the screen a user reads: edit and send, cancel,
//! broken JSON, and typing speed on an agent-sized body.

use crate::capture::HeaderList;
use std::time::Instant;

use crossterm::event::KeyCode;

use super::support::{
    app_with_failure, ctrl, cursor_to_end_of_line_with, finished, live_app, press, type_text,
    FIXED, TOO_LONG,
};
use super::test_util::{record_with, render_text, T0};
use crate::capture::ExchangeId;
use crate::tui::*;

/// In the open editor: moves to the line holding `"model"`, replaces the value.
fn replace_model(app: &mut App, old: &str, new: &str) {
    let line = app
        .editor()
        .and_then(|e| {
            let at = e
                .textarea
                .lines()
                .iter()
                .position(|l| l.contains("\"model\""))?;
            at.checked_sub(e.textarea.cursor().0)
        })
        .expect("the editor shows the model below the cursor");
    for _ in 0..line {
        press(app, KeyCode::Down);
    }
    press(app, KeyCode::End);
    for _ in 0..old.len() + 2 {
        press(app, KeyCode::Backspace);
    }
    type_text(app, &format!("{new}\","));
}

#[test]
fn edit_then_ctrl_s_resends_the_edited_body_and_headers() {
    let mut app = app_with_failure();
    press(&mut app, KeyCode::Char('e'));
    let screen = render_text(&app, 120, 40);
    assert!(screen.contains("Edit #1 → resend"), "{screen}");
    assert!(
        screen.contains("\"model\": \"mock-400-context\""),
        "{screen}"
    );
    assert!(screen.contains("✔ JSON ok"), "{screen}");
    press(&mut app, KeyCode::End);
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "x-trace: abc");
    replace_model(&mut app, "mock-400-context", "mock-ok");
    assert!(render_text(&app, 120, 40).contains("Edit #1 → resend · edited"));

    let commands = ctrl(&mut app, 's');
    let [Command::Resend { parent, request }] = commands.as_slice() else {
        panic!("{commands:?}");
    };
    assert_eq!(*parent, ExchangeId(1));
    assert_eq!(
        request.body.as_ref(),
        FIXED,
        "compact JSON, as agents send it"
    );
    assert_eq!(
        (request.method.as_str(), request.uri.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(
        request.headers,
        HeaderList::from([
            ("x-trace".to_string(), "abc".to_string()),
            ("content-type".to_string(), "application/json".to_string()),
            ("authorization".to_string(), "[redacted]".to_string()),
        ])
    );
    assert!(app.editor().is_none());
    update(
        &mut app,
        AppEvent::ResendStarted {
            parent: ExchangeId(1),
            child: ExchangeId(2),
        },
    );
    assert!(render_text(&app, 120, 40).contains("sent #2, a resend of #1"));
}

#[test]
fn esc_with_edits_asks_before_discarding() {
    let mut app = app_with_failure();
    press(&mut app, KeyCode::Char('e'));
    press(&mut app, KeyCode::Esc);
    assert!(app.editor().is_none(), "nothing edited: Esc just closes");

    press(&mut app, KeyCode::Char('e'));
    type_text(&mut app, "x");
    press(&mut app, KeyCode::Esc);
    assert!(render_text(&app, 120, 40).contains("discard edits? y/n"));
    press(&mut app, KeyCode::Char('n'));
    assert!(app.editor().is_some_and(|e| e.prompt.is_none()));
    press(&mut app, KeyCode::Esc);
    assert_eq!(press(&mut app, KeyCode::Char('y')), Vec::<Command>::new());
    assert!(app.editor().is_none());
    assert!(render_text(&app, 120, 40).contains("edits discarded"));
}

#[test]
fn invalid_json_shows_where_and_sending_it_asks_first() {
    let mut app = app_with_failure();
    press(&mut app, KeyCode::Char('e'));
    cursor_to_end_of_line_with(&mut app, "\"model\"");
    press(&mut app, KeyCode::Backspace);
    let screen = render_text(&app, 120, 40);
    assert!(
        screen
            .contains("✖ JSON error at body line 3, column 3 (editor line 7): expected `,` or `}`"),
        "{screen}"
    );

    assert_eq!(ctrl(&mut app, 's'), Vec::<Command>::new());
    assert!(render_text(&app, 120, 40).contains("send anyway? y/n"));
    press(&mut app, KeyCode::Char('n'));
    ctrl(&mut app, 's');
    let commands = press(&mut app, KeyCode::Char('y'));
    let [Command::Resend { request, .. }] = commands.as_slice() else {
        panic!("{commands:?}");
    };
    assert!(
        request
            .body
            .starts_with(b"{\n  \"model\": \"mock-400-context\"\n"),
        "sent as typed"
    );
}

#[test]
fn typing_into_a_76_kb_body_stays_fast_and_checks_on_the_tick() {
    let fixture: serde_json::Value = serde_json::from_str(include_str!(
        "../../../assets/fixtures/claude-code-messages-turn.json"
    ))
    .expect("fixture");
    let body = fixture["body"].to_string();
    assert!(body.len() > 70_000);
    let mut app = live_app();
    let record = record_with(
        1,
        "/v1/messages",
        body.as_bytes(),
        400,
        "application/json",
        TOO_LONG,
    );
    finished(&mut app, record);
    press(&mut app, KeyCode::Char('e'));
    for _ in 0..40 {
        press(&mut app, KeyCode::Down);
    }
    let started = Instant::now();
    for _ in 0..20 {
        type_text(&mut app, "abc ");
        render_text(&app, 120, 40);
    }
    let per_key = started.elapsed() / 80;
    // Debug builds are slow; a re-render of the whole body per key would be far above this.
    assert!(per_key.as_millis() < 20, "{per_key:?} per keystroke");
    assert!(app.editor().is_some_and(|e| e.check_pending));
    update(&mut app, AppEvent::Tick { now_ms: T0 + 250 });
    let screen = render_text(&app, 120, 40);
    assert!(screen.contains("✖ JSON error at body line"), "{screen}");
}
