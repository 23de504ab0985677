//! `llmscope --upstream URL`: the proxy with the live screen on top.

use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context, Result};

use super::record::warn_if_exposed;
use super::ProxyArgs;
use crate::capture::{ExchangeId, ExchangeRecord, ExchangeStart, SessionId};
use crate::llm::Usage;
use crate::recorder::Recording;
use crate::remote::Control;
use crate::store::Store;
use crate::tui::{self, DetailLoader, StatusInfo, TuiContext};

pub async fn run(args: ProxyArgs) -> Result<()> {
    let config = args.proxy_config()?;
    let data_dir = args.data.resolve()?;
    warn_if_exposed(&config.listen);
    let otlp = args.otlp_settings()?;
    let recording = Recording::start_exporting(config, &data_dir, "tui", otlp.as_ref()).await?;
    run_live(recording).await
}

/// Runs the screen over a live recording until the user quits, then stops the proxy and
/// closes the session.
pub async fn run_live(recording: Recording) -> Result<()> {
    let control = recording.control();
    let status = StatusInfo {
        listen: Some(recording.local_addr().to_string()),
        upstream: Some(recording.upstream().to_string()),
        session: Some(recording.session),
        live: true,
        capture_health: recording
            .moved_aside
            .as_ref()
            .map(|p| format!("damaged database moved to {}", p.display())),
        hold: control.hold_enabled(),
        auto_fix: control.auto_fix_enabled(),
        intercept: control.intercept(),
        control: true,
        attached: false,
    };
    let loader = StoreLoader::new(recording.connect_reader().await?, recording.session);
    let ctx = TuiContext {
        status,
        rows: Vec::new(),
        events: Some(recording.subscribe()),
        loader: Arc::new(loader),
        capture_health: Some(recording.store_health()),
        export_health: recording.otlp_health(),
        control: Some(Control::Local(control)),
        export_dir: recording
            .data_dir
            .join("exports")
            .join(recording.session.to_string()),
        prices: super::prices::price_table_async().await?,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(recording.serve_until(async {
        let _ = stopped.await;
    }));
    let shown = tui::run(ctx).await;
    let _ = stop.send(());
    let served = serving.await.context("the proxy task failed")?;
    shown?;
    served
}

/// Reads records the screen no longer holds in memory from the session database.
pub struct StoreLoader {
    store: Mutex<Store>,
    session: SessionId,
}

impl StoreLoader {
    /// Loads `session`'s records through `store`, a connection of its own: loads run on
    /// blocking threads and never share the writer's.
    pub fn new(store: Store, session: SessionId) -> Self {
        Self {
            store: Mutex::new(store),
            session,
        }
    }
}

impl DetailLoader for StoreLoader {
    fn load(&self, id: ExchangeId) -> Result<Option<ExchangeRecord>, String> {
        let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        store
            .exchange(self.session, id)
            .map(|found| found.map(|stored| stored.record))
            .map_err(|error| error.one_line())
    }

    fn requests(
        &self,
        after: Option<ExchangeId>,
        limit: usize,
    ) -> Result<Vec<(ExchangeStart, Usage)>, String> {
        let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        store
            .request_batch(self.session, after, limit)
            .map_err(|error| error.one_line())
    }
}
