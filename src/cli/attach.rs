//! `llmscope attach [SESSION]`: the live screen of a session another llmscope process runs
//! (`record`, `launch`, the screen of `llmscope --upstream`), with the same powers as that
//! process's own screen, over the session's attach socket.

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::{Context, Result};

use super::watch::StoreLoader;
use super::OpenArgs;
use crate::capture::{CaptureEvent, ExchangeId, ExchangeRecord, ExchangeState, SessionId};
use crate::remote::{self, Control};
use crate::store::Store;
use crate::tui::{self, row_from_summary, StatusInfo, TuiContext};

pub async fn run(args: OpenArgs) -> Result<()> {
    let dir = args.data.resolve()?;
    let attachment = remote::connect_live(&dir, args.session.map(SessionId)).await?;
    let hello = attachment.hello.clone();
    // The record is the store: what happened before this screen came is read from it, the
    // hello has what finished just before and is not written yet, and the socket carries
    // everything from the hello on.
    let unsaved: Vec<Arc<ExchangeRecord>> = hello
        .unsaved
        .iter()
        .filter_map(|wire| wire.clone().into_record().ok().map(Arc::new))
        .collect();
    let (store, rows, complete, held) = tokio::task::spawn_blocking({
        let dir = dir.clone();
        let hello = hello.clone();
        let unsaved = unsaved.clone();
        move || -> Result<_> {
            let store = Store::open(&dir)
                .with_context(|| format!("opening the session database in {}", dir.display()))?;
            let summaries = store
                .exchange_summaries(hello.session)
                .context("reading the session's exchanges")?;
            let complete: HashSet<ExchangeId> = summaries
                .iter()
                .filter(|s| s.state == ExchangeState::Complete)
                .map(|s| s.id)
                .collect();
            let rows = summaries.iter().map(row_from_summary).collect::<Vec<_>>();
            let mut held = Vec::new();
            for waiting in &hello.held {
                let record = match store.exchange(hello.session, waiting.id) {
                    Ok(Some(stored)) => Some(Arc::new(stored.record)),
                    _ => unsaved.iter().find(|r| r.id() == waiting.id).cloned(),
                };
                if let Some(record) = record {
                    held.push((record, waiting.expires_at_ms));
                }
            }
            Ok((store, rows, complete, held))
        }
    })
    .await
    .context("reading the session")??;
    let held_ids: HashSet<ExchangeId> = held.iter().map(|(r, _)| r.id()).collect();
    // Each exchange once: one the store wrote meanwhile is already a row.
    let mut preface: Vec<CaptureEvent> = unsaved
        .into_iter()
        .filter(|r| !complete.contains(&r.id()) && !held_ids.contains(&r.id()))
        .map(CaptureEvent::Finished)
        .collect();
    // What is waiting now, as the screen would have seen it happen: the failure (for the
    // banner), then its hold; each intercepted request.
    for (record, expires_at_ms) in held {
        let id = record.id();
        preface.push(CaptureEvent::Finished(record));
        preface.push(CaptureEvent::Held { id, expires_at_ms });
    }
    for paused in hello.intercepted {
        if let Ok(start) = paused.start.into_start() {
            preface.push(CaptureEvent::Intercepted {
                start: Arc::new(start),
                expires_at_ms: paused.expires_at_ms,
            });
        }
    }
    let (control, events) = attachment.start(preface);
    let status = StatusInfo {
        listen: Some(hello.listen),
        upstream: Some(hello.upstream),
        session: Some(hello.session),
        live: true,
        capture_health: None,
        hold: hello.state.hold,
        auto_fix: hello.state.auto_fix,
        intercept: hello.state.intercept,
        control: true,
        attached: true,
    };
    let ctx = TuiContext {
        status,
        rows,
        events: Some(events),
        loader: Arc::new(StoreLoader::new(store, hello.session)),
        capture_health: None,
        export_health: None,
        control: Some(Control::Remote(control)),
        prices: super::prices::price_table_async().await?,
        export_dir: dir.join("exports").join(hello.session.to_string()),
    };
    tui::run(ctx).await?;
    Ok(())
}
