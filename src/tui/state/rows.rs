//! The exchange list's rows: built from a start, a record or a past session's summary, and
//! held in a table that keeps the filter's shown rows, the folds and the counts as rows change.

use std::collections::HashMap;

use crate::capture::{ExchangeId, ExchangeRecord, ExchangeStart, ExchangeState, Origin};
use crate::llm::Usage;
use crate::store::ExchangeSummary;

pub use super::filter::Filter;
pub use super::row::{ExchangeRow, HoldMark};

/// The row for an exchange that has just started.
pub fn row_from_start(start: &ExchangeStart) -> ExchangeRow {
    ExchangeRow {
        id: start.id,
        started_at_ms: start.started_at_ms,
        method: start.request.method.clone(),
        uri: start.request.uri.clone(),
        model: start.model.clone(),
        dialect: start.dialect,
        status: None,
        failure: None,
        first_byte_ms: None,
        duration_ms: None,
        request_bytes: start.request.body.len() as u64,
        response_bytes: 0,
        tokens_in: None,
        tokens_out: None,
        state: ExchangeState::InFlight,
        parent: start.lineage.parent,
        auto_fix: start.lineage.origin == Origin::AutoFix,
        hold: None,
        rewritten: start.rewrite.is_some(),
        intercepted_until_ms: None,
        repeats: start.lineage.repeats,
        repeated: 0,
        beneath: start.lineage.beneath,
        provider_calls: 0,
    }
}

/// The row for an exchange read back from the store (a past session).
pub fn row_from_summary(summary: &ExchangeSummary) -> ExchangeRow {
    ExchangeRow {
        id: summary.id,
        started_at_ms: summary.started_at_ms,
        method: summary.method.clone(),
        uri: summary.uri.clone(),
        model: summary.model.clone(),
        dialect: summary.dialect,
        status: summary.status,
        failure: summary.failure.clone(),
        first_byte_ms: summary.first_byte_ms,
        duration_ms: summary.duration_ms,
        request_bytes: summary.request_bytes,
        response_bytes: summary.response_bytes.unwrap_or(0),
        tokens_in: summary.input_tokens,
        tokens_out: summary.output_tokens,
        state: summary.state,
        parent: summary.lineage.parent,
        auto_fix: summary.lineage.origin == Origin::AutoFix,
        hold: summary.hold_outcome.clone().map(HoldMark::Recorded),
        rewritten: summary.rewritten,
        intercepted_until_ms: None,
        repeats: summary.lineage.repeats,
        repeated: 0,
        beneath: summary.lineage.beneath,
        provider_calls: 0,
    }
}

/// Brings a row up to date with its finished record. Token counts need the body decoded, so
/// they come separately through [`row_update_usage`].
pub fn row_update_from_record(row: &mut ExchangeRow, record: &ExchangeRecord) {
    let start = &record.start;
    row.started_at_ms = start.started_at_ms;
    row.method.clone_from(&start.request.method);
    row.uri.clone_from(&start.request.uri);
    row.model.clone_from(&start.model);
    row.dialect = start.dialect;
    row.request_bytes = start.request.body.len() as u64;
    row.status = record.response.as_ref().map(|r| r.status);
    row.response_bytes = record.response.as_ref().map_or(0, |r| r.body_len);
    row.failure.clone_from(&record.failure);
    row.first_byte_ms = record.timing.first_byte_ms;
    row.duration_ms = record.timing.duration_ms;
    row.state = ExchangeState::Complete;
    row.parent = start.lineage.parent;
    row.rewritten = start.rewrite.is_some();
}

/// Copies the token counts of a decoded reply into the row.
pub fn row_update_usage(row: &mut ExchangeRow, usage: &Usage) {
    row.tokens_in = usage.input_tokens.or(row.tokens_in);
    row.tokens_out = usage.output_tokens.or(row.tokens_out);
}

/// All rows in arrival order, an id index, and the positions the current filter lets through.
/// Counts are kept as rows change so the status line never walks the whole list.
#[derive(Debug, Clone, Default)]
pub struct RowTable {
    rows: Vec<ExchangeRow>,
    index: HashMap<ExchangeId, usize>,
    /// Indices into `rows`, ascending, of the rows the filter shows.
    visible: Vec<usize>,
    failed: usize,
    in_flight: usize,
    /// Show retry repeats and provider calls as rows of their own instead of folded.
    unfolded: bool,
}

impl RowTable {
    pub fn new(rows: Vec<ExchangeRow>, filter: &Filter) -> Self {
        let mut table = Self::default();
        for row in rows {
            table.upsert(row, filter);
        }
        table
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn failed_count(&self) -> usize {
        self.failed
    }

    pub fn in_flight_count(&self) -> usize {
        self.in_flight
    }

    /// Every row, shown or not, in arrival order.
    pub fn iter(&self) -> std::slice::Iter<'_, ExchangeRow> {
        self.rows.iter()
    }

    pub fn get(&self, id: ExchangeId) -> Option<&ExchangeRow> {
        self.index.get(&id).map(|&i| &self.rows[i])
    }

    /// How many rows the filter shows.
    pub fn visible_len(&self) -> usize {
        self.visible.len()
    }

    /// The `pos`-th row the filter shows.
    pub fn visible_row(&self, pos: usize) -> Option<&ExchangeRow> {
        self.visible.get(pos).map(|&i| &self.rows[i])
    }

    /// Where `id` sits among the shown rows, if the filter shows it.
    pub fn visible_position(&self, id: ExchangeId) -> Option<usize> {
        let index = *self.index.get(&id)?;
        self.visible.binary_search(&index).ok()
    }

    /// The shown row closest after `id` in arrival order (or the last shown one), for a
    /// selection the filter just hid.
    pub fn nearest_visible(&self, id: ExchangeId) -> Option<usize> {
        let index = *self.index.get(&id)?;
        let at = self.visible.binary_search(&index).unwrap_or_else(|at| at);
        (!self.visible.is_empty()).then(|| at.min(self.visible.len() - 1))
    }

    /// Inserts a new row, or replaces the row with the same id. A repeat of a retry loop
    /// whose first row is here is folded into that row, which counts it.
    pub fn upsert(&mut self, row: ExchangeRow, filter: &Filter) {
        match self.index.get(&row.id) {
            Some(&i) => self.modify(i, filter, |old| {
                let (repeated, provider_calls) = (old.repeated, old.provider_calls);
                *old = row;
                old.repeated = repeated;
                old.provider_calls = provider_calls;
            }),
            None => {
                let i = self.rows.len();
                self.count(&row, 1);
                self.index.insert(row.id, i);
                let host = self.folded_into(&row);
                if let Some(at) = host {
                    if row.repeats.is_some() {
                        self.rows[at].repeated += 1;
                    } else {
                        self.rows[at].provider_calls += 1;
                        // A repeat's provider calls count on its loop's row too, the one
                        // shown while folded.
                        let root = self.rows[at].repeats.and_then(|r| self.index.get(&r));
                        if let Some(&root) = root {
                            self.rows[root].provider_calls += 1;
                        }
                    }
                }
                if filter.matches(&row) && (host.is_none() || self.unfolded) {
                    self.visible.push(i);
                }
                self.rows.push(row);
            }
        }
    }

    /// The row `row` belongs under: its retry loop's first, or the agent exchange a provider
    /// call served, when that row is here.
    fn folded_into(&self, row: &ExchangeRow) -> Option<usize> {
        let host = row.repeats.or(row.beneath)?;
        self.index.get(&host).copied()
    }

    fn is_folded(&self, row: &ExchangeRow) -> bool {
        !self.unfolded && self.folded_into(row).is_some()
    }

    pub fn is_unfolded(&self) -> bool {
        self.unfolded
    }

    /// Folds retry repeats and provider calls into their rows, or shows them each.
    pub fn set_unfolded(&mut self, unfolded: bool, filter: &Filter) {
        self.unfolded = unfolded;
        self.refilter(filter);
    }

    /// Changes the row with `id` in place; returns whether it exists.
    pub fn update(
        &mut self,
        id: ExchangeId,
        filter: &Filter,
        change: impl FnOnce(&mut ExchangeRow),
    ) -> bool {
        match self.index.get(&id) {
            Some(&i) => {
                self.modify(i, filter, change);
                true
            }
            None => false,
        }
    }

    /// Recomputes which rows the filter shows; one pass over all rows.
    pub fn refilter(&mut self, filter: &Filter) {
        self.visible = (0..self.rows.len())
            .filter(|&i| filter.matches(&self.rows[i]) && !self.is_folded(&self.rows[i]))
            .collect();
    }

    fn modify(&mut self, i: usize, filter: &Filter, change: impl FnOnce(&mut ExchangeRow)) {
        let mut row = self.rows[i].clone();
        change(&mut row);
        self.count(&self.rows[i].clone(), -1);
        self.count(&row, 1);
        let shown = filter.matches(&row) && !self.is_folded(&row);
        match (self.visible.binary_search(&i), shown) {
            (Err(at), true) => self.visible.insert(at, i),
            (Ok(at), false) => {
                self.visible.remove(at);
            }
            _ => {}
        }
        self.rows[i] = row;
    }

    fn count(&mut self, row: &ExchangeRow, delta: isize) {
        let apply = |n: &mut usize| *n = n.saturating_add_signed(delta);
        if row.is_failed() {
            apply(&mut self.failed);
        }
        if row.state == ExchangeState::InFlight {
            apply(&mut self.in_flight);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::capture::{Failure, FailureClass};
    use crate::llm::Dialect;

    pub(crate) fn row(id: u64, uri: &str, status: Option<u16>) -> ExchangeRow {
        ExchangeRow {
            id: ExchangeId(id),
            started_at_ms: 1_700_000_000_000 + id as i64 * 1000,
            method: "POST".into(),
            uri: uri.into(),
            model: Some("gpt-4o".into()),
            dialect: Dialect::OpenAiChat,
            status,
            failure: status
                .filter(|s| *s >= 400)
                .map(|s| Failure::new(FailureClass::HttpError(s), "bad request")),
            first_byte_ms: Some(120),
            duration_ms: Some(1500),
            request_bytes: 100,
            response_bytes: 200,
            tokens_in: Some(1200),
            tokens_out: Some(45),
            state: ExchangeState::Complete,
            parent: None,
            auto_fix: false,
            hold: None,
            rewritten: false,
            intercepted_until_ms: None,
            repeats: None,
            repeated: 0,
            beneath: None,
            provider_calls: 0,
        }
    }

    #[test]
    fn counts_follow_row_changes() {
        let filter = Filter::default();
        let mut table = RowTable::new(
            vec![row(1, "/a", Some(200)), row(2, "/b", Some(500))],
            &filter,
        );
        assert_eq!((table.len(), table.failed_count()), (2, 1));
        table.update(ExchangeId(2), &filter, |r| r.failure = None);
        assert_eq!(table.failed_count(), 0);
    }

    #[test]
    fn failed_only_filter_tracks_rows_that_start_failing() {
        let filter = Filter {
            failed_only: true,
            ..Filter::default()
        };
        let mut table = RowTable::new(vec![row(1, "/a", Some(200))], &filter);
        assert_eq!(table.visible_len(), 0);
        table.update(ExchangeId(1), &filter, |r| {
            r.failure = Some(Failure::new(FailureClass::Reset, "cut"));
        });
        assert_eq!(table.visible_position(ExchangeId(1)), Some(0));
    }

    #[test]
    fn repeats_of_a_retry_loop_fold_into_its_first_row_with_a_count() {
        let filter = Filter::default();
        let mut table = RowTable::new(vec![row(1, "/v1/chat/completions", Some(502))], &filter);
        for id in 2..=4 {
            let mut repeat = row(id, "/v1/chat/completions", Some(502));
            repeat.repeats = Some(ExchangeId(1));
            table.upsert(repeat, &filter);
        }
        table.upsert(row(5, "/v1/chat/completions", Some(200)), &filter);
        assert_eq!(table.visible_len(), 2, "the first row and the next request");
        assert_eq!(table.visible_position(ExchangeId(5)), Some(1));
        assert_eq!(table.get(ExchangeId(1)).map(|r| r.repeated), Some(3));
        assert_eq!(table.failed_count(), 4, "every attempt still counts");
        // A folded repeat finishing, a refilter and a replaced first row keep the fold.
        table.update(ExchangeId(3), &filter, |r| r.status = Some(400));
        table.refilter(&filter);
        table.upsert(row(1, "/v1/chat/completions", Some(502)), &filter);
        assert_eq!(table.visible_len(), 2);
        assert_eq!(table.get(ExchangeId(1)).map(|r| r.repeated), Some(3));
    }

    #[test]
    fn provider_calls_fold_under_their_agent_row_and_count_on_its_loop() {
        let filter = Filter::default();
        let mut table = RowTable::new(vec![row(1, "/v1/chat/completions", Some(500))], &filter);
        let call = |id, beneath| {
            let mut call = row(id, "/provider/openai/v1/chat/completions", Some(502));
            call.beneath = Some(ExchangeId(beneath));
            call
        };
        table.upsert(call(2, 1), &filter);
        let mut repeat = row(3, "/v1/chat/completions", Some(500));
        repeat.repeats = Some(ExchangeId(1));
        table.upsert(repeat, &filter);
        table.upsert(call(4, 3), &filter);
        table.upsert(call(5, 3), &filter);
        assert_eq!(table.visible_len(), 1, "all under #1");
        assert_eq!(table.get(ExchangeId(1)).map(|r| r.provider_calls), Some(3));
        assert_eq!(table.get(ExchangeId(3)).map(|r| r.provider_calls), Some(2));
        table.set_unfolded(true, &filter);
        assert_eq!(table.visible_len(), 5);
    }
}
