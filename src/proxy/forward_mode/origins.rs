//! Which intercepted host each recent exchange was sent to, so its resends, fixes and model
//! lists go to the same host.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::{Mutex, PoisonError};

use crate::capture::{CapturedRequest, ExchangeId, HeaderList};
use crate::proxy::Upstream;

/// Exchanges remembered; a resend is made from a recent one (a hold lasts minutes).
const REMEMBERED: usize = 16_384;

/// Put in a request's extensions by forward mode: the host it was decrypted from, shared by
/// every exchange of its connection.
#[derive(Debug, Clone)]
pub struct InterceptedOrigin(pub Arc<Upstream>);

#[derive(Default)]
pub struct Origins {
    inner: Mutex<Remembered>,
}

#[derive(Default)]
struct Remembered {
    by_id: HashMap<ExchangeId, Arc<Upstream>>,
    order: VecDeque<ExchangeId>,
}

impl Origins {
    pub fn remember(&self, id: ExchangeId, origin: &InterceptedOrigin) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.order.len() >= REMEMBERED {
            if let Some(oldest) = inner.order.pop_front() {
                inner.by_id.remove(&oldest);
            }
        }
        inner.order.push_back(id);
        inner.by_id.insert(id, origin.0.clone());
    }

    pub fn of(&self, id: ExchangeId) -> Option<Arc<Upstream>> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.by_id.get(&id).cloned()
    }
}

/// Keeps the intercepted host in the record. The agent's `Host` stops at llmscope (the client
/// sets its own for the upstream), which in reverse mode loses nothing; in forward mode it is
/// the one thing that tells a call to `api.anthropic.com` from one to `chatgpt.com`.
pub fn record_host(request: &mut CapturedRequest, origin: &Upstream) {
    let has_host = request
        .headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"));
    if !has_host {
        let mut headers = HeaderList::with_capacity(request.headers.len() + 1, 0);
        headers.push("host", &origin.authority());
        headers.extend(request.headers.iter());
        request.headers = headers;
    }
}
