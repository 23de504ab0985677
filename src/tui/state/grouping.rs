//! Filing exchanges under their conversations as they start and finish: methods on [`App`],
//! so a started, intercepted or late-seen exchange is grouped the same way, and a past
//! session's rows are grouped once their requests have been read in the background.
//!
//! A conversation's turns are recognised in order (each request extends the one before), so
//! while an attached screen is still reading the session's history, the exchanges that start
//! live wait their turn and are filed after the last of the history.

use crate::analysis::RequestShape;
use crate::capture::{ExchangeId, ExchangeStart};
use crate::llm::Usage;

use super::app::App;
use super::conversations::shape_of;
use super::history::{Deferred, HistoryGrouping};
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
    /// The rows the screen started with are being read for grouping: live exchanges wait.
    pub fn begin_history(&mut self) {
        self.history = HistoryGrouping::Reading(Vec::new());
    }

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
            self.count_now(request.id, &request.usage);
        }
        self.rows.regroup(grouped, &self.filter);
    }

    /// The history is all filed (or could not be read): what started live meanwhile is
    /// filed after it, in the order it came.
    pub fn history_done(&mut self) {
        let HistoryGrouping::Reading(deferred) = std::mem::take(&mut self.history) else {
            return;
        };
        let mut grouped = Vec::new();
        for event in deferred {
            match event {
                Deferred::Started { id, shape, host } => {
                    grouped.push((id, self.conversations.observe(id, &shape, host)));
                }
                Deferred::Finished { id, usage } => self.count_now(id, &usage),
            }
        }
        self.rows.regroup(grouped, &self.filter);
    }

    /// The row for a starting exchange, filed under its conversation.
    pub fn grouped_row(&mut self, start: &ExchangeStart) -> ExchangeRow {
        let mut row = row_from_start(start);
        match &mut self.history {
            HistoryGrouping::Done => {
                row.conversation = Some(self.conversations.started(start, None));
            }
            HistoryGrouping::Reading(deferred) => {
                let lineage = &start.lineage;
                deferred.push(Deferred::Started {
                    id: start.id,
                    shape: shape_of(start),
                    host: lineage.parent.or(lineage.repeats).or(lineage.beneath),
                });
            }
        }
        row
    }

    /// Counts a finished exchange's tokens and cost in its conversation and the session.
    pub fn count_usage(&mut self, id: ExchangeId, usage: &Usage) {
        match &mut self.history {
            HistoryGrouping::Done => self.count_now(id, usage),
            HistoryGrouping::Reading(deferred) => {
                deferred.push(Deferred::Finished { id, usage: *usage })
            }
        }
    }

    fn count_now(&mut self, id: ExchangeId, usage: &Usage) {
        let Some(row) = self.rows.get(id) else {
            return;
        };
        let (dialect, beneath) = (row.dialect, row.beneath.is_some());
        let model = row.model.clone();
        self.conversations
            .finished(id, dialect, model.as_deref(), usage, beneath);
    }
}
