//! A conversation's header row in the list: fold mark, label, turns, the context gauge (amber
//! past 80 %), model, cost and tokens, in the columns the exchange rows use for the same
//! facts.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use crate::analysis::{Conversation, Gauge};
use crate::tui::present::units;
use crate::tui::state::conversations::Tally;

/// Which columns the list has; the same sets as its exchange rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderColumns {
    Wide,
    Normal,
    Narrow,
}

/// The header row of `conversation`; `folded` when it stands for its rows.
pub fn header_row(
    conversation: &Conversation,
    tally: Option<&Tally>,
    folded: bool,
    selected: bool,
    set: HeaderColumns,
) -> Row<'static> {
    let mark = if folded { "▸" } else { "▾" };
    let turns = match conversation.turns() {
        1 => "1 turn".to_string(),
        n => format!("{n} turns"),
    };
    let mut path = vec![Span::raw(format!(
        "{} {} · {turns}",
        conversation.id,
        conversation.label()
    ))];
    if let Some(gauge) = tally.and_then(|t| t.gauge) {
        path.push(Span::raw(" · "));
        path.push(Span::styled(gauge.display(), gauge_style(&gauge)));
    }
    let path = Cell::from(Line::from(path));
    let model = tally.and_then(|t| t.model.clone()).unwrap_or_default();
    let cost = tally.map(|t| t.cost.display()).unwrap_or_default();
    let tokens = tally
        .filter(|t| t.cost.priced + t.cost.unpriced > 0)
        .map(|t| {
            format!(
                "{}/{}",
                units::count(t.tokens.input()),
                units::count(t.tokens.output)
            )
        })
        .unwrap_or_default();
    let cells: Vec<Cell<'static>> = match set {
        HeaderColumns::Wide => vec![
            mark.into(),
            "".into(),
            "".into(),
            path,
            model.into(),
            "".into(),
            cost.into(),
            "".into(),
            tokens.into(),
        ],
        HeaderColumns::Normal => vec![
            mark.into(),
            "".into(),
            path,
            model.into(),
            cost.into(),
            "".into(),
            tokens.into(),
        ],
        HeaderColumns::Narrow => vec![mark.into(), path, cost.into(), "".into()],
    };
    let style = Style::default().add_modifier(Modifier::BOLD);
    Row::new(cells).style(if selected {
        style.add_modifier(Modifier::REVERSED)
    } else {
        style
    })
}

/// Green while there is room, amber once a context-length error is a few turns away.
pub fn gauge_style(gauge: &Gauge) -> Style {
    if gauge.is_warning() {
        Style::default().fg(Color::Yellow)
    } else {
        Style::default().fg(Color::Green)
    }
}
