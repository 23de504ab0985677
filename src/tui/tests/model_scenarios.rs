//! A model the upstream does not know: the quick fixes offer every model this session used
//! with success, and then the upstream's own list once it arrives.

use crossterm::event::KeyCode;

use super::support::{ctrl, finished, live_app, press};
use super::test_util::{render_text, sample_record};
use crate::capture::ExchangeId;
use crate::tui::*;

const UNKNOWN: &[u8] = br#"{"error":{"message":"/chat/completions: Invalid model name passed in model=gpt-4o-typo. Call `/v1/models` to view available models for your key.","code":"400"}}"#;

fn ok(id: u64, model: &str) -> crate::capture::ExchangeRecord {
    let body = format!(r#"{{"model":"{model}","messages":[{{"role":"user","content":"hi"}}]}}"#);
    sample_record(id, body.as_bytes(), 200, b"{}")
}

#[test]
fn an_unknown_model_gets_the_sessions_models_then_the_upstreams() {
    let mut app = live_app();
    finished(&mut app, ok(1, "gpt-4o"));
    finished(&mut app, ok(2, "o3"));
    let failing = br#"{"model":"gpt-4o-typo","messages":[{"role":"user","content":"hi"}]}"#;
    finished(&mut app, sample_record(3, failing, 400, UNKNOWN));
    press(&mut app, KeyCode::Char('e'));
    let commands = ctrl(&mut app, 'f');
    assert!(
        matches!(commands.as_slice(), [Command::ListModels { id, .. }] if *id == ExchangeId(3)),
        "{commands:?}"
    );
    let screen = render_text(&app, 140, 40);
    assert!(
        screen.contains("1 set model to `o3`"),
        "newest first: {screen}"
    );
    assert!(screen.contains("2 set model to `gpt-4o`"), "{screen}");

    update(
        &mut app,
        AppEvent::ModelsListed {
            id: ExchangeId(3),
            models: Ok(vec![
                "gpt-4o-typo".into(),
                "gpt-4o".into(),
                "gpt-4.1".into(),
            ]),
        },
    );
    let screen = render_text(&app, 140, 40);
    assert!(screen.contains("3 set model to `gpt-4.1`"), "{screen}");
    assert_eq!(
        screen.matches("set model to `gpt-4o`").count(),
        1,
        "{screen}"
    );
}
