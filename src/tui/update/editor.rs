//! What keys do while the request editor is open: Ctrl-S sends, Esc leaves (asking first when
//! there are edits), Ctrl-F offers the quick fixes, everything else edits the text.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::capture::ExchangeId;
use crate::tui::present::fix_adapter;
use crate::tui::state::app::{App, Mode};
use crate::tui::state::editor::{EditorPrompt, FixMenu, JsonStatus};
use crate::tui::state::fixes::SentFixes;

use super::event::Command;

pub(super) fn handle_key(app: &mut App, key: KeyEvent, commands: &mut Vec<Command>) {
    let Mode::Editor(editor) = &mut app.mode else {
        return;
    };
    if let Some(prompt) = editor.prompt {
        match (key.code, prompt) {
            (KeyCode::Char('y' | 'Y'), EditorPrompt::Discard) => {
                app.mode = Mode::Normal;
                app.notify("edits discarded", false);
            }
            (KeyCode::Char('y' | 'Y'), EditorPrompt::SendInvalid) => send(app, commands, true),
            (KeyCode::Char('n' | 'N') | KeyCode::Esc, _) => editor.prompt = None,
            _ => {}
        }
        return;
    }
    if editor.menu.is_some() {
        match key.code {
            KeyCode::Char(digit @ '1'..='9') => {
                apply_fix(app, usize::from(digit as u8 - b'1'));
            }
            KeyCode::Esc => editor.menu = None,
            _ => {}
        }
        return;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('s') if ctrl => send(app, commands, false),
        KeyCode::Char('f') if ctrl => open_menu(app, commands),
        KeyCode::Esc if editor.modified => editor.prompt = Some(EditorPrompt::Discard),
        KeyCode::Esc => app.mode = Mode::Normal,
        _ => {
            if editor.textarea.input(key) {
                editor.note = None;
                editor.edited();
            }
        }
    }
}

/// Sends the edited request, unless its head does not read as a request, or (without
/// `confirmed`) its body is broken JSON: some APIs take other bodies, so the user decides.
fn send(app: &mut App, commands: &mut Vec<Command>, confirmed: bool) {
    let Mode::Editor(editor) = &mut app.mode else {
        return;
    };
    editor.prompt = None;
    editor.check();
    let mut request = match editor.to_resend() {
        Ok(request) => request,
        Err(error) => {
            editor.note = Some(format!("cannot send: {error}"));
            return;
        }
    };
    if !confirmed && matches!(editor.json, JsonStatus::Invalid { .. }) {
        editor.prompt = Some(EditorPrompt::SendInvalid);
        return;
    }
    if editor.intercepted {
        let id = editor.source;
        // Unchanged text goes out as the agent's own bytes, and is not marked as edited.
        let request = editor.modified.then_some(request);
        commands.push(Command::ReleaseIntercepted { id, request });
        app.mode = Mode::Normal;
        app.notify(format!("sending intercepted {id}…"), false);
        return;
    }
    if !editor.modified {
        // Unchanged: the bytes the agent sent, not a re-serialisation of them.
        request.body = editor.original_body.clone();
    }
    let (parent, source) = (editor.parent, editor.source);
    let applied = std::mem::take(&mut editor.applied);
    app.sent_fixes = (!applied.is_empty()).then(|| {
        SentFixes::new(
            app.rows.get(parent),
            parent,
            applied,
            request.headers.clone(),
        )
    });
    commands.push(Command::Resend { parent, request });
    app.mode = Mode::Normal;
    let from = if parent == source {
        String::new()
    } else {
        format!(" (edited from {source})")
    };
    app.notify(format!("sending a fix for {parent}{from}…"), false);
}

pub(super) fn open_menu(app: &mut App, commands: &mut Vec<Command>) {
    let good_models = good_models(app);
    let Mode::Editor(editor) = &mut app.mode else {
        return;
    };
    // Offered against the body as edited so far, so an applied fix is not offered again.
    let body = editor
        .parse()
        .ok()
        .filter(|_| matches!(editor.json, JsonStatus::Valid))
        .map(|edited| edited.body.into_bytes());
    let menu = match app.recent.get(editor.source) {
        Some(record) => match fix_adapter::offers(
            record,
            body.as_deref().unwrap_or(&record.start.request.body),
            good_models.first().map(String::as_str),
        ) {
            Ok(mut offers) => {
                let mut empty_reason = "no quick fix for this failure";
                if let Some(refused) = fix_adapter::refused_models(record) {
                    // Another model: every one this session used with success is a
                    // candidate, and the upstream's own list, asked for now.
                    fix_adapter::add_model_offers(&mut offers, &good_models, &refused);
                    commands.push(Command::ListModels {
                        id: record.id(),
                        uri: record.start.request.uri.clone(),
                        headers: record.start.request.headers.clone(),
                    });
                    empty_reason = "asking the upstream which models it has…";
                }
                FixMenu {
                    empty_reason: offers.is_empty().then(|| empty_reason.to_string()),
                    offers,
                }
            }
            Err(reason) => FixMenu {
                offers: Vec::new(),
                empty_reason: Some(reason),
            },
        },
        None => FixMenu {
            offers: Vec::new(),
            empty_reason: Some(format!("{} has not finished", editor.source)),
        },
    };
    editor.menu = Some(menu);
}

/// The upstream's models came: the open menu offers them too (after the session's own).
pub(super) fn models_listed(app: &mut App, id: ExchangeId, models: Result<Vec<String>, String>) {
    let Mode::Editor(editor) = &mut app.mode else {
        return;
    };
    let Some(menu) = editor.menu.as_mut().filter(|_| editor.source == id) else {
        return;
    };
    let refused = app
        .recent
        .get(id)
        .and_then(|record| fix_adapter::refused_models(record))
        .unwrap_or_default();
    match models {
        Ok(models) => {
            fix_adapter::add_model_offers(&mut menu.offers, &models, &refused);
            menu.empty_reason = menu
                .offers
                .is_empty()
                .then(|| "the upstream lists no other model: edit `model` by hand".to_string());
        }
        Err(reason) => {
            if menu.offers.is_empty() {
                menu.empty_reason = Some("no other model known: edit `model` by hand".into());
            }
            app.notify(reason, false);
        }
    }
}

/// Models of the exchanges that succeeded, newest first, each once: the likely fixes for a
/// model the upstream does not know.
fn good_models(app: &App) -> Vec<String> {
    let mut models: Vec<String> = Vec::new();
    let good = app
        .rows
        .iter()
        .rev()
        .filter(|row| row.status.is_some_and(|s| (200..300).contains(&s)) && !row.is_failed())
        .filter_map(|row| row.model.clone());
    for model in good {
        if !models.contains(&model) {
            models.push(model);
        }
        if models.len() == GOOD_MODELS {
            break;
        }
    }
    models
}

/// How many of the session's own models the menu offers.
const GOOD_MODELS: usize = 5;

fn apply_fix(app: &mut App, index: usize) {
    let Mode::Editor(editor) = &mut app.mode else {
        return;
    };
    let Some(offer) = editor
        .menu
        .as_ref()
        .and_then(|menu| menu.offers.get(index))
        .cloned()
    else {
        return;
    };
    editor.menu = None;
    let applied = fix_adapter::apply(
        &offer,
        editor.dialect,
        editor.textarea.lines(),
        &editor.method,
        &editor.uri,
    );
    match applied {
        Ok(applied) if applied.changed => {
            editor.set_text(&applied.text);
            editor.check();
            editor.note = Some(applied.summary);
            editor.applied.push(offer.fix);
        }
        Ok(applied) => editor.note = Some(applied.summary),
        Err(reason) => editor.note = Some(format!("{}: {reason}", offer.label)),
    }
}
