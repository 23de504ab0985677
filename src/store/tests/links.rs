//! The links between exchanges survive the store — a repeat to its retry loop, a gateway's
//! provider call to the agent's exchange it served — for `open` and `stats` to fold and count
//! past sessions as the live screen does.

use std::sync::Arc;

use crate::capture::{CaptureEvent, ExchangeId, Failure, FailureClass, Lineage};
use crate::store::test_fixtures::{finished, sample_start, session_info};
use crate::store::Store;

#[test]
fn repeats_and_provider_calls_keep_their_links_in_summaries_and_full_rows() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::open(tmp.path()).expect("open");
    let session = store.begin_session(&session_info()).expect("session");
    let body = br#"{"model":"gpt-4o"}"#.to_vec();
    let failure = || Some(Failure::new(FailureClass::ErrorIn200, "quota exhausted"));
    let first = sample_start(session, 1, body.clone());
    let repeat = |id| {
        let mut start = sample_start(session, id, body.clone());
        start.lineage = Lineage {
            repeats: Some(ExchangeId(1)),
            ..Lineage::default()
        };
        start
    };
    let mut provider_call = sample_start(session, 4, body.clone());
    provider_call.lineage.beneath = Some(ExchangeId(1));
    // One repeat written start first, one in a batch with its finish.
    store.record_start(&repeat(2)).expect("start");
    store
        .record_finish(&finished(repeat(2), 502, b"{}".to_vec(), failure()))
        .expect("finish");
    store
        .record_events(&[
            CaptureEvent::Finished(Arc::new(finished(first, 200, b"{}".to_vec(), failure()))),
            CaptureEvent::Finished(Arc::new(finished(
                repeat(3),
                200,
                b"{}".to_vec(),
                failure(),
            ))),
            CaptureEvent::Finished(Arc::new(finished(provider_call, 200, b"{}".to_vec(), None))),
        ])
        .expect("batch");

    let summaries = store.exchange_summaries(session).expect("summaries");
    let repeats: Vec<_> = summaries.iter().map(|s| s.lineage.repeats).collect();
    assert_eq!(
        repeats,
        [None, Some(ExchangeId(1)), Some(ExchangeId(1)), None]
    );
    assert_eq!(summaries[3].lineage.beneath, Some(ExchangeId(1)));
    let full = store
        .exchange(session, ExchangeId(3))
        .expect("read")
        .expect("row");
    assert_eq!(full.record.start.lineage.repeats, Some(ExchangeId(1)));
    assert_eq!(full.record.start.lineage.beneath, None);
    assert_eq!(full.record.start.request.body.as_ref(), body.as_slice());
}
