//! Forward mode's counts as a status-line part, sent to `update` only when they change. The
//! counts are atomics in the proxy, so reading them on the tick never waits on anything.

use crate::proxy::{ForwardCounts, ProxyControl};
use crate::remote::Control;
use crate::tui::update::event::AppEvent;

pub(super) struct ForwardWatch {
    /// A proxy in this process; an attached screen's proxy does not send its counts.
    source: Option<ProxyControl>,
    shown: Option<ForwardCounts>,
}

impl ForwardWatch {
    pub(super) fn new(control: Option<&Control>) -> Self {
        let source = match control {
            Some(Control::Local(control)) => Some(control.clone()),
            Some(Control::Remote(_)) | None => None,
        };
        Self {
            source,
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
