//! The store writer's health, and the OTLP export's, as a status-line note sent to `update`
//! only when it changes. Capture comes first: a record that is not being written matters more
//! than spans that do not reach a collector.

use std::sync::Arc;

use crate::otlp::ExportHealth;
use crate::store::StoreHealth;
use crate::tui::update::event::AppEvent;

pub(super) struct HealthWatch {
    source: Option<Arc<StoreHealth>>,
    /// The export's health and the collector it sends to.
    export: Option<(Arc<ExportHealth>, String)>,
    shown: Option<String>,
}

impl HealthWatch {
    pub(super) fn new(
        source: Option<Arc<StoreHealth>>,
        export: Option<(Arc<ExportHealth>, String)>,
    ) -> Self {
        Self {
            source,
            export,
            shown: None,
        }
    }

    pub(super) fn changed(&mut self) -> Option<AppEvent> {
        let now = self.capture_note().or_else(|| self.export_note());
        if now == self.shown {
            return None;
        }
        self.shown.clone_from(&now);
        Some(AppEvent::CaptureHealth(now))
    }

    fn capture_note(&self) -> Option<String> {
        let health = self.source.as_ref()?;
        if health.is_failing() {
            let reason = health
                .last_error()
                .unwrap_or_else(|| "unknown error".into());
            return Some(format!("capture failing: {reason}"));
        }
        match health.bodies_unrecorded() {
            0 => None,
            n => Some(format!(
                "{n} exchanges recorded without bodies: the disk fell behind"
            )),
        }
    }

    fn export_note(&self) -> Option<String> {
        let (health, endpoint) = self.export.as_ref()?;
        let problem = health.problem()?;
        Some(format!(
            "OTLP export to {endpoint} failing ({problem}): spans are dropped, calls are not"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_export_is_said_once_in_the_status_line_note() {
        let store = Arc::new(StoreHealth::default());
        let export = Arc::new(ExportHealth::default());
        let endpoint = "http://127.0.0.1:4318/v1/traces".to_string();
        let mut watch = HealthWatch::new(Some(store), Some((export.clone(), endpoint)));
        assert!(
            watch.changed().is_none(),
            "nothing to say while all is well"
        );
        export.note_problem("connection refused".into());
        let Some(AppEvent::CaptureHealth(Some(note))) = watch.changed() else {
            panic!("the export's problem is said");
        };
        assert_eq!(
            note,
            "OTLP export to http://127.0.0.1:4318/v1/traces failing (connection refused): \
             spans are dropped, calls are not"
        );
        assert!(watch.changed().is_none(), "said once, not every tick");
    }
}
