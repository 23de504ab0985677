//! Filing exchanges under their conversations as they start and finish: methods on [`App`],
//! so a started, intercepted or late-seen exchange is grouped the same way.

use crate::capture::{ExchangeId, ExchangeStart};
use crate::llm::Usage;

use super::app::App;
use super::rows::{row_from_start, ExchangeRow};

impl App {
    /// The row for a starting exchange, filed under its conversation.
    pub fn grouped_row(&mut self, start: &ExchangeStart) -> ExchangeRow {
        let mut row = row_from_start(start);
        row.conversation = Some(self.conversations.started(start, None));
        row
    }

    /// Counts a finished exchange's tokens and cost in its conversation and the session.
    pub fn count_usage(&mut self, id: ExchangeId, usage: &Usage) {
        let Some(row) = self.rows.get(id) else {
            return;
        };
        let (dialect, beneath) = (row.dialect, row.beneath.is_some());
        let model = row.model.clone();
        self.conversations
            .finished(id, dialect, model.as_deref(), usage, beneath);
    }
}
