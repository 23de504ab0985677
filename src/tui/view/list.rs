//! The exchange list: one row per exchange, failed rows red, exchanges in flight yellow with
//! their running time, held ones with the seconds their agent still waits (`⏸ 97s`), resends
//! with a link to their parent (`↳#3`), requests that rules changed with `⚙`. Only the rows on screen are built, whatever the
//! list's length.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table};
use ratatui::Frame;

use crate::capture::{ExchangeState, HoldOutcome};
use crate::tui::present::units;
use crate::tui::state::app::{App, Focus, Mode};
use crate::tui::state::layout::{self, page_height};
use crate::tui::state::rows::{ExchangeRow, HoldMark};

use super::conversation_row::header_line;
use super::list_lines::{lines_on_screen, shows_header, ListLine};

/// From this width the list has separate time and class columns.
const WIDE: u16 = 110;
/// Below this width only id, path, status and latency are shown.
const NARROW: u16 = 60;

/// Which set of columns fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Columns {
    Wide,
    Normal,
    Narrow,
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let height = page_height(area);
    let selected = app.selected_position();
    let set = match area.width {
        w if w >= WIDE => Columns::Wide,
        w if w >= NARROW => Columns::Normal,
        _ => Columns::Narrow,
    };
    let lines = lines_on_screen(app, selected, height);
    // Header rows span the whole width, which a table cell cannot: the table leaves their
    // lines blank and they are drawn over it.
    let mut headers = Vec::new();
    let rows: Vec<Row> = lines
        .iter()
        .enumerate()
        .map(|(at, line)| match *line {
            ListLine::Exchange(pos) => match app.rows.visible_row(pos) {
                Some(row) => {
                    let indented = row
                        .tree_conversation()
                        .is_some_and(|id| shows_header(app, id));
                    Row::new(cells(row, app.now_ms, set, indented))
                        .style(row_style(row, Some(pos) == selected))
                }
                None => blank(),
            },
            ListLine::Header { pos, folded } => {
                let chosen = folded && Some(pos) == selected;
                if let Some(line) = header_for(app, pos, folded, chosen) {
                    headers.push((at, line));
                }
                blank()
            }
        })
        .collect();
    let (header, widths) = columns(set);
    let border = if app.focus == Focus::List {
        Style::default().fg(Color::Cyan)
    } else {
        Style::default().fg(Color::DarkGray)
    };
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(Style::default().add_modifier(Modifier::BOLD)))
        .block(Block::bordered().title(title(app)).border_style(border))
        .column_spacing(1);
    frame.render_widget(table, area);
    let inner = layout::inner(area);
    for (at, line) in headers {
        // Below the column names.
        let y = inner.y + 1 + at as u16;
        if y < inner.bottom() {
            let row = Rect::new(inner.x, y, inner.width, 1);
            frame.render_widget(Paragraph::new(line), row);
        }
    }
}

/// A line the table leaves for a header (`Row::default()` would take no height).
fn blank() -> Row<'static> {
    Row::new(Vec::<String>::new())
}

fn header_for(app: &App, pos: usize, folded: bool, selected: bool) -> Option<Line<'static>> {
    let id = app.rows.visible_row(pos)?.tree_conversation()?;
    let conversation = app.conversations.get(id)?;
    let tally = app.conversations.tally(id);
    Some(header_line(conversation, tally, folded, selected))
}

fn title(app: &App) -> Line<'static> {
    if let Mode::Intercept(input) = &app.mode {
        return Line::styled(
            format!(
                " intercept requests matching: {input}▏ (method, path or model · empty = all · Enter on · Esc cancel) "
            ),
            Style::default().fg(Color::Yellow),
        );
    }
    if let Mode::Filter(input) = &app.mode {
        return Line::styled(
            format!(" filter: {input}▏ (Enter apply · Esc clear) "),
            Style::default().fg(Color::Yellow),
        );
    }
    let mut title = format!(" Exchanges {}/{} ", app.rows.visible_len(), app.rows.len());
    if !app.filter.needle.is_empty() {
        title.push_str(&format!("· filter \"{}\" ", app.filter.needle));
    }
    if app.filter.failed_only {
        title.push_str("· failed only ");
    }
    if app.follow {
        title.push_str("· following ");
    }
    Line::from(title)
}

fn columns(set: Columns) -> (Vec<&'static str>, Vec<Constraint>) {
    if set == Columns::Narrow {
        return (
            vec!["id", "path", "status", "latency"],
            vec![
                Constraint::Length(5),
                Constraint::Fill(1),
                Constraint::Length(10),
                Constraint::Length(7),
            ],
        );
    }
    if set == Columns::Wide {
        (
            vec![
                "id",
                "time",
                "method",
                "path",
                "model",
                "status",
                "class",
                "latency",
                "tok in/out",
            ],
            vec![
                Constraint::Length(6),
                Constraint::Length(8),
                Constraint::Length(6),
                Constraint::Fill(1),
                Constraint::Length(18),
                Constraint::Length(6),
                Constraint::Length(16),
                Constraint::Length(8),
                Constraint::Length(10),
            ],
        )
    } else {
        (
            vec!["id", "method", "path", "model", "status", "latency", "tok"],
            vec![
                Constraint::Length(5),
                Constraint::Length(4),
                Constraint::Fill(1),
                Constraint::Length(12),
                Constraint::Length(12),
                Constraint::Length(7),
                Constraint::Length(9),
            ],
        )
    }
}

/// The path, after the marks for a retry loop, a rewrite, a resend, an interception and a
/// hold.
fn path_cell(row: &ExchangeRow, now_ms: i64, indented: bool) -> String {
    let mut cell = String::new();
    if indented {
        // Beneath its conversation's header.
        cell.push_str("  ");
    } else if let Some(label) = row.side_label() {
        cell.push_str(&format!("{label} · "));
    }
    if row.repeats.is_some() || row.beneath.is_some() {
        // Shown only when unfolded (`z`): under the row it belongs to.
        cell.push_str("  └ ");
    }
    if row.provider_calls > 0 {
        cell.push_str(&format!("⇣{} ", row.provider_calls));
    }
    if row.repeated > 0 {
        // Attempts, the first included: what "retried 2,338×" means to the user.
        cell.push_str(&format!("↻{}× ", units::count(u64::from(row.repeated) + 1)));
    }
    if let Some(expires_at_ms) = row.intercepted_until_ms {
        let left = HoldMark::seconds_left(expires_at_ms, now_ms);
        cell.push_str(&format!("⏯ {left}s "));
    }
    if row.rewritten {
        cell.push_str("⚙ ");
    }
    if let Some(parent) = row.parent {
        let auto = if row.auto_fix { "⚡" } else { "" };
        cell.push_str(&format!("{auto}↳{parent} "));
    }
    match &row.hold {
        Some(HoldMark::Waiting { expires_at_ms }) => {
            let left = HoldMark::seconds_left(*expires_at_ms, now_ms);
            cell.push_str(&format!("⏸ {left}s "));
        }
        Some(HoldMark::Ended(outcome)) => {
            cell.push_str(&format!("[{}] ", outcome_tag(outcome)));
        }
        Some(HoldMark::Recorded(outcome)) => cell.push_str(&format!("[{outcome}] ")),
        None => {}
    }
    if let Some(host) = &row.host {
        cell.push_str(host);
    }
    cell.push_str(&row.uri);
    cell
}

/// A hold's outcome in a few characters for the list.
fn outcome_tag(outcome: &HoldOutcome) -> String {
    match outcome {
        HoldOutcome::Delivered { from } => format!("fixed by {from}"),
        HoldOutcome::ForwardedOriginal => "error forwarded".to_string(),
        HoldOutcome::TimedOut => "hold timed out".to_string(),
        HoldOutcome::AgentGone => "agent gone".to_string(),
    }
}

fn cells(row: &ExchangeRow, now_ms: i64, set: Columns, indented: bool) -> Vec<String> {
    let id = row.id.0.to_string();
    let path = path_cell(row, now_ms, indented);
    let model = row.model.clone().unwrap_or_default();
    let status = match (row.status, row.state) {
        (Some(status), _) => status.to_string(),
        (None, ExchangeState::InFlight) => "…".to_string(),
        (None, _) => "—".to_string(),
    };
    let class = match (&row.failure, row.state) {
        (Some(failure), _) => failure.class.to_string(),
        (None, _) if row.intercepted_until_ms.is_some() => "intercepted".to_string(),
        (None, ExchangeState::Incomplete) => "incomplete".to_string(),
        (None, _) => String::new(),
    };
    let latency = match (row.duration_ms, row.state) {
        (Some(ms), _) => units::latency(ms),
        (None, ExchangeState::InFlight) => {
            let elapsed = u64::try_from(now_ms - row.started_at_ms).unwrap_or(0);
            format!("{}…", units::latency(elapsed))
        }
        (None, _) => String::new(),
    };
    let tokens = match (row.tokens_in, row.tokens_out) {
        (None, None) => String::new(),
        (tokens_in, tokens_out) => format!(
            "{}/{}",
            tokens_in.map_or("-".to_string(), units::count),
            tokens_out.map_or("-".to_string(), units::count)
        ),
    };
    // Without a class column, a failure's class says more than its status.
    let result = || {
        if class.is_empty() {
            status.clone()
        } else {
            class.clone()
        }
    };
    match set {
        Columns::Wide => vec![
            id,
            units::clock(row.started_at_ms),
            row.method.clone(),
            path,
            model,
            status.clone(),
            class.clone(),
            latency,
            tokens,
        ],
        Columns::Normal => vec![
            id,
            row.method.clone(),
            path,
            model,
            result(),
            latency,
            tokens,
        ],
        Columns::Narrow => vec![id, path, result(), latency],
    }
}

fn row_style(row: &ExchangeRow, selected: bool) -> Style {
    let held = row.hold.as_ref().is_some_and(HoldMark::is_waiting);
    let base = if row.intercepted_until_ms.is_some() {
        Style::default()
            .fg(Color::Cyan)
            .add_modifier(Modifier::BOLD)
    } else if held {
        Style::default()
            .fg(Color::Magenta)
            .add_modifier(Modifier::BOLD)
    } else if row.is_failed() {
        Style::default().fg(Color::Red)
    } else {
        match row.state {
            ExchangeState::InFlight => Style::default().fg(Color::Yellow),
            ExchangeState::Incomplete => Style::default().fg(Color::DarkGray),
            ExchangeState::Complete => Style::default(),
        }
    };
    if selected {
        base.add_modifier(Modifier::REVERSED)
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{ExchangeId, Failure, FailureClass};
    use crate::tui::state::rows::tests::row;
    use crate::tui::tests::test_util::{find_cell_style, render, render_text};
    use crate::tui::{App, StatusInfo};

    fn app(rows: Vec<ExchangeRow>) -> App {
        App::new(StatusInfo::default(), rows, 1_700_000_100_000, (140, 40))
    }

    #[test]
    fn rows_show_id_method_path_model_status_and_latency() {
        let app = app(vec![
            row(7, "/v1/chat/completions", Some(200)),
            row(8, "/v1/messages?beta=true", Some(400)),
        ]);
        let screen = render_text(&app, 140, 30);
        let line = screen
            .lines()
            .find(|l| l.contains("/v1/chat/completions"))
            .unwrap_or_default();
        for expected in ["7", "POST", "gpt-4o", "200", "1.5s", "1.2k/45"] {
            assert!(line.contains(expected), "missing {expected:?} in {line:?}");
        }
        let failed = screen
            .lines()
            .find(|l| l.contains("/v1/messages?beta=true"))
            .unwrap_or_default();
        assert!(
            failed.contains("400") && failed.contains("HTTP 400"),
            "{failed:?}"
        );
    }

    #[test]
    fn failed_rows_are_red() {
        let app = app(vec![row(1, "/ok", Some(200)), row(2, "/broken", Some(500))]);
        let buffer = render(&app, 140, 30);
        assert_eq!(
            find_cell_style(&buffer, "/broken").and_then(|s| s.fg),
            Some(Color::Red)
        );
        assert_ne!(
            find_cell_style(&buffer, "/ok").and_then(|s| s.fg),
            Some(Color::Red)
        );
    }

    #[test]
    fn in_flight_rows_show_their_running_time() {
        let mut running = row(3, "/slow", None);
        running.state = ExchangeState::InFlight;
        running.duration_ms = None;
        running.started_at_ms = 1_700_000_097_600;
        let app = app(vec![running]);
        let screen = render_text(&app, 140, 30);
        let line = screen
            .lines()
            .find(|l| l.contains("/slow"))
            .unwrap_or_default();
        assert!(line.contains('…') && line.contains("2.4s…"), "{line:?}");
    }

    #[test]
    fn narrow_list_shows_the_failure_class_in_the_status_column() {
        let mut failed = row(4, "/v1/chat/completions", None);
        failed.failure = Some(Failure::new(FailureClass::Connect, "refused"));
        let app = app(vec![failed]);
        let screen = render_text(&app, 80, 24);
        assert!(screen.contains("connect fail"), "{screen}");
        assert_eq!(
            app.rows.get(ExchangeId(4)).map(|r| r.is_failed()),
            Some(true)
        );
    }

    #[test]
    fn resends_holds_rule_changes_and_retry_loops_are_marked_in_the_path() {
        let mut resend = row(5, "/v1/chat/completions", Some(200));
        resend.parent = Some(ExchangeId(4));
        let mut held = row(6, "/v1/chat/completions", Some(400));
        held.hold = Some(HoldMark::Waiting {
            expires_at_ms: 1_700_000_100_000 + 42_500,
        });
        let mut ruled = row(7, "/v1/chat/completions", Some(200));
        ruled.rewritten = true;
        let mut looping = row(8, "/v1/messages", Some(502));
        looping.repeated = 11;
        let screen = render_text(&app(vec![resend, held, ruled, looping]), 140, 30);
        for expected in [
            "↳#4 /v1/chat/completions",
            "⏸ 43s /v1/chat/completions",
            "⚙ /v1/chat/completions",
            "↻12× /v1/messages",
        ] {
            assert!(
                screen.contains(expected),
                "missing {expected:?} in\n{screen}"
            );
        }
    }
}
