use crate::capture::HeaderList;
use std::fs;

use bytes::Bytes;

use crate::capture::{CaptureEvent, ExchangeId, ExchangeState, Failure, FailureClass, SessionId};
use crate::llm::Dialect;
use crate::store::test_fixtures::{finished, sample_start, session_info};
use crate::store::{Store, StoreError};

fn open() -> (tempfile::TempDir, Store, SessionId) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::open(tmp.path()).expect("open");
    let session = store.begin_session(&session_info()).expect("session");
    (tmp, store, session)
}

fn binary(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|n| (n as u8).wrapping_mul(seed) ^ 0x80)
        .collect()
}

#[test]
fn start_then_finish_round_trips_binary_bodies_and_the_failure() {
    let (_tmp, store, session) = open();
    let start = sample_start(session, 7, binary(5000, 13));
    store.record_start(&start).expect("start");
    let in_flight = store
        .exchange(session, ExchangeId(7))
        .expect("read")
        .expect("row");
    assert_eq!(in_flight.state, ExchangeState::InFlight);
    assert_eq!(in_flight.record.response, None);

    let failure = Failure::new(FailureClass::HttpError(429), "rate limited: slow down");
    let mut record = finished(start.clone(), 429, binary(3000, 7), Some(failure.clone()));
    if let Some(response) = record.response.as_mut() {
        response.body_len = 9000;
    }
    store.record_finish(&record).expect("finish");

    let stored = store
        .exchange(session, ExchangeId(7))
        .expect("read")
        .expect("row");
    assert_eq!(stored.state, ExchangeState::Complete);
    let got = &stored.record.start;
    assert_eq!(
        (got.id, got.session, got.started_at_ms, got.dialect),
        (start.id, start.session, start.started_at_ms, start.dialect)
    );
    assert_eq!((&got.model, &got.request), (&start.model, &start.request));
    assert_eq!(stored.record.timing, record.timing);
    assert_eq!(stored.record.response, record.response);
    assert_eq!(stored.record.failure, Some(failure));
    assert!(stored
        .record
        .response
        .as_ref()
        .is_some_and(|r| r.truncated()));
}

#[test]
fn finish_without_a_recorded_start_stores_the_whole_exchange() {
    let (_tmp, store, session) = open();
    let mut record = finished(
        sample_start(session, 1, b"{}".to_vec()),
        200,
        Vec::new(),
        None,
    );
    record.response = None;
    record.failure = Some(Failure::new(FailureClass::Connect, "connection refused"));
    store.record_finish(&record).expect("finish");
    let stored = store
        .exchange(session, ExchangeId(1))
        .expect("read")
        .expect("row");
    assert_eq!(stored.state, ExchangeState::Complete);
    assert_eq!(stored.record.start.request.body, Bytes::from_static(b"{}"));
    assert_eq!(stored.record.response, None);
    assert_eq!(
        stored.record.failure.map(|f| f.class),
        Some(FailureClass::Connect)
    );
}

#[test]
fn megabyte_of_repetitive_body_takes_under_50_kb_on_disk() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::open(tmp.path()).expect("open");
    let session = store.begin_session(&session_info()).expect("session");
    let turn =
        br#"{"role":"user","content":"Please refactor the parser and keep the tests green."},"#;
    let body: Vec<u8> = turn.iter().copied().cycle().take(1 << 20).collect();
    let record = finished(
        sample_start(session, 1, body.clone()),
        200,
        body.clone(),
        None,
    );
    store.record_finish(&record).expect("finish");
    drop(store);

    let on_disk: u64 = fs::read_dir(tmp.path())
        .expect("list dir")
        .map(|entry| entry.expect("entry").metadata().expect("metadata").len())
        .sum();
    assert!(on_disk < 50 * 1024, "{on_disk} bytes on disk");

    let store = Store::open(tmp.path()).expect("reopen");
    let stored = store
        .exchange(session, ExchangeId(1))
        .expect("read")
        .expect("row");
    assert_eq!(stored.record.start.request.body.len(), 1 << 20);
    assert_eq!(
        stored.record.response.map(|r| r.body),
        Some(Bytes::from(body))
    );
}

#[test]
fn list_sessions_counts_exchanges_errors_and_incomplete_newest_first() {
    let (_tmp, store, older) = open();
    let ok = finished(
        sample_start(older, 1, b"{}".to_vec()),
        200,
        b"{}".to_vec(),
        None,
    );
    let failed = finished(
        sample_start(older, 2, b"{}".to_vec()),
        400,
        br#"{"error":{"message":"context length exceeded"}}"#.to_vec(),
        Some(Failure::new(
            FailureClass::HttpError(400),
            "context length exceeded",
        )),
    );
    let stream = finished(
        sample_start(older, 3, b"{}".to_vec()),
        200,
        b"data: {}\n\n".to_vec(),
        Some(Failure::new(FailureClass::StreamError, "no [DONE]")),
    );
    store
        .record_events(&[
            CaptureEvent::Finished(ok.into()),
            CaptureEvent::Finished(failed.into()),
            CaptureEvent::Finished(stream.into()),
            CaptureEvent::Started(sample_start(older, 4, b"{}".to_vec()).into()),
        ])
        .expect("batch");
    store.end_session(older).expect("end");
    let newer = store
        .begin_session(&session_info())
        .expect("second session");

    let sessions = store.list_sessions().expect("list");
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0].id, newer);
    assert_eq!((sessions[0].exchanges, sessions[0].errors), (0, 0));
    let first = &sessions[1];
    assert_eq!(first.id, older);
    assert_eq!(first.exchanges, 4);
    assert_eq!(first.errors, 2);
    assert_eq!(first.incomplete, 1, "ending the session cut off exchange 4");
    assert!(first.ended_at_ms.is_some());
    assert_eq!(first.upstream, "https://litellm.internal:4000");
    assert_eq!(first.pid, i64::from(std::process::id()));
}

#[test]
fn batch_skips_live_only_events_and_a_start_superseded_by_its_finish() {
    let (_tmp, store, session) = open();
    let start = sample_start(session, 1, b"{\"model\":\"m\"}".to_vec());
    let record = finished(start.clone(), 200, b"data: [DONE]\n\n".to_vec(), None);
    let written = store
        .record_events(&[
            CaptureEvent::Started(start.into()),
            CaptureEvent::ResponseHead {
                id: ExchangeId(1),
                status: 200,
                headers: Default::default(),
                first_byte_ms: 5,
            },
            CaptureEvent::ResponseChunk {
                id: ExchangeId(1),
                data: Bytes::from_static(b"data: [DONE]\n\n"),
            },
            CaptureEvent::Finished(record.into()),
        ])
        .expect("batch");
    assert_eq!(written, 1);
    let all = store.exchanges(session).expect("exchanges");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].state, ExchangeState::Complete);
}

#[test]
fn summaries_carry_sizes_and_outcomes_without_bodies() {
    let (_tmp, store, session) = open();
    for n in 1..=3u64 {
        let failure = (n == 2).then(|| Failure::new(FailureClass::ErrorIn200, "quota exceeded"));
        let record = finished(
            sample_start(session, n, vec![b'q'; 100 * n as usize]),
            200,
            vec![b'r'; 10],
            failure,
        );
        store.record_finish(&record).expect("finish");
    }
    store
        .record_start(&sample_start(session, 4, Vec::new()))
        .expect("start");
    let summaries = store.exchange_summaries(session).expect("summaries");
    let ids: Vec<u64> = summaries.iter().map(|s| s.id.0).collect();
    assert_eq!(ids, [1, 2, 3, 4]);
    assert_eq!(summaries[2].request_bytes, 300);
    assert_eq!(summaries[2].response_bytes, Some(10));
    assert_eq!(summaries[2].model.as_deref(), Some("gpt-4o"));
    assert_eq!(summaries[2].dialect, Dialect::OpenAiChat);
    assert_eq!(
        summaries[1].failure.as_ref().map(|f| f.message.as_str()),
        Some("quota exceeded")
    );
    assert_eq!(summaries[3].state, ExchangeState::InFlight);
    assert_eq!(summaries[3].status, None);
    assert_eq!(summaries[3].request_bytes, 0);
}

#[test]
fn unknown_failure_class_on_disk_is_a_bad_row_naming_the_exchange() {
    let (_tmp, store, session) = open();
    let record = finished(sample_start(session, 1, Vec::new()), 200, Vec::new(), None);
    store.record_finish(&record).expect("finish");
    store
        .conn
        .execute("UPDATE exchanges SET failure_class = 'from_the_future'", [])
        .expect("tamper");
    let err = store.exchange(session, ExchangeId(1)).expect_err("bad row");
    assert!(
        matches!(
            err,
            StoreError::BadRow {
                exchange: ExchangeId(1),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("from_the_future"), "{err}");
}

#[test]
fn missing_exchange_reads_as_none() {
    let (_tmp, store, session) = open();
    assert!(store
        .exchange(session, ExchangeId(42))
        .expect("read")
        .is_none());
}

#[test]
fn resend_lineage_rule_rewrite_and_hold_outcome_round_trip() {
    use crate::capture::{CapturedRequest, HoldOutcome, Lineage, Origin, Rewrite};
    use std::sync::Arc;

    let (_tmp, store, session) = open();
    let parent = sample_start(session, 1, br#"{"model":null}"#.to_vec());
    let mut child = sample_start(session, 2, br#"{"model":"gpt-4o"}"#.to_vec());
    child.lineage = Lineage::resend_of(ExchangeId(1));
    child.rewrite = Some(Arc::new(Rewrite {
        original: CapturedRequest {
            headers: HeaderList::from([("x-original", "yes")]),
            body: Bytes::from_static(br#"{"model":null}"#),
            ..child.request.clone()
        },
        applied: vec![r#"rule 1: set /model = "gpt-4o""#.into()],
    }));
    let failure = Failure::new(FailureClass::HttpError(400), "Invalid model name");
    store
        .record_events(&[
            CaptureEvent::Finished(Arc::new(finished(
                parent,
                400,
                b"{}".to_vec(),
                Some(failure),
            ))),
            CaptureEvent::Finished(Arc::new(finished(child.clone(), 200, b"{}".to_vec(), None))),
            CaptureEvent::HoldEnded {
                session,
                id: ExchangeId(1),
                outcome: HoldOutcome::Delivered {
                    from: ExchangeId(2),
                },
            },
        ])
        .expect("written");

    let summaries = store.exchange_summaries(session).expect("summaries");
    assert_eq!(summaries[0].hold_outcome.as_deref(), Some("delivered"));
    assert_eq!(summaries[1].lineage.origin, Origin::Resend);
    assert_eq!(summaries[1].lineage.parent, Some(ExchangeId(1)));
    assert!(summaries[1].rewritten && !summaries[0].rewritten);

    let stored = store
        .exchange(session, ExchangeId(2))
        .expect("read")
        .expect("row");
    let rewrite = stored.record.start.rewrite.clone().expect("rewrite kept");
    assert_eq!(rewrite.original.body.as_ref(), br#"{"model":null}"#);
    assert_eq!(
        rewrite.original.headers,
        HeaderList::from([("x-original".to_string(), "yes".to_string())])
    );
    assert_eq!(
        rewrite.applied,
        child
            .rewrite
            .as_ref()
            .map(|r| r.applied.clone())
            .unwrap_or_default()
    );
    assert_eq!(
        stored.record.start.request.body.as_ref(),
        br#"{"model":"gpt-4o"}"#
    );
}

#[test]
fn a_growing_conversation_is_stored_small_and_reads_back_exactly() {
    let (tmp, store, session) = open();
    let mut raw_total = 0usize;
    let mut bodies = Vec::new();
    for turn in 1..=120u64 {
        let messages: Vec<String> = (0..turn)
            .map(|n| {
                format!(
                    r#"{{"role":"user","content":"turn {n}: {}"}}"#,
                    "text ".repeat(200)
                )
            })
            .collect();
        let body = format!(
            r#"{{"model":"m","messages":[{}],"tools":[{}]}}"#,
            messages.join(","),
            r#"{"name":"bash","description":"runs a command in a shell"}"#.repeat(200)
        );
        raw_total += body.len();
        // A small side call on the same path between turns, as opencode's title requests.
        let title = format!(r#"{{"model":"m","messages":["title {turn}"]}}"#);
        let start = sample_start(session, turn * 2, body.clone().into_bytes());
        let side = sample_start(session, turn * 2 + 1, title.into_bytes());
        store
            .record_events(&[
                CaptureEvent::Started(std::sync::Arc::new(start)),
                CaptureEvent::Started(std::sync::Arc::new(side)),
            ])
            .expect("written");
        bodies.push(body);
    }
    drop(store);
    let on_disk: u64 = fs::read_dir(tmp.path())
        .expect("dir")
        .map(|e| e.expect("entry").metadata().expect("meta").len())
        .sum();
    assert!(
        (on_disk as f64) < raw_total as f64 * 0.05,
        "{on_disk} bytes on disk for {raw_total} raw"
    );
    let store = Store::open(tmp.path()).expect("reopen");
    let all = store.exchanges(session).expect("read back");
    let mains: Vec<_> = all
        .iter()
        .filter(|e| e.record.start.id.0 % 2 == 0)
        .collect();
    assert_eq!(mains.len(), bodies.len());
    for (stored, body) in mains.iter().zip(&bodies) {
        assert_eq!(stored.record.start.request.body.as_ref(), body.as_bytes());
    }
    // One from the middle, read alone, follows its chain.
    let middle = store
        .exchange(session, ExchangeId(120))
        .expect("read")
        .expect("row");
    assert_eq!(
        middle.record.start.request.body.as_ref(),
        bodies[59].as_bytes()
    );
}

#[test]
fn token_counts_a_reply_reported_are_in_the_summaries_of_past_sessions() {
    let (_tmp, store, session) = open();
    let stream = b"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1200,\"completion_tokens\":45}}\n\n\
data: [DONE]\n\n"
        .to_vec();
    // Start and finish written apart, and together in one batch: both paths keep the usage.
    store
        .record_start(&sample_start(session, 1, b"{}".to_vec()))
        .expect("start");
    let first = finished(
        sample_start(session, 1, b"{}".to_vec()),
        200,
        stream.clone(),
        None,
    );
    store.record_finish(&first).expect("finish");
    let second = finished(sample_start(session, 2, b"{}".to_vec()), 200, stream, None);
    store
        .record_events(&[
            CaptureEvent::Started(second.start.clone()),
            CaptureEvent::Finished(std::sync::Arc::new(second)),
        ])
        .expect("batch");
    // A failed reply reports nothing.
    let failed = finished(
        sample_start(session, 3, b"{}".to_vec()),
        400,
        b"{\"error\":{\"message\":\"bad\"}}".to_vec(),
        Some(Failure::new(FailureClass::HttpError(400), "bad")),
    );
    store.record_finish(&failed).expect("failed");

    let tokens: Vec<(u64, Option<u64>, Option<u64>)> = store
        .exchange_summaries(session)
        .expect("summaries")
        .iter()
        .map(|s| (s.id.0, s.input_tokens, s.output_tokens))
        .collect();
    assert_eq!(
        tokens,
        [
            (1, Some(1200), Some(45)),
            (2, Some(1200), Some(45)),
            (3, None, None)
        ]
    );
    // Full reads still line their columns up after the token counts.
    let full = store
        .exchange(session, ExchangeId(2))
        .expect("read")
        .expect("present");
    assert_eq!(full.record.start.request.body.as_ref(), b"{}");
}
