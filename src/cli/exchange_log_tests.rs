use std::sync::Arc;

use super::{is_one_two_five, push_exchange_line, LocalSeconds};
use crate::capture::HeaderList;
use crate::capture::{
    CapturedResponse, ExchangeId, ExchangeRecord, Failure, FailureClass, Lineage, Rewrite, Timing,
};
use crate::store::test_fixtures::sample_start;

fn line_of(record: &ExchangeRecord) -> String {
    let mut line = String::new();
    push_exchange_line(record, &mut LocalSeconds::default(), &mut line);
    line
}

#[test]
fn an_auto_fix_says_which_failure_it_fixed_and_how() {
    let mut start = sample_start(crate::capture::SessionId(1), 6, b"{}".to_vec());
    start.lineage = Lineage::auto_fix_of(ExchangeId(5));
    start.rewrite = Some(Arc::new(Rewrite {
        original: start.request.clone(),
        applied: vec![
            "auto-fix: remove `reasoning_effort`".into(),
            "auto-fix: drop `seed`".into(),
        ],
    }));
    let record = ExchangeRecord {
        start: Arc::new(start),
        timing: Default::default(),
        response: None,
        failure: None,
        derived: Default::default(),
    };
    let line = line_of(&record);
    assert!(
        line.ends_with(" | auto-fixed #5: remove `reasoning_effort`; drop `seed`"),
        "{line}"
    );
}

#[test]
fn a_line_has_every_column_in_place_and_a_failure_on_one_line() {
    let mut start = sample_start(crate::capture::SessionId(1), 42, vec![b'x'; 2048]);
    start.started_at_ms = 1_767_000_000_000;
    let time = LocalSeconds::default()
        .format(start.started_at_ms)
        .to_string();
    let record = ExchangeRecord {
        start: Arc::new(start),
        timing: Timing {
            duration_ms: Some(812),
            first_byte_ms: None,
            ..Default::default()
        },
        response: Some(CapturedResponse {
            status: 502,
            headers: HeaderList::new(),
            body: Default::default(),
            body_len: 3 << 20,
        }),
        failure: Some(Failure {
            class: FailureClass::HttpError(502),
            message: "Received Model Group=gpt-4o\n  Available   Model Group Fallbacks=None".into(),
        }),
        derived: Default::default(),
    };
    let line = line_of(&record);
    let start = &record.start;
    let expected = format!(
        "{time}   #42 {} {} {} 502 {} 812ms ttfb=- up=2.0KB down=3.0MB | Received Model \
         Group=gpt-4o Available Model Group Fallbacks=None",
        start.request.method,
        start.request.uri,
        start.model.as_deref().unwrap_or("-"),
        FailureClass::HttpError(502).as_str(),
    );
    assert_eq!(line, expected);
    let mut wide = (*record.start).clone();
    wide.id = ExchangeId(123_456);
    let wide = ExchangeRecord {
        start: Arc::new(wide),
        timing: Default::default(),
        response: None,
        failure: None,
        derived: Default::default(),
    };
    assert!(
        line_of(&wide).starts_with(&format!("{time} #123456 ")),
        "{}",
        line_of(&wide)
    );
    assert!(line_of(&wide).contains(" --- ok - ttfb=- up=2.0KB down=0B"));
}

#[test]
fn a_log_that_falls_behind_holds_bounded_bodies_and_still_prints_every_exchange() {
    let bus = crate::capture::CaptureBus::new();
    let mut log =
        bus.subscribe_with_byte_limit(crate::capture::Interest::Outcomes, super::QUEUED_BODY_BYTES);
    let body_len: usize = 1 << 20;
    let exchanges = 2 * super::QUEUED_BODY_BYTES / body_len;
    for id in 0..exchanges as u64 {
        let start = sample_start(crate::capture::SessionId(1), id, vec![b'x'; body_len]);
        bus.publish(crate::capture::CaptureEvent::Finished(Arc::new(
            ExchangeRecord {
                start: Arc::new(start),
                timing: Default::default(),
                response: None,
                failure: None,
                derived: Default::default(),
            },
        )));
    }
    let mut queued_bodies = 0;
    let mut lines = Vec::new();
    while let Some(crate::capture::CaptureEvent::Finished(record)) = log.try_recv() {
        queued_bodies += record.start.request.body.len();
        lines.push(line_of(&record));
    }
    assert!(queued_bodies <= super::QUEUED_BODY_BYTES, "{queued_bodies}");
    assert_eq!(lines.len(), exchanges, "every exchange still gets its line");
    assert!(
        lines.iter().all(|line| line.contains(" up=1.0MB ")),
        "{:?}",
        lines.last()
    );
}

#[test]
fn sizes_print_as_one_decimal_of_their_unit() {
    let samples = (0..1_200_000u64)
        .chain((1u64..4000).map(|k| k * 262_144 + 1))
        .chain([1_048_575, 1_048_576, 5 << 30, u64::MAX]);
    for n in samples {
        let mut printed = String::new();
        super::push_bytes(&mut printed, n);
        let expected = match n {
            0..1024 => format!("{n}B"),
            1024..1_048_576 => format!("{:.1}KB", n as f64 / 1024.0),
            _ => format!("{:.1}MB", n as f64 / 1_048_576.0),
        };
        assert_eq!(printed, expected, "{n}");
    }
}

#[test]
fn a_remembered_second_prints_as_a_fresh_one() {
    let mut remembered = LocalSeconds::default();
    let base = 1_767_000_000_000_i64;
    for at in [
        base,
        base + 1,
        base + 999,
        base + 1000,
        base + 61_000,
        base - 1,
    ] {
        let fresh = LocalSeconds::default().format(at).to_string();
        assert_eq!(remembered.format(at), fresh, "{at}");
    }
    assert_ne!(
        LocalSeconds::default().format(base),
        LocalSeconds::default().format(base + 1000)
    );
}

#[test]
fn a_growing_loop_is_mentioned_on_a_one_two_five_scale() {
    let mentioned: Vec<u32> = (1..=1000).filter(|&n| is_one_two_five(n)).collect();
    assert_eq!(mentioned, [2, 5, 10, 20, 50, 100, 200, 500, 1000]);
}
