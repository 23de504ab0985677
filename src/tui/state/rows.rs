//! The exchange list's rows: built from a start, a record or a past session's summary, and
//! held in a table that keeps the filter's shown rows, the folds and the counts as rows change.

use std::collections::{HashMap, HashSet};

use crate::analysis::{ConversationId, ConversationKind};
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
        host: forward_host(start),
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
        conversation: None,
    }
}

/// The host a forward-mode exchange was sent to: the only kind whose record keeps `Host`.
fn forward_host(start: &ExchangeStart) -> Option<String> {
    start.request.headers.value("host").map(str::to_string)
}

/// The row for an exchange read back from the store (a past session).
pub fn row_from_summary(summary: &ExchangeSummary) -> ExchangeRow {
    ExchangeRow {
        id: summary.id,
        started_at_ms: summary.started_at_ms,
        method: summary.method.clone(),
        uri: summary.uri.clone(),
        host: summary.host.clone(),
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
        conversation: None,
    }
}

/// Brings a row up to date with its finished record. Token counts need the body decoded, so
/// they come separately through [`row_update_usage`].
pub fn row_update_from_record(row: &mut ExchangeRow, record: &ExchangeRecord) {
    let start = &record.start;
    row.started_at_ms = start.started_at_ms;
    row.method.clone_from(&start.request.method);
    row.uri.clone_from(&start.request.uri);
    row.host = forward_host(start);
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
///
/// Shown rows are in tree order: a conversation's rows together, after its first row's place
/// in arrival order, so interleaved conversations read one after the other; rows outside a
/// conversation (side requests, a past session's rows) keep their own place. A folded
/// conversation shows only its latest row, which the list draws as the conversation's header.
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
    /// Each conversation's first and latest row (repeats and provider calls left out).
    first_row: HashMap<ConversationId, usize>,
    latest_row: HashMap<ConversationId, usize>,
    folded_conversations: HashSet<ConversationId>,
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
        self.find_visible(index).ok()
    }

    /// Where row `index` is, or would be, among the shown rows.
    fn find_visible(&self, index: usize) -> Result<usize, usize> {
        let key = self.order_key(index);
        self.visible
            .binary_search_by_key(&key, |&i| self.order_key(i))
    }

    /// Tree order: the place of the conversation's first row, then arrival.
    fn order_key(&self, index: usize) -> (usize, usize) {
        let block = self.rows[index]
            .tree_conversation()
            .and_then(|c| self.first_row.get(&c).copied())
            .unwrap_or(index);
        (block, index)
    }

    /// Whether the shown row at `pos` is the first of its conversation's rows on the list:
    /// where the list puts the conversation's header.
    pub fn starts_conversation(&self, pos: usize) -> bool {
        let Some(&i) = self.visible.get(pos) else {
            return false;
        };
        if self.rows[i].tree_conversation().is_none() {
            return false;
        }
        match pos.checked_sub(1).and_then(|p| self.visible.get(p)) {
            Some(&before) => self.order_key(before).0 != self.order_key(i).0,
            None => true,
        }
    }

    pub fn is_conversation_folded(&self, id: ConversationId) -> bool {
        self.folded_conversations.contains(&id)
    }

    /// Folds conversation `id` into its header row, or unfolds it; returns whether it is
    /// folded now.
    pub fn toggle_conversation(&mut self, id: ConversationId, filter: &Filter) -> bool {
        if !self.folded_conversations.remove(&id) {
            self.folded_conversations.insert(id);
        }
        self.refilter(filter);
        self.folded_conversations.contains(&id)
    }

    /// The row a folded conversation shows: its latest.
    pub fn latest_of(&self, id: ConversationId) -> Option<&ExchangeRow> {
        self.latest_row.get(&id).map(|&i| &self.rows[i])
    }

    /// The shown row closest after `id` in arrival order (or the last shown one), for a
    /// selection the filter just hid.
    pub fn nearest_visible(&self, id: ExchangeId) -> Option<usize> {
        let index = *self.index.get(&id)?;
        let at = self.find_visible(index).unwrap_or_else(|at| at);
        (!self.visible.is_empty()).then(|| at.min(self.visible.len() - 1))
    }

    /// Inserts a new row, or replaces the row with the same id. A repeat of a retry loop
    /// whose first row is here is folded into that row, which counts it.
    pub fn upsert(&mut self, row: ExchangeRow, filter: &Filter) {
        match self.index.get(&row.id) {
            Some(&i) => self.modify(i, filter, |old| {
                let (repeated, provider_calls) = (old.repeated, old.provider_calls);
                let conversation = old.conversation;
                *old = row;
                old.repeated = repeated;
                old.provider_calls = provider_calls;
                // The tree order depends on it; a later copy of the row does not regroup it.
                old.conversation = conversation.or(old.conversation);
            }),
            None => {
                let i = self.rows.len();
                self.count(&row, 1);
                self.index.insert(row.id, i);
                let host = self.folded_into(&row);
                let conversation = row.tree_conversation().filter(|_| host.is_none());
                let mut hide = None;
                if let Some(c) = conversation {
                    self.first_row.entry(c).or_insert(i);
                    let before = self.latest_row.insert(c, i);
                    if self.folded_conversations.contains(&c) {
                        hide = before;
                    }
                }
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
                let shown = filter.matches(&row) && (host.is_none() || self.unfolded);
                self.rows.push(row);
                if let Some(at) = hide.and_then(|old| self.find_visible(old).ok()) {
                    self.visible.remove(at);
                }
                if shown {
                    let at = self.find_visible(i).unwrap_or_else(|at| at);
                    self.visible.insert(at, i);
                }
            }
        }
    }

    /// Files rows listed before they were grouped (a past session's, whose requests are read
    /// in the background) under their conversations, in id order, then puts the shown rows
    /// in tree order once.
    pub fn regroup(
        &mut self,
        grouped: Vec<(ExchangeId, (ConversationId, ConversationKind))>,
        filter: &Filter,
    ) {
        for (id, conversation) in grouped {
            let Some(&i) = self.index.get(&id) else {
                continue;
            };
            if self.rows[i].conversation.is_some() {
                continue;
            }
            self.rows[i].conversation = Some(conversation);
            let row = &self.rows[i];
            let tree = row
                .tree_conversation()
                .filter(|_| self.folded_into(row).is_none());
            if let Some(c) = tree {
                self.first_row.entry(c).or_insert(i);
                let latest = self.latest_row.entry(c).or_insert(i);
                *latest = (*latest).max(i);
            }
        }
        self.refilter(filter);
    }

    /// The row `row` belongs under: its retry loop's first, or the agent exchange a provider
    /// call served, when that row is here.
    fn folded_into(&self, row: &ExchangeRow) -> Option<usize> {
        let host = row.repeats.or(row.beneath)?;
        self.index.get(&host).copied()
    }

    fn is_folded(&self, index: usize, row: &ExchangeRow) -> bool {
        if !self.unfolded && self.folded_into(row).is_some() {
            return true;
        }
        row.tree_conversation().is_some_and(|c| {
            self.folded_conversations.contains(&c) && self.latest_row.get(&c) != Some(&index)
        })
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
        let mut visible: Vec<usize> = (0..self.rows.len())
            .filter(|&i| filter.matches(&self.rows[i]) && !self.is_folded(i, &self.rows[i]))
            .collect();
        visible.sort_by_key(|&i| self.order_key(i));
        self.visible = visible;
    }

    fn modify(&mut self, i: usize, filter: &Filter, change: impl FnOnce(&mut ExchangeRow)) {
        let mut row = self.rows[i].clone();
        change(&mut row);
        self.count(&self.rows[i].clone(), -1);
        self.count(&row, 1);
        let shown = filter.matches(&row) && !self.is_folded(i, &row);
        match (self.find_visible(i), shown) {
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
#[path = "rows_tests.rs"]
pub(crate) mod tests;
