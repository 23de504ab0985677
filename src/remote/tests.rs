//! Capture events survive the socket: what a screen decodes is what the proxy published.

use crate::capture::HeaderList;
use std::sync::Arc;

use bytes::Bytes;

use super::lines::encode;
use super::wire::ServerMessage;
use super::wire_event::WireEvent;
use crate::capture::{
    CaptureEvent, CapturedResponse, ExchangeId, ExchangeRecord, Failure, FailureClass, HoldOutcome,
    Lineage, SessionId, Timing,
};
use crate::store::test_fixtures::sample_start;

fn through_the_socket(event: &CaptureEvent) -> CaptureEvent {
    let line = encode(&ServerMessage::Event {
        event: WireEvent::from_event(event),
    });
    assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1, "one line");
    match serde_json::from_slice(&line).expect("decodes") {
        ServerMessage::Event { event } => event.into_event().expect("a capture event"),
        other => panic!("not an event: {other:?}"),
    }
}

#[test]
fn a_failed_resend_with_a_binary_reply_arrives_as_it_left() {
    let mut start = sample_start(SessionId(4), 9, br#"{"model":"m"}"#.to_vec());
    start.lineage = Lineage::resend_of(ExchangeId(8));
    let record = ExchangeRecord {
        start: Arc::new(start),
        timing: Timing {
            started_at_ms: 1_700_000_000_000,
            first_byte_ms: Some(12),
            duration_ms: Some(40),
        },
        response: Some(CapturedResponse {
            status: 429,
            headers: HeaderList::from([("content-encoding", "gzip")]),
            body: Bytes::from_static(&[0x1f, 0x8b, 0xff, 0x00, b'\n']),
            body_len: 900,
        }),
        failure: Some(Failure::new(FailureClass::HttpError(429), "slow down")),
        derived: Default::default(),
    };
    let back = through_the_socket(&CaptureEvent::Finished(Arc::new(record.clone())));
    let CaptureEvent::Finished(back) = back else {
        panic!("not finished: {back:?}");
    };
    assert_eq!(back.start.request, record.start.request);
    assert_eq!(back.start.lineage, record.start.lineage);
    assert_eq!(back.start.dialect, record.start.dialect);
    assert_eq!(back.timing, record.timing);
    assert_eq!(back.response, record.response);
    assert_eq!(back.failure, record.failure);
}

#[test]
fn hold_events_keep_their_outcome() {
    let ended = CaptureEvent::HoldEnded {
        session: SessionId(2),
        id: ExchangeId(3),
        outcome: HoldOutcome::Delivered {
            from: ExchangeId(5),
        },
    };
    match through_the_socket(&ended) {
        CaptureEvent::HoldEnded { id, outcome, .. } => {
            assert_eq!(
                (id, outcome),
                (
                    ExchangeId(3),
                    HoldOutcome::Delivered {
                        from: ExchangeId(5)
                    }
                )
            );
        }
        other => panic!("{other:?}"),
    }
}
