//! Whether the rows a screen started with are still being grouped into conversations, and
//! the live events that wait meanwhile: a conversation's turns are recognised in order, so
//! what starts live is filed after the history.

use crate::analysis::RequestShape;
use crate::capture::ExchangeId;
use crate::llm::Usage;

/// Whether the rows the screen started with are still being grouped.
#[derive(Debug, Default)]
pub enum HistoryGrouping {
    /// Nothing to wait for: exchanges are filed as they come.
    #[default]
    Done,
    /// The history is being read; what happened live meanwhile, in order.
    Reading(Vec<Deferred>),
}

/// A live event held back until the history is filed.
#[derive(Debug)]
pub enum Deferred {
    Started {
        id: ExchangeId,
        shape: RequestShape,
        host: Option<ExchangeId>,
    },
    Finished {
        id: ExchangeId,
        usage: Usage,
    },
}
