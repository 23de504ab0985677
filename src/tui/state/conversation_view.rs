//! The conversation view's state: which exchange it reads, its items once that exchange is in
//! memory, which are unfolded, the cursor and the scroll. Scrolls in logical lines like the
//! panes; the cursor item is the one Enter folds or unfolds.

use ratatui::text::Line;

use crate::analysis::ConversationId;
use crate::capture::ExchangeId;
use crate::tui::present::conversation_text::{wrap_item_line, ConversationItem};

/// What the view has to show.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// Its exchange is being loaded from the store.
    Loading,
    /// Its exchange could not be had, or is not an LLM call.
    Unavailable(String),
    Ready,
}

/// What the shown items were read from: which request, and how much of its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    pub source: ExchangeId,
    pub reply: Progress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The exchange is in flight; this many reply bytes had arrived.
    Arriving(u64),
    Finished,
}

/// The conversation being read and where the reader is in it.
#[derive(Debug, Clone)]
pub struct ConversationView {
    pub conversation: Option<ConversationId>,
    /// `c3 Claude Code conversation · 2 turns`.
    pub title: String,
    /// The newest request of the conversation: it holds every earlier message.
    pub source: ExchangeId,
    /// Whether its record was asked of the store already.
    pub asked: bool,
    pub reading: Reading,
    items: Vec<ConversationItem>,
    unfolded: Vec<bool>,
    /// What the items were read from; `None` until they first are.
    shown: Option<Shown>,
    /// How many of the items are the request's; the reply's follow.
    request_len: usize,
    pub cursor: usize,
    /// The first logical line shown.
    pub scroll: usize,
    /// Every shown line, and where each item's lines start among them.
    lines: Vec<Line<'static>>,
    starts: Vec<usize>,
}

impl ConversationView {
    pub fn new(source: ExchangeId, conversation: Option<ConversationId>, title: String) -> Self {
        Self {
            conversation,
            title,
            source,
            asked: false,
            reading: Reading::Loading,
            items: Vec::new(),
            unfolded: Vec::new(),
            shown: None,
            request_len: 0,
            cursor: 0,
            scroll: 0,
            lines: Vec::new(),
            starts: Vec::new(),
        }
    }

    pub fn shown(&self) -> Option<Shown> {
        self.shown
    }

    /// Reads `source`, a newer request of the conversation, once it is in memory; what is
    /// shown stays until then.
    pub fn follow(&mut self, source: ExchangeId, title: String) {
        self.source = source;
        self.title = title;
        self.asked = false;
    }

    /// Shows the items read from `shown`: `request`'s then `reply`'s, or, when `request` is
    /// `None`, the request's as they are and the reply's anew. Items that stay where they were
    /// keep their folds, and a reader at the last item stays at the end as more comes.
    pub fn show(
        &mut self,
        shown: Shown,
        request: Option<Vec<ConversationItem>>,
        reply: Vec<ConversationItem>,
        (width, height): (u16, u16),
    ) {
        let at_end = self.reading == Reading::Ready && self.cursor + 1 >= self.items.len();
        let old = std::mem::take(&mut self.items);
        let mut unfolded = std::mem::take(&mut self.unfolded);
        let mut items = match request {
            Some(request) => {
                // A newer turn repeats the earlier messages: those keep their folds.
                let same = old.iter().zip(&request).take_while(|(a, b)| a == b).count();
                unfolded.truncate(same);
                self.request_len = request.len();
                request
            }
            None => {
                let mut items = old;
                items.truncate(self.request_len);
                items
            }
        };
        items.extend(reply);
        unfolded.resize(items.len(), false);
        self.items = items;
        self.unfolded = unfolded;
        self.reading = Reading::Ready;
        self.shown = Some(shown);
        self.relayout();
        self.cursor = self.cursor.min(self.items.len().saturating_sub(1));
        if at_end {
            self.bottom(width, height);
        } else {
            self.clamp(width, height);
        }
    }

    pub fn lines(&self) -> &[Line<'static>] {
        &self.lines
    }

    /// The logical lines of the cursor item, `start..end`.
    pub fn cursor_lines(&self) -> std::ops::Range<usize> {
        self.item_lines(self.cursor)
    }

    fn item_lines(&self, item: usize) -> std::ops::Range<usize> {
        let start = self.starts.get(item).copied().unwrap_or(0);
        let end = self
            .starts
            .get(item + 1)
            .copied()
            .unwrap_or(self.lines.len());
        start..end
    }

    /// Folds or unfolds the cursor item; `false` when it does not fold.
    pub fn toggle_fold(&mut self) -> bool {
        let Some(item) = self.items.get(self.cursor) else {
            return false;
        };
        if !item.folds {
            return false;
        }
        self.unfolded[self.cursor] = !self.unfolded[self.cursor];
        self.relayout();
        true
    }

    fn relayout(&mut self) {
        self.lines.clear();
        self.starts.clear();
        for (item, &unfolded) in self.items.iter().zip(&self.unfolded) {
            self.starts.push(self.lines.len());
            self.lines.extend(item.lines(unfolded));
        }
    }

    /// `j`: reads on through a long item, then steps to the next one.
    pub fn down(&mut self, width: u16, height: u16) {
        let end = self.cursor_lines().end;
        if self.rows(self.scroll, end, width) > usize::from(height) {
            self.scroll += 1;
        } else if self.cursor + 1 < self.items.len() {
            self.cursor += 1;
            self.bring_cursor_in(width, height);
        }
        self.clamp(width, height);
    }

    /// `k`: reads back up through a long item, then steps to the one before.
    pub fn up(&mut self, width: u16, height: u16) {
        if self.cursor_lines().start < self.scroll {
            self.scroll -= 1;
        } else if self.cursor > 0 {
            self.cursor -= 1;
            let lines = self.cursor_lines();
            if lines.start < self.scroll {
                // Coming from below, the item's end is what comes into view first.
                self.scroll = lines
                    .start
                    .max(lines.end.saturating_sub(usize::from(height)));
            }
        }
        self.clamp(width, height);
    }

    /// Scrolls by `delta` lines; the cursor goes to the first item whose head is on screen.
    pub fn scroll_by(&mut self, delta: isize, width: u16, height: u16) {
        self.scroll = self.scroll.saturating_add_signed(delta);
        self.clamp(width, height);
        let bottom = self.scroll + usize::from(height);
        self.cursor = match self.starts.iter().position(|&s| s >= self.scroll) {
            Some(at) if self.starts[at] < bottom => at,
            _ => self
                .starts
                .iter()
                .rposition(|&s| s <= self.scroll)
                .unwrap_or(0),
        };
    }

    pub fn top(&mut self) {
        self.scroll = 0;
        self.cursor = 0;
    }

    pub fn bottom(&mut self, width: u16, height: u16) {
        self.scroll = usize::MAX;
        self.clamp(width, height);
        self.cursor = self.items.len().saturating_sub(1);
    }

    /// Scrolls forward until the cursor item shows from its head, as much of it as fits.
    fn bring_cursor_in(&mut self, width: u16, height: u16) {
        let lines = self.cursor_lines();
        if lines.start < self.scroll {
            self.scroll = lines.start;
            return;
        }
        let mut rows = self.rows(self.scroll, lines.end, width);
        while self.scroll < lines.start && rows > usize::from(height) {
            rows -= self.rows(self.scroll, self.scroll + 1, width);
            self.scroll += 1;
        }
    }

    fn clamp(&mut self, width: u16, height: u16) {
        self.scroll = self.shown_from(width, height);
    }

    /// The first line drawn: the scroll, but never past the last screenful.
    pub fn shown_from(&self, width: u16, height: u16) -> usize {
        let mut rows = 0;
        let mut first = self.lines.len();
        while first > 0 {
            rows += self.rows(first - 1, first, width);
            if rows > usize::from(height) {
                break;
            }
            first -= 1;
        }
        self.scroll
            .min(first.min(self.lines.len().saturating_sub(1)))
    }

    /// Screen rows that logical lines `from..to` take at `width`.
    fn rows(&self, from: usize, to: usize, width: u16) -> usize {
        self.lines
            .get(from..to.min(self.lines.len()))
            .unwrap_or_default()
            .iter()
            .map(|line| wrap_item_line(line, width).len())
            .sum()
    }
}
