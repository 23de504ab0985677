//! The TUI's only door to the quick-fix engine (`crate::fix`), so the editor's menu does not
//! depend on the engine's signatures.
//!
//! STUB: the fix engine has not landed in this tree yet; no fixes are offered and the menu
//! says so. Wiring it means filling in [`offers`] and [`apply`].

use crate::capture::ExchangeRecord;
use crate::llm::Dialect;

/// One fix the menu lists.
#[derive(Debug, Clone, PartialEq)]
pub struct FixOffer {
    /// What the fix does, as the menu shows it.
    pub label: String,
}

/// What applying a fix to the editor's text gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub text: String,
    pub summary: String,
}

/// The fixes for `record`'s failure, best first, or why there are none.
pub fn offers(_record: &ExchangeRecord, _last_good_model: Option<&str>) -> Result<Vec<FixOffer>, String> {
    Err("quick fixes are not available yet in this build".to_string())
}

/// Applies `offer` to the editor's `text`, keeping its request line and headers.
pub fn apply(_offer: &FixOffer, _dialect: Dialect, _text: &str) -> Result<Applied, String> {
    Err("quick fixes are not available yet in this build".to_string())
}
