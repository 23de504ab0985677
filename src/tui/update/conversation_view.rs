//! `C` and the conversation view's keys: opening it on the selected exchange's conversation,
//! reading it (j/k through items, pages, top and bottom), folding with Enter, and filling it
//! once the newest request of the conversation is in memory.

use crossterm::event::KeyCode;

use crate::capture::ExchangeId;
use crate::tui::present::conversation_text::conversation_items;
use crate::tui::present::llm_adapter::{decode_record_response, decode_start};
use crate::tui::state::app::{App, Mode};
use crate::tui::state::conversation_view::{ConversationView, Reading};
use crate::tui::state::detail::Detail;
use crate::tui::state::layout;

use super::event::Command;

/// `C`: reads the selected exchange's conversation from its newest request. A side request
/// (a title, a token count) is read on its own: its group is not one conversation.
pub(super) fn open(app: &mut App) {
    let Some(id) = app.selected else {
        app.notify("select an exchange first", true);
        return;
    };
    let view = match app.conversations.of(id) {
        Some(c) if c.kind.is_conversation() => {
            let newest = c.exchanges.last().copied().unwrap_or(id);
            let turns = match c.turns() {
                1 => "1 turn".to_string(),
                n => format!("{n} turns"),
            };
            let title = format!("{} {} · {turns} · read from {newest}", c.id, c.label());
            ConversationView::new(newest, Some(c.id), title)
        }
        _ => ConversationView::new(id, None, format!("{id} read as a conversation")),
    };
    app.mode = Mode::Conversation(Box::new(view));
}

pub(super) fn handle_key(app: &mut App, code: KeyCode) {
    let inner = layout::inner(layout::areas(layout::screen(app), app).main);
    let (width, height) = (inner.width, inner.height);
    let page = isize::try_from(height.saturating_sub(1).max(1)).unwrap_or(1);
    let Mode::Conversation(view) = &mut app.mode else {
        return;
    };
    match code {
        KeyCode::Esc | KeyCode::Char('C') => app.mode = Mode::Normal,
        KeyCode::Down | KeyCode::Char('j') => view.down(width, height),
        KeyCode::Up | KeyCode::Char('k') => view.up(width, height),
        KeyCode::PageDown => view.scroll_by(page, width, height),
        KeyCode::PageUp => view.scroll_by(-page, width, height),
        KeyCode::Char('g') | KeyCode::Home => view.top(),
        KeyCode::Char('G') | KeyCode::End => view.bottom(width, height),
        KeyCode::Enter | KeyCode::Char(' ') => {
            let folds = view.toggle_fold();
            if !folds && view.reading == Reading::Ready {
                app.notify(
                    "Enter unfolds the system prompt, tool calls, tool results and thinking",
                    false,
                );
            }
        }
        _ => {}
    }
}

/// Fills an open view once its exchange is in memory, asking the store for it when not (after
/// the selected exchange's own load, one load at a time).
pub(super) fn sync(app: &mut App, commands: &mut Vec<Command>) {
    let Mode::Conversation(view) = &mut app.mode else {
        return;
    };
    if view.reading != Reading::Loading {
        return;
    }
    let id = view.source;
    let found = match (app.live.get(&id), app.recent.get(id)) {
        (Some(live), _) => Some((decode_start(&live.start), live.assembled())),
        (None, Some(record)) => Some((decode_start(&record.start), decode_record_response(record))),
        (None, None) => None,
    };
    match found {
        Some((Some(request), reply)) => {
            view.set_items(conversation_items(&request, reply.as_ref()))
        }
        Some((None, _)) => {
            view.reading = Reading::Unavailable(format!(
                "{id} is not an LLM call llmscope reads: nothing to show as a conversation"
            ));
        }
        None if view.asked || matches!(app.detail, Detail::Loading(_)) => {}
        None => {
            view.asked = true;
            commands.push(Command::LoadDetail(id));
        }
    }
}

/// A load the view waited for failed: it says why instead of loading forever.
pub(super) fn load_failed(app: &mut App, id: ExchangeId, reason: &str) {
    if let Mode::Conversation(view) = &mut app.mode {
        if view.source == id && view.reading == Reading::Loading {
            view.reading = Reading::Unavailable(format!("{id} cannot be read: {reason}"));
        }
    }
}
