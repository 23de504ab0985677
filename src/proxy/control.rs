//! What the screen can ask of a running proxy: hold failures or not, intercept requests or
//! not, resend a request, settle a held exchange, send an intercepted request.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use bytes::Bytes;

use super::exchange::spawn_resend;
use super::intercept::{edited_request, InterceptPattern, Release};
use super::wait_queue::HeldSummary;
use super::ProxyState;
use crate::capture::{CaptureEvent, ExchangeId, HeaderList};
use crate::fix::Rule;

/// A request to send again, usually edited by the user. Header values that still read
/// `<redacted>` are sent with the parent's real value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResendRequest {
    pub method: String,
    /// Path and query, as in the record.
    pub uri: String,
    pub headers: HeaderList,
    pub body: Bytes,
}

/// Why a resend could not start.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResendError {
    #[error("{0:?} is not a valid HTTP method")]
    Method(String),
    #[error("header {0:?} is not a valid header (use `Name: value`)")]
    Header(String),
    /// A `CONNECT` row is a TLS handshake the agent refused: no request ever came through it.
    #[error(
        "a refused TLS handshake (CONNECT {target}) has no request to resend: make the agent \
         trust llmscope's CA (`llmscope ca`)"
    )]
    Handshake { target: String },
}

/// Cheap to clone; every clone controls the same proxy.
#[derive(Clone)]
pub struct ProxyControl {
    pub(super) state: Arc<ProxyState>,
}

impl ProxyControl {
    pub fn set_hold(&self, on: bool) {
        self.state.hold.store(on, Ordering::Relaxed);
    }

    pub fn hold_enabled(&self) -> bool {
        self.state.hold_enabled()
    }

    /// Turns auto-fix on or off: failures whose best quick fix loses nothing are fixed and
    /// resent at once.
    pub fn set_auto_fix(&self, on: bool) {
        self.state.auto_fix.store(on, Ordering::Relaxed);
    }

    pub fn auto_fix_enabled(&self) -> bool {
        self.state.auto_fix_enabled()
    }

    /// The models the upstream behind exchange `id` lists, asked with `id`'s credentials
    /// (`headers` as the record holds them, secrets redacted).
    pub async fn list_models(
        &self,
        id: ExchangeId,
        uri: &str,
        headers: &HeaderList,
    ) -> Result<Vec<String>, String> {
        super::models::list_models(&self.state, id, uri, headers).await
    }

    /// Sends `request` as a new exchange linked to `parent`. If the agent of `parent` is held
    /// and the reply succeeds, the reply goes to that agent. Returns the new exchange's id.
    pub fn resend(
        &self,
        parent: ExchangeId,
        request: ResendRequest,
    ) -> Result<ExchangeId, ResendError> {
        spawn_resend(self.state.clone(), parent, request)
    }

    /// Sends the held exchange's original failure on to its agent; `false` if not held.
    pub fn forward_held(&self, id: ExchangeId) -> bool {
        self.state.holds.forward_original(id)
    }

    /// Replaces the rules applied to every later agent request, and records them with the
    /// session.
    pub fn set_rules(&self, rules: Vec<Rule>) {
        let redacted: Vec<Rule> = rules.iter().cloned().map(Rule::redacted).collect();
        let stored = serde_json::to_value(&redacted).unwrap_or_default();
        self.state.rules.replace(rules);
        self.state.bus.publish(CaptureEvent::RulesChanged {
            session: self.state.session,
            rules: Arc::new(stored),
        });
    }

    pub fn rules(&self) -> Vec<Rule> {
        self.state.rules.list()
    }

    /// Starts intercepting agent requests that match `pattern` (see [`InterceptPattern`]), or
    /// stops with `None` or an empty pattern. Requests already intercepted stay so.
    pub fn set_intercept(&self, pattern: Option<&str>) {
        let pattern = pattern.and_then(InterceptPattern::parse);
        *self
            .state
            .intercept
            .write()
            .unwrap_or_else(PoisonError::into_inner) = pattern;
    }

    /// The pattern in force, as the user wrote it.
    pub fn intercept(&self) -> Option<String> {
        self.state
            .intercept_pattern()
            .map(|p| p.as_str().to_string())
    }

    /// Sends an intercepted request on: as the agent sent it (`None`), or as the user edited
    /// it, with header values still reading `<redacted>` given the agent's real ones. `false`
    /// when `id` is not intercepted (any more); an error leaves it intercepted.
    pub fn release_intercepted(
        &self,
        id: ExchangeId,
        request: Option<ResendRequest>,
    ) -> Result<bool, ResendError> {
        let release = match request {
            None => Release::Unchanged,
            Some(request) => Release::Edited(edited_request(&self.state, id, request)?),
        };
        Ok(self.state.intercepts.settle(id, release))
    }

    /// Intercepted requests, oldest first.
    pub fn intercepted(&self) -> Vec<HeldSummary> {
        self.state.intercepts.list()
    }

    /// Held exchanges, oldest first.
    pub fn held(&self) -> Vec<HeldSummary> {
        self.state.holds.list()
    }
}
