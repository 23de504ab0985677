//! Repeats of a held request that wait with it instead of stacking holds of their own: an
//! agent that resends a request while the first copy is held (a client timeout shorter than
//! the hold, sub-agents asking the same thing) gets the same answer as the held one, from
//! the same fix, and the upstream is not asked again meanwhile.
//!
//! Copies are grouped by the first exchange of their retry loop, which every repeat names.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

use http::{HeaderMap, StatusCode};

use super::body::WholeReply;
use super::error_reply::failure_whole;
use super::guard::HeadSender;
use super::headers::agent_response_headers;
use super::reply::UpstreamReply;
use crate::capture::{CapturedResponse, ExchangeId, Failure, FailureClass};
use crate::llm::Dialect;

/// What a waiting copy is answered with.
#[derive(Debug, Clone)]
pub struct CopyAnswer {
    pub reply: WholeReply,
    /// The failure it stands for, when the copy gets the original error.
    pub failure: Option<Failure>,
}

pub type CopySender = oneshot::Sender<CopyAnswer>;

/// A held agent taken by the resend that fixes it, with the copies that waited with it.
pub struct Claimed {
    pub agent: HeadSender,
    pub copies: Vec<CopySender>,
}

struct Group {
    held: ExchangeId,
    copies: Vec<CopySender>,
}

/// The held requests that copies may join, by the first exchange of their loop.
#[derive(Default)]
pub struct HeldCopies {
    groups: Mutex<HashMap<ExchangeId, Group>>,
}

impl HeldCopies {
    fn lock(&self) -> MutexGuard<'_, HashMap<ExchangeId, Group>> {
        // Groups are inserted and removed whole; a panic cannot leave one half-written.
        self.groups.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `held` is now held; copies of its loop (`root`) may join it.
    pub fn open(&self, root: ExchangeId, held: ExchangeId) {
        self.lock().insert(
            root,
            Group {
                held,
                copies: Vec::new(),
            },
        );
    }

    /// Joins the held request of loop `root`, if there is one; the receiver yields its
    /// answer, or fails when the held request ended without one for its copies.
    pub fn join(&self, root: ExchangeId) -> Option<oneshot::Receiver<CopyAnswer>> {
        let mut groups = self.lock();
        let group = groups.get_mut(&root)?;
        let (tx, rx) = oneshot::channel();
        group.copies.push(tx);
        Some(rx)
    }

    /// Ends the group of `held` and returns its copies to be answered (or dropped, which
    /// sends them on their own way).
    pub fn close(&self, root: ExchangeId, held: ExchangeId) -> Vec<CopySender> {
        let mut groups = self.lock();
        match groups.get(&root) {
            Some(group) if group.held == held => {
                groups.remove(&root).map(|g| g.copies).unwrap_or_default()
            }
            _ => Vec::new(),
        }
    }
}

/// The copies that wait for the reply a resend is relaying to their held agent.
pub struct FixCopies {
    status: StatusCode,
    headers: HeaderMap,
    copies: Vec<CopySender>,
}

impl FixCopies {
    /// `None` when no copy waits, which is nearly always.
    pub fn of(reply: &UpstreamReply, copies: Vec<CopySender>) -> Option<Self> {
        (!copies.is_empty()).then(|| Self {
            status: reply.status(),
            headers: agent_response_headers(reply.headers().clone()),
            copies,
        })
    }

    /// Gives the copies the reply the held agent got: whole when the record kept all of it,
    /// else an error saying why they cannot have it.
    pub fn answer(self, dialect: Dialect, response: &CapturedResponse, failure: Option<&Failure>) {
        let whole = response.body.len() as u64 == response.body_len;
        // The held agent hanging up says nothing of the reply: its copies still want it.
        let failure = failure.filter(|f| f.class != FailureClass::ClientAborted || !whole);
        let answer = match failure {
            None if whole => CopyAnswer {
                reply: WholeReply {
                    status: self.status,
                    headers: self.headers,
                    body: response.body.clone(),
                },
                failure: None,
            },
            _ => {
                let failure = failure.cloned().unwrap_or_else(|| {
                    Failure::new(
                        FailureClass::Reset,
                        "the fixed reply was larger than --max-capture-bytes, so it could not \
                         be given to the copies of the request that waited with it",
                    )
                });
                CopyAnswer {
                    reply: failure_whole(dialect, &failure),
                    failure: Some(failure),
                }
            }
        };
        answer_all(self.copies, &answer);
    }
}

/// Gives every copy the same answer; copies whose agent left are skipped.
pub fn answer_all(copies: Vec<CopySender>, answer: &CopyAnswer) {
    for copy in copies {
        let _ = copy.send(answer.clone());
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::capture::HeaderList;

    fn reply(body: &'static [u8], body_len: u64) -> CapturedResponse {
        CapturedResponse {
            status: 200,
            headers: HeaderList::new(),
            body: Bytes::from_static(body),
            body_len,
        }
    }

    fn answered(response: &CapturedResponse, failure: Option<Failure>) -> CopyAnswer {
        let (tx, mut rx) = oneshot::channel();
        let copies = FixCopies {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            copies: vec![tx],
        };
        copies.answer(Dialect::OpenAiChat, response, failure.as_ref());
        rx.try_recv().expect("the copy was answered")
    }

    #[test]
    fn copies_get_the_fixed_reply_even_when_the_held_agent_hung_up() {
        let gone = Failure::new(FailureClass::ClientAborted, "agent closed the connection");
        let answer = answered(&reply(b"{\"ok\":1}", 8), Some(gone.clone()));
        assert_eq!(answer.reply.body.as_ref(), b"{\"ok\":1}");
        assert_eq!(answer.failure, None);
        // A reply cut short (the held agent left mid-stream) cannot be handed on.
        let cut = answered(&reply(b"{\"ok\"", 8), Some(gone));
        assert_eq!(cut.reply.status, StatusCode::BAD_GATEWAY);
        assert!(cut.failure.is_some());
    }
}
