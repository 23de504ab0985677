//! A conversation's header row in the list, one line across the whole width: fold mark,
//! label, turns, the context gauge (amber past 80 %), model, cost and tokens.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use crate::analysis::{Conversation, Gauge};
use crate::tui::present::units;
use crate::tui::state::conversations::Tally;

/// `▾ c2 opencode conversation · 5 turns · ctx ▇▇▁▁▁▁▁▁ 24% of 200k · claude-sonnet-4-5 ·
/// $0.0427 · 14k in / 340 out`; `folded` when it stands for its rows.
pub fn header_line(
    conversation: &Conversation,
    tally: Option<&Tally>,
    folded: bool,
    selected: bool,
) -> Line<'static> {
    let mark = if folded { "▸" } else { "▾" };
    let turns = match conversation.turns() {
        1 => "1 turn".to_string(),
        n => format!("{n} turns"),
    };
    let mut spans = vec![Span::raw(format!(
        "{mark} {} {} · {turns}",
        conversation.id,
        conversation.label()
    ))];
    if let Some(tally) = tally {
        if let Some(gauge) = tally.gauge {
            spans.push(Span::raw(" · "));
            spans.push(Span::styled(gauge.display(), gauge_style(&gauge)));
        }
        let mut rest = String::new();
        if let Some(model) = &tally.model {
            rest.push_str(&format!(" · {model}"));
        }
        if tally.cost.priced + tally.cost.unpriced > 0 {
            rest.push_str(&format!(
                " · {} · {} in / {} out",
                tally.cost.display(),
                units::count(tally.tokens.input()),
                units::count(tally.tokens.output)
            ));
        }
        spans.push(Span::raw(rest));
    }
    let style = Style::default().add_modifier(Modifier::BOLD);
    Line::from(spans).style(if selected {
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
