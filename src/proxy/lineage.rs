//! Which exchange each recent resend was made from, so a held agent can be found from any
//! resend in a chain of fixes (the user may resend a resend that failed too).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use crate::capture::ExchangeId;

/// Resends remembered; a held exchange waits at most the hold timeout, so recent is enough.
const REMEMBERED: usize = 4096;
/// Longest chain followed; guards against a loop from a damaged or hand-made lineage.
const LONGEST_CHAIN: usize = 64;

#[derive(Default)]
pub struct ResendParents {
    inner: Mutex<Parents>,
}

#[derive(Default)]
struct Parents {
    parent_of: HashMap<ExchangeId, ExchangeId>,
    order: VecDeque<ExchangeId>,
}

impl ResendParents {
    pub fn record(&self, child: ExchangeId, parent: ExchangeId) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.order.len() >= REMEMBERED {
            if let Some(oldest) = inner.order.pop_front() {
                inner.parent_of.remove(&oldest);
            }
        }
        inner.order.push_back(child);
        inner.parent_of.insert(child, parent);
    }

    /// `id`, its parent, its parent's parent, … as far as resends are remembered.
    pub fn ancestry(&self, id: ExchangeId) -> impl Iterator<Item = ExchangeId> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let mut chain = vec![id];
        while let Some(parent) = chain.last().and_then(|last| inner.parent_of.get(last)) {
            if chain.len() >= LONGEST_CHAIN || chain.contains(parent) {
                break;
            }
            chain.push(*parent);
        }
        chain.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestry_walks_up_the_chain_of_resends() {
        let parents = ResendParents::default();
        parents.record(ExchangeId(2), ExchangeId(1));
        parents.record(ExchangeId(3), ExchangeId(2));
        let chain: Vec<_> = parents.ancestry(ExchangeId(3)).collect();
        assert_eq!(chain, [ExchangeId(3), ExchangeId(2), ExchangeId(1)]);
        let alone: Vec<_> = parents.ancestry(ExchangeId(9)).collect();
        assert_eq!(alone, [ExchangeId(9)]);
    }

    #[test]
    fn a_loop_ends() {
        let parents = ResendParents::default();
        parents.record(ExchangeId(1), ExchangeId(2));
        parents.record(ExchangeId(2), ExchangeId(1));
        assert_eq!(parents.ancestry(ExchangeId(1)).count(), 2);
    }
}
