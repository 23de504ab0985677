//! The main screen's keys: moving the selection, focus, views, the filter and follow, and the
//! keys that open a prompt, the editor or an overlay. The fixing keys are in `actions`. The
//! help overlay (`view/help.rs`) lists the same keys.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::tui::present::pane_text::ViewMode;
use crate::tui::present::wrap::bottom_offset;
use crate::tui::state::app::{App, Focus, Mode};
use crate::tui::state::detail::Detail;
use crate::tui::state::layout;

use super::event::Command;
use super::{actions, conversation_view, editor, intercept, rules};

pub(super) fn handle_key(app: &mut App, key: KeyEvent, commands: &mut Vec<Command>) {
    let in_list = app.focus == Focus::List;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        // The held banner names Ctrl-F; from the list it opens the editor at its quick fixes
        // rather than taking the key for `f` (follow).
        KeyCode::Char('f') if ctrl => {
            actions::open_editor(app);
            editor::open_menu(app, commands);
        }
        KeyCode::Char('?') => app.mode = Mode::Help,
        KeyCode::Up => move_selection(app, -1),
        KeyCode::Down => move_selection(app, 1),
        KeyCode::Char('k') if in_list => move_selection(app, -1),
        KeyCode::Char('j') if in_list => move_selection(app, 1),
        KeyCode::Char('k') => scroll_pane(app, -1),
        KeyCode::Char('j') => scroll_pane(app, 1),
        KeyCode::Enter | KeyCode::Tab => app.focus = app.focus.next(),
        KeyCode::BackTab => app.focus = app.focus.previous(),
        KeyCode::Char('v') => toggle_view(app),
        KeyCode::Char('/') => app.mode = Mode::Filter(app.filter.needle.clone()),
        KeyCode::Char('z') => {
            let unfold = !app.rows.is_unfolded();
            app.rows.set_unfolded(unfold, &app.filter);
            let words = if unfold {
                "retry repeats and provider calls shown as rows of their own (z folds them)"
            } else {
                "retry repeats and provider calls folded into their rows (z shows them)"
            };
            app.notify(words, false);
        }
        KeyCode::Char('x') => {
            app.filter.failed_only = !app.filter.failed_only;
            app.refilter();
        }
        KeyCode::Char('f') => {
            app.follow = !app.follow;
            if app.follow {
                app.select_position(usize::MAX);
            }
        }
        KeyCode::Char('e') => actions::open_editor(app),
        KeyCode::Char('r') => actions::resend_unchanged(app, commands),
        KeyCode::Char('y') => actions::copy_curl(app, commands),
        KeyCode::Char('H') => actions::toggle_hold(app, commands),
        KeyCode::Char('A') => actions::toggle_auto_fix(app, commands),
        KeyCode::Char('F') => actions::forward_held(app, commands),
        KeyCode::Char('I') => intercept::toggle(app, commands),
        KeyCode::Char('D') => actions::toggle_diff(app),
        KeyCode::Char('t') => actions::toggle_turn_diff(app),
        KeyCode::Char('c') => actions::toggle_conversation(app),
        KeyCode::Char('C') => conversation_view::open(app),
        KeyCode::Char('K') => rules::keep_as_rules(app, commands),
        KeyCode::Char('R') => {
            app.mode = Mode::Rules;
            app.rules_cursor = app.rules_cursor.min(app.rules.len().saturating_sub(1));
        }
        KeyCode::Char('d') => {
            if let Some(banner) = app.banner.take() {
                app.dismissed.insert(banner.id);
            }
        }
        KeyCode::Char('g') | KeyCode::Home if in_list => {
            app.follow = false;
            app.select_position(0);
        }
        KeyCode::Char('G') | KeyCode::End if in_list => app.select_position(usize::MAX),
        KeyCode::Char('g') | KeyCode::Home => set_pane_scroll(app, 0),
        KeyCode::Char('G') | KeyCode::End => set_pane_scroll(app, usize::MAX),
        KeyCode::PageUp if in_list => move_selection(app, -page(app)),
        KeyCode::PageDown if in_list => move_selection(app, page(app)),
        KeyCode::PageUp => scroll_pane(app, -page(app)),
        KeyCode::PageDown => scroll_pane(app, page(app)),
        KeyCode::Esc if app.filter.is_active() => {
            app.filter.needle.clear();
            app.filter.failed_only = false;
            app.refilter();
        }
        KeyCode::Esc => app.focus = Focus::List,
        _ => {}
    }
}

fn move_selection(app: &mut App, delta: isize) {
    if delta < 0 {
        app.follow = false;
    }
    let target = match app.selected_position() {
        Some(pos) => pos.saturating_add_signed(delta),
        None if delta < 0 => usize::MAX,
        None => 0,
    };
    app.select_position(target);
}

fn toggle_view(app: &mut App) {
    match app.focus {
        Focus::List => {
            let mode = app.request_pane.mode.toggled();
            for pane in [&mut app.request_pane, &mut app.response_pane] {
                pane.mode = mode;
                pane.scroll = 0;
            }
        }
        Focus::Request => toggle(&mut app.request_pane.mode, &mut app.request_pane.scroll),
        Focus::Response => toggle(&mut app.response_pane.mode, &mut app.response_pane.scroll),
    }
}

fn toggle(mode: &mut ViewMode, scroll: &mut usize) {
    *mode = mode.toggled();
    *scroll = 0;
}

/// Rows in a page of the focused part of the screen.
fn page(app: &App) -> isize {
    let areas = layout::areas(layout::screen(app), app);
    let rows = match app.focus {
        Focus::List => layout::page_height(areas.list),
        Focus::Request => usize::from(layout::inner(areas.request).height),
        Focus::Response => usize::from(layout::inner(areas.response).height),
    };
    isize::try_from(rows.saturating_sub(1).max(1)).unwrap_or(1)
}

fn set_pane_scroll(app: &mut App, scroll: usize) {
    match app.focus {
        Focus::List => {}
        Focus::Request => app.request_pane.scroll = scroll,
        Focus::Response => app.response_pane.scroll = scroll,
    }
}

/// Scrolls the focused pane, starting from where it is actually drawn (a "bottom" scroll is
/// resolved first) and never past the last screenful.
fn scroll_pane(app: &mut App, delta: isize) {
    let areas = layout::areas(layout::screen(app), app);
    let (pane, area) = match app.focus {
        Focus::List => return,
        Focus::Request => (app.request_pane, areas.request),
        Focus::Response => (app.response_pane, areas.response),
    };
    let Detail::Ready(view) = &app.detail else {
        return;
    };
    let content = if app.focus == Focus::Request {
        &view.request
    } else {
        &view.response
    };
    let lines = &content.shown(pane.mode).0.lines;
    let inner = layout::inner(area);
    let bottom = bottom_offset(lines, inner.width, inner.height);
    let scroll = pane
        .scroll
        .min(bottom)
        .saturating_add_signed(delta)
        .min(bottom);
    set_pane_scroll(app, scroll);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::state::rows::tests::row;
    use crate::tui::{update, AppEvent, StatusInfo};
    use crossterm::event::{KeyEvent, KeyModifiers};

    fn press(app: &mut App, code: KeyCode) -> Vec<Command> {
        update(app, AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn app_with(n: u64) -> App {
        let rows = (1..=n)
            .map(|i| {
                row(
                    i,
                    if i % 3 == 0 {
                        "/v1/messages"
                    } else {
                        "/v1/chat/completions"
                    },
                    Some(if i % 5 == 0 { 500 } else { 200 }),
                )
            })
            .collect();
        App::new(StatusInfo::default(), rows, 0, (120, 40))
    }

    #[test]
    fn arrows_and_jk_move_the_selection_and_g_jumps() {
        let mut app = app_with(10);
        assert_eq!(app.selected_position(), Some(9));
        press(&mut app, KeyCode::Char('g'));
        assert_eq!(app.selected_position(), Some(0));
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Char('j'));
        assert_eq!(app.selected_position(), Some(2));
        press(&mut app, KeyCode::Char('k'));
        press(&mut app, KeyCode::Up);
        press(&mut app, KeyCode::Up);
        assert_eq!(app.selected_position(), Some(0));
        press(&mut app, KeyCode::Char('G'));
        assert_eq!(app.selected_position(), Some(9));
    }

    #[test]
    fn focus_cycles_forward_and_back() {
        let mut app = app_with(1);
        press(&mut app, KeyCode::Tab);
        assert_eq!(app.focus, Focus::Request);
        press(&mut app, KeyCode::Enter);
        assert_eq!(app.focus, Focus::Response);
        press(&mut app, KeyCode::Tab);
        assert_eq!(app.focus, Focus::List);
        press(&mut app, KeyCode::BackTab);
        assert_eq!(app.focus, Focus::Response);
    }

    #[test]
    fn v_toggles_the_focused_pane_or_both() {
        let mut app = app_with(1);
        press(&mut app, KeyCode::Char('v'));
        assert_eq!(
            (app.request_pane.mode, app.response_pane.mode),
            (ViewMode::Raw, ViewMode::Raw)
        );
        press(&mut app, KeyCode::Tab);
        press(&mut app, KeyCode::Char('v'));
        assert_eq!(
            (app.request_pane.mode, app.response_pane.mode),
            (ViewMode::Llm, ViewMode::Raw)
        );
    }

    #[test]
    fn filter_text_and_failed_only_change_the_visible_rows() {
        let mut app = app_with(15);
        press(&mut app, KeyCode::Char('/'));
        for c in "MESSAGES".chars() {
            press(&mut app, KeyCode::Char(c));
        }
        assert_eq!(
            app.rows.visible_len(),
            15,
            "typing does not filter before Enter"
        );
        press(&mut app, KeyCode::Enter);
        assert_eq!(app.rows.visible_len(), 5);
        assert!(app.selected_row().is_some_and(|r| r.uri == "/v1/messages"));
        press(&mut app, KeyCode::Char('x'));
        assert_eq!(
            app.rows.visible_len(),
            1,
            "only #15 is both /v1/messages and failed"
        );
        assert_eq!(app.selected.map(|id| id.0), Some(15));
        press(&mut app, KeyCode::Esc);
        assert_eq!(app.rows.visible_len(), 15);
        press(&mut app, KeyCode::Char('/'));
        press(&mut app, KeyCode::Char('5'));
        press(&mut app, KeyCode::Char('0'));
        press(&mut app, KeyCode::Enter);
        assert_eq!(app.rows.visible_len(), 3, "status 500 matches");
        press(&mut app, KeyCode::Char('/'));
        press(&mut app, KeyCode::Esc);
        assert_eq!(
            (app.rows.visible_len(), app.filter_input().is_none()),
            (15, true)
        );
    }

    #[test]
    fn quit_keys_ask_the_loop_to_quit() {
        let mut app = app_with(1);
        assert_eq!(press(&mut app, KeyCode::Char('q')), vec![Command::Quit]);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(
            update(&mut app_with(1), AppEvent::Key(ctrl_c)),
            vec![Command::Quit]
        );
    }

    #[test]
    fn help_opens_and_closes() {
        let mut app = app_with(1);
        press(&mut app, KeyCode::Char('?'));
        assert!(matches!(app.mode, Mode::Help));
        press(&mut app, KeyCode::Char('j'));
        assert!(
            matches!(app.mode, Mode::Help),
            "keys do not act behind the help"
        );
        press(&mut app, KeyCode::Esc);
        assert!(!matches!(app.mode, Mode::Help));
    }

    #[test]
    fn moving_up_stops_following() {
        let mut app = app_with(5);
        app.follow = true;
        press(&mut app, KeyCode::Up);
        assert!(!app.follow);
        press(&mut app, KeyCode::Char('f'));
        assert!(app.follow);
        assert_eq!(app.selected_position(), Some(4));
    }
}
