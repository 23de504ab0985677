use super::*;
use crate::capture::ExchangeId;
use bytes::Bytes;

fn chunk(n: u64) -> CaptureEvent {
    CaptureEvent::ResponseChunk {
        id: ExchangeId(n),
        data: Bytes::from_static(b"x"),
    }
}

#[test]
fn lagging_subscriber_skips_chunks_but_not_lifecycle_events() {
    let bus = CaptureBus::new();
    let mut sub = bus.subscribe_with_lag_limit(2);
    for n in 0..5 {
        bus.publish(chunk(n));
    }
    let finished_like = CaptureEvent::ResponseHead {
        id: ExchangeId(9),
        status: 200,
        headers: Arc::default(),
        first_byte_ms: 1,
    };
    bus.publish(finished_like);
    let mut got = Vec::new();
    while let Some(ev) = sub.try_recv() {
        got.extend(ev.exchange_id().map(|id| id.0));
    }
    assert_eq!(got, [0, 1, 9]);
    assert_eq!(bus.stats().chunks_skipped, 3);
}

#[test]
fn record_subscriber_gets_lifecycle_events_only() {
    let bus = CaptureBus::new();
    let mut record = bus.subscribe_to(Interest::Record);
    let mut live = bus.subscribe();
    bus.publish(chunk(1));
    bus.publish(CaptureEvent::ResponseHead {
        id: ExchangeId(1),
        status: 200,
        headers: Arc::default(),
        first_byte_ms: 1,
    });
    bus.publish(CaptureEvent::Held {
        id: ExchangeId(1),
        expires_at_ms: 0,
    });
    let drain = |sub: &mut Subscription| std::iter::from_fn(|| sub.try_recv()).count();
    assert_eq!(drain(&mut live), 3);
    assert_eq!(drain(&mut record), 1);
}

#[test]
fn live_detail_is_wanted_while_a_live_subscriber_is_there() {
    let bus = CaptureBus::new();
    let record = bus.subscribe_to(Interest::Record);
    assert!(!bus.wants_live_detail());
    let live = bus.subscribe();
    assert!(bus.wants_live_detail());
    drop(live);
    // Noticed at the next event it would have received.
    bus.publish(chunk(1));
    assert!(!bus.wants_live_detail());
    drop(record);
}

#[test]
fn dropped_subscription_is_forgotten() {
    let bus = CaptureBus::new();
    drop(bus.subscribe());
    bus.publish(chunk(1));
    assert!(bus.lock().subscribers.is_empty());
}

#[test]
fn a_counting_subscription_knows_how_many_exchanges_finished_before_it() {
    use crate::capture::test_fixtures::agent_start;
    use crate::capture::{ExchangeRecord, Timing};
    let finished_record = |id| ExchangeRecord {
        start: Arc::new(agent_start(id, "/v1/chat/completions", "{}")),
        timing: Timing::default(),
        response: None,
        failure: None,
        derived: Default::default(),
    };
    let bus = CaptureBus::new();
    bus.publish(CaptureEvent::Finished(Arc::new(finished_record(1))));
    bus.publish(chunk(2));
    let (mut sub, before) = bus.subscribe_counting_finished(8, Interest::Record);
    assert_eq!(before, 1);
    bus.publish(CaptureEvent::Finished(Arc::new(finished_record(3))));
    let got = sub.try_recv().and_then(|e| e.exchange_id());
    assert_eq!(got, Some(ExchangeId(3)));
    assert_eq!(bus.subscribe_counting_finished(8, Interest::Record).1, 2);
}

struct Seen(Mutex<Vec<Option<ExchangeId>>>);

impl Tap for Seen {
    fn observe(&self, event: &CaptureEvent) {
        self.0.lock().unwrap().push(event.exchange_id());
    }
}

#[test]
fn a_tap_sees_each_event_as_it_is_published_until_it_is_dropped() {
    use crate::capture::test_fixtures::agent_start;
    use crate::capture::{ExchangeRecord, Timing};
    let bus = CaptureBus::new();
    bus.publish(CaptureEvent::Finished(Arc::new(ExchangeRecord {
        start: Arc::new(agent_start(1, "/v1/chat/completions", "{}")),
        timing: Timing::default(),
        response: None,
        failure: None,
        derived: Default::default(),
    })));
    let mut told = None;
    let tap = bus.tap(|finished_before| {
        told = Some(finished_before);
        Arc::new(Seen(Mutex::default()))
    });
    assert_eq!(told, Some(1));
    bus.publish(chunk(2));
    // Seen before `publish` returned: no queue, no task in between.
    assert_eq!(*tap.0.lock().unwrap(), [Some(ExchangeId(2))]);
    drop(tap);
    bus.publish(chunk(3));
    assert!(bus.lock().taps.is_empty());
}

#[test]
fn an_outcomes_subscriber_is_not_sent_the_start_of_each_request() {
    use crate::capture::test_fixtures::agent_start;
    use crate::capture::{ExchangeRecord, Timing};
    let bus = CaptureBus::new();
    let mut outcomes = bus.subscribe_to(Interest::Outcomes);
    let start = Arc::new(agent_start(1, "/v1/chat/completions", "{}"));
    bus.publish(CaptureEvent::Started(start.clone()));
    bus.publish(CaptureEvent::Held {
        id: ExchangeId(1),
        expires_at_ms: 0,
    });
    bus.publish(CaptureEvent::Intercepted {
        start: start.clone(),
        expires_at_ms: 0,
    });
    bus.publish(CaptureEvent::Finished(Arc::new(ExchangeRecord {
        start,
        timing: Timing::default(),
        response: None,
        failure: None,
        derived: Default::default(),
    })));
    let got: Vec<bool> = std::iter::from_fn(|| outcomes.try_recv())
        .map(|event| matches!(event, CaptureEvent::Finished(_)))
        .collect();
    assert_eq!(got, [false, true], "the interception, then the finish");
}

#[test]
fn past_its_byte_limit_a_subscriber_gets_every_event_but_not_every_body() {
    use crate::capture::test_fixtures::agent_start;
    let started = |id: u64| {
        let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(90));
        CaptureEvent::Started(Arc::new(agent_start(id, "/v1/chat/completions", &body)))
    };
    let bus = CaptureBus::new();
    let mut store = bus.subscribe_with_byte_limit(Interest::Everything, 250);
    let mut unlimited = bus.subscribe();
    for id in 1..=3 {
        bus.publish(started(id));
    }
    // Past the limit a live chunk is not worth queueing at all.
    bus.publish(CaptureEvent::ResponseChunk {
        id: ExchangeId(4),
        data: Bytes::from(vec![b'x'; 100]),
    });
    let got: Vec<_> = std::iter::from_fn(|| store.try_recv_noting_shed())
        .map(|got| {
            let CaptureEvent::Started(start) = &got.event else {
                panic!("only starts were queued");
            };
            (
                start.id.0,
                start.request.body.len(),
                start.request_body_unrecorded,
                got.bodies_shed,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (1, 100, None, false),
            (2, 100, None, false),
            (3, 0, Some(100), true)
        ]
    );
    assert_eq!(bus.stats().bodies_shed, 1);
    // The other subscriber has no limit and got everything whole.
    let whole = std::iter::from_fn(|| unlimited.try_recv())
        .map(|event| event.body_bytes())
        .collect::<Vec<_>>();
    assert_eq!(whole, [100, 100, 100, 100]);
    assert_eq!(bus.stats().chunks_skipped, 1);
    // Read, the queue holds nothing again, and bodies come whole.
    bus.publish(started(5));
    let fifth = store.try_recv_noting_shed().expect("the fifth start");
    assert!(!fifth.bodies_shed);
    assert_eq!(fifth.event.body_bytes(), 100);
}

#[test]
fn an_event_over_the_byte_limit_on_its_own_goes_whole_while_the_queue_is_under_it() {
    use crate::capture::test_fixtures::agent_start;
    let started = |id: u64, pad: usize| {
        let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(pad));
        CaptureEvent::Started(Arc::new(agent_start(id, "/v1/chat/completions", &body)))
    };
    let bus = CaptureBus::new();
    let mut store = bus.subscribe_with_byte_limit(Interest::Everything, 250);
    bus.publish(started(1, 90));
    bus.publish(started(2, 990));
    bus.publish(started(3, 990));
    let got: Vec<(usize, bool)> = std::iter::from_fn(|| store.try_recv_noting_shed())
        .map(|got| (got.event.body_bytes(), got.bodies_shed))
        .collect();
    assert_eq!(got, [(100, false), (1000, false), (0, true)]);
    // Read, the queue is empty again: a large one goes whole.
    bus.publish(started(4, 990));
    let fourth = store.try_recv_noting_shed().expect("the fourth start");
    assert_eq!(
        (fourth.event.body_bytes(), fourth.bodies_shed),
        (1000, false)
    );
}
