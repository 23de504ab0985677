//! The fixing flow through the screen's own code, with no terminal: real capture events drive
//! the `App`, keys edit the held request in the editor, and the `Command` it gives runs through
//! the real proxy control. The agent that was kept waiting receives the fixed reply.

mod common;

use common::tui::{holding_screen, now_ms, screen};
use common::{chat_body, client, json, Harness};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use llmscope::capture::{CaptureEvent, ExchangeId, HoldOutcome};
use llmscope::tui::{run_command, update, App, AppEvent, Command};

/// Feeds capture events to the app until `done` accepts one; returns that one.
async fn pump(
    h: &mut Harness,
    app: &mut App,
    done: impl Fn(&CaptureEvent) -> bool,
) -> CaptureEvent {
    loop {
        let event = h.next_any().await;
        let stop = done(&event);
        update(app, AppEvent::Capture(event.clone()));
        if stop {
            return event;
        }
    }
}

/// Applies a key and runs every command it gives through the proxy, as the loop does.
fn key(h: &Harness, app: &mut App, code: KeyCode, modifiers: KeyModifiers) -> Vec<Command> {
    let commands = update(app, AppEvent::Key(KeyEvent::new(code, modifiers)));
    for command in commands.clone() {
        if let Some(answer) = run_command(&h.control, command) {
            update(app, answer);
        }
    }
    commands
}

fn press(h: &Harness, app: &mut App, code: KeyCode) {
    key(h, app, code, KeyModifiers::NONE);
}

#[tokio::test]
async fn a_held_400_fixed_in_the_editor_reaches_the_waiting_client_as_200() {
    let (mut h, mut app) = holding_screen().await;
    let request = client()
        .post(h.url("/v1/chat/completions"))
        .header("authorization", "Bearer sk-agent-REAL")
        .header("content-type", "application/json")
        .body(chat_body("mock-400-context", false));
    let agent =
        tokio::spawn(async move { request.send().await.expect("the agent gets an answer") });

    let held = pump(&mut h, &mut app, |e| matches!(e, CaptureEvent::Held { .. })).await;
    let held_id = held.exchange_id().expect("held exchange");
    update(&mut app, AppEvent::Tick { now_ms: now_ms() });
    let shown = screen(&app);
    assert!(shown.contains("held — the agent is waiting"), "{shown}");
    assert!(shown.contains("⏸ "), "{shown}");
    assert!(!agent.is_finished(), "the agent is still waiting");

    press(&h, &mut app, KeyCode::Char('e'));
    let lines = app.editor().expect("editor open").textarea.lines().to_vec();
    let model_line = lines
        .iter()
        .position(|l| l.contains("\"model\": \"mock-400-context\""))
        .expect("the model is in the editor");
    assert!(
        lines
            .iter()
            .any(|l| l == "authorization: Bearer <redacted>"),
        "{lines:?}"
    );
    for _ in 0..model_line {
        press(&h, &mut app, KeyCode::Down);
    }
    press(&h, &mut app, KeyCode::End);
    for _ in 0.."mock-400-context\",".len() {
        press(&h, &mut app, KeyCode::Backspace);
    }
    for c in "mock-ok\",".chars() {
        press(&h, &mut app, KeyCode::Char(c));
    }
    let commands = key(&h, &mut app, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(
        matches!(commands.as_slice(), [Command::Resend { parent, .. }] if *parent == held_id),
        "{commands:?}"
    );

    let reply = tokio::time::timeout(common::WAIT, agent)
        .await
        .expect("the agent is answered in time")
        .expect("agent task");
    assert_eq!(reply.status(), 200);
    let body = json(&reply.bytes().await.expect("body"));
    assert!(body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .starts_with("Mock reply to: Say hello"));

    let ended = pump(&mut h, &mut app, |e| {
        matches!(e, CaptureEvent::HoldEnded { .. })
    })
    .await;
    let CaptureEvent::HoldEnded { outcome, .. } = ended else {
        unreachable!("pump stops on HoldEnded");
    };
    let child = match outcome {
        HoldOutcome::Delivered { from } => from,
        other => panic!("not delivered: {other:?}"),
    };
    assert_ne!(child, ExchangeId(0));
    assert!(app.banner.is_none(), "the fix lowered the banner");
    let shown = screen(&app);
    assert!(shown.contains(&format!("↳{held_id}")), "{shown}");
    assert!(shown.contains(&format!("[fixed by {child}]")), "{shown}");
    h.stop_and_load().await;
}
