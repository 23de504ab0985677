//! One agent request through the exchange path, as hyper's service: the same for a request
//! that reached the listener directly (reverse mode) and one decrypted from an intercepted
//! host (forward mode).

use std::convert::Infallible;
use std::sync::Arc;

use http::{Request, Response};
use hyper::body::Incoming;
use tokio::sync::oneshot;

use super::agent_upstream::AgentUpstream;
use super::body::AgentBody;
use super::detach::Detachable;
use super::error_reply::failure_reply;
use super::exchange::run_exchange;
use super::ProxyState;
use crate::capture::{Failure, FailureClass};
use crate::llm::Dialect;

/// `own_upstream` is the agent connection's own upstream connection, where it keeps one.
pub async fn serve_exchange(
    state: Arc<ProxyState>,
    request: Request<Incoming>,
    own_upstream: Option<Arc<AgentUpstream>>,
) -> Result<Response<AgentBody>, Infallible> {
    let dialect = Dialect::detect(
        request.uri().path(),
        request.headers().contains_key("anthropic-version"),
    );
    let (head_tx, mut head_rx) = oneshot::channel();
    // The exchange runs here, in the connection's task, until the agent's reply head is
    // ready; a streamed body goes on inside the head (`relay_body.rs`), and whatever else is
    // left is detached into a task of its own when `exchange` drops at the end of this
    // function.
    let mut exchange =
        Detachable::new(run_exchange(state, request, dialect, head_tx, own_upstream));
    let head = tokio::select! {
        biased;
        () = &mut exchange => head_rx.await,
        head = &mut head_rx => head,
    };
    Ok(head.unwrap_or_else(|_| {
        // The exchange task ended without a reply head: only a bug or a panic gets here, and
        // its guard has recorded the exchange. The agent still deserves a reason.
        let failure = Failure::new(
            FailureClass::Reset,
            "llmscope could not complete this exchange (internal error; see the record)",
        );
        failure_reply(dialect, &failure)
    }))
}
