//! `llmscope stats [SESSION] [--json]`: a recorded session in numbers.

use anyhow::Result;

use super::{sessions, StatsArgs};
use crate::analysis::session_stats;

pub fn run(args: &StatsArgs) -> Result<()> {
    let dir = args.data.resolve()?;
    let (_store, session, summaries) = sessions::load(&dir, args.session)?;
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
