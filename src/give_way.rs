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
//! writer starved by a saturating load could never catch up. A thread that is behind does not
//! yield at all: under a saturating load a yielding log fell so far behind that the records
//! queued for it held 70–560 MiB (27 MiB without yields, same runs).

use std::time::{Duration, Instant};

/// The longest stretch of work before the CPU is offered to whoever waits for it.
const STRETCH: Duration = Duration::from_micros(50);

/// Offers the CPU every [`STRETCH`] of the owner's work; call [`GiveWay::now_and_then`]
/// between its units of work (an event written, a line built).
pub struct GiveWay {
    /// `None` for a thread that is behind: it keeps the CPU.
    stretch: Option<Duration>,
    since: Instant,
}

impl GiveWay {
    /// The stretch starts now: make one when the work starts. A thread that is `behind` its
    /// queue never yields, since that would only let the queue grow.
    pub fn start(behind: bool) -> Self {
        Self::with_stretch((!behind).then_some(STRETCH))
    }

    fn with_stretch(stretch: Option<Duration>) -> Self {
        Self {
            stretch,
            since: Instant::now(),
        }
    }

    /// Yields when the stretch is over, and says whether it did. With nothing else runnable
    /// on the CPU the yield returns at once; with a woken thread waiting, that thread runs
    /// first.
    pub fn now_and_then(&mut self) -> bool {
        match self.stretch {
            Some(stretch) if self.since.elapsed() >= stretch => {}
            _ => return false,
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
        let mut long = GiveWay::with_stretch(Some(Duration::from_secs(3600)));
        assert!(!long.now_and_then(), "an hour has not passed");
        let mut short = GiveWay::with_stretch(Some(Duration::from_millis(1)));
        std::thread::sleep(Duration::from_millis(2));
        assert!(short.now_and_then(), "the stretch was over");
    }

    #[test]
    fn a_thread_behind_never_yields() {
        let mut behind = GiveWay::start(true);
        std::thread::sleep(STRETCH * 4);
        assert!(!behind.now_and_then());
        let mut keeping_up = GiveWay::start(false);
        std::thread::sleep(STRETCH * 4);
        assert!(keeping_up.now_and_then());
    }
}
