//! The intercept line under the banner: the request intercepted longest ago, how long it can
//! still wait, and the keys that send it. Shown while any request is intercepted, because the
//! agent is blocked on the user and the notice that announced it goes away.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::tui::present::body::sanitize;
use crate::tui::state::app::App;
use crate::tui::state::rows::HoldMark;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let waiting = app.intercepted();
    let Some(&(id, expires_at_ms)) = waiting.first() else {
        return;
    };
    let base = Style::default().fg(Color::Black).bg(Color::Cyan);
    let left = HoldMark::seconds_left(expires_at_ms, app.now_ms);
    let what = app.rows.get(id).map_or_else(String::new, |row| {
        let model = row.model.as_deref().unwrap_or_default();
        sanitize(&format!("{} {} {model} ", row.method, row.uri))
    });
    let more = match waiting.len() {
        1 => String::new(),
        n => format!(" · {} more waiting", n - 1),
    };
    let line = Line::from(vec![
        Span::styled(
            format!(" ⏯ {id} intercepted "),
            base.add_modifier(Modifier::BOLD),
        ),
        Span::styled(format!("· {what}"), base),
        Span::styled(
            "— e edit, Ctrl-S send, F send unchanged ",
            base.add_modifier(Modifier::BOLD),
        ),
        Span::styled(format!("· sent as is in {left} s{more}"), base),
    ]);
    frame.render_widget(Paragraph::new(line).style(base), area);
}
