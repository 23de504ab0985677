//! `C` and the conversation view's keys: opening it on the selected exchange's conversation,
//! reading it (j/k through items, pages, top and bottom), folding with Enter, and filling it
//! once the newest request of the conversation is in memory.

use crossterm::event::KeyCode;

use crate::analysis::Conversation;
use crate::capture::ExchangeId;
use crate::tui::present::conversation_text::{reply_items, request_items, Reply};
use crate::tui::present::llm_adapter::{decode_record_response, decode_start};
use crate::tui::state::app::{App, Mode};
use crate::tui::state::conversation_view::{ConversationView, Progress, Reading, Shown};
use crate::tui::state::detail::Detail;
use crate::tui::state::layout;
use crate::tui::state::records::LiveExchange;

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
            ConversationView::new(newest, Some(c.id), title(c, newest))
        }
        _ => ConversationView::new(id, None, format!("{id} read as a conversation")),
    };
    app.mode = Mode::Conversation(Box::new(view));
}

/// `c3 Claude Code conversation · 2 turns · read from #6`.
fn title(conversation: &Conversation, newest: ExchangeId) -> String {
    let turns = match conversation.turns() {
        1 => "1 turn".to_string(),
        n => format!("{n} turns"),
    };
    format!(
        "{} {} · {turns} · read from {newest}",
        conversation.id,
        conversation.label()
    )
}

/// The conversation view's text area, columns and rows.
fn view_size(app: &App) -> (u16, u16) {
    let inner = layout::inner(layout::areas(layout::screen(app), app).main);
    (inner.width, inner.height)
}

pub(super) fn handle_key(app: &mut App, code: KeyCode) {
    let (width, height) = view_size(app);
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
/// the selected exchange's own load, one load at a time); then keeps it up with the
/// conversation: a reply as it streams in, a newer turn once it starts.
pub(super) fn sync(app: &mut App, commands: &mut Vec<Command>) {
    let Mode::Conversation(view) = &app.mode else {
        return;
    };
    if matches!(view.reading, Reading::Unavailable(_)) {
        return;
    }
    let newer = view
        .conversation
        .and_then(|c| app.conversations.get(c))
        .and_then(|c| {
            let newest = c.exchanges.last().copied()?;
            (newest > view.source).then(|| (newest, title(c, newest)))
        });
    let size = view_size(app);
    let Mode::Conversation(view) = &mut app.mode else {
        return;
    };
    if let Some((newest, title)) = newer {
        view.follow(newest, title);
    }
    let id = view.source;
    let found = match (app.live.get(&id), app.recent.get(id)) {
        (Some(live), _) => Some((&live.start, Progress::Arriving(live.received))),
        (None, Some(record)) => Some((&record.start, Progress::Finished)),
        (None, None) => None,
    };
    let Some((start, reply)) = found else {
        if !view.asked && !matches!(app.detail, Detail::Loading(_)) {
            view.asked = true;
            commands.push(Command::LoadDetail(id));
        }
        return;
    };
    let now = Shown { source: id, reply };
    let shown = view.shown();
    if shown == Some(now) {
        return;
    }
    // The request is read once per source; only its reply changes while it streams.
    let request = match shown.filter(|s| s.source == id) {
        Some(_) => None,
        None => match decode_start(start) {
            Some(request) => Some(request_items(&request)),
            None => return not_an_llm_call(view),
        },
    };
    let reply = match reply {
        Progress::Arriving(_) => {
            let assembled = app.live.get(&id).and_then(LiveExchange::assembled);
            reply_items(Reply::Arriving(assembled.as_ref()))
        }
        Progress::Finished => {
            let decoded = app.recent.get(id).and_then(|r| decode_record_response(r));
            reply_items(Reply::Finished(decoded.as_ref()))
        }
    };
    view.show(now, request, reply, size);
}

fn not_an_llm_call(view: &mut ConversationView) {
    view.reading = Reading::Unavailable(format!(
        "{} is not an LLM call llmscope reads: nothing to show as a conversation",
        view.source
    ));
}

/// A load the view waited for failed: it says why instead of loading forever.
pub(super) fn load_failed(app: &mut App, id: ExchangeId, reason: &str) {
    if let Mode::Conversation(view) = &mut app.mode {
        if view.source == id && view.reading == Reading::Loading {
            view.reading = Reading::Unavailable(format!("{id} cannot be read: {reason}"));
        }
    }
}
