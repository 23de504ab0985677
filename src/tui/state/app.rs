//! The TUI's whole state as plain data. Changed only by `update`, read by `draw`.

use std::collections::{HashMap, HashSet};

use crate::analysis::{PriceTable, ProviderCauses, RetryLoops};
use crate::capture::{ExchangeId, Failure, SessionId};
use crate::fix::Rule;
use crate::proxy::ForwardCounts;
use crate::tui::present::diff::{DiffKind, RequestDiff};
use crate::tui::present::pane_text::ViewMode;

use super::conversation_view::ConversationView;
use super::conversations::ConversationBook;
use super::detail::Detail;
use super::editor::EditorState;
use super::fixes::SentFixes;
use super::history::HistoryGrouping;
use super::records::{LiveExchange, RecentRecords};
use super::rows::{ExchangeRow, Filter, HoldMark, RowTable};

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
    /// Whether lossless quick fixes apply themselves to failures.
    pub auto_fix: bool,
    /// The intercept pattern in force, when intercepting is on.
    pub intercept: Option<String>,
    /// Whether a live proxy is behind the screen, so it can resend and hold; false when
    /// browsing a past session.
    pub control: bool,
    /// Whether the proxy runs in another process and this screen is attached to it
    /// (`llmscope attach`).
    pub attached: bool,
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

/// One pane's view mode and scroll position (in logical lines). `usize::MAX` means "stick to
/// the bottom", which draw clamps; it keeps a live stream's newest text in view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PaneState {
    pub mode: ViewMode,
    pub scroll: usize,
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
    /// When the failure repeats an earlier one, what the agent is doing about it: "opencode
    /// is retrying a failing request: 2,338× in 7 min — <reason>".
    pub retry_loop: Option<String>,
    /// When a gateway answered and a provider call beneath failed: the provider's failure,
    /// "LiteLLM 500 ← openai: the provider sent a malformed HTTP response: …".
    pub cause: Option<String>,
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

/// What has the keyboard. One at a time: each is entered from the main screen and goes back
/// to it, so a prompt over the editor, say, cannot be represented.
#[derive(Debug, Default)]
pub enum Mode {
    /// The list and the panes.
    #[default]
    Normal,
    /// The filter being typed after `/`, until Enter or Esc.
    Filter(String),
    /// The intercept pattern being typed after `I`, until Enter or Esc.
    Intercept(String),
    /// The request editor; it takes the place of the list and the panes.
    Editor(Box<EditorState>),
    /// The rules list over the screen.
    Rules,
    /// The selected exchange's whole conversation, read top to bottom; it takes the place of
    /// the list and the panes.
    Conversation(Box<ConversationView>),
    /// The help over the screen.
    Help,
}

/// The TUI state.
#[derive(Debug)]
pub struct App {
    pub status: StatusInfo,
    /// Forward mode's tunnelled connections and refused handshakes; `None` in reverse mode
    /// or when the proxy runs in another process.
    pub forward: Option<ForwardCounts>,
    pub rows: RowTable,
    pub selected: Option<ExchangeId>,
    /// First shown row of the list (a position among the filtered rows).
    pub list_offset: usize,
    pub focus: Focus,
    pub request_pane: PaneState,
    pub response_pane: PaneState,
    pub filter: Filter,
    /// What has the keyboard: the main screen, a prompt, the editor or an overlay.
    pub mode: Mode,
    /// The last intercept pattern turned on, offered again by the next `I`.
    pub last_intercept: String,
    /// Select each new exchange as it arrives.
    pub follow: bool,
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
    pub notice: Option<Notice>,
    /// The request pane shows a diff instead of the request: from the resend's parent, or
    /// from the turn before.
    pub diff_view: Option<DiffKind>,
    /// The diff of the selected request, once both requests are in memory.
    pub diff: Option<RequestDiff>,
    /// A resend just started: select it when its row appears.
    pub select_when_seen: Option<ExchangeId>,
    /// The rules the proxy applies to agent requests, as this screen last set them.
    pub rules: Vec<Rule>,
    /// The highlighted rule in the rules list; kept while the list is closed, so `R` opens it
    /// where the user left it.
    pub rules_cursor: usize,
    /// Quick fixes of a resend sent but not yet started.
    pub sent_fixes: Option<SentFixes>,
    /// Quick fixes each resend was sent with, until kept as rules with `K`.
    pub kept_fixes: HashMap<ExchangeId, SentFixes>,
    /// Exchanges intercepted before forwarding and not started yet; the rows say until when.
    pub intercepted_ids: HashSet<ExchangeId>,
    /// The retry loops seen so far, for the banner.
    pub loops: RetryLoops,
    /// Provider failures under agent exchanges, for the banner's deepest cause.
    pub causes: ProviderCauses,
    /// Which conversation each exchange is in, and their tokens, cost and gauges.
    pub conversations: ConversationBook,
    /// Whether the rows the screen started with are still being grouped.
    pub history: HistoryGrouping,
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
            forward: None,
            rows,
            selected,
            list_offset: 0,
            focus: Focus::List,
            request_pane: PaneState::default(),
            response_pane: PaneState::default(),
            filter,
            mode: Mode::Normal,
            last_intercept: String::new(),
            banner: None,
            dismissed: HashSet::new(),
            detail: Detail::Empty,
            detail_stale: false,
            recent: RecentRecords::default(),
            live: HashMap::new(),
            now_ms,
            size,
            quitting: false,
            notice: None,
            diff_view: None,
            diff: None,
            select_when_seen: None,
            rules: Vec::new(),
            rules_cursor: 0,
            sent_fixes: None,
            kept_fixes: HashMap::new(),
            intercepted_ids: HashSet::new(),
            loops: RetryLoops::default(),
            causes: ProviderCauses::default(),
            // The shipped table is checked by a test; `set_prices` lays the user's over it.
            conversations: ConversationBook::new(PriceTable::builtin().unwrap_or_default()),
            history: HistoryGrouping::Done,
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

    /// Whether `id` is an intercepted request still waiting to be sent.
    pub fn is_intercepted(&self, id: ExchangeId) -> bool {
        self.intercepted_ids.contains(&id)
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

    pub fn pane(&self, focus: Focus) -> Option<&PaneState> {
        match focus {
            Focus::List => None,
            Focus::Request => Some(&self.request_pane),
            Focus::Response => Some(&self.response_pane),
        }
    }

    /// The open editor, if the editor has the keyboard.
    pub fn editor(&self) -> Option<&EditorState> {
        match &self.mode {
            Mode::Editor(editor) => Some(editor),
            _ => None,
        }
    }

    /// The filter being typed, if its prompt has the keyboard.
    pub fn filter_input(&self) -> Option<&str> {
        match &self.mode {
            Mode::Filter(input) => Some(input),
            _ => None,
        }
    }

    /// The intercept pattern being typed, if its prompt has the keyboard.
    pub fn intercept_input(&self) -> Option<&str> {
        match &self.mode {
            Mode::Intercept(input) => Some(input),
            _ => None,
        }
    }
}
