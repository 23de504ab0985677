//! `llmscope stats [SESSION] [--json]`: a recorded session in numbers.

use anyhow::{Context, Result};

use super::{sessions, StatsArgs};
use crate::analysis::session_stats;
use crate::store::Store;

pub fn run(args: &StatsArgs) -> Result<()> {
    let dir = args.data.resolve()?;
    let store = Store::open(&dir)
        .with_context(|| format!("opening the session database in {}", dir.display()))?;
    let session = sessions::choose(&store, args.session, &dir)?;
    let summaries = store
        .exchange_summaries(session.id)
        .context("reading the session's exchanges")?;
    let stats = session_stats(&summaries);
    if args.json {
        let mut value = stats.to_json();
        value["session"] = session.id.0.into();
        value["upstream"] = session.upstream.clone().into();
        println!("{value}");
    } else {
        println!("session {} → {}", session.id, session.upstream);
        print!("{}", stats.to_text());
    }
    Ok(())
}
