//! `llmscope sessions`: what was recorded before, newest first.

use std::path::Path;

use anyhow::{bail, Context, Result};

use super::DataDirArg;
use crate::capture::SessionId;
use crate::store::{SessionSummary, Store};

/// The session database in `dir`, session `id` (or the newest) and its exchanges' summaries.
pub fn load(
    dir: &Path,
    id: Option<i64>,
) -> Result<(Store, SessionSummary, Vec<crate::store::ExchangeSummary>)> {
    let store = Store::open(dir)
        .with_context(|| format!("opening the session database in {}", dir.display()))?;
    let session = choose(&store, id, dir)?;
    let summaries = store
        .exchange_summaries(session.id)
        .context("reading the session's exchanges")?;
    Ok((store, session, summaries))
}

/// Session `id`, or the newest when none is given, with an error that says where to look.
pub fn choose(store: &Store, id: Option<i64>, dir: &Path) -> Result<SessionSummary> {
    let sessions = store.list_sessions().context("listing sessions")?;
    let chosen = match id {
        Some(id) => sessions.into_iter().find(|s| s.id == SessionId(id)),
        None => sessions.into_iter().next(),
    };
    match (chosen, id) {
        (Some(session), _) => Ok(session),
        (None, Some(id)) => bail!(
            "no session {id} in {} (see `llmscope sessions`)",
            dir.display()
        ),
        (None, None) => bail!("no sessions recorded yet in {}", dir.display()),
    }
}

pub fn run(args: &DataDirArg) -> Result<()> {
    let dir = args.resolve()?;
    let store = Store::open(&dir)
        .with_context(|| format!("opening the session database in {}", dir.display()))?;
    let sessions = store.list_sessions().context("listing sessions")?;
    if sessions.is_empty() {
        println!("no sessions recorded yet in {}", dir.display());
        return Ok(());
    }
    println!(
        "{:>5}  {:<19}  {:<8}  {:>9}  {:>6}  {:>10}  upstream",
        "id", "started", "mode", "exchanges", "errors", "incomplete"
    );
    for session in &sessions {
        println!("{}", session_line(session));
    }
    Ok(())
}

fn session_line(s: &SessionSummary) -> String {
    let started = chrono::DateTime::from_timestamp_millis(s.started_at_ms)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default();
    let mode = if s.ended_at_ms.is_none() {
        format!("{}*", s.mode)
    } else {
        s.mode.clone()
    };
    format!(
        "{:>5}  {:<19}  {:<8}  {:>9}  {:>6}  {:>10}  {}",
        s.id.to_string(),
        started,
        mode,
        s.exchanges,
        s.errors,
        s.incomplete,
        s.upstream
    )
}
