//! The selected exchange: which one it is, moving it, and keeping it on a shown row when the
//! filter changes. Methods on [`App`], so every key and event selects the same way.

use std::sync::Arc;

use crate::capture::{ExchangeId, ExchangeStart};

use super::app::App;
use super::rows::ExchangeRow;

impl App {
    /// Makes `id` the selected exchange; the panes start again from the top.
    pub fn select(&mut self, id: ExchangeId) {
        if self.selected != Some(id) {
            self.selected = Some(id);
            self.request_pane.scroll = 0;
            self.response_pane.scroll = 0;
        }
    }

    /// Selects the shown row at `pos`, or the last one when `pos` is past the end.
    pub fn select_position(&mut self, pos: usize) {
        let len = self.rows.visible_len();
        if len == 0 {
            return;
        }
        if let Some(id) = self.rows.visible_row(pos.min(len - 1)).map(|row| row.id) {
            self.select(id);
        }
    }

    /// Applies a changed filter; a selection the filter now hides moves to the nearest shown
    /// row.
    pub fn refilter(&mut self) {
        self.rows.refilter(&self.filter);
        if let Some(id) = self.selected {
            if self.rows.visible_position(id).is_none() {
                if let Some(pos) = self.rows.nearest_visible(id) {
                    self.select_position(pos);
                }
            }
        }
    }

    pub fn selected_row(&self) -> Option<&ExchangeRow> {
        self.rows.get(self.selected?)
    }

    /// Where the selection sits among the shown rows.
    pub fn selected_position(&self) -> Option<usize> {
        self.rows.visible_position(self.selected?)
    }

    /// The selected exchange's request as recorded, when it is in memory.
    pub fn selected_start(&self) -> Option<Arc<ExchangeStart>> {
        let id = self.selected?;
        match self.live.get(&id) {
            Some(live) => Some(live.start.clone()),
            None => self.recent.get(id).map(|record| record.start.clone()),
        }
    }
}
