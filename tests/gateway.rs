//! llmscope on both sides of a gateway: agent → llmscope → stand-in LiteLLM →
//! llmscope (`/provider/openai`) → mock provider. The gateway hides the provider's failure;
//! the record links each provider call to the agent exchange it served, and the deepest
//! cause is the provider's.

mod common;

use std::time::Duration;

use common::{chat_body, client, json, Harness};
use llmscope::analysis::ProviderCauses;
use llmscope::capture::{ExchangeId, FailureClass};
use llmscope::mock::{MockGateway, MockUpstream};
use llmscope::proxy::{Provider, Upstream};
use llmscope::store::StoredExchange;

const CHAT: &str = "/v1/chat/completions";

/// The agent-side llmscope in front of a gateway whose provider is reached through that same
/// llmscope, with the gateway retrying a failed provider call `retries` times.
async fn through_a_gateway(retries: usize) -> (Harness, MockGateway, MockUpstream) {
    let provider = MockUpstream::start().await.expect("provider");
    let mut gateway = MockGateway::bind().await.expect("gateway");
    let gateway_url = gateway.url();
    let provider_url = provider.url();
    let h = Harness::start_with(|c| {
        c.upstream = Upstream::parse(&gateway_url).expect("gateway url");
        c.providers = vec![Provider::parse(&format!("openai={provider_url}")).expect("spec")];
    })
    .await;
    gateway
        .serve(format!("{}/provider/openai", h.proxy_url), retries)
        .expect("gateway serves");
    (h, gateway, provider)
}

fn agent_side(stored: &[StoredExchange]) -> Vec<&StoredExchange> {
    stored
        .iter()
        .filter(|e| e.record.start.request.provider().is_none())
        .collect()
}

fn beneath(stored: &[StoredExchange], agent: ExchangeId) -> Vec<&StoredExchange> {
    stored
        .iter()
        .filter(|e| e.record.start.lineage.beneath == Some(agent))
        .collect()
}

/// The store lists exchanges by id, the agent's first; the bus delivered them as they ended,
/// the provider calls first. Feed them in that order.
fn deepest_causes(stored: &[StoredExchange]) -> Vec<String> {
    let mut causes = ProviderCauses::default();
    let (provider_side, agents): (Vec<_>, Vec<_>) = stored
        .iter()
        .partition(|e| e.record.start.request.provider().is_some());
    provider_side
        .into_iter()
        .chain(agents)
        .filter_map(|e| causes.observe(&e.record))
        .collect()
}

#[tokio::test]
async fn a_provider_that_breaks_http_is_the_cause_under_litellms_connection_error() {
    let (h, _gateway, _provider) = through_a_gateway(1).await;
    let reply = client()
        .post(h.url(CHAT))
        .body(chat_body("mock-malformed", false))
        .send()
        .await
        .expect("answered");
    assert_eq!(reply.status(), 500);
    let body = json(&reply.bytes().await.expect("body"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Connection error."),
        "all the agent hears: {body}"
    );

    let (stored, _dir) = h.stop_and_load().await;
    let agents = agent_side(&stored);
    assert_eq!(agents.len(), 1);
    let agent = &agents[0].record;
    let calls = beneath(&stored, agent.start.id);
    assert_eq!(
        calls.len(),
        2,
        "the gateway's call and its retry, both linked"
    );
    for call in &calls {
        assert_eq!(call.record.start.request.provider(), Some("openai"));
        assert_eq!(
            call.record.failure.as_ref().map(|f| f.class),
            Some(FailureClass::MalformedResponse)
        );
        // The gateway's own key reached the provider side, and the record has it redacted.
        assert!(call
            .record
            .start
            .request
            .headers
            .iter()
            .any(|(n, v)| n == "authorization" && !v.contains("sk-gateway")));
    }
    assert_eq!(
        deepest_causes(&stored),
        ["LiteLLM 500 ← openai: the provider sent a malformed HTTP response: invalid HTTP version parsed"]
    );
}

#[tokio::test]
async fn a_provider_400_is_named_with_the_providers_words() {
    let (h, _gateway, _provider) = through_a_gateway(0).await;
    let reply = client()
        .post(h.url(CHAT))
        .body(chat_body("mock-400-context", false))
        .send()
        .await
        .expect("answered");
    assert_eq!(reply.status(), 400);
    let (stored, _dir) = h.stop_and_load().await;
    let causes = deepest_causes(&stored);
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert!(
        causes[0].starts_with("LiteLLM 400 ← openai 400: This model's maximum context length is"),
        "{causes:?}"
    );
}

/// Two agents at once, each waiting on a slow provider reply: each provider call is linked
/// to the exchange whose conversation it carries, not to whichever started last.
#[tokio::test]
async fn concurrent_agent_requests_are_linked_to_their_own_provider_calls() {
    let (h, _gateway, _provider) = through_a_gateway(0).await;
    let ask = |text: &str| {
        let body = serde_json::json!({
            "model": "mock-slow-stream", "stream": true,
            "messages": [{"role": "user", "content": text}],
        })
        .to_string();
        let request = client().post(h.url(CHAT)).body(body);
        tokio::spawn(async move {
            let reply = request.send().await.expect("answered");
            reply.text().await.expect("body")
        })
    };
    let first = ask("Rename the config loader in src/config.rs");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = ask("Add a test for the SSE parser");
    assert!(first.await.expect("task").contains("[DONE]"));
    assert!(second.await.expect("task").contains("[DONE]"));

    let (stored, _dir) = h.stop_and_load().await;
    for agent in agent_side(&stored) {
        let text = |e: &StoredExchange| {
            let body: serde_json::Value =
                serde_json::from_slice(&e.record.start.request.body).unwrap_or_default();
            body["messages"][0]["content"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        let calls = beneath(&stored, agent.record.start.id);
        assert_eq!(
            calls.len(),
            1,
            "one provider call under {}",
            agent.record.start.id
        );
        assert_eq!(text(calls[0]), text(agent));
    }
}

/// A gateway's 5xx over a provider that breaks HTTP is a failure no retry cures: the agent's
/// retry loop is stopped as soon as a malformed reply would be, naming the provider's cause.
#[tokio::test]
async fn an_agent_retrying_a_gateway_5xx_over_a_broken_provider_is_stopped_soon() {
    let (h, _gateway, _provider) = through_a_gateway(0).await;
    let http = client();
    let mut statuses = Vec::new();
    let mut last = serde_json::Value::Null;
    for _ in 0..4 {
        let reply = http
            .post(h.url(CHAT))
            .body(chat_body("mock-malformed", false))
            .send()
            .await
            .expect("answered");
        statuses.push(reply.status().as_u16());
        last = json(&reply.bytes().await.expect("body"));
    }
    assert_eq!(statuses, [500, 500, 500, 400]);
    let message = last["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("llmscope: stopped a retry loop")
            && message.contains("(malformed reply): upstream sent a malformed HTTP response"),
        "{message}"
    );
    h.stop_and_load().await;
}
