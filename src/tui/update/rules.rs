//! Keeping a quick fix as a rule (`K`) once a resend with it succeeded, and the keys of the
//! rules list (`R`, `space` switches one off). The proxy applies the rules to every later
//! matching agent request; the screen holds the list and hands all of it over on each change.

use crossterm::event::{KeyCode, KeyEvent};

use crate::capture::ExchangeId;
use crate::fix::{QuickFix, Rule, RuleAction};
use crate::tui::state::app::{App, Mode};

use super::event::Command;

/// `K`: keeps the fixes of the selected resend (or the newest one that succeeded) as rules.
pub(super) fn keep_as_rules(app: &mut App, commands: &mut Vec<Command>) {
    if !app.status.control {
        app.notify("read-only session: rules need the live proxy", true);
        return;
    }
    let succeeded = |app: &App, id: &ExchangeId| {
        app.rows.get(*id).is_some_and(|row| {
            row.status.is_some_and(|s| (200..300).contains(&s)) && !row.is_failed()
        })
    };
    let target = app
        .selected
        .filter(|id| app.kept_fixes.contains_key(id) && succeeded(app, id))
        .or_else(|| {
            let mut ids: Vec<ExchangeId> = app.kept_fixes.keys().copied().collect();
            ids.sort();
            ids.into_iter().rev().find(|id| succeeded(app, id))
        });
    let Some(sent) = target.and_then(|id| app.kept_fixes.remove(&id)) else {
        app.notify(
            "K keeps a quick fix (Ctrl-F in the editor) as a rule once its resend succeeded",
            true,
        );
        return;
    };
    let mut next_id = app.rules.iter().map(|r| r.id).max().unwrap_or(0);
    let mut kept = Vec::new();
    for fix in sent.fixes {
        let fix = match fix {
            // The value the user typed into the editor, not the empty one the menu offered.
            QuickFix::AddHeader { name, .. } => {
                let typed = sent.headers.value(&name);
                match typed.filter(|v| !v.is_empty() && !v.contains(crate::capture::REDACTED)) {
                    Some(value) => QuickFix::AddHeader {
                        value: value.to_string(),
                        name,
                    },
                    None => continue,
                }
            }
            fix => fix,
        };
        next_id += 1;
        let rule = Rule {
            id: next_id,
            enabled: true,
            matcher: sent.matcher.clone(),
            action: RuleAction::Fix(fix),
            created_from: Some(sent.parent.to_string()),
        };
        kept.push(format!("rule {}: {rule}", rule.id));
        app.rules.push(rule);
    }
    if kept.is_empty() {
        app.notify("nothing to keep: the header fix has no value to send", true);
        return;
    }
    commands.push(Command::SetRules(app.rules.clone()));
    app.notify(format!("kept {} · R lists rules", kept.join("; ")), false);
}

/// Keys while the rules list is open.
pub(super) fn handle_key(app: &mut App, key: KeyEvent, commands: &mut Vec<Command>) {
    let last = app.rules.len().saturating_sub(1);
    match key.code {
        KeyCode::Esc | KeyCode::Char('R' | 'q') => app.mode = Mode::Normal,
        KeyCode::Up | KeyCode::Char('k') => app.rules_cursor = app.rules_cursor.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => app.rules_cursor = (app.rules_cursor + 1).min(last),
        KeyCode::Char(' ') => {
            let Some(rule) = app.rules.get_mut(app.rules_cursor) else {
                return;
            };
            rule.enabled = !rule.enabled;
            let words = format!(
                "rule {} {}",
                rule.id,
                if rule.enabled { "on" } else { "off" }
            );
            commands.push(Command::SetRules(app.rules.clone()));
            app.notify(words, false);
        }
        _ => {}
    }
}
