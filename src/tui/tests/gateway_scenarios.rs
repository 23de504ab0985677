//! llmscope on both sides of a gateway, on the screen: the agent's row holds its provider
//! calls folded (`z` shows them), and the banner names the provider's failure under the
//! gateway's "Connection error."

use std::sync::Arc;

use crossterm::event::KeyCode;

use super::support::{finished, live_app, press, FAILING};
use super::test_util::{record_with, render_text};
use crate::capture::{ExchangeId, Failure, FailureClass};

const CONNECTION_ERROR: &[u8] = br#"{"error":{"message":"litellm.InternalServerError: OpenAIException - Connection error.\n\nReceived Model Group=gpt-4o","code":"500"}}"#;

fn provider_call(id: u64) -> crate::capture::ExchangeRecord {
    let mut record = record_with(
        id,
        "/provider/openai/v1/chat/completions",
        FAILING,
        502,
        "application/json",
        b"{}",
    );
    Arc::make_mut(&mut record.start).lineage.beneath = Some(ExchangeId(1));
    record.failure = Some(Failure::new(
        FailureClass::MalformedResponse,
        "upstream sent a malformed HTTP response: invalid HTTP version parsed",
    ));
    record
}

#[test]
fn provider_calls_fold_under_the_agents_row_and_the_banner_names_the_providers_failure() {
    let mut app_live = live_app();
    update_order(&mut app_live);
    let screen = render_text(&app_live, 140, 30);
    assert!(
        screen.contains("↧ LiteLLM 500 ← openai: the provider sent a malformed HTTP response"),
        "{screen}"
    );
    assert!(screen.contains("⇣2 /v1/chat/completions"), "{screen}");
    assert!(!screen.contains("/provider/openai"), "folded: {screen}");

    press(&mut app_live, KeyCode::Char('z'));
    let screen = render_text(&app_live, 140, 30);
    assert_eq!(
        screen
            .matches("└ /provider/openai/v1/chat/completions")
            .count(),
        2,
        "{screen}"
    );
}

/// As the bus delivers it: the agent's start, the gateway's provider calls ending, then the
/// gateway's answer to the agent.
fn update_order(app: &mut crate::tui::App) {
    use crate::capture::CaptureEvent;
    use crate::tui::{update, AppEvent};
    let agent = record_with(
        1,
        "/v1/chat/completions",
        FAILING,
        500,
        "application/json",
        CONNECTION_ERROR,
    );
    update(
        app,
        AppEvent::Capture(CaptureEvent::Started(agent.start.clone())),
    );
    finished(app, provider_call(2));
    finished(app, provider_call(3));
    let mut agent = agent;
    agent.failure = Some(Failure::new(
        FailureClass::HttpError(500),
        "litellm.InternalServerError: OpenAIException - Connection error.",
    ));
    finished(app, agent);
}

#[test]
fn a_provider_call_is_resent_straight_to_its_provider_and_the_screen_says_so() {
    let mut app_live = live_app();
    update_order(&mut app_live);
    press(&mut app_live, KeyCode::Char('z'));
    app_live.select(ExchangeId(2));
    let commands = press(&mut app_live, KeyCode::Char('r'));
    assert!(
        matches!(commands.as_slice(), [crate::tui::Command::Resend { request, .. }]
            if request.uri == "/provider/openai/v1/chat/completions"),
        "{commands:?}"
    );
    let screen = render_text(&app_live, 140, 30);
    assert!(
        screen
            .contains("resending #2 unchanged straight to provider openai, bypassing the gateway"),
        "{screen}"
    );
}
