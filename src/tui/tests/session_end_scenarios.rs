//! An attached screen outlives its session: once the proxy is gone, no row counts down a
//! hold its agent can no longer be waiting on.

use super::support::{app_with_failure, held};
use super::test_util::{render_text, T0};
use crate::tui::*;

#[test]
fn a_held_row_stops_counting_down_when_the_attached_session_ends() {
    let mut app = app_with_failure();
    app.status.attached = true;
    held(&mut app, 1, T0 + 90_000);
    let screen = render_text(&app, 120, 40);
    assert!(screen.contains("⏸ 90s"), "{screen}");

    update(&mut app, AppEvent::CaptureEnded);
    let screen = render_text(&app, 120, 40);
    assert!(!screen.contains("⏸"), "{screen}");
    assert!(screen.contains("[session ended]"), "{screen}");
    assert!(
        screen.contains("the session ended: its record stays here to browse"),
        "{screen}"
    );
}
