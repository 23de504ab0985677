//! `llmscope stats [SESSION] [--json]`: a recorded session in numbers.

use anyhow::{Context, Result};

use super::{prices, sessions, StatsArgs};
use crate::analysis::{
    session_cost, session_stats, ConversationCounts, Conversations, RequestShape,
};
use crate::capture::SessionId;
use crate::llm::decode_request;
use crate::store::{ExchangeSummary, Store};

pub fn run(args: &StatsArgs) -> Result<()> {
    let dir = args.data.resolve()?;
    let (store, session, summaries) = sessions::load(&dir, args.session)?;
    let prices = prices::price_table()?;
    let stats = session_stats(&summaries);
    let cost = session_cost(&summaries, &prices);
    let conversations = ConversationCounts::of(&group(&store, session.id, &summaries)?);
    if args.json {
        let mut value = stats.to_json();
        value["session"] = session.id.0.into();
        value["upstream"] = session.upstream.clone().into();
        value["cost"] = cost.to_json();
        value["conversations"] = conversations.to_json();
        println!("{value}");
    } else {
        println!("session {} → {}", session.id, session.upstream);
        print!("{}", conversations.to_text());
        print!("{}", stats.to_text());
        print!("\n{}", cost.to_text());
    }
    Ok(())
}

/// Groups the session's requests into conversations, reading one request at a time so a
/// long session never sits in memory whole.
fn group(
    store: &Store,
    session: SessionId,
    summaries: &[ExchangeSummary],
) -> Result<Conversations> {
    let mut grouping = Conversations::default();
    for summary in summaries {
        let Some(stored) = store
            .exchange(session, summary.id)
            .with_context(|| format!("reading exchange {} of session {session}", summary.id))?
        else {
            continue;
        };
        let start = &stored.record.start;
        let request = &start.request;
        let decoded = decode_request(start.dialect, &request.body);
        let shape = RequestShape::of(&request.uri, &request.headers, decoded.as_ref());
        let lineage = &start.lineage;
        let host = lineage.parent.or(lineage.repeats).or(lineage.beneath);
        grouping.observe(start.id, &shape, host);
    }
    Ok(grouping)
}
