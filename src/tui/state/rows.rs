//! The exchange list as lightweight rows and the filter that picks the shown ones: no bodies,
//! so a session of 100,000 exchanges stays cheap to hold, filter and draw.

use std::collections::HashMap;

use crate::capture::{
    ExchangeId, ExchangeRecord, ExchangeStart, ExchangeState, Failure, HoldOutcome, Origin,
};
use crate::llm::{Dialect, Usage};
use crate::store::ExchangeSummary;

/// What the list shows about one exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeRow {
    pub id: ExchangeId,
    /// Wall clock, Unix ms.
    pub started_at_ms: i64,
    pub method: String,
    /// Path and query as the agent sent them.
    pub uri: String,
    pub model: Option<String>,
    pub dialect: Dialect,
    /// `None` until the reply head arrives, and for good when none ever did.
    pub status: Option<u16>,
    pub failure: Option<Failure>,
    pub first_byte_ms: Option<u64>,
    pub duration_ms: Option<u64>,
    pub request_bytes: u64,
    /// Bytes of the reply body seen so far (the whole length once finished).
    pub response_bytes: u64,
    pub tokens_in: Option<u64>,
    pub tokens_out: Option<u64>,
    pub state: ExchangeState,
    /// The exchange this one was resent from.
    pub parent: Option<ExchangeId>,
    /// llmscope resent it by itself, with a fix that loses nothing (`--auto-fix`).
    pub auto_fix: bool,
    /// Set once the proxy held this exchange's failure.
    pub hold: Option<HoldMark>,
    /// Rules changed the agent's request before it was forwarded.
    pub rewritten: bool,
    /// Paused before forwarding, until the user sends it or `expires_at_ms` (Unix ms), when it
    /// goes out unchanged. Cleared when the exchange starts for real.
    pub intercepted_until_ms: Option<i64>,
    /// The first exchange of the retry loop this one repeats; the list folds it into that row.
    pub repeats: Option<ExchangeId>,
    /// On a loop's first row: how many repeats are folded into it.
    pub repeated: u32,
}

/// Where a held exchange stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldMark {
    /// The agent is waiting, until `expires_at_ms` (Unix ms) at the latest.
    Waiting { expires_at_ms: i64 },
    /// Settled while this screen watched.
    Ended(HoldOutcome),
    /// Settled, as a past session recorded it (`delivered`, `forwarded`, …).
    Recorded(String),
}

impl HoldMark {
    pub fn is_waiting(&self) -> bool {
        matches!(self, Self::Waiting { .. })
    }

    /// Whole seconds left before the hold times out, at `now_ms`.
    pub fn seconds_left(expires_at_ms: i64, now_ms: i64) -> i64 {
        ((expires_at_ms - now_ms).max(0) + 999) / 1000
    }
}

impl ExchangeRow {
    /// The path without its query string: what the banner compares to decide that a later
    /// exchange "is the same call" and succeeded.
    pub fn path(&self) -> &str {
        self.uri.split_once('?').map_or(&self.uri, |(path, _)| path)
    }

    pub fn is_failed(&self) -> bool {
        self.failure.is_some()
    }
}

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

/// Which rows the list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Applied filter text, lowercased; empty shows everything.
    pub needle: String,
    pub failed_only: bool,
}

impl Filter {
    /// Whether `row` passes: the text may match the path, model, status, failure class or the
    /// failure message, ignoring case.
    pub fn matches(&self, row: &ExchangeRow) -> bool {
        if self.failed_only && !row.is_failed() {
            return false;
        }
        if self.needle.is_empty() {
            return true;
        }
        let hit = |text: &str| contains_ignoring_case(text, &self.needle);
        hit(&row.uri)
            || row.model.as_deref().is_some_and(hit)
            || row.status.is_some_and(|s| hit(&s.to_string()))
            || row.failure.as_ref().is_some_and(|f| {
                hit(&f.class.to_string()) || hit(f.class.as_str()) || hit(&f.message)
            })
    }

    pub fn is_active(&self) -> bool {
        self.failed_only || !self.needle.is_empty()
    }
}

fn contains_ignoring_case(haystack: &str, lowercase_needle: &str) -> bool {
    if haystack.is_ascii() && lowercase_needle.is_ascii() {
        // The common case, without allocating for each of 100,000 rows.
        let needle = lowercase_needle.as_bytes();
        return haystack
            .as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle));
    }
    haystack.to_lowercase().contains(lowercase_needle)
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
                let repeated = old.repeated;
                *old = row;
                old.repeated = repeated;
            }),
            None => {
                let i = self.rows.len();
                self.count(&row, 1);
                self.index.insert(row.id, i);
                let first = row
                    .repeats
                    .and_then(|first| self.index.get(&first).copied());
                match first {
                    Some(first) => self.rows[first].repeated += 1,
                    None if filter.matches(&row) => self.visible.push(i),
                    None => {}
                }
                self.rows.push(row);
            }
        }
    }

    /// Whether `row` is folded into the first row of its retry loop.
    fn is_folded(&self, row: &ExchangeRow) -> bool {
        row.repeats
            .is_some_and(|first| self.index.contains_key(&first))
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
    use crate::capture::FailureClass;

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
}
