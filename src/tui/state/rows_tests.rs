use super::*;
use crate::capture::{Failure, FailureClass};
use crate::llm::Dialect;

pub(crate) fn row(id: u64, uri: &str, status: Option<u16>) -> ExchangeRow {
    ExchangeRow {
        id: ExchangeId(id),
        started_at_ms: 1_700_000_000_000 + id as i64 * 1000,
        method: "POST".into(),
        host: None,
        uri: uri.into(),
        model: Some("gpt-4o".into()),
        dialect: Dialect::OpenAiChat,
        status,
        failure: status
            .filter(|s| *s >= 400)
            .map(|s| Failure::new(FailureClass::HttpError(s), "bad request")),
        first_byte_ms: Some(120),
        duration_ms: Some(1500),
        request_bytes: 100,
        response_bytes: 200,
        tokens_in: Some(1200),
        tokens_out: Some(45),
        state: ExchangeState::Complete,
        parent: None,
        auto_fix: false,
        hold: None,
        rewritten: false,
        intercepted_until_ms: None,
        repeats: None,
        repeated: 0,
        beneath: None,
        provider_calls: 0,
        conversation: None,
    }
}

#[test]
fn counts_follow_row_changes() {
    let filter = Filter::default();
    let mut table = RowTable::new(
        vec![row(1, "/a", Some(200)), row(2, "/b", Some(500))],
        &filter,
    );
    assert_eq!((table.len(), table.failed_count()), (2, 1));
    table.update(ExchangeId(2), &filter, |r| r.failure = None);
    assert_eq!(table.failed_count(), 0);
}

#[test]
fn failed_only_filter_tracks_rows_that_start_failing() {
    let filter = Filter {
        failed_only: true,
        ..Filter::default()
    };
    let mut table = RowTable::new(vec![row(1, "/a", Some(200))], &filter);
    assert_eq!(table.visible_len(), 0);
    table.update(ExchangeId(1), &filter, |r| {
        r.failure = Some(Failure::new(FailureClass::Reset, "cut"));
    });
    assert_eq!(table.visible_position(ExchangeId(1)), Some(0));
}

#[test]
fn repeats_of_a_retry_loop_fold_into_its_first_row_with_a_count() {
    let filter = Filter::default();
    let mut table = RowTable::new(vec![row(1, "/v1/chat/completions", Some(502))], &filter);
    for id in 2..=4 {
        let mut repeat = row(id, "/v1/chat/completions", Some(502));
        repeat.repeats = Some(ExchangeId(1));
        table.upsert(repeat, &filter);
    }
    table.upsert(row(5, "/v1/chat/completions", Some(200)), &filter);
    assert_eq!(table.visible_len(), 2, "the first row and the next request");
    assert_eq!(table.visible_position(ExchangeId(5)), Some(1));
    assert_eq!(table.get(ExchangeId(1)).map(|r| r.repeated), Some(3));
    assert_eq!(table.failed_count(), 4, "every attempt still counts");
    // A folded repeat finishing, a refilter and a replaced first row keep the fold.
    table.update(ExchangeId(3), &filter, |r| r.status = Some(400));
    table.refilter(&filter);
    table.upsert(row(1, "/v1/chat/completions", Some(502)), &filter);
    assert_eq!(table.visible_len(), 2);
    assert_eq!(table.get(ExchangeId(1)).map(|r| r.repeated), Some(3));
}

#[test]
fn provider_calls_fold_under_their_agent_row_and_count_on_its_loop() {
    let filter = Filter::default();
    let mut table = RowTable::new(vec![row(1, "/v1/chat/completions", Some(500))], &filter);
    let call = |id, beneath| {
        let mut call = row(id, "/provider/openai/v1/chat/completions", Some(502));
        call.beneath = Some(ExchangeId(beneath));
        call
    };
    table.upsert(call(2, 1), &filter);
    let mut repeat = row(3, "/v1/chat/completions", Some(500));
    repeat.repeats = Some(ExchangeId(1));
    table.upsert(repeat, &filter);
    table.upsert(call(4, 3), &filter);
    table.upsert(call(5, 3), &filter);
    assert_eq!(table.visible_len(), 1, "all under #1");
    assert_eq!(table.get(ExchangeId(1)).map(|r| r.provider_calls), Some(3));
    assert_eq!(table.get(ExchangeId(3)).map(|r| r.provider_calls), Some(2));
    table.set_unfolded(true, &filter);
    assert_eq!(table.visible_len(), 5);
}
