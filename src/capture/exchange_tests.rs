use std::sync::Arc;

use bytes::Bytes;

use super::*;
use crate::capture::test_fixtures::agent_start;
use crate::capture::{Failure, FailureClass};

#[test]
fn provider_targets_name_the_provider_and_the_path_it_sees() {
    assert_eq!(
        provider_target("/provider/openai/v1/chat/completions?x=1"),
        Some(("openai", "/v1/chat/completions?x=1"))
    );
    assert_eq!(
        provider_target("/provider/anthropic"),
        Some(("anthropic", ""))
    );
    assert_eq!(provider_target("/provider/?x"), None);
    assert_eq!(provider_target("/v1/chat/completions"), None);
}

fn answered(body: &str, failure: Option<Failure>) -> ExchangeRecord {
    let response = CapturedResponse {
        status: 200,
        headers: HeaderList::from([("content-type", "application/json")]),
        body: Bytes::from(body.to_string()),
        body_len: body.len() as u64,
    };
    let start = agent_start(1, "/v1/chat/completions", r#"{"model":"gpt-4o"}"#);
    ExchangeRecord::new(Arc::new(start), Timing::default(), Some(response), failure)
}

#[test]
fn a_replys_usage_is_read_once_and_kept_with_the_record() {
    let record = answered(
        r#"{"choices":[],"usage":{"prompt_tokens":1200,"completion_tokens":45}}"#,
        None,
    );
    let usage = record.usage().expect("the reply reports usage");
    assert_eq!(
        (usage.input_tokens, usage.output_tokens),
        (Some(1200), Some(45))
    );
    // Every reader of the shared record, and a copy of it, gets the counts read the first time.
    // Read once: the record and every copy of it answer from what was read, not the body.
    let mut copy = record.clone();
    assert_eq!(
        copy.derived.usage.get(),
        Some(&Some(usage)),
        "the copy holds it"
    );
    if let Some(response) = copy.response.as_mut() {
        response.body =
            Bytes::from_static(br#"{"usage":{"prompt_tokens":1,"completion_tokens":1}}"#);
    }
    assert_eq!(copy.usage(), Some(usage));
    // A record built afresh from the same reply reads it again.
    let fresh = ExchangeRecord::new(copy.start.clone(), copy.timing, copy.response, None);
    assert_eq!(fresh.derived.usage.get(), None);
    assert_eq!(fresh.usage().and_then(|u| u.input_tokens), Some(1));
}

#[test]
fn a_failed_exchange_reports_no_usage() {
    let failure = Failure::new(FailureClass::ErrorIn200, "quota exceeded");
    let record = answered(
        r#"{"error":{"message":"quota exceeded"},"usage":{"prompt_tokens":9}}"#,
        Some(failure),
    );
    assert_eq!(record.usage(), None);
}
