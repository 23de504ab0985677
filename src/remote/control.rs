//! What a screen drives: the proxy in this process, or one attached over its socket. Both
//! answer the same questions; a local one answers at once.

use tokio::sync::watch;

use super::client::RemoteControl;
use super::wire::ControlState;
use crate::capture::{ExchangeId, HeaderList};
use crate::fix::{restore_secrets, Rule};
use crate::proxy::{ForwardCounts, ProxyControl, ResendRequest};

#[derive(Clone)]
pub enum Control {
    /// The proxy this process runs.
    Local(ProxyControl),
    /// The proxy of another llmscope process, over its attach socket.
    Remote(RemoteControl),
}

impl Control {
    /// The rules in force (as last reported, for a remote proxy), credentials redacted as
    /// every screen shows them.
    pub fn rules(&self) -> Vec<Rule> {
        match self {
            Self::Local(control) => control.rules().into_iter().map(Rule::redacted).collect(),
            Self::Remote(control) => control.state().rules,
        }
    }

    /// Forward mode's counts (as last reported, for a remote proxy); `None` in reverse mode.
    pub fn forward_counts(&self) -> Option<ForwardCounts> {
        match self {
            Self::Local(control) => control.forward_counts(),
            Self::Remote(control) => control.forward_counts(),
        }
    }

    /// Switches changed by another screen; `None` for a local proxy, whose only screen is
    /// this one.
    pub fn state_changes(&self) -> Option<watch::Receiver<ControlState>> {
        match self {
            Self::Local(_) => None,
            Self::Remote(control) => Some(control.state_changes()),
        }
    }

    /// Hold-on-error as it now is.
    pub async fn set_hold(&self, on: bool) -> Result<bool, String> {
        match self {
            Self::Local(control) => {
                control.set_hold(on);
                Ok(control.hold_enabled())
            }
            Self::Remote(control) => control.set_hold(on).await.map_err(|e| e.to_string()),
        }
    }

    /// Auto-fix as it now is.
    pub async fn set_auto_fix(&self, on: bool) -> Result<bool, String> {
        match self {
            Self::Local(control) => {
                control.set_auto_fix(on);
                Ok(control.auto_fix_enabled())
            }
            Self::Remote(control) => control.set_auto_fix(on).await.map_err(|e| e.to_string()),
        }
    }

    /// The intercept pattern now in force.
    pub async fn set_intercept(&self, pattern: Option<String>) -> Result<Option<String>, String> {
        match self {
            Self::Local(control) => {
                control.set_intercept(pattern.as_deref());
                Ok(control.intercept())
            }
            Self::Remote(control) => control
                .set_intercept(pattern)
                .await
                .map_err(|e| e.to_string()),
        }
    }

    pub async fn set_rules(&self, rules: Vec<Rule>) -> Result<(), String> {
        match self {
            Self::Local(control) => {
                // The screen's list came from `RulesChanged`, where credentials read
                // `<redacted>`: the proxy keeps the real ones.
                control.set_rules(restore_secrets(rules, &control.rules()));
                Ok(())
            }
            Self::Remote(control) => control
                .set_rules(rules)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        }
    }

    /// The new exchange, or why the resend was not sent.
    pub async fn resend(
        &self,
        parent: ExchangeId,
        request: ResendRequest,
    ) -> Result<ExchangeId, String> {
        match self {
            Self::Local(control) => control.resend(parent, request).map_err(|e| e.to_string()),
            Self::Remote(control) => flatten(control.resend(parent, &request).await),
        }
    }

    /// Whether `id` was held and its original failure went on.
    pub async fn forward_held(&self, id: ExchangeId) -> Result<bool, String> {
        match self {
            Self::Local(control) => Ok(control.forward_held(id)),
            Self::Remote(control) => control.forward_held(id).await.map_err(|e| e.to_string()),
        }
    }

    /// `Ok(false)` when `id` is not intercepted (any more).
    pub async fn release_intercepted(
        &self,
        id: ExchangeId,
        request: Option<ResendRequest>,
    ) -> Result<bool, String> {
        match self {
            Self::Local(control) => control
                .release_intercepted(id, request)
                .map_err(|e| e.to_string()),
            Self::Remote(control) => {
                flatten(control.release_intercepted(id, request.as_ref()).await)
            }
        }
    }

    pub async fn list_models(
        &self,
        id: ExchangeId,
        uri: &str,
        headers: &HeaderList,
    ) -> Result<Vec<String>, String> {
        match self {
            Self::Local(control) => control.list_models(id, uri, headers).await,
            Self::Remote(control) => flatten(control.list_models(id, uri, headers).await),
        }
    }
}

fn flatten<T>(answer: Result<Result<T, String>, super::RemoteError>) -> Result<T, String> {
    answer.map_err(|e| e.to_string()).and_then(|inner| inner)
}
