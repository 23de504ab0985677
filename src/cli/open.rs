//! `llmscope open [SESSION]`: browse a recorded session in the screen, proxy off.

use std::sync::Arc;

use anyhow::{Context, Result};

use super::watch::StoreLoader;
use super::{sessions, OpenArgs};
use crate::tui::{self, row_from_summary, StatusInfo, TuiContext};

pub async fn run(args: OpenArgs) -> Result<()> {
    let dir = args.data.resolve()?;
    let (session, upstream, rows, store) = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || -> Result<_> {
            let (store, session, summaries) = sessions::load(&dir, args.session)?;
            // Each summary is freed as its row is made, so a long session is not held twice.
            let rows = summaries
                .into_iter()
                .map(|summary| row_from_summary(&summary))
                .collect::<Vec<_>>();
            Ok((session.id, session.upstream, rows, store))
        }
    })
    .await
    .context("reading the session")??;
    let status = StatusInfo {
        listen: None,
        upstream: Some(upstream),
        session: Some(session),
        live: false,
        capture_health: None,
        hold: false,
        auto_fix: false,
        intercept: None,
        control: false,
        attached: false,
    };
    let ctx = TuiContext {
        status,
        rows,
        events: None,
        loader: Arc::new(StoreLoader::new(store, session)),
        capture_health: None,
        export_health: None,
        control: None,
        export_dir: dir.join("exports").join(session.to_string()),
        prices: super::prices::price_table_async().await?,
    };
    tui::run(ctx).await?;
    Ok(())
}
