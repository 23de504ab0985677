//! The TUI's whole state as plain data. Changed only by [`update`](super::update), read by
//! [`draw`](super::draw).

use std::collections::{HashMap, HashSet};

use crate::capture::{ExchangeId, Failure, SessionId};
use crate::fix::Rule;

use super::detail::{DetailView, LiveExchange, RecentRecords};
use super::editor::EditorState;
use super::rows::{ExchangeRow, HoldMark, RowTable};
use super::rules::SentFixes;
use super::view::diff::RequestDiff;

/// What the status line says about the session and the capture behind it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusInfo {
    /// Where the proxy listens, e.g. `127.0.0.1:8787`.
    pub listen: Option<String>,
    pub upstream: Option<String>,
    pub session: Option<SessionId>,
    /// Whether exchanges are being captured now (false when browsing a past session).
    pub live: bool,
    /// A capture problem the user must know about, e.g. `capture failing: disk full`.
    pub capture_health: Option<String>,
    /// Whether hold-on-error is on.
    pub hold: bool,
    /// The intercept pattern in force, when intercepting is on.
    pub intercept: Option<String>,
    /// Whether a live proxy is behind the screen, so it can resend and hold; false when
    /// browsing a past session.
    pub control: bool,
}

/// Which part of the screen keys act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    #[default]
    List,
    Request,
    Response,
}

impl Focus {
    pub fn next(self) -> Self {
        match self {
            Self::List => Self::Request,
            Self::Request => Self::Response,
            Self::Response => Self::List,
        }
    }

    pub fn previous(self) -> Self {
        match self {
            Self::List => Self::Response,
            Self::Request => Self::List,
            Self::Response => Self::Request,
        }
    }
}

/// How a pane shows its side of the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ViewMode {
    /// Read as an LLM call; falls back to raw when the body does not decode.
    #[default]
    Llm,
    /// Start line, headers and body as they went over the wire.
    Raw,
}

impl ViewMode {
    pub fn toggled(self) -> Self {
        match self {
            Self::Llm => Self::Raw,
            Self::Raw => Self::Llm,
        }
    }
}

/// One pane's view mode and scroll position (in logical lines). `usize::MAX` means "stick to
/// the bottom", which draw clamps; it keeps a live stream's newest text in view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PaneState {
    pub mode: ViewMode,
    pub scroll: usize,
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

/// The failure the banner shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    pub id: ExchangeId,
    pub method: String,
    pub uri: String,
    pub status: Option<u16>,
    pub failure: Failure,
    /// One line on the likely cause, from the LLM diagnosis, when it recognises the error.
    pub diagnosis: Option<String>,
}

/// A one-line message at the bottom of the screen: what a key did, or why it could not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
    /// When it was shown (Unix ms); it goes away a few seconds later.
    pub shown_at_ms: i64,
}

/// How long a notice stays on screen.
pub const NOTICE_MS: i64 = 8_000;

/// What the request and response panes have to show for the selected exchange.
#[derive(Debug, Clone, Default)]
pub enum Detail {
    /// Nothing is selected.
    #[default]
    Empty,
    /// The record was asked for with [`Command::LoadDetail`](super::Command::LoadDetail).
    Loading(ExchangeId),
    /// The record could not be had.
    Unavailable { id: ExchangeId, reason: String },
    /// Lines ready to draw.
    Ready(Box<DetailView>),
}

impl Detail {
    pub fn id(&self) -> Option<ExchangeId> {
        match self {
            Self::Empty => None,
            Self::Loading(id) | Self::Unavailable { id, .. } => Some(*id),
            Self::Ready(view) => Some(view.id),
        }
    }
}

/// The TUI state.
#[derive(Debug)]
pub struct App {
    pub status: StatusInfo,
    pub rows: RowTable,
    pub selected: Option<ExchangeId>,
    /// First shown row of the list (a position among the filtered rows).
    pub list_offset: usize,
    pub focus: Focus,
    pub request_pane: PaneState,
    pub response_pane: PaneState,
    pub filter: Filter,
    /// The filter being typed after `/`, until Enter or Esc.
    pub filter_input: Option<String>,
    /// The intercept pattern being typed after `I`, until Enter or Esc.
    pub intercept_input: Option<String>,
    /// The last intercept pattern turned on, offered again by the next `I`.
    pub last_intercept: String,
    /// Select each new exchange as it arrives.
    pub follow: bool,
    pub show_help: bool,
    pub banner: Option<Banner>,
    /// Failed exchanges whose banner the user dismissed.
    pub dismissed: HashSet<ExchangeId>,
    pub detail: Detail,
    /// The selected exchange's detail must be rebuilt (new chunks, head or record).
    pub detail_stale: bool,
    /// Full records of the most recently finished exchanges.
    pub recent: RecentRecords,
    /// What has arrived so far of exchanges in flight.
    pub live: HashMap<ExchangeId, LiveExchange>,
    /// Wall clock of the last tick, Unix ms.
    pub now_ms: i64,
    /// Terminal size (columns, rows): lets `update` size pages and keep the selection in view.
    pub size: (u16, u16),
    /// Set once the user asked to quit.
    pub quitting: bool,
    /// The request editor, while open; it takes the place of the list and the panes.
    pub editor: Option<Box<EditorState>>,
    pub notice: Option<Notice>,
    /// The request pane shows the diff from the parent request instead of the request.
    pub show_diff: bool,
    /// The diff of the selected resend, once both requests are in memory.
    pub diff: Option<RequestDiff>,
    /// A resend just started: select it when its row appears.
    pub select_when_seen: Option<ExchangeId>,
    /// The rules the proxy applies to agent requests, as this screen last set them.
    pub rules: Vec<Rule>,
    pub show_rules: bool,
    /// The highlighted rule in the rules list.
    pub rules_cursor: usize,
    /// Quick fixes of a resend sent but not yet started.
    pub sent_fixes: Option<SentFixes>,
    /// Quick fixes each resend was sent with, until kept as rules with `K`.
    pub kept_fixes: HashMap<ExchangeId, SentFixes>,
    /// Exchanges intercepted before forwarding and not started yet; the rows say until when.
    pub intercepted_ids: HashSet<ExchangeId>,
}

impl App {
    /// A TUI showing `rows` (a past session's, or none), following new exchanges when live.
    pub fn new(status: StatusInfo, rows: Vec<ExchangeRow>, now_ms: i64, size: (u16, u16)) -> Self {
        let filter = Filter::default();
        let rows = RowTable::new(rows, &filter);
        let selected = rows
            .visible_row(rows.visible_len().saturating_sub(1))
            .map(|r| r.id);
        Self {
            follow: status.live,
            status,
            rows,
            selected,
            list_offset: 0,
            focus: Focus::List,
            request_pane: PaneState::default(),
            response_pane: PaneState::default(),
            filter,
            filter_input: None,
            intercept_input: None,
            last_intercept: String::new(),
            show_help: false,
            banner: None,
            dismissed: HashSet::new(),
            detail: Detail::Empty,
            detail_stale: false,
            recent: RecentRecords::default(),
            live: HashMap::new(),
            now_ms,
            size,
            quitting: false,
            editor: None,
            notice: None,
            show_diff: false,
            diff: None,
            select_when_seen: None,
            rules: Vec::new(),
            show_rules: false,
            rules_cursor: 0,
            sent_fixes: None,
            kept_fixes: HashMap::new(),
            intercepted_ids: HashSet::new(),
        }
    }

    /// Shows `text` on the message line.
    pub fn notify(&mut self, text: impl Into<String>, error: bool) {
        self.notice = Some(Notice {
            text: text.into(),
            error,
            shown_at_ms: self.now_ms,
        });
    }

    /// The agent's exchange that `id` was (perhaps repeatedly) resent from, or `id` itself.
    /// Resends link to it, so the agent held there gets a good reply.
    pub fn lineage_root(&self, id: ExchangeId) -> ExchangeId {
        let mut at = id;
        // Bounded: a parent always has a smaller id, but a damaged record must not loop.
        for _ in 0..64 {
            match self.rows.get(at).and_then(|row| row.parent) {
                Some(parent) if parent < at => at = parent,
                _ => break,
            }
        }
        at
    }

    /// The hold state that concerns `id`: its own, or that of the exchange it was resent from.
    pub fn hold_of(&self, id: ExchangeId) -> Option<(ExchangeId, &HoldMark)> {
        [id, self.lineage_root(id)]
            .into_iter()
            .find_map(|at| self.rows.get(at)?.hold.as_ref().map(|mark| (at, mark)))
    }

    /// Intercepted requests waiting for the user, oldest first.
    pub fn intercepted(&self) -> Vec<(ExchangeId, i64)> {
        let mut waiting: Vec<_> = self
            .intercepted_ids
            .iter()
            .filter_map(|id| Some((*id, self.rows.get(*id)?.intercepted_until_ms?)))
            .collect();
        waiting.sort_unstable();
        waiting
    }

    pub fn selected_row(&self) -> Option<&ExchangeRow> {
        self.rows.get(self.selected?)
    }

    /// Where the selection sits among the shown rows.
    pub fn selected_position(&self) -> Option<usize> {
        self.rows.visible_position(self.selected?)
    }

    pub fn pane(&self, focus: Focus) -> Option<&PaneState> {
        match focus {
            Focus::List => None,
            Focus::Request => Some(&self.request_pane),
            Focus::Response => Some(&self.response_pane),
        }
    }
}
