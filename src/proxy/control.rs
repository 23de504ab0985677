//! What the screen can ask of a running proxy: hold failures or not, resend a request, settle
//! a held exchange.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use super::exchange::spawn_resend;
use super::hold::HeldSummary;
use super::ProxyState;
use crate::capture::{ExchangeId, HeaderList};

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

    /// Held exchanges, oldest first.
    pub fn held(&self) -> Vec<HeldSummary> {
        self.state.holds.list()
    }
}
