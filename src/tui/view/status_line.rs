//! The status line: where the proxy listens and forwards, the session, the counts (forward
//! mode's too), hold mode, and any capture problem. When the width runs out, the least useful parts are left off.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::tui::present::units;
use crate::tui::state::app::App;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let line = Line::from(spans(app, usize::from(area.width)));
    frame.render_widget(
        Paragraph::new(line).style(Style::default().bg(Color::Black)),
        area,
    );
}

/// The parts in display order, each with a priority (lower is kept first).
fn spans(app: &App, width: usize) -> Vec<Span<'static>> {
    let status = &app.status;
    let plain = Style::default().fg(Color::Gray);
    let mut parts: Vec<(u8, Span<'static>)> = vec![(
        0,
        Span::styled(
            " llmscope ",
            Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        ),
    )];
    if let Some(health) = &status.capture_health {
        let style = Style::default()
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD);
        parts.push((0, Span::styled(format!(" ⚠ {health} "), style)));
    }
    match (status.attached, status.session) {
        (true, Some(session)) if status.live => {
            let listen = status.listen.as_deref().unwrap_or("?");
            let style = Style::default().fg(Color::Cyan);
            let text = format!("attached to session {session} · {listen} ");
            parts.push((0, Span::styled(text, style)));
        }
        (true, Some(session)) => {
            let style = Style::default().fg(Color::Yellow);
            let text = format!("session {session} ended · browsing ");
            parts.push((0, Span::styled(text, style)));
        }
        _ => {
            let live = if status.live { "live" } else { "browsing" };
            parts.push((3, Span::styled(format!("{live} "), plain)));
            if let Some(listen) = &status.listen {
                parts.push((2, Span::styled(format!("{listen} "), plain)));
            }
        }
    }
    if let Some(upstream) = &status.upstream {
        parts.push((4, Span::styled(format!("→ {upstream} "), plain)));
    }
    if let Some(session) = status.session.filter(|_| !status.attached) {
        parts.push((5, Span::styled(format!("session {session} "), plain)));
    }
    parts.push((
        0,
        Span::styled(format!("│ {} total ", app.rows.len()), plain),
    ));
    let failed = app.rows.failed_count();
    let failed_style = if failed > 0 {
        Style::default().fg(Color::Red)
    } else {
        plain
    };
    parts.push((1, Span::styled(format!("{failed} failed "), failed_style)));
    let in_flight = app.rows.in_flight_count();
    let flight_style = if in_flight > 0 {
        Style::default().fg(Color::Yellow)
    } else {
        plain
    };
    parts.push((
        1,
        Span::styled(format!("{in_flight} in flight "), flight_style),
    ));
    let session = app.conversations.session();
    if session.cost.priced + session.cost.unpriced > 0 {
        let tokens = &session.tokens;
        // After the modes: hold on or off matters more than the running totals.
        parts.push((
            2,
            Span::styled(
                format!(
                    "│ tok {} in ({} cached) {} out · {} ",
                    units::count(tokens.input()),
                    units::count(tokens.cache_read),
                    units::count(tokens.output),
                    session.cost.display()
                ),
                plain,
            ),
        ));
    }
    if let Some(counts) = &app.forward {
        // A refused handshake means an agent that does not trust llmscope's CA: its calls
        // are failing, so it is said in colour.
        let style = if counts.refused_handshakes > 0 {
            Style::default().fg(Color::Yellow)
        } else {
            plain
        };
        let text = format!(
            "│ ⇄ {} tunnelled · {} refused TLS ",
            counts.tunnelled, counts.refused_handshakes
        );
        parts.push((3, Span::styled(text, style)));
    }
    let hold = if !status.control {
        Span::styled("│ read-only ", plain)
    } else if status.hold {
        Span::styled(
            "│ hold ON ",
            Style::default()
                .fg(Color::Magenta)
                .add_modifier(Modifier::BOLD),
        )
    } else {
        Span::styled("│ hold off ", plain)
    };
    parts.push((1, hold));
    if status.auto_fix && status.control {
        parts.push((
            1,
            Span::styled(
                "│ auto-fix ON ",
                Style::default()
                    .fg(Color::Green)
                    .add_modifier(Modifier::BOLD),
            ),
        ));
    }
    if let Some(pattern) = status.intercept.as_ref().filter(|_| status.control) {
        let waiting = app.intercepted_ids.len();
        let count = if waiting > 0 {
            format!(" ({waiting} waiting)")
        } else {
            String::new()
        };
        parts.push((
            1,
            Span::styled(
                format!("│ intercept: {pattern}{count} "),
                Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD),
            ),
        ));
    }
    parts.push((
        6,
        Span::styled("│ ? help", Style::default().fg(Color::DarkGray)),
    ));
    keep_within(parts, width)
}

/// Drops the highest-priority-number parts until the rest fit in `width` columns.
fn keep_within(mut parts: Vec<(u8, Span<'static>)>, width: usize) -> Vec<Span<'static>> {
    loop {
        let used: usize = parts.iter().map(|(_, span)| span.width()).sum();
        let Some(worst) = parts.iter().map(|(p, _)| *p).max() else {
            return Vec::new();
        };
        if used <= width || worst == 0 {
            return parts.into_iter().map(|(_, span)| span).collect();
        }
        if let Some(at) = parts.iter().rposition(|(p, _)| *p == worst) {
            parts.remove(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::SessionId;
    use crate::tui::state::rows::tests::row;
    use crate::tui::tests::test_util::render_text;
    use crate::tui::StatusInfo;

    fn status() -> StatusInfo {
        StatusInfo {
            listen: Some("127.0.0.1:8787".into()),
            upstream: Some("https://litellm.internal:4000".into()),
            session: Some(SessionId(3)),
            live: true,
            capture_health: Some("capture failing: disk full".into()),
            hold: true,
            auto_fix: false,
            intercept: None,
            control: true,
            attached: false,
        }
    }

    #[test]
    fn auto_fix_is_said_when_on() {
        let mut info = status();
        let off = render_text(&App::new(info.clone(), Vec::new(), 0, (160, 40)), 160, 40);
        assert!(!off.contains("auto-fix"), "{off}");
        info.auto_fix = true;
        let on = render_text(&App::new(info, Vec::new(), 0, (160, 40)), 160, 40);
        assert!(on.contains("│ auto-fix ON"), "{on}");
    }

    #[test]
    fn an_attached_screen_says_so_and_says_when_the_session_ended() {
        let mut info = status();
        info.attached = true;
        info.capture_health = None;
        let first = |info: &StatusInfo| {
            render_text(&App::new(info.clone(), Vec::new(), 0, (120, 40)), 120, 40)
                .lines()
                .next()
                .unwrap_or_default()
                .to_string()
        };
        let live = first(&info);
        assert!(
            live.contains("attached to session 3 · 127.0.0.1:8787"),
            "{live}"
        );
        assert!(live.contains("hold ON"), "{live}");
        info.live = false;
        info.control = false;
        let ended = first(&info);
        assert!(ended.contains("session 3 ended · browsing"), "{ended}");
        assert!(ended.contains("read-only"), "{ended}");
        assert!(!ended.contains("attached to"), "{ended}");
    }

    #[test]
    fn wide_status_line_says_everything() {
        let app = App::new(
            status(),
            vec![row(1, "/a", Some(200)), row(2, "/b", Some(500))],
            0,
            (160, 40),
        );
        let first = render_text(&app, 160, 40)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        for expected in [
            "127.0.0.1:8787",
            "→ https://litellm.internal:4000",
            "session 3",
            "2 total",
            "1 failed",
            "0 in flight",
            "hold ON",
            "⚠ capture failing: disk full",
        ] {
            assert!(
                first.contains(expected),
                "missing {expected:?} in {first:?}"
            );
        }
    }

    #[test]
    fn narrow_status_line_keeps_counts_and_capture_health() {
        let app = App::new(status(), vec![row(1, "/a", Some(500))], 0, (80, 24));
        let first = render_text(&app, 80, 24)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(first.contains("capture failing: disk full"), "{first:?}");
        assert!(
            first.contains("1 total") && first.contains("1 failed"),
            "{first:?}"
        );
    }

    #[test]
    fn hold_stays_in_view_when_the_token_totals_do_not_fit() {
        let mut info = status();
        info.capture_health = None;
        let mut app = App::new(info, vec![row(1, "/a", Some(200))], 0, (120, 40));
        let usage = crate::llm::Usage {
            input_tokens: Some(48_000),
            output_tokens: Some(900),
            ..Default::default()
        };
        let dialect = crate::llm::Dialect::OpenAiChat;
        let id = crate::capture::ExchangeId(1);
        app.conversations
            .finished(id, dialect, Some("gpt-4.1"), &usage, false);
        let first = |width: u16| {
            render_text(&app, width, 40)
                .lines()
                .next()
                .unwrap_or_default()
                .to_string()
        };
        let wide = first(200);
        assert!(
            wide.contains("0 in flight │ tok 48k in (0 cached) 900 out · $")
                && wide.contains("│ hold ON"),
            "{wide:?}"
        );
        let narrow = first(100);
        assert!(
            narrow.contains("│ hold ON"),
            "the mode outranks the totals: {narrow:?}"
        );
        assert!(!narrow.contains("tok 48k"), "{narrow:?}");
    }
}
