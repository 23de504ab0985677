//! Where each part of the screen goes, and which rows of the list are on it. Shared by `draw`
//! and by `update`, which needs the list and pane heights for paging and for keeping the
//! selection in view.

use ratatui::layout::{Constraint, Layout, Rect};

use super::app::{App, Focus};

/// From this width the request and response panes sit side by side.
const SIDE_BY_SIDE: u16 = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub status: Rect,
    /// Zero height when there is no banner.
    pub banner: Rect,
    /// Zero height when no request is intercepted.
    pub intercept: Rect,
    pub list: Rect,
    pub request: Rect,
    pub response: Rect,
    /// List and panes together: where the editor goes.
    pub main: Rect,
    /// The message line at the bottom; zero height when there is no message.
    pub notice: Rect,
}

pub fn areas(screen: Rect, app: &App) -> Areas {
    let banner_height = banner_height(app);
    let notice_height = u16::from(app.notice.is_some());
    let [status, banner, intercept, main, notice] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner_height),
        Constraint::Length(intercept_height(app)),
        Constraint::Min(0),
        Constraint::Length(notice_height),
    ])
    .areas(screen);
    // Reading a pane needs the rows more than the list does.
    let list_share = if app.focus == Focus::List { 40 } else { 30 };
    let [list, panes] =
        Layout::vertical([Constraint::Percentage(list_share), Constraint::Min(0)]).areas(main);
    let (request, response) = if panes.width >= SIDE_BY_SIDE {
        let [request, response] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(panes);
        (request, response)
    } else {
        // Stacked panes are short: a focused pane takes all but a title row of the other.
        let other = Constraint::Length(3.min(panes.height / 2));
        let constraints = match app.focus {
            Focus::Request => [Constraint::Min(0), other],
            Focus::Response => [other, Constraint::Min(0)],
            Focus::List => [Constraint::Percentage(50), Constraint::Percentage(50)],
        };
        let [request, response] = Layout::vertical(constraints).areas(panes);
        (request, response)
    };
    Areas {
        status,
        banner,
        intercept,
        list,
        request,
        response,
        main,
        notice,
    }
}

/// Rows the banner takes: what failed, the message, the diagnosis when there is one, the
/// hold line when the failure is held, and the keys to fix it while the agent waits.
pub fn banner_height(app: &App) -> u16 {
    app.banner.as_ref().map_or(0, |b| {
        2 + u16::from(b.diagnosis.is_some())
            + u16::from(app.hold_of(b.id).is_some())
            + u16::from(app.hold_hint().is_some())
    })
}

/// The intercept line shows while any request is intercepted.
pub fn intercept_height(app: &App) -> u16 {
    u16::from(!app.intercepted_ids.is_empty())
}

/// How many rows fit in a list drawn in `area` (borders and header excluded).
pub fn page_height(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(3)).max(1)
}

/// The first row to show so that `selected` is on screen, starting from the remembered
/// `offset` so the list does not jump while the selection moves inside it.
pub fn visible_offset(offset: usize, selected: Option<usize>, len: usize, height: usize) -> usize {
    let mut offset = offset.min(len.saturating_sub(height));
    if let Some(pos) = selected {
        if pos < offset {
            offset = pos;
        } else if pos >= offset + height {
            offset = pos + 1 - height;
        }
    }
    offset
}

/// The inside of a bordered pane: where its text goes.
pub fn inner(area: Rect) -> Rect {
    Rect {
        x: area.x.saturating_add(1),
        y: area.y.saturating_add(1),
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    }
}

pub fn screen(app: &App) -> Rect {
    Rect::new(0, 0, app.size.0, app.size.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_keeps_the_selection_on_screen_without_jumping() {
        assert_eq!(visible_offset(0, Some(3), 100, 10), 0);
        assert_eq!(visible_offset(0, Some(15), 100, 10), 6);
        assert_eq!(visible_offset(6, Some(8), 100, 10), 6);
        assert_eq!(visible_offset(6, Some(2), 100, 10), 2);
        assert_eq!(visible_offset(95, Some(99), 100, 10), 90);
    }
}
