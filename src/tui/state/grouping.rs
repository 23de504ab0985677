//! Filing exchanges under their conversations as they start and finish: methods on [`App`],
//! so a started, intercepted or late-seen exchange is grouped the same way, and a past
//! session's rows are grouped once their requests have been read in the background.

use crate::analysis::RequestShape;
use crate::capture::{ExchangeId, ExchangeStart};
use crate::llm::Usage;

use super::app::App;
use super::rows::{row_from_start, ExchangeRow};

/// A past session's exchange reduced to what grouping needs, read on a blocking thread.
#[derive(Debug, Clone)]
pub struct GroupedRequest {
    pub id: ExchangeId,
    pub shape: RequestShape,
    /// Its reply's token counts, as stored.
    pub usage: Usage,
}

impl App {
    /// Files a batch of a past session's rows under their conversations, in id order, and
    /// counts their tokens and cost; the list is put in tree order once for the batch.
    pub fn group_history(&mut self, batch: Vec<GroupedRequest>) {
        let mut grouped = Vec::with_capacity(batch.len());
        for request in batch {
            let Some(row) = self.rows.get(request.id) else {
                continue;
            };
            let host = row.parent.or(row.repeats).or(row.beneath);
            let conversation = self.conversations.observe(request.id, &request.shape, host);
            grouped.push((request.id, conversation));
            self.count_usage(request.id, &request.usage);
        }
        self.rows.regroup(grouped, &self.filter);
    }

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
