//! Forward mode over real TLS on loopback: a client using llmscope as its HTTPS proxy and
//! trusting llmscope's CA reaches an intercepted host (here `localhost`, a TLS front with a
//! CA of the test's own in front of the mock); the exchange is recorded decrypted, held and
//! resent like a reverse-mode one; other hosts are tunnelled byte for byte, unrecorded; a
//! client that does not trust the CA fails its handshake and llmscope records why.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::recorder::{Recorder, Stream};
use common::tls::{TestCa, TlsFront};
use common::{chat_body, json, load_exchanges, Harness, WAIT};
use llmscope::ca::CertAuthority;
use llmscope::capture::{CaptureEvent, ExchangeId, FailureClass, HeaderList};
use llmscope::mock::MockUpstream;
use llmscope::proxy::{ForwardMode, ResendRequest, UpstreamCa};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The mock behind TLS for `localhost`, with the CA the proxy must be told to trust.
struct LocalLlmHost {
    ca: TestCa,
    front: TlsFront,
    mock: MockUpstream,
}

impl LocalLlmHost {
    async fn start(dir: &Path) -> Self {
        let ca = TestCa::new(dir);
        let mock = MockUpstream::start().await.expect("mock starts");
        let front = TlsFront::start(ca.server_config(&["localhost"]), mock.addr()).await;
        Self { ca, front, mock }
    }

    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.front.addr.port())
    }
}

/// An agent's client: llmscope as its proxy for every URL; it trusts only `ca_pem`.
fn proxied_client(proxy: &str, ca_pem: Option<&Path>) -> reqwest::Client {
    llmscope::proxy::install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .proxy(reqwest::Proxy::all(proxy).expect("proxy URL"))
        .timeout(WAIT);
    if let Some(path) = ca_pem {
        let pem = std::fs::read(path).expect("CA file");
        let cert = reqwest::Certificate::from_pem(&pem).expect("CA cert");
        builder = builder.tls_certs_only([cert]);
    }
    builder.build().expect("client builds")
}

/// A TCP server that sends back every byte it gets.
async fn echo_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut read, mut write) = stream.split();
                let _ = tokio::io::copy(&mut read, &mut write).await;
            });
        }
    });
    addr
}

/// Opens `CONNECT target` through the proxy at `proxy` and returns the stream after the 200.
async fn connect_through(proxy: &str, target: &str) -> TcpStream {
    let addr = proxy.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.expect("proxy reachable");
    let request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream
            .read_exact(&mut byte)
            .await
            .expect("proxy answers CONNECT");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    stream
}

#[tokio::test]
async fn the_real_binary_records_an_intercepted_host_decrypted_and_tunnels_others_untouched() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let host = LocalLlmHost::start(scratch.path()).await;
    let data = scratch.path().join("data");
    let test_ca = host.ca.pem_path.display().to_string();
    let mut recorder = Recorder::start_args(
        &[
            "--mode",
            "forward",
            "--intercept-host",
            "localhost",
            "--upstream-ca",
            &test_ca,
            "--listen",
            "127.0.0.1:0",
        ],
        &data,
    );
    let llmscope_ca = data.join("ca/llmscope-ca.pem");
    let key_mode = std::fs::metadata(data.join("ca/llmscope-ca-key.pem"))
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
        .expect("the CA key is there");
    assert_eq!(key_mode, 0o600);

    let agent = proxied_client(&recorder.url, Some(&llmscope_ca));
    let reply = agent
        .post(host.url("/v1/chat/completions"))
        .header("authorization", "Bearer sk-forward-SECRET")
        .header("content-type", "application/json")
        .body(chat_body("mock-ok", false))
        .send()
        .await
        .expect("the agent's call goes through llmscope");
    assert_eq!(reply.status(), 200);
    let body = json(&reply.bytes().await.expect("body"));
    assert_eq!(body["object"], "chat.completion", "{body}");
    // The host is kept for forward mode's lines: it tells one API's calls from another's.
    let port = host.front.addr.port();
    let line = recorder.line_containing(
        Stream::Stdout,
        &format!("POST localhost:{port}/v1/chat/completions"),
    );
    assert!(
        line.contains("#1 ") && line.contains("mock-ok 200"),
        "{line}"
    );
    assert_eq!(host.mock.received().len(), 1, "forwarded once to the host");

    // Any bytes, not HTTP at all, to a host llmscope does not intercept.
    let echo = echo_server().await;
    let mut tunnel = connect_through(&recorder.url, &echo.to_string()).await;
    let sent: Vec<u8> = (0..64 * 1024).map(|i| (i * 7 % 256) as u8).collect();
    let (mut read, mut write) = tunnel.split();
    let (_, echoed) = tokio::join!(write.write_all(&sent), async {
        let mut echoed = vec![0u8; sent.len()];
        read.read_exact(&mut echoed).await.expect("echo");
        echoed
    });
    assert!(echoed == sent, "the tunnel passed every byte unchanged");
    drop(tunnel);

    // A screen attached from another terminal gets the counts for its status line too.
    let attachment = tokio::time::timeout(WAIT, llmscope::remote::connect_live(&data, None))
        .await
        .expect("attached in time")
        .expect("the session is live");
    let (control, _events) = attachment.start(Vec::new());
    let deadline = tokio::time::Instant::now() + WAIT;
    while control.forward_counts().map(|c| c.tunnelled) != Some(1) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the attached screen never heard of the tunnel: {:?}",
            control.forward_counts()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(control);

    recorder.terminate();
    let summary = recorder.line_containing(Stream::Stdout, "forward proxy:");
    assert!(
        summary.contains("1 connections to other hosts tunnelled"),
        "{summary}"
    );
    let stored = load_exchanges(&data, recorder.session);
    assert_eq!(stored.len(), 1, "the tunnel is not recorded");
    let record = &stored[0].record;
    let request = String::from_utf8_lossy(&record.start.request.body);
    assert!(
        request.contains("Say hello"),
        "recorded decrypted: {request}"
    );
    let response = String::from_utf8_lossy(&record.response.as_ref().expect("reply").body);
    assert!(response.contains("chat.completion"), "{response}");
    let auth = record.start.request.headers.value("authorization");
    assert_eq!(auth, Some("Bearer <redacted>"));
}

async fn forward_harness(host: &LocalLlmHost, data: &Path, hold: bool) -> Harness {
    let (ca, _) = CertAuthority::load_or_create(data).expect("CA");
    let upstream_ca = UpstreamCa::load(&host.ca.pem_path).expect("test CA");
    Harness::start_with(|config| {
        config.forward = Some(ForwardMode::new(Arc::new(ca), &["localhost".into()], false));
        config.upstream_ca = Some(upstream_ca);
        config.hold_errors = hold;
        config.hold_timeout = Duration::from_secs(60);
    })
    .await
}

#[tokio::test]
async fn a_held_failure_on_an_intercepted_host_is_resent_to_that_host_and_the_agent_gets_the_fix() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let host = LocalLlmHost::start(scratch.path()).await;
    let ca_dir = scratch.path().join("ca-data");
    let mut h = forward_harness(&host, &ca_dir, true).await;
    let agent = proxied_client(&h.proxy_url, Some(&ca_dir.join("ca/llmscope-ca.pem")));
    let call = agent
        .post(host.url("/v1/chat/completions"))
        .header("authorization", "Bearer sk-held-SECRET")
        .header("content-type", "application/json")
        .body(chat_body("mock-400-context", false))
        .send();
    let call = tokio::spawn(call);
    let held: ExchangeId = h
        .next_event(|e| match e {
            CaptureEvent::Held { id, .. } => Some(*id),
            _ => None,
        })
        .await;
    assert!(
        !call.is_finished(),
        "the agent waits while its failure is held"
    );
    let fixed = ResendRequest {
        method: "POST".into(),
        uri: "/v1/chat/completions".into(),
        headers: HeaderList::from([
            ("authorization", "Bearer <redacted>"),
            ("content-type", "application/json"),
        ]),
        body: Bytes::from(chat_body("mock-ok", false)),
    };
    let child = h.control.resend(held, fixed).expect("resend starts");
    let resent = h
        .next_event(|e| match e {
            CaptureEvent::Finished(record) if record.start.id == child => Some(record.clone()),
            _ => None,
        })
        .await;
    let recorded_host = resent
        .start
        .request
        .headers
        .value("host")
        .map(str::to_string);
    let port = host.front.addr.port();
    assert_eq!(
        recorded_host,
        Some(format!("localhost:{port}")),
        "the resend is recorded with the host it went to"
    );
    let reply = call.await.expect("task").expect("the agent gets a reply");
    assert_eq!(reply.status(), 200);
    let body = json(&reply.bytes().await.expect("body"));
    assert_eq!(body["object"], "chat.completion", "{body}");
    let received = host.mock.received();
    assert_eq!(
        received.len(),
        2,
        "the resend went to the intercepted host too"
    );
    assert_eq!(
        received[1].header("authorization"),
        Some("Bearer sk-held-SECRET"),
        "with the agent's real credential"
    );
    assert_eq!(h.mock.received().len(), 0, "nothing went to --upstream");
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_ca_fails_its_handshake_and_llmscope_records_why() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let host = LocalLlmHost::start(scratch.path()).await;
    let mut h = forward_harness(&host, &scratch.path().join("ca-data"), false).await;
    // Trusts only the test's CA, not llmscope's: llmscope's certificate is refused.
    let agent = proxied_client(&h.proxy_url, Some(&host.ca.pem_path));
    let error = agent
        .post(host.url("/v1/chat/completions"))
        .body(chat_body("mock-ok", false))
        .send()
        .await
        .expect_err("the handshake fails");
    assert!(error.is_connect() || error.is_request(), "{error}");
    let record = h.next_finished().await;
    assert_eq!(record.start.request.method, "CONNECT");
    let failure = record.failure.as_ref().expect("a failure");
    assert_eq!(failure.class, FailureClass::Tls);
    let port = host.front.addr.port();
    assert!(
        failure.message.starts_with(&format!("localhost:{port}: ")),
        "{}",
        failure.message
    );
    assert!(
        failure.message.contains("does not trust llmscope's CA"),
        "{}",
        failure.message
    );
    assert_eq!(
        h.control.forward_counts().map(|c| c.refused_handshakes),
        Some(1)
    );
    // Resending the row as the screen would: refused, naming why, nothing sent anywhere.
    let again = ResendRequest {
        method: record.start.request.method.clone(),
        uri: record.start.request.uri.clone(),
        headers: HeaderList::new(),
        body: Bytes::new(),
    };
    let refused = h
        .control
        .resend(record.start.id, again)
        .expect_err("nothing to resend");
    let said = refused.to_string();
    assert!(
        said.contains(&format!(
            "a refused TLS handshake (CONNECT localhost:{port})"
        )) && said.contains("llmscope ca"),
        "{said}"
    );
    assert_eq!(host.mock.received().len(), 0);
    assert_eq!(h.mock.received().len(), 0);
}

#[tokio::test]
async fn a_request_sent_to_llmscope_itself_in_forward_mode_is_told_how_to_use_it() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let host = LocalLlmHost::start(scratch.path()).await;
    let h = forward_harness(&host, &scratch.path().join("ca-data"), false).await;
    let reply = common::client()
        .post(h.url("/v1/messages"))
        .header("anthropic-version", "2023-06-01")
        .body("{}")
        .send()
        .await
        .expect("a reply");
    assert_eq!(reply.status(), 400);
    let body = json(&reply.bytes().await.expect("body"));
    assert_eq!(body["type"], "error", "Anthropic's error shape: {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("HTTPS_PROXY=http://"), "{message}");
}

/// A stand-in agent that honours only the environment: HTTPS_PROXY and SSL_CERT_FILE, as
/// Python's urllib does; it calls the URL in argv[1] and prints the reply's `object`.
const PROXY_ONLY_AGENT: &str = r#"
import json, sys, urllib.request
body = json.dumps({"model": "mock-ok", "messages": [{"role": "user", "content": "hi"}]}).encode()
request = urllib.request.Request(sys.argv[1], data=body, headers={"content-type": "application/json"})
with urllib.request.urlopen(request, timeout=20) as reply:
    print("agent got", json.loads(reply.read())["object"])
"#;

#[tokio::test]
async fn launch_in_forward_mode_gives_the_agent_the_proxy_and_the_ca_and_records_its_call() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let host = LocalLlmHost::start(scratch.path()).await;
    let data = scratch.path().join("data");
    let script = scratch.path().join("agent.py");
    std::fs::write(&script, PROXY_ONLY_AGENT).expect("script");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_llmscope"));
    command
        .args(["launch", "openai-compatible", "--mode", "forward"])
        .args(["--intercept-host", "localhost", "--listen", "127.0.0.1:0"])
        .arg("--upstream-ca")
        .arg(&host.ca.pem_path)
        .arg("--data-dir")
        .arg(&data)
        .arg("--")
        .arg("python3")
        .arg(&script)
        .arg(host.url("/v1/chat/completions"))
        .env_remove("TMUX")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    let out = tokio::task::spawn_blocking(move || command.output().expect("llmscope runs"))
        .await
        .expect("joins");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("agent got chat.completion"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("openai-compatible -> HTTPS_PROXY=http://127.0.0.1:")
            && stderr.contains("(forward mode: it trusts llmscope's CA;"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("HTTPS_PROXY=http://127.0.0.1:0 "),
        "the address the agent got, not the one asked for: {stderr}"
    );
    let store = llmscope::store::Store::open(&data).expect("store");
    let sessions = store.list_sessions().expect("sessions");
    let exchanges = store.exchanges(sessions[0].id).expect("exchanges");
    let paths: Vec<&str> = exchanges
        .iter()
        .map(|e| e.record.start.request.uri.as_str())
        .collect();
    assert_eq!(paths, ["/v1/chat/completions"]);
    assert_eq!(host.mock.received().len(), 1);
}

#[tokio::test]
async fn codex_and_code_assist_calls_are_recorded_with_their_dialect_or_raw() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let host = LocalLlmHost::start(scratch.path()).await;
    let ca_dir = scratch.path().join("ca-data");
    let mut h = forward_harness(&host, &ca_dir, false).await;
    let agent = proxied_client(&h.proxy_url, Some(&ca_dir.join("ca/llmscope-ca.pem")));
    // Codex signed in with ChatGPT: the Responses API under backend-api/codex.
    let responses = serde_json::json!({"model": "mock-ok", "input": "hi", "stream": false});
    let reply = agent
        .post(host.url("/backend-api/codex/responses"))
        .header("content-type", "application/json")
        .body(responses.to_string())
        .send()
        .await
        .expect("reply");
    assert_eq!(reply.status(), 200);
    let record = h.next_finished().await;
    assert_eq!(
        record.start.dialect,
        llmscope::llm::Dialect::OpenAiResponses
    );
    assert_eq!(record.start.model.as_deref(), Some("mock-ok"));

    // Gemini CLI signed in with Google: Code Assist wraps the Gemini request.
    let wrapped = serde_json::json!({
        "model": "gemini-2.5-pro", "project": "p-1",
        "request": {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
    })
    .to_string();
    let _ = agent
        .post(host.url("/v1internal:generateContent"))
        .header("content-type", "application/json")
        .body(wrapped.clone())
        .send()
        .await
        .expect("a reply, whatever it is");
    let record = h.next_finished().await;
    assert_eq!(record.start.request.uri, "/v1internal:generateContent");
    assert_eq!(record.start.request.body, Bytes::from(wrapped), "kept raw");
}

#[tokio::test]
async fn plain_http_through_the_proxy_is_recorded_for_an_intercepted_host_and_passed_on_otherwise()
{
    let scratch = tempfile::tempdir().expect("temp dir");
    let host = LocalLlmHost::start(scratch.path()).await;
    let mut h = forward_harness(&host, &scratch.path().join("ca-data"), false).await;
    let agent = proxied_client(&h.proxy_url, None);
    let port = host.mock.addr().port();
    let intercepted = agent
        .post(format!("http://localhost:{port}/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(chat_body("mock-ok", false))
        .send()
        .await
        .expect("reply");
    assert_eq!(intercepted.status(), 200);
    let record = h.next_finished().await;
    assert_eq!(record.start.request.uri, "/v1/chat/completions");
    assert!(record.failure.is_none(), "{:?}", record.failure);

    let passed = agent
        .post(format!("http://127.0.0.1:{port}/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(chat_body("mock-ok", false))
        .send()
        .await
        .expect("reply");
    assert_eq!(passed.status(), 200);
    let body = json(&passed.bytes().await.expect("body"));
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(host.mock.received().len(), 2, "both reached the host");
    assert_eq!(h.control.forward_counts().map(|c| c.tunnelled), Some(1));
    let (stored, _dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 1, "only the intercepted host is recorded");
}
