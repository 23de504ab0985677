use super::*;
use crate::capture::test_fixtures::{
    fixture_session, CLAUDE_CODE_SESSION, CODEX_SESSION, OPENCODE_TWO_SESSIONS,
};
use crate::capture::ExchangeRecord;
use crate::llm::reply_usage;

fn tokens(record: &ExchangeRecord) -> Option<Tokens> {
    let response = record.response.as_ref()?;
    let content_type = response.headers.first().map(|(_, v)| v);
    let usage = reply_usage(record.start.dialect, content_type, &response.body)?;
    Some(Tokens::from_usage(record.start.dialect, &usage))
}

fn session_tokens(fixture: &str) -> Tokens {
    let mut total = Tokens::default();
    for record in fixture_session(fixture) {
        total += tokens(&record).unwrap_or_default();
    }
    total
}

fn prices() -> PriceTable {
    PriceTable::builtin().expect("shipped table")
}

#[test]
fn openai_chat_streams_count_cached_tokens_once() {
    // prompt_tokens include the cached ones: 52,176 prompt tokens, 39,680 of them cached.
    let total = session_tokens(OPENCODE_TWO_SESSIONS);
    assert_eq!(
        total,
        Tokens {
            fresh_input: 12_496,
            cache_read: 39_680,
            cache_write: 0,
            output: 175
        }
    );
    assert_eq!(total.input(), 52_176);
}

#[test]
fn anthropic_streamed_and_whole_replies_count_cache_reads_and_writes_beside_input() {
    let total = session_tokens(CLAUDE_CODE_SESSION);
    assert_eq!(
        total,
        Tokens {
            fresh_input: 1_954,
            cache_read: 14_820,
            cache_write: 15_841,
            output: 580
        }
    );
}

#[test]
fn responses_streams_count_cached_input_inside_input() {
    let total = session_tokens(CODEX_SESSION);
    assert_eq!(
        total,
        Tokens {
            fresh_input: 8_006,
            cache_read: 7_296,
            cache_write: 0,
            output: 406
        }
    );
}

#[test]
fn a_priced_model_costs_each_kind_of_token_at_its_rate() {
    let records = fixture_session(CLAUDE_CODE_SESSION);
    let first_turn = tokens(&records[2]).expect("usage");
    let cost = Cost::of(&prices(), records[2].start.model.as_deref(), &first_turn);
    // 3 fresh at $3, 14,820 written to the cache at $3.75, 112 out at $15, per million.
    assert!((cost.usd - 0.057_264).abs() < 1e-9, "{}", cost.usd);
    assert_eq!(cost.display(), "$0.0573");
}

#[test]
fn an_unknown_model_is_unpriced_and_marks_a_sum_as_short() {
    let table = prices();
    let used = Tokens {
        fresh_input: 1000,
        output: 100,
        ..Tokens::default()
    };
    let unknown = Cost::of(&table, Some("mock-ok"), &used);
    assert_eq!((unknown.usd, unknown.display().as_str()), (0.0, "unpriced"));
    let mut session = Cost::of(&table, Some("gpt-4.1"), &used);
    assert_eq!(session.display(), "$0.0028");
    session += unknown;
    assert_eq!(session.display(), "$0.0028+");
    assert_eq!(Cost::default().display(), "—");
}

#[test]
fn the_gauge_reads_the_latest_prompt_against_the_window_and_warns_past_80_percent() {
    let records = fixture_session(CLAUDE_CODE_SESSION);
    let last = tokens(&records[5]).expect("usage");
    let table = prices();
    let gauge =
        Gauge::of(&table, records[5].start.model.as_deref(), last.context()).expect("window");
    assert_eq!(
        (gauge.used, gauge.window, gauge.percent()),
        (15_847, 200_000, 7)
    );
    assert!(!gauge.is_warning());
    let near = Gauge::of(&table, Some("claude-sonnet-4-5"), 161_000).expect("window");
    assert_eq!((near.percent(), near.is_warning()), (80, true));
    let at_80 = Gauge::of(&table, Some("claude-sonnet-4-5"), 160_000).expect("window");
    assert!(!at_80.is_warning(), "amber only past 80 %");
    assert_eq!(Gauge::of(&table, Some("mock-ok"), 1000), None);
    let seventy_one = Gauge::of(&table, Some("claude-sonnet-4-5"), 142_000).expect("window");
    assert_eq!(seventy_one.display(), "ctx ▇▇▇▇▇▅▁▁ 71% of 200k");
    let big = Gauge::of(&table, Some("gpt-4.1"), 10_000).expect("window");
    assert_eq!(big.display(), "ctx ▁▁▁▁▁▁▁▁ 0% of 1.0M");
}
