use crate::capture::HeaderList;
use std::sync::Arc;

use bytes::Bytes;

use super::*;
use crate::capture::test_fixtures::agent_start;
use crate::capture::CapturedResponse;

fn gauge(used: u64) -> Gauge {
    Gauge {
        used,
        window: 400_000,
    }
}

#[test]
fn the_first_step_is_past_eighty_percent_and_each_later_one_ten_percent_further() {
    assert_eq!(
        context_step(&gauge(320_000), None),
        None,
        "80 % is not past it"
    );
    assert_eq!(context_step(&gauge(320_001), None), Some(8));
    assert_eq!(
        context_step(&gauge(350_000), Some(8)),
        None,
        "87 % is still step 8"
    );
    assert_eq!(context_step(&gauge(360_000), Some(8)), Some(9));
    assert_eq!(context_step(&gauge(399_999), Some(9)), None);
    assert_eq!(context_step(&gauge(400_000), Some(9)), Some(10));
    assert_eq!(
        context_step(&gauge(900_000), Some(10)),
        None,
        "past the window it has nothing new to say"
    );
    assert_eq!(
        context_step(&gauge(380_000), None),
        Some(9),
        "a first look far in"
    );
    let no_window = Gauge {
        used: 10,
        window: 0,
    };
    assert_eq!(context_step(&no_window, None), None);
}

/// Turn `id` of opencode session `session` on `model`, whose reply filled `prompt` tokens.
fn turn(id: u64, session: &str, model: &str, messages: usize, prompt: u64) -> ExchangeRecord {
    let messages: Vec<_> = (0..messages)
        .map(|n| serde_json::json!({"role": if n % 2 == 0 {"user"} else {"assistant"}, "content": format!("message {n}")}))
        .collect();
    let body = serde_json::json!({"model": model, "messages": messages}).to_string();
    let mut start = agent_start(id, "/v1/chat/completions", &body);
    start.model = Some(model.to_string());
    start.request.headers = HeaderList::from([
        ("user-agent", "opencode/1.18.33"),
        ("x-session-id", session),
    ]);
    let reply = serde_json::json!({
        "choices": [{"message": {"role": "assistant", "content": "ok"}}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": 10}
    })
    .to_string();
    ExchangeRecord {
        start: Arc::new(start),
        timing: Default::default(),
        response: Some(CapturedResponse {
            status: 200,
            headers: HeaderList::from([("content-type", "application/json")]),
            body_len: reply.len() as u64,
            body: Bytes::from(reply),
        }),
        failure: None,
        derived: Default::default(),
    }
}

fn warnings_for(records: &[ExchangeRecord]) -> Vec<String> {
    let prices = PriceTable::builtin().unwrap_or_default();
    let mut warnings = ContextWarnings::new(prices);
    records.iter().filter_map(|r| warnings.observe(r)).collect()
}

#[test]
fn a_conversation_is_warned_of_once_per_step_and_another_on_its_own() {
    let records = [
        turn(1, "ses_a", "gpt-5", 1, 200_000),
        turn(2, "ses_a", "gpt-5", 3, 330_000),
        turn(3, "ses_a", "gpt-5", 5, 340_000),
        turn(4, "ses_b", "gpt-5", 1, 390_000),
        turn(5, "ses_a", "gpt-5", 7, 365_000),
        turn(6, "ses_a", "gpt-5", 9, 370_000),
        turn(7, "ses_a", "my-local-model", 11, 9_000_000),
    ];
    assert_eq!(
        warnings_for(&records),
        [
            "llmscope: #2 opencode conversation at ctx ▇▇▇▇▇▇▅▁ 82% of 400k on gpt-5: a context-length error is a few turns away",
            "llmscope: #4 opencode conversation at ctx ▇▇▇▇▇▇▇▆ 97% of 400k on gpt-5: a context-length error is a few turns away",
            "llmscope: #5 opencode conversation at ctx ▇▇▇▇▇▇▇▃ 91% of 400k on gpt-5: a context-length error is a few turns away",
        ]
        .map(String::from),
        "#3 and #6 stay in their step; a model without a known window is never warned of"
    );
}

#[test]
fn a_model_asked_for_again_after_another_is_judged_by_its_own_window() {
    // The log remembers the last model's window: switching away and back must not carry
    // one model's window (or its absence) over to the other.
    let records = [
        turn(1, "ses_a", "gpt-5", 1, 330_000),
        turn(2, "ses_b", "my-local-model", 1, 9_000_000),
        turn(3, "ses_c", "gpt-5", 1, 390_000),
        turn(4, "ses_d", "my-local-model", 1, 9_000_000),
    ];
    assert_eq!(
        warnings_for(&records),
        [
            "llmscope: #1 opencode conversation at ctx ▇▇▇▇▇▇▅▁ 82% of 400k on gpt-5: a context-length error is a few turns away",
            "llmscope: #3 opencode conversation at ctx ▇▇▇▇▇▇▇▆ 97% of 400k on gpt-5: a context-length error is a few turns away",
        ]
        .map(String::from)
    );
}
