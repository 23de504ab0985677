//! Quick fixes in the editor and rules kept from them, through `update` and the screen.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyModifiers};

use super::support::{finished, key, live_app, press, TOO_LONG};
use super::test_util::{render_text, sample_record};
use crate::capture::{ExchangeId, ExchangeStart, Lineage};
use crate::fix::{QuickFix, RuleAction};
use crate::tui::*;

const LONG_CHAT: &[u8] = br#"{"model":"gpt-4o","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"turn one"},{"role":"assistant","content":"reply one"},{"role":"user","content":"turn two"},{"role":"assistant","content":"reply two"},{"role":"user","content":"turn three"}]}"#;
const UNKNOWN_MODEL: &[u8] =
    br#"{"error":{"message":"Invalid model name passed in model=gpt-4o-typo"}}"#;

fn editor_text(app: &App) -> String {
    app.editor().map(|e| e.text()).unwrap_or_default()
}

#[test]
fn ctrl_f_on_the_list_opens_the_editor_at_its_quick_fixes() {
    let mut app = live_app();
    finished(&mut app, sample_record(1, LONG_CHAT, 400, TOO_LONG));
    let follow = app.follow;
    key(&mut app, KeyCode::Char('f'), KeyModifiers::CONTROL);
    assert_eq!(app.follow, follow, "Ctrl-F is not f");
    assert!(editor_text(&app).contains("turn one"));
    let screen = render_text(&app, 120, 40);
    assert!(screen.contains("Quick fixes"), "{screen}");
    assert!(screen.contains(" 1 drop the"), "{screen}");
    press(&mut app, KeyCode::Char('1'));
    assert!(!editor_text(&app).contains("turn one"));
}

#[test]
fn ctrl_f_offers_the_context_length_fixes_and_a_digit_applies_one() {
    let mut app = live_app();
    finished(&mut app, sample_record(1, LONG_CHAT, 400, TOO_LONG));
    press(&mut app, KeyCode::Char('e'));
    assert!(editor_text(&app).contains("turn one"));
    key(&mut app, KeyCode::Char('f'), KeyModifiers::CONTROL);
    let screen = render_text(&app, 120, 40);
    assert!(screen.contains("Quick fixes"), "{screen}");
    assert!(screen.contains(" 1 drop the"), "{screen}");

    press(&mut app, KeyCode::Char('1'));
    let text = editor_text(&app);
    assert!(!text.contains("turn one"), "{text}");
    assert!(
        text.contains("You are terse.") && text.contains("turn three"),
        "{text}"
    );
    assert!(text.starts_with("POST /v1/chat/completions\ncontent-type: application/json\n"));
    let screen = render_text(&app, 120, 40);
    assert!(
        screen.contains("✔ JSON ok") && screen.contains("· dropped"),
        "{screen}"
    );
    let applied = app.editor().map(|e| e.applied.clone());
    assert!(matches!(
        applied.as_deref(),
        Some([QuickFix::DropOldestTurns { .. }])
    ));
}

#[test]
fn a_failure_with_no_diagnosis_says_so_in_the_menu() {
    let mut app = live_app();
    finished(
        &mut app,
        sample_record(1, LONG_CHAT, 500, b"upstream exploded"),
    );
    press(&mut app, KeyCode::Char('e'));
    key(&mut app, KeyCode::Char('f'), KeyModifiers::CONTROL);
    let screen = render_text(&app, 120, 40);
    assert!(
        screen.contains("does not recognise this failure"),
        "{screen}"
    );
    press(&mut app, KeyCode::Esc);
    assert!(app.editor().is_some_and(|e| e.menu.is_none()));
}

#[test]
fn a_fix_that_worked_is_kept_as_a_rule_and_can_be_switched_off() {
    let mut app = live_app();
    finished(&mut app, sample_record(1, LONG_CHAT, 200, b"{}"));
    let typo = LONG_CHAT
        .to_vec()
        .iter()
        .map(|&b| b as char)
        .collect::<String>()
        .replace("gpt-4o", "gpt-4o-typo");
    finished(
        &mut app,
        sample_record(2, typo.as_bytes(), 400, UNKNOWN_MODEL),
    );
    press(&mut app, KeyCode::Char('e'));
    key(&mut app, KeyCode::Char('f'), KeyModifiers::CONTROL);
    assert!(render_text(&app, 120, 40).contains("set model to `gpt-4o`"));
    press(&mut app, KeyCode::Char('1'));
    let commands = key(&mut app, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(matches!(commands.as_slice(), [Command::Resend { .. }]));
    update(
        &mut app,
        AppEvent::ResendStarted {
            parent: ExchangeId(2),
            child: ExchangeId(3),
        },
    );
    let mut resend = sample_record(3, LONG_CHAT, 200, b"{}");
    let mut start: ExchangeStart = (*resend.start).clone();
    start.lineage = Lineage::resend_of(ExchangeId(2));
    resend.start = Arc::new(start);
    finished(&mut app, resend);
    assert!(render_text(&app, 120, 40).contains("#3 worked: K keeps its quick fix as a rule"));

    let commands = press(&mut app, KeyCode::Char('K'));
    let [Command::SetRules(rules)] = commands.as_slice() else {
        panic!("{commands:?}");
    };
    assert_eq!(rules.len(), 1);
    let rule = &rules[0];
    assert_eq!(rule.matcher.model.as_deref(), Some("gpt-4o-typo"));
    assert_eq!(
        rule.matcher.path_contains.as_deref(),
        Some("/v1/chat/completions")
    );
    assert_eq!(
        rule.action,
        RuleAction::Fix(QuickFix::SetModel {
            model: "gpt-4o".into()
        })
    );
    assert!(render_text(&app, 120, 40).contains("kept rule 1"));

    press(&mut app, KeyCode::Char('R'));
    let screen = render_text(&app, 120, 40);
    assert!(
        screen.contains("[x]  1 POST, path has `/v1/chat/completions`, model `gpt-4o-typo` → set model to `gpt-4o`"),
        "{screen}"
    );
    let commands = press(&mut app, KeyCode::Char(' '));
    let [Command::SetRules(rules)] = commands.as_slice() else {
        panic!("{commands:?}");
    };
    assert!(!rules[0].enabled);
    assert!(render_text(&app, 120, 40).contains("[ ]  1"));
    press(&mut app, KeyCode::Esc);
    assert!(!matches!(app.mode, Mode::Rules));
    assert_eq!(
        press(&mut app, KeyCode::Char('K')),
        Vec::<Command>::new(),
        "kept once"
    );
}
