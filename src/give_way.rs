//! Work off the forwarding path gives the CPU back in short stretches.
//!
//! The store's writer and `record`'s log wake every few milliseconds and then work through
//! what gathered: a transaction of ~50 exchanges took 0.5 ms on 2 vCPUs, a burst of log lines
//! up to 1 ms. Linux wakes such a thread on the CPU the forwarding path was just using, and a
//! thread of the path woken there after it (the agent reading its reply, the upstream, a
//! serving thread) waited for the whole stretch while the other CPU sat idle: that was most of
//! the sequential p99 (+430–610 µs; +200–350 µs yielding every 50 µs, same runs).
//!
//! Idle priority (`SCHED_IDLE`) did as well but cannot be undone without privileges, so a
//! writer starved by a saturating load could never catch up; a yield keeps its fair share.

use std::time::{Duration, Instant};

/// The longest stretch of work before the CPU is offered to whoever waits for it.
const STRETCH: Duration = Duration::from_micros(50);

/// Offers the CPU every [`STRETCH`] of the owner's work; call [`GiveWay::now_and_then`]
/// between its units of work (an event written, a line built).
pub struct GiveWay {
    stretch: Duration,
    since: Instant,
}

impl GiveWay {
    /// The stretch starts now: make one when the work starts.
    pub fn start() -> Self {
        Self::with_stretch(STRETCH)
    }

    fn with_stretch(stretch: Duration) -> Self {
        Self {
            stretch,
            since: Instant::now(),
        }
    }

    /// Yields when the stretch is over, and says whether it did. With nothing else runnable
    /// on the CPU the yield returns at once; with a woken thread waiting, that thread runs
    /// first.
    pub fn now_and_then(&mut self) -> bool {
        if self.since.elapsed() < self.stretch {
            return false;
        }
        std::thread::yield_now();
        self.since = Instant::now();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yields_only_once_a_stretch_is_over() {
        let mut long = GiveWay::with_stretch(Duration::from_secs(3600));
        assert!(!long.now_and_then(), "an hour has not passed");
        let mut short = GiveWay::with_stretch(Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(2));
        assert!(short.now_and_then(), "the stretch was over");
    }
}
