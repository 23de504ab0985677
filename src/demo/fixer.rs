//! The headless demo's stand-in for the user at the screen: when the proxy holds a failure,
//! it picks the first quick fix, resends the request with it through the proxy's control API,
//! and says so, so that `demo --headless` tells the same story with no keys pressed. It does
//! what auto-fix would do for a lossless fix, for any fix: nobody is watching a headless run.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use crate::capture::{CaptureEvent, ExchangeId, ExchangeRecord, Subscription};
use crate::fix::{self, EditableRequest, FixContext, QuickFix};
use crate::proxy::{ProxyControl, ResendRequest};

const READING_TIME: std::time::Duration = std::time::Duration::from_millis(100);

/// Watches `events` until they end, settling every held failure; `say` gets one line per step
/// of the story (held, fixed with what, how the hold ended).
pub async fn fix_held_failures(
    mut events: Subscription,
    control: ProxyControl,
    mut say: impl FnMut(String),
) {
    let mut finished: HashMap<ExchangeId, Arc<ExchangeRecord>> = HashMap::new();
    let mut last_good_model: Option<String> = None;
    while let Some(event) = events.recv().await {
        match event {
            CaptureEvent::Finished(record) => {
                let ok = record.failure.is_none()
                    && record
                        .response
                        .as_ref()
                        .is_some_and(|r| (200..300).contains(&r.status));
                if ok {
                    last_good_model = record.start.model.clone().or(last_good_model);
                }
                finished.insert(record.id(), record);
            }
            CaptureEvent::Held { id, .. } => {
                let Some(record) = finished.get(&id) else {
                    continue;
                };
                // A user's moment to read the banner; it also lets the exchange's own line
                // go out before the lines about its hold.
                tokio::time::sleep(READING_TIME).await;
                say(format!(
                    "llmscope: {id} held — the agent keeps waiting for a reply"
                ));
                match first_fix(record, last_good_model.as_deref()) {
                    // llmscope sends this one itself, as it would for a user at the screen.
                    Some((fix, _)) if fix.is_lossless() && control.auto_fix_enabled() => say(
                        format!("llmscope: auto-fix repairs {id} by itself: {fix}, no key pressed"),
                    ),
                    Some((fix, request)) => match control.resend(id, request) {
                        Ok(resend) => say(format!(
                            "demo: fixing {id} as the user would (e, Ctrl-F, 1, Ctrl-S): {fix} → resend {resend}"
                        )),
                        Err(error) => say(format!("demo: could not resend {id}: {error}")),
                    },
                    None => {
                        control.forward_held(id);
                        say(format!(
                            "demo: no quick fix for {id}; its error goes on to the agent"
                        ));
                    }
                }
            }
            CaptureEvent::HoldEnded { id, outcome, .. } => {
                say(format!("llmscope: {id} hold ended: {outcome}"));
            }
            _ => {}
        }
    }
}

/// The first quick fix for `record`'s failure, and the request with it applied.
fn first_fix(
    record: &ExchangeRecord,
    last_good_model: Option<&str>,
) -> Option<(QuickFix, ResendRequest)> {
    let failure = record.failure.as_ref()?;
    let status = record.response.as_ref().map(|r| r.status);
    let diagnosis = crate::llm::diagnose(status, &failure.message)?;
    let request = &record.start.request;
    let context = FixContext {
        last_good_model: last_good_model.map(str::to_string),
        upstream_message: Some(failure.message.clone()),
    };
    let fixes = fix::suggest_fixes(
        &diagnosis.kind,
        record.start.dialect,
        &request.body,
        &context,
    );
    let fix = fixes.into_iter().next()?;
    let mut editable = EditableRequest {
        headers: request.headers.clone(),
        body: serde_json::from_slice(&request.body).ok()?,
    };
    let outcome = fix::apply_fix(&fix, record.start.dialect, &mut editable).ok()?;
    if !outcome.changed {
        return None;
    }
    let body = serde_json::to_vec(&editable.body).ok()?;
    Some((
        fix,
        ResendRequest {
            method: request.method.clone(),
            uri: request.uri.clone(),
            headers: editable.headers,
            body: Bytes::from(body),
        },
    ))
}
