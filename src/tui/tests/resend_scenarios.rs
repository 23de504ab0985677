//! Fixing scenarios through `update` and the screen a user reads: edit and resend, hold and
//! forward, the resend's link and diff.

use std::sync::Arc;

use crossterm::event::KeyCode;

use super::support::{app_with_failure, finished, live_app, press, FAILING, FIXED, TOO_LONG};
use super::test_util::{render_text, sample_record, T0};
use crate::capture::{
    CaptureEvent, ExchangeId, ExchangeRecord, ExchangeStart, HoldOutcome, Lineage,
};
use crate::tui::*;

/// A finished resend of `parent`.
fn resend_record(id: u64, parent: u64, body: &[u8], status: u16) -> ExchangeRecord {
    let mut record = sample_record(id, body, status, b"{}");
    let mut start: ExchangeStart = (*record.start).clone();
    start.lineage = Lineage::resend_of(ExchangeId(parent));
    record.start = Arc::new(start);
    record
}

#[test]
fn h_turns_hold_on_and_the_status_line_says_so() {
    let mut app = live_app();
    assert!(render_text(&app, 120, 40).contains("hold off"));
    assert_eq!(
        press(&mut app, KeyCode::Char('H')),
        vec![Command::SetHold(true)]
    );
    assert!(render_text(&app, 120, 40).contains("hold ON"));
    update(&mut app, AppEvent::HoldChanged(true));
    assert!(render_text(&app, 120, 40).contains("hold-on-error on"));
    assert_eq!(
        press(&mut app, KeyCode::Char('H')),
        vec![Command::SetHold(false)]
    );
}

#[test]
fn a_held_failure_counts_down_until_a_delivered_fix_clears_it() {
    let mut app = app_with_failure();
    let held = CaptureEvent::Held {
        id: ExchangeId(1),
        expires_at_ms: T0 + 100_000,
    };
    update(&mut app, AppEvent::Capture(held));
    update(&mut app, AppEvent::Tick { now_ms: T0 + 3_000 });
    let screen = render_text(&app, 120, 40);
    assert!(
        screen.contains("⏸ held — the agent is waiting, 97 s left · e edit · r resend · F forward"),
        "{screen}"
    );
    assert!(screen.contains("⏸ 97s /v1/chat/completions"), "{screen}");
    update(&mut app, AppEvent::Tick { now_ms: T0 + 4_000 });
    assert!(render_text(&app, 120, 40).contains("96 s left"));

    finished(&mut app, resend_record(2, 1, FAILING, 400));
    let screen = render_text(&app, 120, 40);
    assert!(
        screen.contains("✖ HTTP 400") && screen.contains("· #2 "),
        "{screen}"
    );
    assert!(
        screen.contains("⏸ #1 held — the agent is waiting"),
        "the resend's banner keeps the hold: {screen}"
    );

    let agent_retry = sample_record(3, FIXED, 200, b"{}");
    finished(&mut app, agent_retry);
    assert!(
        app.banner.is_some(),
        "another call succeeding does not settle a held one"
    );

    let ended = CaptureEvent::HoldEnded {
        session: crate::capture::SessionId(1),
        id: ExchangeId(1),
        outcome: HoldOutcome::Delivered {
            from: ExchangeId(4),
        },
    };
    update(&mut app, AppEvent::Capture(ended));
    let screen = render_text(&app, 120, 40);
    assert!(app.banner.is_none(), "{screen}");
    assert!(screen.contains("[fixed by #4]"), "{screen}");
    assert!(
        screen.contains("#1: fixed by #4, its reply went to the agent"),
        "{screen}"
    );
}

#[test]
fn a_forwarded_hold_says_so_in_the_banner() {
    let mut app = app_with_failure();
    let held = CaptureEvent::Held {
        id: ExchangeId(1),
        expires_at_ms: T0 + 100_000,
    };
    update(&mut app, AppEvent::Capture(held));
    let ended = CaptureEvent::HoldEnded {
        session: crate::capture::SessionId(1),
        id: ExchangeId(1),
        outcome: HoldOutcome::TimedOut,
    };
    update(&mut app, AppEvent::Capture(ended));
    let screen = render_text(&app, 120, 40);
    assert!(
        screen.contains("hold ended: hold timed out; original error sent to the agent"),
        "{screen}"
    );
}

#[test]
fn f_forwards_the_selected_held_exchange_or_the_oldest() {
    let mut app = live_app();
    assert_eq!(press(&mut app, KeyCode::Char('F')), Vec::<Command>::new());
    assert!(render_text(&app, 120, 40).contains("nothing is held"));
    for id in 1..=2 {
        finished(&mut app, sample_record(id, FAILING, 400, TOO_LONG));
        let held = CaptureEvent::Held {
            id: ExchangeId(id),
            expires_at_ms: T0 + 100_000 + id as i64,
        };
        update(&mut app, AppEvent::Capture(held));
    }
    finished(&mut app, sample_record(3, FIXED, 200, b"{}"));
    assert_eq!(app.selected, Some(ExchangeId(3)));
    assert_eq!(
        press(&mut app, KeyCode::Char('F')),
        vec![Command::ForwardHeld(ExchangeId(1))]
    );
    press(&mut app, KeyCode::Up);
    assert_eq!(
        press(&mut app, KeyCode::Char('F')),
        vec![Command::ForwardHeld(ExchangeId(2))]
    );
    update(
        &mut app,
        AppEvent::ForwardDone {
            id: ExchangeId(2),
            forwarded: false,
        },
    );
    assert!(render_text(&app, 120, 40).contains("#2 is not held any more"));
}

#[test]
fn a_resend_links_to_its_parent_and_d_shows_what_changed() {
    let mut app = app_with_failure();
    finished(&mut app, resend_record(2, 1, FIXED, 200));
    assert!(
        app.banner.is_none(),
        "a successful resend clears its parent's banner"
    );
    let screen = render_text(&app, 120, 40);
    assert!(screen.contains("↳#1 /v1/chat/completions"), "{screen}");

    press(&mut app, KeyCode::Char('D'));
    let screen = render_text(&app, 120, 40);
    assert!(screen.contains("diff from parent"), "{screen}");
    assert!(screen.contains("diff #1 → #2"), "{screen}");
    let minus = screen
        .lines()
        .find(|l| l.contains("-   \"model\": \"mock-400-context\","));
    let plus = screen
        .lines()
        .find(|l| l.contains("+   \"model\": \"mock-ok\","));
    assert!(minus.is_some() && plus.is_some(), "{screen}");
    press(&mut app, KeyCode::Char('D'));
    assert!(!render_text(&app, 120, 40).contains("diff from parent"));
}

#[test]
fn resending_a_resend_links_to_the_agents_request() {
    let mut app = app_with_failure();
    finished(&mut app, resend_record(2, 1, FAILING, 400));
    assert_eq!(app.selected, Some(ExchangeId(2)));
    let commands = press(&mut app, KeyCode::Char('r'));
    let [Command::Resend { parent, request }] = commands.as_slice() else {
        panic!("{commands:?}");
    };
    assert_eq!(*parent, ExchangeId(1), "the held agent waits on #1");
    assert_eq!(
        request.body.as_ref(),
        FAILING,
        "unchanged: the recorded bytes"
    );
}

#[test]
fn a_past_session_is_read_only() {
    let mut app = live_app();
    app.status.control = false;
    finished(&mut app, sample_record(1, FAILING, 400, TOO_LONG));
    for k in ['e', 'r', 'H', 'F'] {
        assert_eq!(press(&mut app, KeyCode::Char(k)), Vec::<Command>::new());
        assert!(app.editor().is_none());
        assert!(render_text(&app, 120, 40).contains("read-only session"));
    }
}
