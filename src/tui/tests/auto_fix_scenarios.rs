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
