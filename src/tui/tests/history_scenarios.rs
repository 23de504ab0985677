//! A past session's list (rows from summaries, no bodies) grouped into conversations as the
//! background reader's batches arrive: the same tree a live screen shows, cost included.

use std::sync::Arc;

use crate::capture::test_fixtures::{fixture_session, OPENCODE_TWO_SESSIONS};
use crate::capture::{CaptureEvent, ExchangeRecord};
use crate::llm::{reply_usage, Usage};
use crate::tui::state::conversations::shape_of;
use crate::tui::state::grouping::GroupedRequest;
use crate::tui::tests::support::OPENCODE_TWO_SESSIONS_TREE;
use crate::tui::tests::test_util::render_text;
use crate::tui::*;

/// The list's rows as their first three words, the clock left out (it is local time).
fn row_starts(screen: &str) -> Vec<String> {
    screen
        .lines()
        .skip_while(|line| !line.contains(" Exchanges "))
        .skip(2)
        .take_while(|line| !line.starts_with('└'))
        .map(|line| {
            let words = line.trim_matches(['│', ' ']).split_whitespace();
            let clock = |word: &&str| word.len() == 8 && word.as_bytes().get(2) == Some(&b':');
            words
                .filter(|w| !clock(w))
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|line| !line.is_empty())
        .collect()
}

/// What the background reader sends for `records`.
fn grouped_requests(records: &[ExchangeRecord]) -> Vec<GroupedRequest> {
    records
        .iter()
        .map(|r| GroupedRequest {
            id: r.id(),
            shape: shape_of(&r.start),
            usage: r
                .response
                .as_ref()
                .and_then(|reply| reply_usage(r.start.dialect, None, &reply.body))
                .unwrap_or(Usage::default()),
        })
        .collect()
}

#[test]
fn a_past_sessions_rows_fall_into_conversations_batch_by_batch() {
    let records = fixture_session(OPENCODE_TWO_SESSIONS);
    let rows = records.iter().map(|r| {
        let mut row = row_from_start(&r.start);
        row_update_from_record(&mut row, r);
        row
    });
    let mut app = App::new(StatusInfo::default(), rows.collect(), 0, (160, 40));
    let before = row_starts(&render_text(&app, 160, 40));
    assert!(
        before.iter().all(|row| !row.contains("▾")),
        "no tree before grouping: {before:?}"
    );
    let grouped = grouped_requests(&records);
    let (first, rest) = grouped.split_at(5);
    update(&mut app, AppEvent::Grouped(first.to_vec()));
    let halfway = row_starts(&render_text(&app, 160, 40));
    assert_eq!(
        halfway[..4],
        [
            "1 POST title",
            "▾ c2 opencode",
            "2 POST /v1/chat/completions",
            "5 POST /v1/chat/completions"
        ],
        "#2 and #5 are two turns of one conversation once the first batch is filed"
    );
    update(&mut app, AppEvent::Grouped(rest.to_vec()));
    let screen = render_text(&app, 160, 40);
    assert_eq!(
        row_starts(&screen),
        OPENCODE_TWO_SESSIONS_TREE.map(String::from),
        "{screen}"
    );
    assert!(
        screen.contains(
            "c2 opencode conversation · 3 turns · ctx ▁▁▁▁▁▁▁▁ 1% of 1.0M · gpt-4.1 · $0.0325"
        ),
        "{screen}"
    );
}

#[test]
fn an_attached_screen_files_live_turns_after_the_history_it_is_still_reading() {
    let records = fixture_session(OPENCODE_TWO_SESSIONS);
    let (history, live) = records.split_at(5);
    let rows = history.iter().map(|r| {
        let mut row = row_from_start(&r.start);
        row_update_from_record(&mut row, r);
        row
    });
    let status = StatusInfo {
        live: true,
        attached: true,
        ..StatusInfo::default()
    };
    let mut app = App::new(status, rows.collect(), 0, (160, 40));
    app.begin_history();
    // #6 and #7 are later turns of the history's two conversations; they arrive before the
    // reader has sent a single batch.
    for record in live {
        update(
            &mut app,
            AppEvent::Capture(CaptureEvent::Started(record.start.clone())),
        );
        update(
            &mut app,
            AppEvent::Capture(CaptureEvent::Finished(Arc::new(record.clone()))),
        );
    }
    update(&mut app, AppEvent::Grouped(grouped_requests(history)));
    update(&mut app, AppEvent::GroupingDone);
    let screen = render_text(&app, 160, 40);
    assert_eq!(
        row_starts(&screen),
        OPENCODE_TWO_SESSIONS_TREE.map(String::from),
        "the live turns join the conversations the history started:\n{screen}"
    );
    assert!(
        screen.contains(
            "c2 opencode conversation · 3 turns · ctx ▁▁▁▁▁▁▁▁ 1% of 1.0M · gpt-4.1 · $0.0325"
        ),
        "#7's tokens count in its conversation once it is filed:\n{screen}"
    );
}

#[test]
fn a_past_failure_that_reported_no_usage_is_not_counted_as_an_unpriced_call() {
    let request = br#"{"model":"mock-400-model","messages":[{"role":"user","content":"hi"}]}"#;
    let refused = br#"{"error":{"message":"Invalid model name passed in model=mock-400-model"}}"#;
    let record = crate::tui::tests::test_util::sample_record(1, request, 400, refused);
    let mut row = row_from_start(&record.start);
    row_update_from_record(&mut row, &record);
    let mut app = App::new(StatusInfo::default(), vec![row], 0, (160, 40));
    let grouped = GroupedRequest {
        id: record.id(),
        shape: shape_of(&record.start),
        usage: Usage::default(),
    };
    update(&mut app, AppEvent::Grouped(vec![grouped]));
    let screen = render_text(&app, 160, 40);
    let status = screen.lines().next().unwrap_or_default();
    assert!(
        status.contains("1 failed") && !status.contains("unpriced") && !status.contains("tok"),
        "{status}"
    );
}
