//! Credentials reach the upstream but never the disk.

mod common;

use common::recorder::run_llmscope;

use common::{chat_body, client, files_under, Harness};

const SECRETS: [&str; 4] = [
    "sk-live-PLANTED-1111",
    "sk-ant-PLANTED-2222",
    "azure-PLANTED-3333",
    "cookie-PLANTED-4444",
];

#[tokio::test]
async fn secret_headers_are_forwarded_but_never_written_to_disk() {
    let mut h = Harness::start().await;
    let reply = client()
        .post(h.url("/v1/chat/completions"))
        .header("Authorization", format!("Bearer {}", SECRETS[0]))
        .header("x-api-key", SECRETS[1])
        .header("api-key", SECRETS[2])
        .header("Cookie", format!("session={}", SECRETS[3]))
        .body(chat_body("mock-ok", false))
        .send()
        .await
        .expect("answered");
    assert_eq!(reply.status(), 200);
    let forwarded = &h.mock.received()[0].headers;
    for secret in SECRETS {
        assert!(
            forwarded.iter().any(|(_, v)| v.contains(secret)),
            "{secret} forwarded"
        );
    }
    let live = h.next_finished().await;
    let auth = live.start.request.headers.value("authorization");
    assert_eq!(auth, Some("Bearer <redacted>"));

    let (stored, dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 1);
    let mut scanned = 0;
    for path in files_under(&dir.path) {
        let bytes = std::fs::read(&path).expect("file reads");
        scanned += bytes.len();
        for secret in SECRETS {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "{secret} found in {}", path.display());
        }
    }
    assert!(scanned > 0, "the database files were scanned");
}

#[cfg(unix)]
#[tokio::test]
async fn data_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mut h = Harness::start().await;
    client()
        .post(h.url("/v1/chat/completions"))
        .body(chat_body("mock-ok", false))
        .send()
        .await
        .expect("answered");
    h.next_finished().await;
    let (_, dir) = h.stop_and_load().await;
    let dir_mode = std::fs::metadata(&dir.path)
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o077, 0, "data dir is owner-only: {dir_mode:o}");
    for entry in std::fs::read_dir(&dir.path).expect("lists") {
        let path = entry.expect("entry").path();
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "{} is owner-only: {mode:o}",
            path.display()
        );
    }
}

/// Credentials in every place an agent puts them, each one unique so a find names it.
const PLANTED: [(&str, &str); 7] = [
    ("Authorization", "Bearer sk-proj-PLANTED0authorization0key"),
    ("x-api-key", "sk-ant-api03-PLANTED0x0api0key"),
    ("api-key", "PLANTED0azure0api0key"),
    ("Cookie", "session=PLANTED0cookie; theme=dark"),
    ("x-goog-api-key", "PLANTED0gemini0key"),
    ("Proxy-Authorization", "Basic PLANTED0proxy0credentials"),
    ("X-Portkey-Virtual-Key", "sk-PLANTED0gateway0key"),
];

/// The part of each planted value that must never be written: the value less any scheme.
fn planted_values() -> Vec<&'static str> {
    PLANTED
        .iter()
        .map(|(_, value)| value.split_once(' ').map_or(*value, |(_, secret)| secret))
        .map(|secret| {
            secret
                .trim_start_matches("session=")
                .split(';')
                .next()
                .unwrap_or(secret)
        })
        .chain([QUERY_KEY])
        .collect()
}

/// A key in the query string, as Gemini's `?key=` takes it.
const QUERY_KEY: &str = "PLANTED0query0key";
fn assert_no_secret(what: &str, bytes: &[u8]) {
    for secret in planted_values() {
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "{secret} found in {what}");
    }
    // Any OpenAI/Anthropic-shaped key at all, planted or not.
    let text = String::from_utf8_lossy(bytes);
    assert!(
        !text.contains("sk-proj-") && !text.contains("sk-ant-"),
        "a key in {what}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_secrets_reach_the_upstream_but_not_the_data_dir_exports_or_output() {
    use common::recorder::{Recorder, Stream};
    let mock = llmscope::mock::MockUpstream::start().await.expect("mock");
    let dir = tempfile::tempdir().expect("dir");
    let mut recorder = Recorder::start(&mock.url(), dir.path());
    let models = [
        ("/v1/chat/completions", "mock-ok", false),
        ("/v1/chat/completions", "mock-401", false),
        ("/v1/messages", "mock-sse-error", true),
        ("/v1/chat/completions", "mock-malformed", false),
        (
            "/v1/chat/completions?api-version=2024-10-21&key=PLANTED0query0key",
            "mock-ok",
            false,
        ),
    ];
    for (path, model, stream) in models {
        let mut request = client()
            .post(format!("{}{path}", recorder.url))
            .header("content-type", "application/json")
            .body(chat_body(model, stream));
        for (name, value) in PLANTED {
            request = request.header(name, value);
        }
        let reply = request.send().await.expect("answered");
        reply.bytes().await.expect("body");
    }
    for received in mock.received() {
        for (name, value) in PLANTED {
            assert_eq!(received.header(name), Some(value), "{name} forwarded");
        }
    }
    assert_eq!(
        mock.received()[models.len() - 1].target,
        models[models.len() - 1].0,
        "the query key is forwarded"
    );
    let session = recorder.session.0.to_string();
    tokio::task::block_in_place(|| {
        recorder.line_containing(Stream::Stdout, "mock-malformed");
        recorder.line_containing(Stream::Stdout, "key=<redacted>");
        recorder.terminate();
    });
    let output = recorder.printed().join("\n");
    assert!(output.contains("mock-401 401 http_error"), "{output}");
    assert_no_secret("the output of record", output.as_bytes());

    let scratch = tempfile::tempdir().expect("scratch");
    let har_path = scratch.path().join("session.har");
    let har_arg = har_path.to_str().expect("UTF-8 path");
    let mut exports = Vec::new();
    tokio::task::block_in_place(|| {
        let out = run_llmscope(&["export", &session, "--har", har_arg], dir.path());
        exports.push((
            "the export command's output".to_string(),
            [out.stdout, out.stderr].concat(),
        ));
        exports.push((
            "the HAR file".to_string(),
            std::fs::read(&har_path).expect("HAR"),
        ));
        let out = run_llmscope(&["export", "latest", "--har", "-"], dir.path());
        exports.push(("the HAR on stdout".to_string(), out.stdout));
        for id in 1..=models.len() {
            let out = run_llmscope(&["export", &session, "--curl", &id.to_string()], dir.path());
            let command = [out.stdout, out.stderr].concat();
            assert!(
                String::from_utf8_lossy(&command).contains("curl "),
                "exchange {id}"
            );
            exports.push((format!("the curl command for #{id}"), command));
        }
    });
    let har = String::from_utf8_lossy(&exports[1].1).into_owned();
    assert!(
        har.contains("<redacted>"),
        "the HAR shows where secrets were"
    );
    for (what, bytes) in &exports {
        assert_no_secret(what, bytes);
    }

    let files = files_under(dir.path());
    assert!(files.iter().any(|f| f.ends_with("llmscope.db")));
    for file in files {
        let bytes = std::fs::read(&file).expect("file reads");
        assert_no_secret(&file.display().to_string(), &bytes);
    }
}

#[test]
fn listening_beyond_loopback_prints_a_warning_and_loopback_is_the_default() {
    use common::recorder::{Recorder, Stream};
    let dir = tempfile::tempdir().expect("dir");
    // Nothing answers here; no request is sent.
    let upstream = "http://127.0.0.1:9";
    let exposed = Recorder::start_with(upstream, dir.path(), &["--listen", "0.0.0.0:0"]);
    let warning = exposed.line_containing(Stream::Stderr, "WARNING");
    assert!(
        warning.contains("anyone who reaches this port can use your upstream credentials"),
        "{warning}"
    );
    drop(exposed);

    let private = Recorder::start(upstream, dir.path());
    assert!(
        private.url.starts_with("http://127.0.0.1:"),
        "{}",
        private.url
    );
    assert!(
        !private
            .printed()
            .iter()
            .any(|line| line.contains("WARNING")),
        "{:?}",
        private.printed()
    );
    drop(private);

    let help = std::process::Command::new(env!("CARGO_BIN_EXE_llmscope"))
        .args(["record", "--help"])
        .output()
        .expect("help runs");
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("[default: 127.0.0.1:8787]"), "{text}");
}

#[tokio::test]
async fn a_query_key_is_recorded_redacted_and_a_resend_still_sends_it() {
    use llmscope::proxy::ResendRequest;
    let mut h = Harness::start().await;
    let target = "/v1beta/models/gemini:generateContent?alt=sse&key=AIza-PLANTED-5555";
    let reply = client()
        .post(h.url(target))
        .body(chat_body("mock-ok", false))
        .send()
        .await
        .expect("answered");
    assert_eq!(reply.status(), 200);
    let parent = h.next_finished().await;
    assert_eq!(
        parent.start.request.uri,
        "/v1beta/models/gemini:generateContent?alt=sse&key=<redacted>"
    );
    let resend = ResendRequest {
        method: "POST".into(),
        uri: parent.start.request.uri.clone(),
        headers: parent.start.request.headers.clone(),
        body: parent.start.request.body.clone(),
    };
    h.control
        .resend(parent.id(), resend)
        .expect("resend starts");
    let child = h.next_finished().await;
    assert_eq!(child.failure, None);
    assert_eq!(child.start.request.uri, parent.start.request.uri);
    let sent: Vec<_> = h.mock.received().into_iter().map(|r| r.target).collect();
    assert_eq!(sent, [target, target], "both went out with the real key");

    let (stored, dir) = h.stop_and_load().await;
    assert_eq!(stored.len(), 2);
    for path in files_under(&dir.path) {
        let bytes = std::fs::read(&path).expect("file reads");
        let found = bytes.windows(17).any(|w| w == b"AIza-PLANTED-5555");
        assert!(!found, "the query key is in {}", path.display());
    }
}

/// An upstream whose every reply sets a session cookie, as gateways behind Cloudflare or a
/// load balancer do, with the rate-limit headers OpenAI sends.
async fn cookie_setting_upstream(cookie: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut read = Vec::new();
                let mut buf = [0u8; 4096];
                // One request per connection: its head, then as much body as it announced.
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    read.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&read);
                    let Some(end) = text.find("\r\n\r\n") else {
                        continue;
                    };
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if read.len() >= end + 4 + length {
                        break;
                    }
                }
                let body = r#"{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}"#;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nset-cookie: {cookie}\r\nx-ratelimit-remaining-tokens: 29000\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn an_upstreams_session_cookie_reaches_the_agent_but_the_record_keeps_it_redacted() {
    const COOKIE: &str = "__cf_bm=PLANTED0upstream0cookie; Path=/; HttpOnly";
    let upstream = cookie_setting_upstream(COOKIE).await;
    let mut h = Harness::start_with(|config| {
        config.upstream = llmscope::proxy::Upstream::parse(&upstream).expect("parses");
    })
    .await;
    let reply = client()
        .post(h.url("/v1/chat/completions"))
        .body(chat_body("gpt-4o", false))
        .send()
        .await
        .expect("answered");
    assert_eq!(reply.status(), 200);
    assert_eq!(
        reply
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok()),
        Some(COOKIE),
        "the agent gets the cookie as sent"
    );
    let record = h.next_finished().await;
    let recorded = &record.response.as_ref().expect("a reply").headers;
    let value = |name: &str| recorded.value(name);
    assert_eq!(value("set-cookie"), Some("<redacted>"));
    assert_eq!(
        value("x-ratelimit-remaining-tokens"),
        Some("29000"),
        "rate-limit headers stay readable"
    );
    let (_, dir) = h.stop_and_load().await;
    for path in files_under(&dir.path) {
        let bytes = std::fs::read(&path).expect("file reads");
        let found = bytes.windows(24).any(|w| w == b"PLANTED0upstream0cookie;");
        assert!(!found, "the upstream's cookie is in {}", path.display());
    }
}
