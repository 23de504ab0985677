//! `--upstream-ca`: an upstream behind a private CA is reached over real TLS when its CA is
//! given, and refused with a reason naming the host and the cause when it is not.

mod common;

use common::tls::{self_signed_ca_server, TestCa, TlsFront};
use common::{chat_body, client, json, Harness};
use llmscope::capture::{Failure, FailureClass};
use llmscope::mock::MockUpstream;
use llmscope::proxy::{Upstream, UpstreamCa};

/// A mock upstream behind TLS with a certificate for `names` from a CA of the test's own.
struct PrivateUpstream {
    ca: TestCa,
    front: TlsFront,
    _mock: MockUpstream,
    _scratch: tempfile::TempDir,
}

impl PrivateUpstream {
    async fn start(names: &[&str]) -> Self {
        let scratch = tempfile::tempdir().expect("temp dir");
        let ca = TestCa::new(scratch.path());
        let mock = MockUpstream::start().await.expect("mock starts");
        let front = TlsFront::start(ca.server_config(names), mock.addr()).await;
        Self {
            ca,
            front,
            _mock: mock,
            _scratch: scratch,
        }
    }

    fn url(&self, host: &str) -> String {
        format!("https://{host}:{}", self.front.addr.port())
    }
}

/// One chat through llmscope to `url`, trusting `ca` for it: what the agent got, and the
/// failure recorded.
async fn failed_through(url: &str, ca: UpstreamCa) -> (u16, serde_json::Value, Failure) {
    let mut harness = Harness::start_with(|config| {
        config.upstream = Upstream::parse(url).expect("url");
        config.upstream_ca = Some(ca);
    })
    .await;
    let (status, body) = proxied_chat(&harness).await;
    let record = harness.next_finished().await;
    let failure = record.failure.clone().expect("a failure");
    (status, body, failure)
}

async fn proxied_chat(harness: &Harness) -> (u16, serde_json::Value) {
    let reply = client()
        .post(harness.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(chat_body("mock-ok", false))
        .send()
        .await
        .expect("the agent gets a reply");
    let status = reply.status().as_u16();
    (status, json(&reply.bytes().await.expect("body")))
}

#[tokio::test]
async fn an_upstream_behind_a_private_ca_is_reached_with_upstream_ca() {
    let upstream = PrivateUpstream::start(&["127.0.0.1"]).await;
    let url = upstream.url("127.0.0.1");
    let ca = UpstreamCa::load(&upstream.ca.pem_path).expect("CA loads");
    let mut harness = Harness::start_with(|config| {
        config.upstream = Upstream::parse(&url).expect("url");
        config.upstream_ca = Some(ca);
    })
    .await;
    let (status, body) = proxied_chat(&harness).await;
    let record = harness.next_finished().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "chat.completion", "{body}");
    assert!(record.failure.is_none(), "{:?}", record.failure);
}

#[tokio::test]
async fn without_upstream_ca_the_agent_is_told_the_host_has_an_unknown_issuer() {
    let upstream = PrivateUpstream::start(&["127.0.0.1"]).await;
    let url = upstream.url("127.0.0.1");
    let mut harness = Harness::start_with(|config| {
        config.upstream = Upstream::parse(&url).expect("url");
    })
    .await;
    let (status, body) = proxied_chat(&harness).await;
    let record = harness.next_finished().await;
    let failure = record.failure.as_ref().expect("a failure");
    assert_eq!(failure.class, FailureClass::Tls);
    assert!(
        failure
            .message
            .starts_with("TLS handshake with 127.0.0.1 failed: unknown issuer"),
        "{}",
        failure.message
    );
    assert_eq!(status, 502);
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("unknown issuer"), "{body}");
    assert!(message.contains("--upstream-ca"), "{body}");
}

#[tokio::test]
async fn a_certificate_for_another_name_is_a_name_mismatch() {
    let upstream = PrivateUpstream::start(&["gateway.internal"]).await;
    let url = upstream.url("127.0.0.1");
    let ca = UpstreamCa::load(&upstream.ca.pem_path).expect("CA loads");
    let (status, _, failure) = failed_through(&url, ca).await;
    assert_eq!(status, 502);
    assert!(
        failure
            .message
            .starts_with("TLS handshake with 127.0.0.1 failed: name mismatch"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn a_server_certificate_that_is_its_own_ca_is_named_as_such() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let mock = MockUpstream::start().await.expect("mock starts");
    let (pem, config) = self_signed_ca_server(scratch.path(), &["127.0.0.1"]);
    let front = TlsFront::start(config, mock.addr()).await;
    let url = format!("https://127.0.0.1:{}", front.addr.port());
    // The user did what they would: trusted the gateway's own certificate.
    let ca = UpstreamCa::load(&pem).expect("the certificate loads");
    let (status, body, failure) = failed_through(&url, ca).await;
    assert_eq!(status, 502);
    assert!(
        failure
            .message
            .starts_with("TLS handshake with 127.0.0.1 failed: its certificate is marked as a CA"),
        "{}",
        failure.message
    );
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("without CA:TRUE"), "{body}");
}
