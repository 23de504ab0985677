//! Intercept before sending: an agent request matching the user's pattern is parked before it
//! is forwarded, with the agent's connection open, until the user sends it (edited or not),
//! the hold time runs out (it is then sent as the agent sent it), or the agent leaves.
//!
//! Nothing is published as `Started` while a request is parked: the record gets the request
//! as finally forwarded, with the agent's own in its `Rewrite` when the user changed it. A
//! parked request that never goes out is still recorded, as aborted.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::HeaderMap;

use super::error_reply::failure_reply;
use super::guard::{ExchangeGuard, HeadSender, Outgoing};
use super::headers::upstream_request_headers;
use super::wait_queue::WaitQueue;
use super::{ProxyState, ResendError, ResendRequest};
use crate::capture::{CaptureEvent, ExchangeStart, Failure, FailureClass, Rewrite};
use crate::llm::request_model;

/// Which requests to intercept: a case-insensitive substring of `"METHOD path model"`, so
/// `messages`, `POST /v1/chat` and `gpt-4o` all work; `*` matches every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterceptPattern {
    text: String,
    needle: String,
}

impl InterceptPattern {
    /// `None` for an empty pattern, which would otherwise silently match everything.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        (!text.is_empty()).then(|| Self {
            text: text.to_string(),
            needle: text.to_lowercase(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn matches(&self, method: &str, uri: &str, model: Option<&str>) -> bool {
        if self.needle == "*" {
            return true;
        }
        let path = uri.split_once('?').map_or(uri, |(path, _)| path);
        format!("{method} {path} {}", model.unwrap_or_default())
            .to_lowercase()
            .contains(&self.needle)
    }
}

/// How the user (or the clock, or shutdown) settles an intercepted request.
pub enum Release {
    /// Forward it as the agent sent it.
    Unchanged,
    Edited(EditedRequest),
    /// llmscope is stopping: answer the agent with an error, send nothing.
    Shutdown,
}

/// The user's version of the request, with real credentials restored.
pub struct EditedRequest {
    method: http::Method,
    /// Path and query as they go upstream (key-like query values restored).
    target: String,
    headers: HeaderMap,
    body: Bytes,
}

pub type InterceptQueue = WaitQueue<Release>;

impl InterceptQueue {
    /// Lets every intercepted request go with an error reply, so that shutdown does not wait
    /// on the user.
    pub fn release_all_for_shutdown(&self) {
        for waiting in self.list() {
            self.settle(waiting.id, Release::Shutdown);
        }
    }
}

/// Checks the user's request and restores the credentials that still read `<redacted>` from
/// what the agent sent (remembered when it was intercepted).
pub fn edited_request(
    state: &ProxyState,
    id: crate::capture::ExchangeId,
    request: ResendRequest,
) -> Result<EditedRequest, ResendError> {
    let method = http::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| ResendError::Method(request.method.clone()))?;
    let headers = state.secrets.restore(id, &request.headers)?;
    Ok(EditedRequest {
        method,
        target: state.secrets.restore_target(id, &request.uri),
        // A typed Host or Content-Length would contradict the body and upstream actually used.
        headers: upstream_request_headers(headers),
        body: request.body,
    })
}

/// Parks the request until it is released. Returns what to forward and the agent to answer,
/// or `None` when it must not be forwarded (the agent left, llmscope stops); the exchange is recorded either way.
pub async fn park_request(
    state: &Arc<ProxyState>,
    start: ExchangeStart,
    outgoing: Outgoing,
    mut agent: HeadSender,
    clock: Instant,
) -> Option<(ExchangeStart, Outgoing, HeadSender)> {
    let id = start.id;
    let timeout = state.config.hold_timeout;
    let expires_at_ms = chrono::Utc::now().timestamp_millis()
        + i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
    state
        .secrets
        .remember(id, &outgoing.headers, &outgoing.target);
    let (settle, settled) = tokio::sync::oneshot::channel();
    state.intercepts.insert(id, settle, expires_at_ms);
    state.active.enter();
    let mut parked = Parked {
        state: state.clone(),
        start: Some(start),
        clock,
    };
    state.bus.publish(CaptureEvent::Intercepted {
        start: Arc::new(parked.start.clone()?),
        expires_at_ms,
    });
    let release = tokio::select! {
        release = settled => release.unwrap_or(Release::Unchanged),
        () = tokio::time::sleep(timeout) => Release::Unchanged,
        () = agent.closed() => {
            parked.abort("agent closed the connection while its request was intercepted");
            return None;
        }
    };
    let start = parked.unpark()?;
    match release {
        Release::Unchanged => Some((start, outgoing, agent)),
        Release::Edited(edited) => {
            let (start, outgoing) = apply_edit(start, outgoing, edited);
            Some((start, outgoing, agent))
        }
        Release::Shutdown => {
            let failure = Failure::new(
                FailureClass::ClientAborted,
                "llmscope stopped while the request was intercepted; it was not sent",
            );
            let guard = ExchangeGuard::new(state.clone(), start, clock);
            let dialect = guard.start.dialect;
            let _ = agent.send(failure_reply(dialect, &failure));
            guard.finish(None, Some(failure));
            None
        }
    }
}

/// The start as forwarded after the user's edit. The user edited the request as rules left
/// it, but the rewrite keeps what the agent itself sent, as it does for rules alone.
fn apply_edit(
    start: ExchangeStart,
    outgoing: Outgoing,
    edited: EditedRequest,
) -> (ExchangeStart, Outgoing) {
    let changed = edited.method != outgoing.method
        || edited.target != outgoing.target
        || edited.headers != outgoing.headers
        || edited.body != outgoing.body;
    if !changed {
        return (start, outgoing);
    }
    let (original, mut applied) = match &start.rewrite {
        Some(rewrite) => (rewrite.original.clone(), rewrite.applied.clone()),
        None => (start.request.clone(), Vec::new()),
    };
    applied.push("edited by the user before sending".to_string());
    let outgoing = Outgoing {
        method: edited.method,
        target: edited.target,
        headers: edited.headers,
        body: edited.body,
        own_upstream: None,
    };
    let start = ExchangeStart {
        dialect: outgoing.dialect(),
        model: request_model(&outgoing.target, &outgoing.body),
        request: outgoing.captured(),
        rewrite: Some(Arc::new(Rewrite { original, applied })),
        ..start
    };
    (start, outgoing)
}

/// A parked request's claim on the record: if its task ends before the request is let go
/// (the runtime stopping, a panic), dropping it still records the exchange.
struct Parked {
    state: Arc<ProxyState>,
    start: Option<ExchangeStart>,
    clock: Instant,
}

impl Parked {
    /// Leaves the queue; the caller now owns the start and must publish it.
    fn unpark(&mut self) -> Option<ExchangeStart> {
        let start = self.start.take()?;
        self.state.intercepts.take(start.id);
        self.state.active.leave();
        Some(start)
    }

    fn abort(&mut self, why: &str) {
        if let Some(start) = self.unpark() {
            let guard = ExchangeGuard::new(self.state.clone(), start, self.clock);
            guard.finish(None, Some(Failure::new(FailureClass::ClientAborted, why)));
        }
    }
}

impl Drop for Parked {
    fn drop(&mut self) {
        self.abort("llmscope stopped while the request was intercepted");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_matches_method_path_or_model_ignoring_case() {
        let chat = |p: &str| {
            InterceptPattern::parse(p)
                .is_some_and(|p| p.matches("POST", "/v1/chat/completions?x=1", Some("gpt-4o-mini")))
        };
        assert!(chat("chat"));
        assert!(chat("post /V1/chat"));
        assert!(chat("GPT-4o"));
        assert!(chat("*"));
        assert!(!chat("messages"));
        assert!(!chat("x=1"), "the query is not part of the path");
        assert!(InterceptPattern::parse("  ").is_none());
    }
}
