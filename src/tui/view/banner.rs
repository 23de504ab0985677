//! The error banner: the newest failure, in red, with the upstream's own words and a likely
//! cause, until the user dismisses it or the same call succeeds. While the failed exchange (or
//! the agent request it was resent from) is held, a line counts down the agent's wait and the
//! next one names the keys that fix it.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::capture::{ExchangeId, FailureClass};
use crate::tui::present::body;
use crate::tui::state::app::{App, Banner};
use crate::tui::state::hold_hint::HoldHint;
use crate::tui::state::rows::HoldMark;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let Some(banner) = &app.banner else {
        return;
    };
    let base = Style::default().fg(Color::White).bg(Color::Red);
    let mut lines = failure_lines(banner, base);
    if let Some((held, mark)) = app.hold_of(banner.id) {
        lines.push(hold_line(banner.id, held, mark, app.now_ms, base));
    }
    if let Some(hint) = app.hold_hint() {
        lines.push(hint_line(hint, base));
    }
    frame.render_widget(Paragraph::new(lines).style(base), area);
}

/// "⏸ held — the agent is waiting, 97 s left · e edit · r resend · F forward", or how the
/// hold ended.
fn hold_line(
    shown: ExchangeId,
    held: ExchangeId,
    mark: &HoldMark,
    now_ms: i64,
    base: Style,
) -> Line<'static> {
    let whose = if held == shown {
        String::new()
    } else {
        format!("{held} ")
    };
    let strong = base.add_modifier(Modifier::BOLD);
    match mark {
        HoldMark::Waiting { expires_at_ms } => {
            let left = HoldMark::seconds_left(*expires_at_ms, now_ms);
            Line::from(vec![
                Span::styled(
                    format!(" ⏸ {whose}held — the agent is waiting, {left} s left "),
                    strong.bg(Color::Magenta),
                ),
                Span::styled("· e edit · r resend · F forward", base),
            ])
        }
        HoldMark::Ended(outcome) => {
            Line::styled(format!("   {whose}hold ended: {outcome}"), strong)
        }
        HoldMark::Recorded(outcome) => {
            Line::styled(format!("   {whose}hold ended: {outcome}"), strong)
        }
    }
}

/// The keys, in the order to press them, that send the waiting agent a good reply:
/// "▶ fix it: e edit · Ctrl-F quick fixes · 1 first fix · Ctrl-S send · or wait: …".
fn hint_line(hint: HoldHint, base: Style) -> Line<'static> {
    let key = base.fg(Color::Yellow).add_modifier(Modifier::BOLD);
    let mut spans = vec![Span::styled("   ▶ ", key)];
    if !hint.selected {
        spans.push(Span::styled(
            format!("select {} (↑/↓), then ", hint.held),
            base,
        ));
    }
    spans.push(Span::styled("fix it: ", base));
    let steps: &[(&str, &str)] = if hint.recognised {
        &[
            ("e", " edit · "),
            ("Ctrl-F", " quick fixes · "),
            ("1", " first fix · "),
            ("Ctrl-S", " send"),
        ]
    } else {
        &[
            ("e", " edit, "),
            ("Ctrl-S", " send · "),
            ("r", " resend unchanged"),
        ]
    };
    for (name, does) in steps {
        spans.push(Span::styled(*name, key));
        spans.push(Span::styled(*does, base));
    }
    // What waiting means, since the count above does not say what happens at zero.
    spans.push(Span::styled(
        " · or wait: at time-out the agent gets this error",
        base,
    ));
    Line::from(spans)
}

fn failure_lines(banner: &Banner, base: Style) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::from(vec![
            Span::styled(
                format!(" ✖ {} ", what_failed(banner)),
                base.add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!("· {} {} ", banner.method, body::sanitize(&banner.uri)),
                base,
            ),
            Span::styled(format!("· {} ", banner.id), base),
            Span::styled("· d dismiss", base.add_modifier(Modifier::DIM)),
        ]),
        match (&banner.retry_loop, &banner.cause) {
            (Some(retry_loop), _) => Line::styled(
                format!("   ↻ {}", one_line(retry_loop)),
                base.add_modifier(Modifier::BOLD),
            ),
            (None, Some(cause)) => Line::styled(
                format!("   ↧ {}", one_line(cause)),
                base.add_modifier(Modifier::BOLD),
            ),
            (None, None) => Line::styled(format!("   {}", one_line(&banner.failure.message)), base),
        },
    ];
    if let Some(diagnosis) = &banner.diagnosis {
        lines.push(Line::styled(
            format!("   → {}", one_line(diagnosis)),
            base.fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ));
    }
    lines
}

/// The class as the banner names it, with the status when the class does not already say it
/// (a stream that broke after `200 OK`).
fn what_failed(banner: &Banner) -> String {
    match (banner.failure.class, banner.status) {
        (FailureClass::HttpError(_), _) | (_, None) => banner.failure.class.to_string(),
        (class, Some(status)) => format!("{class} (HTTP {status})"),
    }
}

/// Upstream messages carry newlines (LiteLLM appends a paragraph); the banner has one line.
fn one_line(text: &str) -> String {
    body::sanitize(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{ExchangeId, Failure};
    use crate::tui::tests::test_util::{find_cell_style, render, render_text};
    use crate::tui::{App, StatusInfo};

    const EVERY_CLASS: [FailureClass; 10] = [
        FailureClass::HttpError(400),
        FailureClass::ErrorIn200,
        FailureClass::StreamError,
        FailureClass::Connect,
        FailureClass::Tls,
        FailureClass::Timeout,
        FailureClass::MalformedResponse,
        FailureClass::Reset,
        FailureClass::ClientAborted,
        FailureClass::RetryLoopStopped,
    ];

    fn app_with_banner(class: FailureClass, diagnosis: Option<&str>) -> App {
        let mut app = App::new(StatusInfo::default(), Vec::new(), 0, (120, 30));
        app.banner = Some(Banner {
            id: ExchangeId(12),
            method: "POST".into(),
            uri: "/v1/chat/completions".into(),
            status: if class.is_transport() {
                None
            } else {
                Some(200)
            },
            failure: Failure::new(
                class,
                format!("upstream said no\n\nLiteLLM: model group failed ({class:?})"),
            ),
            diagnosis: diagnosis.map(str::to_string),
            retry_loop: None,
            cause: None,
        });
        app
    }

    #[test]
    fn a_retry_loop_is_said_plainly_in_place_of_the_message() {
        let mut app = app_with_banner(FailureClass::ErrorIn200, None);
        if let Some(banner) = app.banner.as_mut() {
            banner.retry_loop = Some(
                "opencode is retrying a failing request: 2,338× in 7 min — quota exhausted".into(),
            );
        }
        let screen = render_text(&app, 120, 30);
        assert!(
            screen.contains(
                "↻ opencode is retrying a failing request: 2,338× in 7 min — quota exhausted"
            ),
            "{screen}"
        );
        assert!(!screen.contains("upstream said no"), "{screen}");
    }

    #[test]
    fn banner_names_every_failure_class_with_the_message() {
        for class in EVERY_CLASS {
            let screen = render_text(&app_with_banner(class, None), 120, 30);
            let banner: Vec<&str> = screen.lines().skip(1).take(2).collect();
            assert!(
                banner[0].contains(&class.to_string()),
                "{class:?}: {banner:?}"
            );
            assert!(
                banner[0].contains("#12 ") && banner[0].contains("POST /v1/chat/completions"),
                "{banner:?}"
            );
            assert!(
                banner[1].contains(&format!(
                    "upstream said no LiteLLM: model group failed ({class:?})"
                )),
                "{class:?}: {banner:?}"
            );
        }
    }

    #[test]
    fn banner_adds_the_diagnosis_when_there_is_one() {
        for class in EVERY_CLASS {
            let app = app_with_banner(class, Some("context length exceeded: 9000 > 8192 tokens"));
            let screen = render_text(&app, 120, 30);
            let third = screen.lines().nth(3).unwrap_or_default();
            assert!(
                third.contains("→ context length exceeded: 9000 > 8192 tokens"),
                "{screen}"
            );
        }
    }

    #[test]
    fn a_waiting_agent_gets_the_keys_that_fix_its_failure_in_order() {
        use crate::tui::tests::support::{app_with_failure, held};
        use crate::tui::tests::test_util::T0;

        let mut app = app_with_failure();
        held(&mut app, 1, T0 + 90_000);
        app.select(ExchangeId(1));
        let screen = render_text(&app, 120, 40);
        assert!(
            screen.contains(
                "▶ fix it: e edit · Ctrl-F quick fixes · 1 first fix · Ctrl-S send · or wait: at time-out the agent gets this error"
            ),
            "{screen}"
        );
        app.selected = None;
        let screen = render_text(&app, 120, 40);
        assert!(
            screen.contains("▶ select #1 (↑/↓), then fix it: e edit"),
            "{screen}"
        );
    }

    #[test]
    fn banner_is_red_and_shows_status_for_failures_after_a_reply() {
        let app = app_with_banner(FailureClass::StreamError, None);
        let buffer = render(&app, 120, 30);
        assert_eq!(
            find_cell_style(&buffer, "stream error").and_then(|s| s.bg),
            Some(Color::Red)
        );
        assert!(render_text(&app, 120, 30).contains("stream error (HTTP 200)"));
    }
}
