//! The quick fixes a resend was sent with, remembered until `K` keeps them as rules for the
//! agent requests like the one the resend fixed.

use crate::capture::{ExchangeId, HeaderList};
use crate::fix::{QuickFix, RuleMatch};

use super::rows::ExchangeRow;

/// The quick fixes a resend was sent with, and which agent requests a rule made from them
/// should match: those like the request the resend fixed.
#[derive(Debug, Clone, PartialEq)]
pub struct SentFixes {
    pub parent: ExchangeId,
    pub fixes: Vec<QuickFix>,
    pub matcher: RuleMatch,
    /// The headers as sent, for the value the user typed into a header fix.
    pub headers: HeaderList,
}

impl SentFixes {
    /// What to remember when a resend of `parent` (whose row is `row`) with `fixes` is sent.
    pub fn new(
        row: Option<&ExchangeRow>,
        parent: ExchangeId,
        fixes: Vec<QuickFix>,
        headers: HeaderList,
    ) -> Self {
        let model = row.and_then(|r| r.model.clone()).filter(|m| !m.is_empty());
        let matcher = RuleMatch {
            method: row.map(|r| r.method.clone()),
            path_contains: row.map(|r| r.path().to_string()),
            model_missing: model.is_none(),
            model,
        };
        Self {
            parent,
            fixes,
            matcher,
            headers,
        }
    }
}
