//! The store writer's health as a status-line note, sent to `update` only when it changes.

use std::sync::Arc;

use crate::store::StoreHealth;
use crate::tui::update::event::AppEvent;

pub(super) struct HealthWatch {
    source: Option<Arc<StoreHealth>>,
    shown: Option<String>,
}

impl HealthWatch {
    pub(super) fn new(source: Option<Arc<StoreHealth>>) -> Self {
        Self {
            source,
            shown: None,
        }
    }

    pub(super) fn changed(&mut self) -> Option<AppEvent> {
        let health = self.source.as_ref()?;
        let now = if health.is_failing() {
            let reason = health
                .last_error()
                .unwrap_or_else(|| "unknown error".into());
            Some(format!("capture failing: {reason}"))
        } else {
            match health.bodies_unrecorded() {
                0 => None,
                n => Some(format!(
                    "{n} exchanges recorded without bodies: the disk fell behind"
                )),
            }
        };
        if now == self.shown {
            return None;
        }
        self.shown.clone_from(&now);
        Some(AppEvent::CaptureHealth(now))
    }
}
