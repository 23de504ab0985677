//! One llmscope for an agent that talks to two providers: `--upstream-for anthropic=URL`
//! sends Anthropic's requests to their own upstream, everything else to `--upstream`.

mod common;

use common::{chat_body, client, Harness};
use llmscope::llm::Dialect;
use llmscope::mock::MockUpstream;
use llmscope::proxy::Upstream;

#[tokio::test]
async fn each_api_goes_to_its_own_upstream() {
    let anthropic = MockUpstream::start().await.expect("second upstream");
    let anthropic_url = anthropic.url();
    let h = Harness::start_with(|c| {
        let upstream = Upstream::parse(&anthropic_url).expect("url");
        c.upstream_for = vec![(Dialect::Anthropic, upstream)];
    })
    .await;
    for path in ["/v1/messages?beta=true", "/v1/chat/completions"] {
        let reply = client()
            .post(h.url(path))
            .body(chat_body("mock-ok", false))
            .send()
            .await
            .expect("answered");
        assert_eq!(reply.status(), 200, "{path}");
    }
    let targets = |mock: &MockUpstream| -> Vec<String> {
        mock.received().into_iter().map(|r| r.target).collect()
    };
    assert_eq!(targets(&anthropic), ["/v1/messages?beta=true"]);
    assert_eq!(targets(&h.mock), ["/v1/chat/completions"]);
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 2, "both in one session");
}
