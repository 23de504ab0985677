//! `llmscope stats` on a recorded session, through the real binary: the counts, the failure
//! classes and the retry loop a user would look for, as text and as JSON.

mod common;

use common::recorder::run_llmscope;
use common::{chat_body, client, json, Harness};

#[tokio::test]
async fn stats_count_a_sessions_exchanges_failures_and_retry_loops() {
    let h = Harness::start().await;
    let http = client();
    for model in ["mock-ok", "mock-ok", "mock-429", "mock-429", "mock-429"] {
        http.post(h.url("/v1/chat/completions"))
            .body(chat_body(model, false))
            .send()
            .await
            .expect("answered")
            .bytes()
            .await
            .expect("body");
    }
    let session = h.session;
    let (_stored, dir) = h.stop_and_load().await;

    let output = run_llmscope(&["stats"], &dir.path);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains(&format!("session {session} → http://127.0.0.1:")),
        "{text}"
    );
    assert!(text.contains("exchanges 5  failed 3"), "{text}");
    assert!(text.contains("       3  http_error 429"), "{text}");
    assert!(text.contains("#3: 3 attempts"), "{text}");
    assert!(text.contains("mock-429: 3 exchanges, 3 failed"), "{text}");

    let output = run_llmscope(&["stats", "--json", &session.0.to_string()], &dir.path);
    let value = json(&output.stdout);
    assert_eq!(value["all"]["exchanges"], 5);
    assert_eq!(value["failures"]["http_error 429"], 3);
    assert_eq!(value["retry_loops"][0]["attempts"], 3);

    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_llmscope"))
        .args(["stats", "999", "--data-dir"])
        .arg(&dir.path)
        .output()
        .expect("llmscope runs");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no session 999"));
}
