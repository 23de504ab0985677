//! Forward mode's counts as a status-line part, sent to `update` only when they change. A
//! local proxy's counts are atomics and an attached one's are the last state its server sent,
//! so reading them on the tick never waits on anything.

use crate::proxy::ForwardCounts;
use crate::remote::Control;
use crate::tui::update::event::AppEvent;

pub(super) struct ForwardWatch {
    source: Option<Control>,
    shown: Option<ForwardCounts>,
}

impl ForwardWatch {
    pub(super) fn new(control: Option<&Control>) -> Self {
        Self {
            source: control.cloned(),
            shown: None,
        }
    }

    pub(super) fn changed(&mut self) -> Option<AppEvent> {
        let now = self.source.as_ref()?.forward_counts()?;
        if self.shown == Some(now) {
            return None;
        }
        self.shown = Some(now);
        Some(AppEvent::ForwardCounts(now))
    }
}
