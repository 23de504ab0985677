//! Auto-fix on the screen: `A` turns it on and the status line says so; an exchange llmscope
//! fixed and resent by itself is marked in the list, next to the failure it fixed.

use std::sync::Arc;

use crossterm::event::KeyCode;

use super::support::{app_with_failure, finished, live_app, press, FIXED};
use super::test_util::{render_text, sample_record};
use crate::capture::{ExchangeId, Lineage};
use crate::tui::*;

#[test]
fn a_turns_auto_fix_on_and_the_status_line_says_so() {
    let mut app = live_app();
    assert!(!render_text(&app, 140, 40).contains("auto-fix"));
    assert_eq!(
        press(&mut app, KeyCode::Char('A')),
        vec![Command::SetAutoFix(true)]
    );
    update(&mut app, AppEvent::AutoFixChanged(true));
    let screen = render_text(&app, 140, 40);
    assert!(screen.contains("│ auto-fix ON"), "{screen}");
    assert!(
        screen.contains("auto-fix on: failures with a fix"),
        "{screen}"
    );
    assert_eq!(
        press(&mut app, KeyCode::Char('A')),
        vec![Command::SetAutoFix(false)]
    );
}

#[test]
fn an_auto_fix_is_marked_in_the_list() {
    let mut app = app_with_failure();
    let mut record = sample_record(2, FIXED, 200, b"{}");
    Arc::make_mut(&mut record.start).lineage = Lineage::auto_fix_of(ExchangeId(1));
    finished(&mut app, record);
    let screen = render_text(&app, 140, 40);
    // The mark is a wide character: the terminal gives it two cells.
    let row = screen
        .lines()
        .find(|line| line.contains("↳#1 /v1/chat/completions"))
        .unwrap_or_else(|| panic!("no row for the fix in\n{screen}"));
    assert!(row.contains('⚡'), "{row}");
}

#[test]
fn an_auto_fix_that_worked_is_kept_as_a_rule_with_k() {
    let mut app = live_app();
    let refused = br#"{"model":"gpt-4o","reasoning_effort":"high","messages":[{"role":"user","content":"hi"}]}"#;
    let said = br#"{"error":{"message":"litellm.BadRequestError: OpenAIException - Unrecognized request argument supplied: reasoning_effort","code":"400"}}"#;
    finished(&mut app, sample_record(1, refused, 400, said));
    let mut fixed = sample_record(2, FIXED, 200, b"{}");
    Arc::make_mut(&mut fixed.start).lineage = Lineage::auto_fix_of(ExchangeId(1));
    finished(&mut app, fixed);
    assert!(render_text(&app, 140, 40).contains("#2 worked: K keeps its quick fix as a rule"));

    let commands = press(&mut app, KeyCode::Char('K'));
    let [Command::SetRules(rules)] = commands.as_slice() else {
        panic!("{commands:?}");
    };
    assert_eq!(
        rules[0].action,
        crate::fix::RuleAction::Fix(crate::fix::QuickFix::RemoveParam {
            name: "reasoning_effort".into()
        })
    );
}
