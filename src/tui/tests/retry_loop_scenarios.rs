//! An agent resending a request that keeps failing: the list shows one row with the count,
//! the banner says who is retrying how often and why, and llmscope's stop is said too.

use std::sync::Arc;

use super::support::{finished, live_app, FAILING, TOO_LONG};
use super::test_util::{render_text, sample_record};
use crate::capture::{CaptureEvent, ExchangeId, Failure, FailureClass};
use crate::tui::{update, AppEvent};

/// Attempt `id` of the loop that `first` began, from opencode.
fn attempt(id: u64, first: Option<u64>, stopped: bool) -> crate::capture::ExchangeRecord {
    let mut record = sample_record(id, FAILING, 400, TOO_LONG);
    let start = Arc::make_mut(&mut record.start);
    start.lineage.repeats = first.map(ExchangeId);
    start
        .request
        .headers
        .push("user-agent", "opencode/1.18.33 ai-sdk/provider-utils");
    if stopped {
        record.failure = Some(Failure::new(
            FailureClass::RetryLoopStopped,
            "llmscope: stopped a retry loop — the upstream failed this same request 3 times",
        ));
    }
    record
}

#[test]
fn a_retry_loop_is_one_row_with_a_count_and_a_banner_that_names_the_agent() {
    let mut app = live_app();
    finished(&mut app, attempt(1, None, false));
    for id in 2..=3 {
        let record = attempt(id, Some(1), false);
        update(
            &mut app,
            AppEvent::Capture(CaptureEvent::Started(record.start.clone())),
        );
        finished(&mut app, record);
    }
    let screen = render_text(&app, 140, 30);
    assert!(screen.contains("↻3× /v1/chat/completions"), "{screen}");
    assert_eq!(
        screen.matches("/v1/chat/completions").count(),
        2,
        "one list row (and the banner's line): {screen}"
    );
    assert!(
        screen.contains("↻ opencode is retrying a failing request: 3× in 2 s — This model's maximum context length"),
        "{screen}"
    );
    assert_eq!(
        app.selected,
        Some(ExchangeId(1)),
        "the folded repeats do not take the selection"
    );

    finished(&mut app, attempt(4, Some(1), true));
    let screen = render_text(&app, 140, 30);
    assert!(screen.contains("↻4× /v1/chat/completions"), "{screen}");
    assert!(screen.contains("retry loop stopped"), "{screen}");
    assert!(
        screen.contains(
            "↻ llmscope stopped opencode's retry loop after 4 attempts in 3 s — This model's"
        ),
        "{screen}"
    );
}
