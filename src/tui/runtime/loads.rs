//! Runs [`Command::LoadDetail`](crate::tui::Command::LoadDetail)s one at a time on a blocking
//! thread; while one runs, only the newest request waits, so scrolling fast through a long
//! list does not queue a load per row.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::capture::ExchangeId;
use crate::tui::update::event::AppEvent;

use super::context::DetailLoader;
use super::jobs::{run_blocking, Finished};

pub(super) struct DetailLoads {
    loader: Arc<dyn DetailLoader>,
    tx: mpsc::UnboundedSender<Finished>,
    running: bool,
    queued: Option<ExchangeId>,
}

impl DetailLoads {
    pub(super) fn new(loader: Arc<dyn DetailLoader>, tx: mpsc::UnboundedSender<Finished>) -> Self {
        Self {
            loader,
            tx,
            running: false,
            queued: None,
        }
    }

    pub(super) fn request(&mut self, id: ExchangeId) {
        if self.running {
            self.queued = Some(id);
        } else {
            self.start(id);
        }
    }

    fn start(&mut self, id: ExchangeId) {
        self.running = true;
        let loader = Arc::clone(&self.loader);
        let load = move || {
            Finished::Load(match loader.load(id) {
                Ok(Some(record)) => AppEvent::DetailLoaded(Arc::new(record)),
                Ok(None) => AppEvent::DetailFailed {
                    id,
                    reason: "it is not in the store".to_string(),
                },
                Err(reason) => AppEvent::DetailFailed { id, reason },
            })
        };
        run_blocking(&self.tx, load, Finished::LoadPanicked);
    }

    pub(super) fn finished(&mut self) {
        self.running = false;
        if let Some(id) = self.queued.take() {
            self.start(id);
        }
    }
}
