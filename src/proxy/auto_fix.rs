//! `--auto-fix`: a failed agent request whose best quick fix loses nothing the model needs
//! (a parameter the upstream refuses, a `tool_choice` it does not support, a schema it cannot
//! read) is held, fixed and resent at once, and the waiting agent gets the good reply with no
//! key press. Lossy fixes are left to a person; an auto-fix that fails too leaves the agent
//! held when hold-on-error is on, and gives it the original error otherwise.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use serde_json::Value;

use super::{ProxyState, ResendRequest};
use crate::capture::{CapturedRequest, ExchangeId, ExchangeStart, Failure, HeaderList, Rewrite};
use crate::fix::{apply_fix, suggest_fixes, EditableRequest, FixContext, QuickFix};
use crate::llm::diagnose;

/// A fixed request, ready to resend in place of the failed one.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoFix {
    pub fix: QuickFix,
    pub body: Bytes,
}

/// An auto-fix to send for the held exchange `parent`, whose request was `original`.
pub struct AutoFixJob {
    pub parent: ExchangeId,
    pub original: CapturedRequest,
    pub fixed: AutoFix,
}

impl AutoFixJob {
    /// The fixed request as a resend of the original, with the record's note of what changed.
    pub fn into_resend(self) -> (ResendRequest, Rewrite) {
        let request = ResendRequest {
            method: self.original.method.clone(),
            uri: self.original.uri.clone(),
            headers: self.original.headers.clone(),
            body: self.fixed.body,
        };
        let rewrite = Rewrite {
            original: self.original,
            applied: vec![format!("auto-fix: {}", self.fixed.fix)],
        };
        (request, rewrite)
    }
}

impl ProxyState {
    pub(super) fn auto_fix_enabled(&self) -> bool {
        self.auto_fix.load(Ordering::Relaxed)
    }
}

/// The lossless fix for `failure` of the request `start`, applied; `None` when the best fix
/// is lossy, changes nothing, or there is none.
pub fn lossless_fix(start: &ExchangeStart, status: u16, failure: &Failure) -> Option<AutoFix> {
    let diagnosis = diagnose(Some(status), &failure.message)?;
    let context = FixContext {
        last_good_model: None,
        upstream_message: Some(failure.message.clone()),
    };
    let body = &start.request.body;
    let fix = suggest_fixes(&diagnosis.kind, start.dialect, body, &context)
        .into_iter()
        .next()
        .filter(QuickFix::is_lossless)?;
    let mut request = EditableRequest {
        headers: HeaderList::new(),
        body: serde_json::from_slice::<Value>(body).ok()?,
    };
    let outcome = apply_fix(&fix, start.dialect, &mut request).ok()?;
    if !outcome.changed || !fix.edits_body() {
        return None;
    }
    let body = serde_json::to_vec(&request.body).ok()?;
    Some(AutoFix {
        fix,
        body: Bytes::from(body),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::test_fixtures::agent_start;
    use crate::capture::FailureClass;

    fn start(body: &str) -> ExchangeStart {
        agent_start(1, "/v1/chat/completions", body)
    }

    #[test]
    fn an_unsupported_parameter_is_removed_and_nothing_else_changes() {
        let body = r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"reasoning_effort":"high"}"#;
        let failure = Failure::new(
            FailureClass::HttpError(400),
            "litellm.BadRequestError: OpenAIException - Unrecognized request argument supplied: reasoning_effort",
        );
        let fixed = lossless_fix(&start(body), 400, &failure).expect("a lossless fix");
        assert_eq!(
            fixed.fix,
            QuickFix::RemoveParam {
                name: "reasoning_effort".into()
            }
        );
        let value: Value = serde_json::from_slice(&fixed.body).expect("json");
        assert!(value.get("reasoning_effort").is_none());
        assert_eq!(value["messages"][0]["content"], "hi");
    }

    #[test]
    fn lossy_fixes_are_left_to_a_person() {
        let body = r#"{"model":"m","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}]}"#;
        let failure = Failure::new(
            FailureClass::HttpError(400),
            "This model's maximum context length is 10 tokens. However, your messages resulted in 20 tokens.",
        );
        assert_eq!(lossless_fix(&start(body), 400, &failure), None);
        let unknown = Failure::new(FailureClass::HttpError(500), "Internal server error");
        assert_eq!(lossless_fix(&start(body), 500, &unknown), None);
    }
}
