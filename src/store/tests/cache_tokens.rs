//! The prompt-cache counts a reply reported are kept with its token counts, for `stats`.

use crate::store::test_fixtures::{finished, sample_start, session_info};
use crate::store::Store;

#[test]
fn cache_reads_and_writes_are_in_the_summaries() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::open(tmp.path()).expect("open");
    let session = store.begin_session(&session_info()).expect("session");
    let stream = b"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1200,\"completion_tokens\":45,\"prompt_tokens_details\":{\"cached_tokens\":1024}}}\n\n\
data: [DONE]\n\n"
        .to_vec();
    let record = finished(sample_start(session, 1, b"{}".to_vec()), 200, stream, None);
    store.record_finish(&record).expect("finish");
    let summaries = store.exchange_summaries(session).expect("summaries");
    let counts = summaries
        .iter()
        .map(|s| {
            (
                s.input_tokens,
                s.output_tokens,
                s.cache_read_tokens,
                s.cache_write_tokens,
            )
        })
        .collect::<Vec<_>>();
    assert_eq!(counts, [(Some(1200), Some(45), Some(1024), None)]);
}
