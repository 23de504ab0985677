//! For a model the upstream does not know, the quick fixes offer the upstream's own list:
//! asked with the agent's credentials from memory (the record holds only `<redacted>`), and
//! not recorded as an exchange; the model the upstream refused is never one of them.

mod common;

use common::tui::{holding_screen, screen};
use common::{chat_body, client, Harness};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use llmscope::capture::CaptureEvent;
use llmscope::tui::{run_command, update, App, AppEvent, Command};

#[tokio::test]
async fn the_upstreams_models_are_listed_with_the_agents_credentials() {
    let mut h = Harness::start().await;
    let reply = client()
        .post(h.url("/v1/chat/completions"))
        .header("authorization", "Bearer sk-agent-REAL")
        .body(chat_body("mock-400-model", false))
        .send()
        .await
        .expect("answered");
    assert_eq!(reply.status(), 400);
    let record = h.next_finished().await;
    let request = &record.start.request;
    assert!(request
        .headers
        .iter()
        .any(|(n, v)| n == "authorization" && !v.contains("sk-agent-REAL")));

    let models = h
        .control
        .list_models(record.start.id, &request.uri, &request.headers)
        .await
        .expect("a list");
    assert!(models.iter().any(|m| m == "mock-ok"), "{models:?}");
    let asked = h.mock.received();
    let list = asked.last().expect("the list was asked for");
    assert_eq!(
        (list.method.as_str(), list.target.as_str()),
        ("GET", "/v1/models")
    );
    assert_eq!(list.header("authorization"), Some("Bearer sk-agent-REAL"));

    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(
        stored.len(),
        1,
        "llmscope's own question is not an exchange"
    );
}

/// Applies a key; the commands it gives run through the proxy as the screen's loop runs them
/// (the model list waits on the upstream, so it is asked here).
async fn key(h: &Harness, app: &mut App, code: KeyCode, modifiers: KeyModifiers) -> Vec<Command> {
    let commands = update(app, AppEvent::Key(KeyEvent::new(code, modifiers)));
    for command in commands.clone() {
        let answer = match command {
            Command::ListModels { id, uri, headers } => Some(AppEvent::ModelsListed {
                id,
                models: h.control.list_models(id, &uri, &headers).await,
            }),
            command => run_command(&h.control, command),
        };
        if let Some(answer) = answer {
            update(app, answer);
        }
    }
    commands
}

#[tokio::test]
async fn a_held_refused_model_is_never_offered_back_and_the_first_fix_works() {
    let (mut h, mut app) = holding_screen().await;
    let request = client()
        .post(h.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(chat_body("mock-400-model", false));
    let agent = tokio::spawn(async move { request.send().await.expect("answered") });
    loop {
        let event = h.next_any().await;
        let held = matches!(event, CaptureEvent::Held { .. });
        update(&mut app, AppEvent::Capture(event));
        if held {
            break;
        }
    }

    key(&h, &mut app, KeyCode::Char('e'), KeyModifiers::NONE).await;
    let commands = key(&h, &mut app, KeyCode::Char('f'), KeyModifiers::CONTROL).await;
    assert!(
        matches!(commands.as_slice(), [Command::ListModels { .. }]),
        "the upstream's list is asked for: {commands:?}"
    );
    let shown = screen(&app);
    assert!(shown.contains("Quick fixes"), "{shown}");
    assert!(
        !shown.contains("set model to `mock-400-model`"),
        "the refused model is not offered back: {shown}"
    );
    assert!(shown.contains(" 1 set model to `mock-ok`"), "{shown}");

    key(&h, &mut app, KeyCode::Char('1'), KeyModifiers::NONE).await;
    key(&h, &mut app, KeyCode::Char('s'), KeyModifiers::CONTROL).await;
    let reply = tokio::time::timeout(common::WAIT, agent)
        .await
        .expect("the agent is answered in time")
        .expect("agent task");
    assert_eq!(reply.status(), 200, "quick fix 1 fixed the held request");
    h.stop_and_load().await;
}
