//! Headers come back from the file exactly as they were captured, whatever their text.

use crate::capture::{ExchangeId, HeaderList};
use crate::store::test_fixtures::{finished, sample_start, session_info};
use crate::store::Store;

#[test]
fn headers_with_quotes_escapes_and_any_text_come_back_as_captured() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::open(tmp.path()).expect("open");
    let session = store.begin_session(&session_info()).expect("session");
    let mut start = sample_start(session, 3, b"{}".to_vec());
    let odd = HeaderList::from([
        ("x-quote", r#"say "hi""#),
        ("x-path", r"C:\agent\run"),
        ("x-control", "tab\there\u{1}\u{7f}"),
        ("x-text", "café ✓ 日本"),
        ("x-empty", ""),
    ]);
    start.request.headers.extend(odd.iter());
    let mut record = finished(start.clone(), 200, b"{}".to_vec(), None);
    if let Some(response) = record.response.as_mut() {
        response.headers = odd.clone();
    }
    store.record_finish(&record).expect("finish");
    let stored = store
        .exchange(session, ExchangeId(3))
        .expect("read")
        .expect("row");
    assert_eq!(stored.record.start.request.headers, start.request.headers);
    let response = stored.record.response.expect("a reply");
    assert_eq!(response.headers, odd);
    // The text on disk is what any JSON reader of the file (an export, sqlite3) reads.
    assert_eq!(
        crate::store::insert::headers_json(&odd),
        serde_json::to_string(&odd).expect("json")
    );
}

#[test]
fn a_forward_mode_exchange_lists_with_its_host_and_a_reverse_mode_one_without() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::open(tmp.path()).expect("open");
    let reverse_session = store.begin_session(&session_info()).expect("session");
    let mut reverse = sample_start(reverse_session, 1, b"{}".to_vec());
    // A value that only looks like the header's name must not be taken for it.
    reverse
        .request
        .headers
        .push("x-note", r#"["host","decoy"]"#);
    let forward_session = store.begin_session(&session_info()).expect("session");
    // Forward mode's first exchange may be a refused handshake: a CONNECT with no headers.
    let mut refused = sample_start(forward_session, 1, Vec::new());
    refused.request.method = "CONNECT".into();
    refused.request.uri = "api.anthropic.com:443".into();
    refused.request.headers.clear();
    let mut forward = sample_start(forward_session, 2, b"{}".to_vec());
    forward.request.headers.push("host", "api.anthropic.com");
    for start in [reverse, refused, forward] {
        store
            .record_finish(&finished(start, 200, b"{}".to_vec(), None))
            .expect("finish");
    }
    let hosts = |session| {
        let summaries = store.exchange_summaries(session).expect("list");
        summaries.into_iter().map(|s| s.host).collect::<Vec<_>>()
    };
    assert_eq!(hosts(reverse_session), [None]);
    assert_eq!(
        hosts(forward_session),
        [None, Some("api.anthropic.com".to_string())]
    );
}
