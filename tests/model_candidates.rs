//! For a model the upstream does not know, the quick fixes offer the upstream's own list:
//! asked with the agent's credentials from memory (the record holds only `<redacted>`), and
//! not recorded as an exchange.

mod common;

use common::{chat_body, client, Harness};

#[tokio::test]
async fn the_upstreams_models_are_listed_with_the_agents_credentials() {
    let mut h = Harness::start().await;
    let reply = client()
        .post(h.url("/v1/chat/completions"))
        .header("authorization", "Bearer sk-agent-REAL")
        .body(chat_body("mock-400-model", false))
        .send()
        .await
        .expect("answered");
    assert_eq!(reply.status(), 400);
    let record = h.next_finished().await;
    let request = &record.start.request;
    assert!(request
        .headers
        .iter()
        .any(|(n, v)| n == "authorization" && !v.contains("sk-agent-REAL")));

    let models = h
        .control
        .list_models(record.start.id, &request.uri, &request.headers)
        .await
        .expect("a list");
    assert!(models.iter().any(|m| m == "mock-ok"), "{models:?}");
    let asked = h.mock.received();
    let list = asked.last().expect("the list was asked for");
    assert_eq!(
        (list.method.as_str(), list.target.as_str()),
        ("GET", "/v1/models")
    );
    assert_eq!(list.header("authorization"), Some("Bearer sk-agent-REAL"));

    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(
        stored.len(),
        1,
        "llmscope's own question is not an exchange"
    );
}
