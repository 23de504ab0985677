//! What the TUI starts from, what it reads the store through, and how it can fail: the
//! runtime's face to `cli`.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use crate::analysis::PriceTable;
use crate::capture::{ExchangeId, ExchangeRecord, ExchangeStart, Subscription};
use crate::llm::Usage;
use crate::otlp::ExportHealth;
use crate::remote::Control;
use crate::store::StoreHealth;
use crate::tui::state::app::StatusInfo;
use crate::tui::state::rows::ExchangeRow;

/// Fetches a full record that is no longer in memory (from the store). Called on a blocking
/// thread, one load at a time.
pub trait DetailLoader: Send + Sync {
    /// `Ok(None)` when there is no such exchange.
    fn load(&self, id: ExchangeId) -> Result<Option<ExchangeRecord>, String>;

    /// Up to `limit` requests after `after`, in id order, each with its reply's token
    /// counts: what grouping a past session's rows into conversations reads. A loader with
    /// no store behind it has none, and the rows stay ungrouped.
    fn requests(
        &self,
        _after: Option<ExchangeId>,
        _limit: usize,
    ) -> Result<Vec<(ExchangeStart, Usage)>, String> {
        Ok(Vec::new())
    }
}

/// What the TUI starts from.
pub struct TuiContext {
    pub status: StatusInfo,
    /// Rows to show at once, e.g. a past session's.
    pub rows: Vec<ExchangeRow>,
    /// Live capture events; `None` when only browsing.
    pub events: Option<Subscription>,
    pub loader: Arc<dyn DetailLoader>,
    /// The store writer's health, shown in the status line while capture is failing.
    pub capture_health: Option<Arc<StoreHealth>>,
    /// The `--otlp` export's health and its collector, shown once spans are being lost.
    pub export_health: Option<(Arc<ExportHealth>, String)>,
    /// The running proxy (here or attached), for resend and hold; `None` when browsing a
    /// past session.
    pub control: Option<Control>,
    /// Where `y` writes curl commands.
    pub export_dir: PathBuf,
    /// What exchanges cost, and each model's context window.
    pub prices: PriceTable,
}

#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error("cannot take over the terminal (llmscope's TUI needs an interactive terminal; use `llmscope record` for headless capture): {0}")]
    Setup(#[source] io::Error),
    #[error("drawing to the terminal failed: {0}")]
    Draw(#[source] io::Error),
    #[error("reading terminal input failed: {0}")]
    Input(#[source] io::Error),
    #[error("loading an exchange's record crashed: {0}")]
    LoaderPanicked(String),
}
