//! Forward mode on the screen: the proxy's tunnelled and refused counts reach the status line.

use super::support::live_app;
use super::test_util::render_text;
use crate::proxy::ForwardCounts;
use crate::tui::*;

fn status_line(app: &App) -> String {
    render_text(app, 160, 40)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn counts(tunnelled: u64, refused_handshakes: u64) -> AppEvent {
    AppEvent::ForwardCounts(ForwardCounts {
        tunnelled,
        refused_handshakes,
    })
}

#[test]
fn forward_mode_counts_show_in_the_status_line_as_they_change() {
    let mut app = live_app();
    app.size = (160, 40);
    assert!(
        !status_line(&app).contains("tunnelled"),
        "reverse mode has no such counts: {}",
        status_line(&app)
    );
    update(&mut app, counts(0, 0));
    let line = status_line(&app);
    assert!(line.contains("│ ⇄ 0 tunnelled · 0 refused TLS"), "{line}");
    update(&mut app, counts(12, 1));
    let line = status_line(&app);
    assert!(line.contains("│ ⇄ 12 tunnelled · 1 refused TLS"), "{line}");
    assert!(
        line.contains("0 total") && line.contains("hold off"),
        "{line}"
    );
}

#[test]
fn a_narrow_status_line_drops_the_forward_counts_before_the_exchange_counts() {
    let mut app = live_app();
    update(&mut app, counts(3, 2));
    let line = render_text(&app, 60, 20)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(line.contains("0 total"), "{line}");
    assert!(!line.contains("tunnelled"), "{line}");
}

#[test]
fn forward_mode_rows_name_their_host_and_the_filter_finds_it() {
    use crate::capture::{CaptureEvent, ExchangeStart};
    use std::sync::Arc;
    let mut app = live_app();
    app.size = (160, 40);
    let to = |id: u64, host: &str, uri: &str| {
        let record = super::test_util::record_with(id, uri, b"{}", 200, "application/json", b"{}");
        let mut start: ExchangeStart = (*record.start).clone();
        start.request.headers.push("host", host);
        Arc::new(start)
    };
    let anthropic = to(1, "api.anthropic.com", "/v1/messages");
    let codex = to(2, "chatgpt.com", "/backend-api/codex/responses");
    for start in [anthropic, codex] {
        update(&mut app, AppEvent::Capture(CaptureEvent::Started(start)));
    }
    let screen = render_text(&app, 160, 40);
    assert!(
        screen.contains("api.anthropic.com/v1/messages")
            && screen.contains("chatgpt.com/backend-api/codex/responses"),
        "{screen}"
    );
    app.filter.needle = "chatgpt".into();
    let shown: Vec<bool> = app.rows.iter().map(|row| app.filter.matches(row)).collect();
    assert_eq!(shown, [false, true]);
}
